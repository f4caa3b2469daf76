/**
 * Splits DBC text into tokens with line numbers. Lenient by design: it never throws; characters it
 * cannot place become `other` tokens for the parser to report, and an unterminated string ends at the
 * end of the file (the parser warns).
 */

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'other';

export interface Token {
  kind: TokenKind;
  /** Source text; for strings the unescaped content. */
  text: string;
  /** 1-based line where the token starts. */
  line: number;
  /** First token on its line (DBC statements start lines). */
  lineStart: boolean;
  /** 0-based column where the token starts. */
  column: number;
  /** Strings only: the closing quote was missing. */
  unterminated?: boolean;
}

const PUNCT = new Set([':', ';', ',', '|', '@', '(', ')', '[', ']', '+', '-']);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Length of a decimal number starting at `i` ([+-]digits[.digits][e[+-]digits] or .digits), 0 if none. */
function numberLength(s: string, i: number): number {
  let j = i;
  const sign = s.charCodeAt(j);
  if (sign === 43 || sign === 45) j++;
  const intStart = j;
  while (isDigit(s.charCodeAt(j))) j++;
  let digits = j - intStart;
  if (s.charCodeAt(j) === 46) {
    const fracStart = ++j;
    while (isDigit(s.charCodeAt(j))) j++;
    digits += j - fracStart;
  }
  if (digits === 0) return 0;
  const e = s.charCodeAt(j);
  if (e === 69 || e === 101) {
    let k = j + 1;
    const es = s.charCodeAt(k);
    if (es === 43 || es === 45) k++;
    if (isDigit(s.charCodeAt(k))) {
      while (isDigit(s.charCodeAt(k))) k++;
      j = k;
    }
  }
  return j - i;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineBegin = 0;
  let lastTokenLine = 0;
  let i = 0;
  const n = text.length;
  const push = (kind: TokenKind, value: string, startLine: number, column: number, unterminated?: boolean) => {
    const token: Token = { kind, text: value, line: startLine, lineStart: startLine !== lastTokenLine, column };
    if (unterminated) token.unterminated = true;
    tokens.push(token);
    lastTokenLine = startLine;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineBegin = ++i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xfeff) {
      i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      // `//` comment to the end of the line (cantools accepts them; CANdb++ never writes them).
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    const column = i - lineBegin;
    if (c === 34) {
      // String: newlines are allowed (multi-line comments).
      const startLine = line;
      let value = '';
      let j = i + 1;
      let closed = false;
      let chunk = j;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 34) {
          closed = true;
          break;
        }
        const next = text.charCodeAt(j + 1);
        if (d === 92 && (next === 34 || next === 92)) {
          // Only \" and \\ are escapes; any other backslash is literal text (paths, regexes in comments).
          value += text.slice(chunk, j);
          chunk = j + 1;
          j += 2;
          continue;
        }
        if (d === 10) {
          line++;
          lineBegin = j + 1;
        }
        j++;
      }
      value += text.slice(chunk, j);
      push('string', value.replace(/\r\n/g, '\n'), startLine, column, !closed);
      i = closed ? j + 1 : j;
      continue;
    }
    const prev = i > 0 ? text.charCodeAt(i - 1) : 32;
    // A sign belongs to a number only when it does not follow a word (`@1-` and `0-3` are punctuation).
    const signAllowed = !isWordChar(prev) && prev !== 46;
    if (isDigit(c) || c === 46 || ((c === 43 || c === 45) && signAllowed)) {
      const len = numberLength(text, i);
      if (len > 0) {
        let j = i + len;
        if (isWordChar(text.charCodeAt(j))) {
          // A name that starts with digits (`0_COUNTER`, `2017_5`): real files have them.
          while (isWordChar(text.charCodeAt(j))) j++;
          push(c === 43 || c === 45 ? 'other' : 'ident', text.slice(i, j), line, column);
        } else {
          push('number', text.slice(i, j), line, column);
        }
        i = j;
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i + 1;
      while (isWordChar(text.charCodeAt(j))) j++;
      push('ident', text.slice(i, j), line, column);
      i = j;
      continue;
    }
    const ch = text[i];
    push(PUNCT.has(ch) ? 'punct' : 'other', ch, line, column);
    i++;
  }
  return tokens;
}
