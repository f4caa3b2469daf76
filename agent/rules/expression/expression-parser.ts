/**
 * The condition language of rules and states: a small recursive-descent parser producing an AST
 * (expression-compiler.ts turns the AST into closures).
 *
 *   expr    := or
 *   or      := and (("or" | "||") and)*
 *   and     := not (("and" | "&&") not)*
 *   not     := ("not" | "!") not | compare
 *   compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
 *   sum     := product (("+" | "-") product)*
 *   product := unary (("*" | "/" | "%") unary)*
 *   unary   := "-" unary | primary
 *   primary := number | string | "true" | "false" | name | name "(" args ")" | "(" expr ")"
 *   name    := Vehicle.Speed-style dotted identifier, or any text between backquotes (`bus:0_COUNTER`)
 *
 * Columns in errors are 1-based positions in the expression text.
 */

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { kind: 'number'; value: number; column: number }
  | { kind: 'string'; value: string; column: number }
  | { kind: 'name'; name: string; column: number }
  | { kind: 'call'; name: string; args: Expr[]; column: number }
  | { kind: 'not'; arg: Expr; column: number }
  | { kind: 'negate'; arg: Expr; column: number }
  | { kind: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr; column: number }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr; column: number }
  | { kind: 'arithmetic'; op: ArithmeticOp; left: Expr; right: Expr; column: number };

/** A syntax or meaning error at a column of the expression text. */
export class ExpressionError extends Error {
  constructor(
    readonly reason: string,
    readonly column: number,
  ) {
    super(`${reason} at column ${column}`);
    this.name = 'ExpressionError';
  }
}

type TokenKind = 'number' | 'string' | 'name' | 'op' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  column: number;
}

const WORD_OPERATORS = new Set(['and', 'or', 'not']);
const SYMBOLS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const column = i + 1;
    const number = /^(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (number) {
      const after = text.slice(i + number[0].length);
      if (/^[A-Za-z_]/.test(after)) {
        if (/^(ms|s|min|m|h|d)\b/.test(after)) {
          throw new ExpressionError(`a duration is written as text: "${number[0]}${/^[a-z]+/.exec(after)?.[0]}"`, column);
        }
        throw new ExpressionError(`unexpected '${after[0]}' after number`, i + number[0].length + 1);
      }
      tokens.push({ kind: 'number', text: number[0], column });
      i += number[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError(c === '`' ? 'unterminated `name`' : 'unterminated string', column);
      const body = text.slice(i + 1, end);
      if (c === '`' && body.length === 0) throw new ExpressionError('empty `name`', column);
      tokens.push({ kind: c === '`' ? 'name' : 'string', text: body, column });
      i = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/.exec(text.slice(i));
    if (word) {
      tokens.push({ kind: WORD_OPERATORS.has(word[0]) ? 'op' : 'name', text: word[0], column });
      i += word[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (!symbol) throw new ExpressionError(`unexpected '${c}'`, column);
    tokens.push({ kind: 'op', text: symbol, column });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1 });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Expr {
    if (this.peek().kind === 'end') throw new ExpressionError('empty expression', 1);
    const expr = this.or();
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.unexpected(rest);
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  private accept(...ops: string[]): Token | undefined {
    const token = this.peek();
    if (token.kind === 'op' && ops.includes(token.text)) {
      this.index++;
      return token;
    }
    return undefined;
  }

  private expect(op: string): Token {
    const token = this.accept(op);
    if (!token) throw this.unexpected(this.peek(), `'${op}'`);
    return token;
  }

  private unexpected(token: Token, wanted?: string): ExpressionError {
    const what = token.kind === 'end' ? 'end of expression' : `'${token.text}'`;
    return new ExpressionError(`unexpected ${what}${wanted ? `, expected ${wanted}` : ''}`, token.column);
  }

  private or(): Expr {
    let left = this.and();
    for (let op = this.accept('or', '||'); op; op = this.accept('or', '||')) {
      left = { kind: 'logic', op: 'or', left, right: this.and(), column: op.column };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    for (let op = this.accept('and', '&&'); op; op = this.accept('and', '&&')) {
      left = { kind: 'logic', op: 'and', left, right: this.not(), column: op.column };
    }
    return left;
  }

  private not(): Expr {
    const op = this.accept('not', '!');
    if (op) return { kind: 'not', arg: this.not(), column: op.column };
    return this.compare();
  }

  private compare(): Expr {
    const left = this.sum();
    const op = this.accept('==', '!=', '<', '<=', '>', '>=');
    if (!op) return left;
    const right = this.sum();
    const again = this.accept('==', '!=', '<', '<=', '>', '>=');
    if (again) throw new ExpressionError(`comparisons do not chain: use 'and' before '${again.text}'`, again.column);
    return { kind: 'compare', op: op.text as CompareOp, left, right, column: op.column };
  }

  private sum(): Expr {
    let left = this.product();
    for (let op = this.accept('+', '-'); op; op = this.accept('+', '-')) {
      left = { kind: 'arithmetic', op: op.text as ArithmeticOp, left, right: this.product(), column: op.column };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    for (let op = this.accept('*', '/', '%'); op; op = this.accept('*', '/', '%')) {
      left = { kind: 'arithmetic', op: op.text as ArithmeticOp, left, right: this.unary(), column: op.column };
    }
    return left;
  }

  private unary(): Expr {
    const op = this.accept('-');
    if (op) return { kind: 'negate', arg: this.unary(), column: op.column };
    return this.primary();
  }

  private primary(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'number', value: Number(token.text), column: token.column };
      case 'string':
        return { kind: 'string', value: token.text, column: token.column };
      case 'name':
        if (token.text === 'true' || token.text === 'false') {
          return { kind: 'number', value: token.text === 'true' ? 1 : 0, column: token.column };
        }
        if (this.accept('(')) return this.call(token);
        return { kind: 'name', name: token.text, column: token.column };
      case 'op':
        if (token.text === '(') {
          const inner = this.or();
          this.expect(')');
          return inner;
        }
        throw this.unexpected(token);
      default:
        throw this.unexpected(token);
    }
  }

  private call(name: Token): Expr {
    const args: Expr[] = [];
    if (!this.accept(')')) {
      do args.push(this.or());
      while (this.accept(','));
      this.expect(')');
    }
    return { kind: 'call', name: name.text, args, column: name.column };
  }
}

/** Parses an expression; throws ExpressionError with the column of the problem. */
export function parseExpression(text: string): Expr {
  return new Parser(tokenize(text)).parseAll();
}

/** Column where an expression's text starts (a binary node's own column is its operator's). */
export function startColumn(expr: Expr): number {
  return expr.kind === 'logic' || expr.kind === 'compare' || expr.kind === 'arithmetic' ? startColumn(expr.left) : expr.column;
}

/** The names an expression reads (signals, states or vehicle fields), each once, in order of appearance. */
export function namesIn(expr: Expr, into: string[] = []): string[] {
  switch (expr.kind) {
    case 'name':
      if (!into.includes(expr.name)) into.push(expr.name);
      break;
    case 'call':
      for (const arg of expr.args) namesIn(arg, into);
      break;
    case 'not':
    case 'negate':
      namesIn(expr.arg, into);
      break;
    case 'logic':
    case 'compare':
    case 'arithmetic':
      namesIn(expr.left, into);
      namesIn(expr.right, into);
      break;
  }
  return into;
}
