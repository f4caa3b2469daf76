/**
 * The in-memory model of a DBC file, as the parser produces it and the codec compiles it.
 * Names follow the DBC vocabulary (message = BO_, signal = SG_); ids are CAN ids without flag bits.
 */

export type ByteOrder = 'little_endian' | 'big_endian';
export type SignalValueType = 'int' | 'float32' | 'float64';
export type AttributeValue = number | string;

export interface DbcSignal {
  name: string;
  /** DBC start bit: the LSB for Intel (`@1`), the MSB in sawtooth numbering for Motorola (`@0`). */
  startBit: number;
  length: number;
  byteOrder: ByteOrder;
  signed: boolean;
  /** SIG_VALTYPE_: 1 = IEEE float32, 2 = IEEE float64. */
  valueType: SignalValueType;
  factor: number;
  offset: number;
  /** undefined when the DBC says [0|0] (no range). */
  min: number | undefined;
  max: number | undefined;
  unit: string;
  receivers: string[];
  /** `M` or `mNM`: this signal selects which multiplexed signals are present. */
  isMultiplexer: boolean;
  /** Name of the signal whose value selects this one (simple `mN` or SG_MUL_VAL_); undefined when always present. */
  multiplexerSignal: string | undefined;
  /** Multiplexer values that select this signal, as inclusive ranges. */
  multiplexerRanges: [number, number][] | undefined;
  /** VAL_ labels by raw value. */
  labels: Map<number, string> | undefined;
  comment: string | undefined;
  attributes: Map<string, AttributeValue>;
  /** 1-based line of the SG_ statement. */
  line: number;
}

export interface DbcMessage {
  /** CAN id without the extended flag. */
  id: number;
  extended: boolean;
  /** CAN FD frame (VFrameFormat ..._FD). */
  fd: boolean;
  name: string;
  /** Payload length in bytes as the DBC declares it. */
  length: number;
  senders: string[];
  signals: DbcSignal[];
  comment: string | undefined;
  /** GenMsgCycleTime (or its default) in ms; undefined when absent or 0. */
  cycleTimeMs: number | undefined;
  attributes: Map<string, AttributeValue>;
  line: number;
}

export interface DbcAttributeDefinition {
  name: string;
  /** '' = network, 'BU_', 'BO_', 'SG_', 'EV_', or a relation kind (BU_SG_REL_...). */
  objectType: string;
  type: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  min: number | undefined;
  max: number | undefined;
  enumValues: string[] | undefined;
  defaultValue: AttributeValue | undefined;
}

export interface DbcDatabase {
  fileName: string;
  version: string;
  nodes: string[];
  /** CM_ BU_ comments by node name. */
  nodeComments: Map<string, string>;
  messages: DbcMessage[];
  /** VAL_TABLE_ definitions by name. */
  valueTables: Map<string, Map<number, string>>;
  attributeDefinitions: Map<string, DbcAttributeDefinition>;
  /** Network (database-level) attributes. */
  attributes: Map<string, AttributeValue>;
  comment: string | undefined;
}

/** A problem the loader tolerated: it names where and why; the rest of the file still loads. */
export interface DbcWarning {
  file: string;
  line: number;
  reason: string;
}

export interface DbcLoadResult {
  db: DbcDatabase;
  warnings: DbcWarning[];
}

/** The file cannot be used at all (missing, unreadable, not a DBC). */
export class DbcError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'DbcError';
  }
}

export function formatWarning(w: DbcWarning): string {
  return `${w.file}:${w.line}: ${w.reason}`;
}
