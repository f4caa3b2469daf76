/** Problems found in a configuration, each naming its key path, its reason and its line where known. */

export type PathSegment = string | number;

export interface ConfigIssue {
  /** Key path, e.g. `rules[3].period` or `signals["Vehicle.Speed"].source`. */
  path: string;
  message: string;
  /** 1-based line in the config file, when the parser knows it. */
  line?: number;
}

/** Thrown by loadConfig (and by rule updates) with every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(
    readonly issues: ConfigIssue[],
    readonly file?: string,
  ) {
    super(formatIssues(issues, file));
    this.name = 'ConfigError';
  }
}

export function formatIssues(issues: readonly ConfigIssue[], file?: string): string {
  const head = `invalid configuration${file ? ` ${file}` : ''} (${issues.length} problem${issues.length === 1 ? '' : 's'}):`;
  const lines = issues.map((issue) => {
    const where = file && issue.line !== undefined ? `${file}:${issue.line}: ` : issue.line !== undefined ? `line ${issue.line}: ` : '';
    return `  ${where}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
  });
  return [head, ...lines].join('\n');
}

/** `rules[3].period`, `signals["Vehicle.Speed"].unit`: keys that are not plain words are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
