/**
 * DBC statement parser: tokens -> raw statements (messages, signals, and the side statements that
 * refer to them: CM_, VAL_, BA_, SIG_VALTYPE_, SG_MUL_VAL_, BO_TX_BU_). Linking and checking happen
 * in dbc-model.ts. Lenient: a statement it cannot read becomes a warning {file, line, reason} and the
 * parser resumes at the next line that starts with a DBC keyword.
 */
import { DbcError, type AttributeValue, type DbcAttributeDefinition, type DbcWarning } from './dbc-types.js';
import { tokenize, type Token } from './dbc-tokenizer.js';

export interface RawSignal {
  name: string;
  /** 'M', 'mN' or 'mNM'; undefined when not multiplexed. */
  muxIndicator: string | undefined;
  startBit: number;
  length: number;
  bigEndian: boolean;
  signed: boolean;
  factor: number;
  offset: number;
  min: number | undefined;
  max: number | undefined;
  unit: string;
  receivers: string[];
  line: number;
}

export interface RawMessage {
  /** The id as the DBC writes it (bit 31 = extended). */
  dbcId: number;
  name: string;
  length: number;
  sender: string;
  signals: RawSignal[];
  line: number;
}

/** Target of CM_ and BA_: network, node, message, signal or environment variable. */
export type ObjectRef =
  | { kind: 'network' }
  | { kind: 'node'; name: string }
  | { kind: 'message'; dbcId: number }
  | { kind: 'signal'; dbcId: number; signal: string }
  | { kind: 'envvar'; name: string };

export interface RawStatements {
  version: string;
  nodes: string[];
  messages: RawMessage[];
  valueTables: Map<string, Map<number, string>>;
  attributeDefinitions: Map<string, DbcAttributeDefinition>;
  comments: { target: ObjectRef; text: string; line: number }[];
  attributes: { target: ObjectRef; name: string; value: AttributeValue; line: number }[];
  valueDescriptions: { dbcId: number; signal: string; labels: Map<number, string>; line: number }[];
  valueTypes: { dbcId: number; signal: string; type: number; line: number }[];
  multiplexValues: { dbcId: number; signal: string; multiplexer: string; ranges: [number, number][]; line: number }[];
  senders: { dbcId: number; nodes: string[]; line: number }[];
}

/** Statement keywords that start a line; recovery resumes at the next one. */
const KEYWORDS = new Set([
  'VERSION', 'NS_', 'BS_', 'BU_', 'VAL_TABLE_', 'BO_', 'SG_', 'BO_TX_BU_', 'CM_', 'BA_DEF_', 'BA_DEF_DEF_', 'BA_',
  'BA_DEF_REL_', 'BA_DEF_DEF_REL_', 'BA_REL_', 'VAL_', 'SIG_VALTYPE_', 'SG_MUL_VAL_', 'SIG_GROUP_', 'EV_',
  'ENVVAR_DATA_', 'SGTYPE_', 'SGTYPE_VAL_', 'BA_DEF_SGTYPE_', 'BA_SGTYPE_', 'SIG_TYPE_REF_', 'SIGTYPE_VALTYPE_',
  'CAT_DEF_', 'CAT_', 'FILTER', 'EV_DATA_', 'NS_DESC_', 'BU_SG_REL_', 'BU_EV_REL_', 'BU_BO_REL_',
]);

/** Keywords of statements that carry nothing the codec uses: read up to their ';' and drop. */
const SKIPPED = new Set([
  'BA_DEF_REL_', 'BA_DEF_DEF_REL_', 'BA_REL_', 'SIG_GROUP_', 'EV_', 'ENVVAR_DATA_', 'SGTYPE_', 'SGTYPE_VAL_',
  'BA_DEF_SGTYPE_', 'BA_SGTYPE_', 'SIG_TYPE_REF_', 'SIGTYPE_VALTYPE_', 'CAT_DEF_', 'CAT_', 'FILTER', 'EV_DATA_',
]);

const MUX_INDICATOR = /^(M|m\d+M?)$/;

class ParseFailure extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'end of file';
  if (t.kind === 'string') return `string "${t.text.length > 30 ? `${t.text.slice(0, 30)}...` : t.text}"`;
  return `'${t.text}'`;
}

export class DbcStatementParser {
  private readonly tokens: Token[];
  private pos = 0;
  private currentMessage: RawMessage | undefined;
  private statementsRead = 0;
  private firstFailure: ParseFailure | undefined;
  readonly out: RawStatements = {
    version: '',
    nodes: [],
    messages: [],
    valueTables: new Map(),
    attributeDefinitions: new Map(),
    comments: [],
    attributes: [],
    valueDescriptions: [],
    valueTypes: [],
    multiplexValues: [],
    senders: [],
  };

  constructor(
    text: string,
    private readonly fileName: string,
    private readonly warnings: DbcWarning[],
  ) {
    this.tokens = tokenize(text);
  }

  /** Reads every statement; throws DbcError when the text holds no DBC statement at all. */
  parse(): RawStatements {
    const { tokens } = this;
    if (tokens.length === 0) throw new DbcError(this.fileName, 0, 'empty file: no DBC statements');
    while (this.pos < tokens.length) {
      const start = this.pos;
      try {
        this.statement();
        this.statementsRead++;
      } catch (e) {
        if (!(e instanceof ParseFailure)) throw e;
        this.firstFailure ??= e;
        const keyword = tokens[start];
        const named = keyword.kind === 'ident' && KEYWORDS.has(keyword.text) && !e.reason.includes(keyword.text);
        this.warn(e.line, named ? `${keyword.text}: ${e.reason}` : e.reason);
        this.recover(start);
      }
    }
    if (this.statementsRead === 0) {
      const f = this.firstFailure;
      throw new DbcError(this.fileName, f?.line ?? 1, `not a DBC file: ${f?.reason ?? 'no DBC statements'}`);
    }
    return this.out;
  }

  private warn(line: number, reason: string): void {
    this.warnings.push({ file: this.fileName, line, reason });
  }

  private recover(start: number): void {
    this.pos = Math.max(this.pos, start + 1);
    while (this.pos < this.tokens.length && !this.atStatementStart()) this.pos++;
  }

  private atStatementStart(): boolean {
    const t = this.tokens[this.pos];
    return t !== undefined && t.lineStart && t.kind === 'ident' && KEYWORDS.has(t.text);
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private fail(reason: string, t = this.peek()): never {
    const line = t?.line ?? this.tokens[this.tokens.length - 1]?.line ?? 0;
    throw new ParseFailure(line, reason);
  }

  private isPunct(ch: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === 'punct' && t.text === ch;
  }

  private expectPunct(ch: string, what: string): void {
    if (!this.isPunct(ch)) this.fail(`expected '${ch}' ${what}, found ${describe(this.peek())}`);
    this.pos++;
  }

  private expectIdent(what: string): string {
    const t = this.peek();
    if (!t || t.kind !== 'ident') this.fail(`expected ${what}, found ${describe(t)}`);
    this.pos++;
    return t.text;
  }

  private expectString(what: string): string {
    const t = this.peek();
    if (!t || t.kind !== 'string') this.fail(`expected ${what} (a quoted string), found ${describe(t)}`);
    if (t.unterminated) this.fail(`unterminated string starting here`, t);
    this.pos++;
    return t.text;
  }

  private expectNumberToken(what: string): Token {
    const t = this.peek();
    if (!t || t.kind !== 'number') this.fail(`expected ${what} (a number), found ${describe(t)}`);
    this.pos++;
    return t;
  }

  private expectNumber(what: string): number {
    return Number(this.expectNumberToken(what).text);
  }

  private expectInteger(what: string): number {
    const t = this.peek();
    const value = this.expectNumber(what);
    if (!Number.isInteger(value)) this.fail(`expected ${what} (an integer), found '${t?.text}'`, t);
    return value;
  }

  /** True when the next token is on a later line than the token before it (or there is none). */
  private atLineEnd(): boolean {
    const t = this.peek();
    return t === undefined || t.lineStart;
  }

  /** Ends a `;`-terminated statement; a missing `;` before the next statement is a warning, not a failure. */
  private endStatement(keyword: string, line: number): void {
    if (this.isPunct(';')) {
      this.pos++;
      return;
    }
    if (this.peek() === undefined || this.atStatementStart()) {
      this.warn(line, `malformed ${keyword}: missing ';'`);
      return;
    }
    this.fail(`malformed ${keyword}: expected ';', found ${describe(this.peek())}`);
  }

  /** Ends a line statement (BO_, SG_, BU_...): anything left on the line is reported and skipped. */
  private endLine(keyword: string): void {
    if (this.atLineEnd()) return;
    const t = this.peek()!;
    this.warn(t.line, `unexpected ${describe(t)} after ${keyword} (rest of line ignored)`);
    while (!this.atLineEnd()) this.pos++;
  }

  private skipToSemicolon(keyword: string, line: number): void {
    while (this.pos < this.tokens.length) {
      if (this.isPunct(';')) {
        this.pos++;
        return;
      }
      if (this.atStatementStart()) break;
      this.pos++;
    }
    this.warn(line, `malformed ${keyword}: missing ';'`);
  }

  // ---- statements ----------------------------------------------------------------------------

  private statement(): void {
    const t = this.peek()!;
    if (t.kind !== 'ident' || !KEYWORDS.has(t.text)) this.fail(`unexpected ${describe(t)}: not a DBC statement`);
    this.pos++;
    const line = t.line;
    switch (t.text) {
      case 'VERSION':
        this.out.version = this.peek()?.kind === 'string' ? this.expectString('version') : '';
        return this.endLine('VERSION');
      case 'NS_':
        return this.newSymbols();
      case 'BS_':
        while (!this.atLineEnd()) this.pos++;
        return;
      case 'BU_':
        return this.nodes();
      case 'VAL_TABLE_':
        return this.valueTable(line);
      case 'BO_':
        return this.message(line);
      case 'SG_':
        return this.signal(line);
      case 'BO_TX_BU_':
        return this.messageSenders(line);
      case 'CM_':
        return this.comment(line);
      case 'BA_DEF_':
        return this.attributeDefinition(line);
      case 'BA_DEF_DEF_':
        return this.attributeDefault(line);
      case 'BA_':
        return this.attribute(line);
      case 'VAL_':
        return this.valueDescription(line);
      case 'SIG_VALTYPE_':
        return this.signalValueType(line);
      case 'SG_MUL_VAL_':
        return this.multiplexValue(line);
      default:
        if (SKIPPED.has(t.text)) return this.skipToSemicolon(t.text, line);
        this.fail(`unexpected ${describe(t)} here`, t);
    }
  }

  /** NS_ : followed by the list of keyword names the file may use (indented, or one per line). */
  private newSymbols(): void {
    if (this.isPunct(':')) this.pos++;
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'ident' || t.text === 'BS_') return;
      const next = this.peek(1);
      const aloneOnLine = next === undefined || next.lineStart;
      if (t.lineStart && t.column === 0 && !aloneOnLine) return;
      this.pos++;
    }
  }

  /** BU_: node names, on the same line or on indented lines below it. */
  private nodes(): void {
    this.expectPunct(':', 'after BU_');
    for (;;) {
      const t = this.peek();
      if (!t || (t.lineStart && (t.column === 0 || t.kind !== 'ident' || KEYWORDS.has(t.text)))) return;
      if (t.kind === 'punct' && t.text === ',') {
        this.pos++;
        continue;
      }
      this.out.nodes.push(this.expectIdent('a node name'));
    }
  }

  /** `number "label"` pairs up to the `;`. */
  private labelPairs(keyword: string, line: number): Map<number, string> {
    const labels = new Map<number, string>();
    while (this.peek()?.kind === 'number') {
      const numberToken = this.expectNumberToken('a value');
      const label = this.expectString('a value label');
      const value = Number(numberToken.text);
      if (!Number.isInteger(value)) {
        this.warn(numberToken.line, `${keyword}: value ${numberToken.text} is not an integer (label "${label}" ignored)`);
        continue;
      }
      labels.set(value, label);
    }
    this.endStatement(keyword, line);
    return labels;
  }

  private valueTable(line: number): void {
    const name = this.expectIdent('a value table name');
    this.out.valueTables.set(name, this.labelPairs('VAL_TABLE_', line));
  }

  private message(line: number): void {
    const dbcId = this.expectInteger('a message ID');
    const nameToken = this.peek();
    const name = this.expectIdent('a message name');
    this.expectPunct(':', `after message name ${name}`);
    const length = this.expectInteger('the message length in bytes');
    let sender = '';
    if (!this.atLineEnd()) sender = this.expectIdent('the sending node');
    this.endLine('BO_');
    if (dbcId < 0 || dbcId > 0xffffffff) this.fail(`message ID ${dbcId} is outside 0..0xFFFFFFFF`, nameToken);
    if (length < 0) this.fail(`message ${name}: negative length ${length}`, nameToken);
    if (/^\d/.test(name)) this.warn(line, `message name '${name}' starts with a digit`);
    const message: RawMessage = { dbcId, name, length, sender, signals: [], line };
    this.out.messages.push(message);
    this.currentMessage = message;
  }

  private signal(line: number): void {
    const name = this.expectIdent('a signal name');
    let muxIndicator: string | undefined;
    if (this.peek()?.kind === 'ident') {
      muxIndicator = this.expectIdent('a multiplexer indicator');
      if (!MUX_INDICATOR.test(muxIndicator)) this.fail(`signal ${name}: bad multiplexer indicator '${muxIndicator}'`);
    }
    this.expectPunct(':', `after signal name ${name}`);
    const startBit = this.expectInteger('the start bit');
    this.expectPunct('|', 'between start bit and length');
    const length = this.expectInteger('the signal length');
    this.expectPunct('@', 'before the byte order');
    const orderToken = this.peek();
    const order = this.expectInteger('the byte order (0 or 1)');
    if (order !== 0 && order !== 1) this.fail(`signal ${name}: byte order must be 0 (Motorola) or 1 (Intel), found ${order}`, orderToken);
    let signed: boolean;
    if (this.isPunct('+')) signed = false;
    else if (this.isPunct('-')) signed = true;
    else this.fail(`signal ${name}: expected '+' (unsigned) or '-' (signed), found ${describe(this.peek())}`);
    this.pos++;
    this.expectPunct('(', 'before factor');
    const factorToken = this.expectNumberToken('the factor');
    this.expectPunct(',', 'between factor and offset');
    const offsetToken = this.expectNumberToken('the offset');
    this.expectPunct(')', 'after offset');
    this.expectPunct('[', 'before minimum');
    const minToken = this.expectNumberToken('the minimum');
    this.expectPunct('|', 'between minimum and maximum');
    const maxToken = this.expectNumberToken('the maximum');
    this.expectPunct(']', 'after maximum');
    const unit = this.peek()?.kind === 'string' ? this.expectString('the unit') : '';
    const receivers: string[] = [];
    while (!this.atLineEnd()) {
      const t = this.peek()!;
      if (t.kind === 'punct' && t.text === ',') this.pos++;
      else if (t.kind === 'ident') {
        this.pos++;
        if (t.text !== 'Vector__XXX') receivers.push(t.text);
      } else break;
    }
    this.endLine('SG_');
    const factor = Number(factorToken.text);
    const offset = Number(offsetToken.text);
    if (!Number.isFinite(factor) || !Number.isFinite(offset)) this.fail(`signal ${name}: factor/offset out of range`, factorToken);
    if (factor === 0) this.warn(line, `signal ${name}: factor 0 (every value decodes to the offset)`);
    if (/^\d/.test(name)) this.warn(line, `signal name '${name}' starts with a digit`);
    const noRange = minToken.text === '0' && maxToken.text === '0';
    const signal: RawSignal = {
      name,
      muxIndicator,
      startBit,
      length,
      bigEndian: order === 0,
      signed,
      factor,
      offset,
      min: noRange ? undefined : Number(minToken.text),
      max: noRange ? undefined : Number(maxToken.text),
      unit,
      receivers,
      line,
    };
    if (!this.currentMessage) {
      this.warn(line, `signal ${name} outside of any BO_ (ignored)`);
      return;
    }
    this.currentMessage.signals.push(signal);
  }

  private messageSenders(line: number): void {
    const dbcId = this.expectInteger('a message ID');
    if (this.isPunct(':')) this.pos++;
    const nodes: string[] = [];
    while (!this.isPunct(';') && this.peek()?.kind === 'ident') {
      nodes.push(this.expectIdent('a node name'));
      if (this.isPunct(',')) this.pos++;
    }
    this.endStatement('BO_TX_BU_', line);
    this.out.senders.push({ dbcId, nodes, line });
  }

  /** The object a CM_ or BA_ statement refers to. */
  private objectRef(keyword: string): ObjectRef {
    const t = this.peek();
    if (t?.kind !== 'ident') return { kind: 'network' };
    switch (t.text) {
      case 'BU_':
        this.pos++;
        return { kind: 'node', name: this.expectIdent(`a node name after ${keyword} BU_`) };
      case 'BO_':
        this.pos++;
        return { kind: 'message', dbcId: this.expectInteger(`a message ID after ${keyword} BO_`) };
      case 'SG_': {
        this.pos++;
        const dbcId = this.expectInteger(`a message ID after ${keyword} SG_`);
        return { kind: 'signal', dbcId, signal: this.expectIdent('a signal name') };
      }
      case 'EV_':
        this.pos++;
        return { kind: 'envvar', name: this.expectIdent(`an environment variable after ${keyword} EV_`) };
      default:
        return { kind: 'network' };
    }
  }

  private comment(line: number): void {
    let target: ObjectRef;
    const t = this.peek();
    if (t?.kind === 'number') {
      // Real files (opendbc) write `CM_ 145 "..."`: the object type is missing; read it as a message comment.
      const dbcId = this.expectInteger('a message ID');
      this.warn(line, `malformed CM_: object type (BO_/SG_/BU_/EV_) missing before ${t.text}; read as a comment on message ${t.text}`);
      target = { kind: 'message', dbcId };
    } else {
      target = this.objectRef('CM_');
    }
    const text = this.expectString('the comment text');
    this.endStatement('CM_', line);
    this.out.comments.push({ target, text, line });
  }

  private attributeValue(what: string): AttributeValue {
    const t = this.peek();
    if (t?.kind === 'string') return this.expectString(what);
    return this.expectNumber(what);
  }

  private attributeDefinition(line: number): void {
    let objectType = '';
    const t = this.peek();
    if (t?.kind === 'ident' && (t.text === 'BU_' || t.text === 'BO_' || t.text === 'SG_' || t.text === 'EV_')) {
      objectType = t.text;
      this.pos++;
    }
    const name = this.expectString('the attribute name');
    const typeToken = this.peek();
    const type = this.expectIdent('the attribute type (INT, HEX, FLOAT, STRING, ENUM)');
    const def: DbcAttributeDefinition = { name, objectType, type: 'STRING', min: undefined, max: undefined, enumValues: undefined, defaultValue: undefined };
    switch (type) {
      case 'INT':
      case 'HEX':
      case 'FLOAT':
        def.type = type;
        if (this.peek()?.kind === 'number') {
          def.min = this.expectNumber('the minimum');
          def.max = this.expectNumber('the maximum');
        }
        break;
      case 'STRING':
        break;
      case 'ENUM':
        def.type = 'ENUM';
        def.enumValues = [];
        while (this.peek()?.kind === 'string') {
          def.enumValues.push(this.expectString('an enum value'));
          if (this.isPunct(',')) this.pos++;
        }
        break;
      default:
        this.fail(`attribute "${name}": unknown type '${type}'`, typeToken);
    }
    this.endStatement('BA_DEF_', line);
    const previous = this.out.attributeDefinitions.get(name);
    if (previous?.defaultValue !== undefined) def.defaultValue = previous.defaultValue;
    this.out.attributeDefinitions.set(name, def);
  }

  private attributeDefault(line: number): void {
    const name = this.expectString('the attribute name');
    const value = this.attributeValue('the default value');
    this.endStatement('BA_DEF_DEF_', line);
    const def = this.out.attributeDefinitions.get(name);
    if (!def) {
      this.warn(line, `BA_DEF_DEF_ for undefined attribute "${name}"`);
      this.out.attributeDefinitions.set(name, { name, objectType: '', type: typeof value === 'string' ? 'STRING' : 'FLOAT', min: undefined, max: undefined, enumValues: undefined, defaultValue: value });
      return;
    }
    def.defaultValue = value;
  }

  private attribute(line: number): void {
    const name = this.expectString('the attribute name');
    const target = this.objectRef('BA_');
    const value = this.attributeValue(`the value of attribute "${name}"`);
    this.endStatement('BA_', line);
    this.out.attributes.push({ target, name, value, line });
  }

  private valueDescription(line: number): void {
    if (this.peek()?.kind !== 'number') {
      // `VAL_ envVar 0 "x" ...;` labels an environment variable: not used by the codec.
      this.expectIdent('a message ID or environment variable');
      this.labelPairs('VAL_', line);
      return;
    }
    const dbcId = this.expectInteger('a message ID');
    const signal = this.expectIdent('a signal name');
    const labels = this.labelPairs('VAL_', line);
    this.out.valueDescriptions.push({ dbcId, signal, labels, line });
  }

  private signalValueType(line: number): void {
    const dbcId = this.expectInteger('a message ID');
    const signal = this.expectIdent('a signal name');
    if (this.isPunct(':')) this.pos++;
    const type = this.expectInteger('the value type (0 = integer, 1 = float32, 2 = float64)');
    this.endStatement('SIG_VALTYPE_', line);
    this.out.valueTypes.push({ dbcId, signal, type, line });
  }

  private multiplexValue(line: number): void {
    const dbcId = this.expectInteger('a message ID');
    const signal = this.expectIdent('a signal name');
    const multiplexer = this.expectIdent('the multiplexer signal name');
    const ranges: [number, number][] = [];
    while (this.peek()?.kind === 'number') {
      const lo = this.expectInteger('a range start');
      let hi: number;
      if (this.isPunct('-')) {
        this.pos++;
        hi = this.expectInteger('a range end');
      } else {
        // `3 -5` tokenizes as 3 and -5.
        const t = this.peek();
        hi = -this.expectInteger('a range end');
        if (hi < 0) this.fail(`SG_MUL_VAL_ ${signal}: expected a range like 3-5`, t);
      }
      if (hi < lo) this.fail(`SG_MUL_VAL_ ${signal}: empty range ${lo}-${hi}`);
      ranges.push([lo, hi]);
      if (this.isPunct(',')) this.pos++;
    }
    this.endStatement('SG_MUL_VAL_', line);
    this.out.multiplexValues.push({ dbcId, signal, multiplexer, ranges, line });
  }
}
