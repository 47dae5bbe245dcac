import { ModelError } from './modelError';
import { halfToFloat } from './float16';

/*
 * A bounded reader for the parts of ONNX's ModelProto the engine needs, and a writer that appends to a
 * serialized model without decoding and re-encoding it (a round trip through an older schema silently
 * drops newer fields). Model files are untrusted: every length is checked against the buffer, recursion
 * is bounded, and large tensor payloads are kept as views into the caller's buffer, never copied.
 */

/** ONNX TensorProto.DataType values used by the engine. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

/** The name of an ONNX element type ('float32', 'int64', …); 'unknown' when undefined. */
export function dataTypeName(code: number | undefined): string {
  return code === undefined ? 'unknown' : (DATA_TYPE_NAMES[code] ?? `type ${code}`);
}

/** Bytes per element for fixed-size ONNX data types (sub-byte and string types are absent). */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1,
};

/** Where a tensor's payload sits in the buffer it was read from. */
interface PayloadSpan {
  /** Field number in TensorProto (4 float_data, 5 int32_data, 7 int64_data, 9 raw_data, 10 double_data). */
  field: number;
  start: number;
  end: number;
  /** Whether the repeated field was packed (length-delimited); raw_data is always "packed". */
  packed: boolean;
}

/** A tensor (initializer or attribute value): its header, and a view of its payload when stored inline. */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Elements: product of dims (1 for a scalar). */
  elementCount: number;
  /** Payload size in bytes, inline or external (0 when unknown). */
  byteSize: number;
  /** `location` from external_data when the payload lives in another file. */
  externalLocation?: string;
  externalOffset?: number;
  externalLength?: number;
  /** @internal payload pieces; read through {@link tensorNumbers}. */
  payload: PayloadSpan[];
  /** @internal the buffer the spans point into. */
  source: Uint8Array;
}

/** An attribute of a node. Only the fields that were present are set. */
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: string[];
  graphs?: OnnxGraph[];
}

/** A node of a graph, with the byte range of its field so a writer can replace it. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
  /** Byte range of the whole field (tag, length and message) in the model buffer. */
  fieldStart: number;
  fieldEnd: number;
}

/** A graph input or output: its element type and shape when declared. */
export interface OnnxValueInfo {
  name: string;
  /** ONNX element type; undefined when not a tensor or not declared. */
  elemType?: number;
  /** Dimensions: a number (dim_value), a string (dim_param) or null (unknown); undefined when no shape. */
  shape?: (number | string | null)[];
}

/** A graph (the main one or a subgraph of If/Loop/Scan). */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Count of value_info entries (types the exporter recorded for intermediate tensors). */
  valueInfoCount: number;
  /** Byte range of the GraphProto message in the model buffer (a subgraph is rewritten from it). */
  contentStart?: number;
  contentEnd?: number;
}

/** An operator set the model imports. */
export interface OnnxOpset {
  domain: string;
  version: number;
}

/** The parts of a ModelProto the engine reads. */
export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: OnnxOpset[];
  graph: OnnxGraph;
  /** Byte range of the ModelProto.graph field: where its tag starts, its message starts and ends. */
  graphField: { start: number; contentStart: number; end: number };
}

const MAX_DEPTH = 24;
/** Tensors decoded into numbers by {@link tensorNumbers} at most this many elements. */
const MAX_DECODED_ELEMENTS = 1 << 20;

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Thrown inside the reader; turned into a ModelError naming the file at the top. */
class WireError extends Error {
  constructor(readonly at: number, readonly reason: 'truncated' | 'invalid') {
    super(`${reason} at byte ${at}`);
  }
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint as a JS number; int64 values that are negative come back negative. */
  varint(): number {
    let result = 0;
    let scale = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new WireError(this.pos, 'truncated');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    // Past 49 bits a double loses precision: finish in BigInt (negative int64 take ten bytes).
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(this.pos, 'truncated');
      const b = this.buf[this.pos++];
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return Number(BigInt.asIntN(64, big));
    }
    throw new WireError(start, 'invalid');
  }

  /** Reads a varint that must be a length or count inside the buffer. */
  length(): number {
    const at = this.pos;
    const n = this.varint();
    if (n < 0 || n > this.end - this.pos) throw new WireError(n < 0 ? at : this.end, n < 0 ? 'invalid' : 'truncated');
    return n;
  }

  tag(): { field: number; wire: number; at: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field < 1 || field > 536870911 || wire === 3 || wire === 4 || wire > 5) throw new WireError(at, 'invalid');
    return { field, wire, at };
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new WireError(this.pos, 'invalid');
    }
  }

  need(n: number): void {
    if (this.end - this.pos < n) throw new WireError(this.end, 'truncated');
  }

  /** Reads a length-delimited field and returns its [start, end). */
  span(): [number, number] {
    const n = this.length();
    const s = this.pos;
    this.pos += n;
    return [s, s + n];
  }

  string(): string {
    const [s, e] = this.span();
    return textDecoder.decode(this.buf.subarray(s, e));
  }

  float32(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  expect(wire: number, expected: number, at: number): void {
    if (wire !== expected) throw new WireError(at, 'invalid');
  }
}

/** Reads a repeated int64/int32 field, packed or not, appending to `out`. */
function readInts(r: Reader, wire: number, at: number, out: number[]): void {
  if (wire === 0) {
    out.push(r.varint());
  } else if (wire === 2) {
    const [s, e] = r.span();
    const sub = new Reader(r.buf, s, e);
    while (!sub.done) out.push(sub.varint());
  } else {
    throw new WireError(at, 'invalid');
  }
}

function readFloats(r: Reader, wire: number, at: number, out: number[]): void {
  if (wire === 5) {
    out.push(r.float32());
  } else if (wire === 2) {
    const [s, e] = r.span();
    if ((e - s) % 4 !== 0) throw new WireError(s, 'invalid');
    const sub = new Reader(r.buf, s, e);
    while (!sub.done) out.push(sub.float32());
  } else {
    throw new WireError(at, 'invalid');
  }
}

function readTensor(r: Reader, start: number, end: number): OnnxTensor {
  const sub = new Reader(r.buf, start, end);
  const t: OnnxTensor = { name: '', dataType: 0, dims: [], elementCount: 1, byteSize: 0, payload: [], source: r.buf };
  let external = false;
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    switch (field) {
      case 1:
        readInts(sub, wire, at, t.dims);
        break;
      case 2:
        sub.expect(wire, 0, at);
        t.dataType = sub.varint();
        break;
      case 8:
        sub.expect(wire, 2, at);
        t.name = sub.string();
        break;
      case 4: case 5: case 7: case 9: case 10: case 11: {
        if (wire === 2) {
          const [s, e] = sub.span();
          t.payload.push({ field, start: s, end: e, packed: true });
        } else {
          const s = sub.pos;
          sub.skip(wire);
          t.payload.push({ field, start: s, end: sub.pos, packed: false });
        }
        break;
      }
      case 13: {
        sub.expect(wire, 2, at);
        const [s, e] = sub.span();
        const entry = new Reader(r.buf, s, e);
        let key = '';
        let value = '';
        while (!entry.done) {
          const tg = entry.tag();
          if (tg.field === 1 && tg.wire === 2) key = entry.string();
          else if (tg.field === 2 && tg.wire === 2) value = entry.string();
          else entry.skip(tg.wire);
        }
        if (key === 'location') t.externalLocation = value;
        else if (key === 'offset') t.externalOffset = Number(value);
        else if (key === 'length') t.externalLength = Number(value);
        break;
      }
      case 14:
        sub.expect(wire, 0, at);
        external = sub.varint() === 1;
        break;
      default:
        sub.skip(wire);
    }
  }
  // data_location EXTERNAL with no location entry still means the payload is not inline.
  if (external && t.externalLocation === undefined) t.externalLocation = '';
  t.elementCount = t.dims.reduce((a, b) => a * Math.max(b, 0), 1);
  const per = ELEMENT_BYTES[t.dataType] ?? 0;
  if (t.externalLength !== undefined && Number.isFinite(t.externalLength)) t.byteSize = t.externalLength;
  else if (t.externalLocation !== undefined) t.byteSize = t.elementCount * per;
  else if (t.payload.some((p) => p.field === 9)) t.byteSize = t.payload.reduce((a, p) => a + (p.field === 9 ? p.end - p.start : 0), 0);
  else t.byteSize = t.elementCount * per;
  return t;
}

function readValueInfo(r: Reader, start: number, end: number): OnnxValueInfo {
  const sub = new Reader(r.buf, start, end);
  const v: OnnxValueInfo = { name: '' };
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    if (field === 1) {
      sub.expect(wire, 2, at);
      v.name = sub.string();
    } else if (field === 2) {
      sub.expect(wire, 2, at);
      const [s, e] = sub.span();
      readType(r, s, e, v);
    } else {
      sub.skip(wire);
    }
  }
  return v;
}

function readType(r: Reader, start: number, end: number, v: OnnxValueInfo): void {
  const sub = new Reader(r.buf, start, end);
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    if (field !== 1) {
      sub.skip(wire);
      continue;
    }
    sub.expect(wire, 2, at);
    const [s, e] = sub.span();
    const tensorType = new Reader(r.buf, s, e);
    while (!tensorType.done) {
      const tg = tensorType.tag();
      if (tg.field === 1 && tg.wire === 0) {
        v.elemType = tensorType.varint();
      } else if (tg.field === 2 && tg.wire === 2) {
        const [ss, se] = tensorType.span();
        const shape: (number | string | null)[] = [];
        const shapeReader = new Reader(r.buf, ss, se);
        while (!shapeReader.done) {
          const dt = shapeReader.tag();
          if (dt.field !== 1) {
            shapeReader.skip(dt.wire);
            continue;
          }
          shapeReader.expect(dt.wire, 2, dt.at);
          const [ds, de] = shapeReader.span();
          const dim = new Reader(r.buf, ds, de);
          let value: number | string | null = null;
          while (!dim.done) {
            const t = dim.tag();
            if (t.field === 1 && t.wire === 0) value = dim.varint();
            else if (t.field === 2 && t.wire === 2) value = dim.string();
            else dim.skip(t.wire);
          }
          shape.push(value);
        }
        v.shape = shape;
      } else {
        tensorType.skip(tg.wire);
      }
    }
  }
}

function readAttribute(r: Reader, start: number, end: number, depth: number): OnnxAttribute {
  const sub = new Reader(r.buf, start, end);
  const a: OnnxAttribute = { name: '', type: 0 };
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    switch (field) {
      case 1:
        sub.expect(wire, 2, at);
        a.name = sub.string();
        break;
      case 20:
        sub.expect(wire, 0, at);
        a.type = sub.varint();
        break;
      case 2:
        sub.expect(wire, 5, at);
        a.f = sub.float32();
        break;
      case 3:
        sub.expect(wire, 0, at);
        a.i = sub.varint();
        break;
      case 4:
        sub.expect(wire, 2, at);
        a.s = sub.string();
        break;
      case 5: {
        sub.expect(wire, 2, at);
        const [s, e] = sub.span();
        a.t = readTensor(r, s, e);
        break;
      }
      case 6: {
        sub.expect(wire, 2, at);
        const [s, e] = sub.span();
        a.g = readGraph(r, s, e, depth + 1);
        break;
      }
      case 7:
        readFloats(sub, wire, at, (a.floats ??= []));
        break;
      case 8:
        readInts(sub, wire, at, (a.ints ??= []));
        break;
      case 9:
        sub.expect(wire, 2, at);
        (a.strings ??= []).push(sub.string());
        break;
      case 11: {
        sub.expect(wire, 2, at);
        const [s, e] = sub.span();
        (a.graphs ??= []).push(readGraph(r, s, e, depth + 1));
        break;
      }
      default:
        sub.skip(wire);
    }
  }
  return a;
}

function readNode(r: Reader, fieldStart: number, start: number, end: number, depth: number): OnnxNode {
  const sub = new Reader(r.buf, start, end);
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [], fieldStart, fieldEnd: end };
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    switch (field) {
      case 1:
        sub.expect(wire, 2, at);
        n.inputs.push(sub.string());
        break;
      case 2:
        sub.expect(wire, 2, at);
        n.outputs.push(sub.string());
        break;
      case 3:
        sub.expect(wire, 2, at);
        n.name = sub.string();
        break;
      case 4:
        sub.expect(wire, 2, at);
        n.opType = sub.string();
        break;
      case 7:
        sub.expect(wire, 2, at);
        n.domain = sub.string();
        break;
      case 5: {
        sub.expect(wire, 2, at);
        const [s, e] = sub.span();
        n.attributes.push(readAttribute(r, s, e, depth));
        break;
      }
      default:
        sub.skip(wire);
    }
  }
  // The default domain is spelled both '' and 'ai.onnx'.
  if (n.domain === 'ai.onnx') n.domain = '';
  return n;
}

function readGraph(r: Reader, start: number, end: number, depth: number): OnnxGraph {
  if (depth > MAX_DEPTH) throw new WireError(start, 'invalid');
  const sub = new Reader(r.buf, start, end);
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfoCount: 0, contentStart: start, contentEnd: end };
  while (!sub.done) {
    const { field, wire, at } = sub.tag();
    if (field === 1 || field === 5 || field === 11 || field === 12) {
      sub.expect(wire, 2, at);
      const [s, e] = sub.span();
      if (field === 1) g.nodes.push(readNode(r, at, s, e, depth));
      else if (field === 5) g.initializers.push(readTensor(r, s, e));
      else if (field === 11) g.inputs.push(readValueInfo(r, s, e));
      else g.outputs.push(readValueInfo(r, s, e));
    } else if (field === 2) {
      sub.expect(wire, 2, at);
      g.name = sub.string();
    } else if (field === 13) {
      sub.expect(wire, 2, at);
      sub.span();
      g.valueInfoCount++;
    } else {
      sub.skip(wire);
    }
  }
  return g;
}

/**
 * Parses a serialized ONNX ModelProto.
 * @param bytes the whole file; tensor payloads stay views into it.
 * @param label how to name the model in error messages (usually its file name).
 * @throws ModelError ('invalid-onnx') when the bytes are truncated, malformed or hold no graph.
 */
export function parseOnnxModel(bytes: Uint8Array, label = 'This file'): OnnxModel {
  const r = new Reader(bytes, 0, bytes.length);
  const model: Partial<OnnxModel> & { opsetImports: OnnxOpset[] } = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    opsetImports: [],
  };
  try {
    if (bytes.length === 0) throw new WireError(0, 'truncated');
    while (!r.done) {
      const { field, wire, at } = r.tag();
      switch (field) {
        case 1:
          r.expect(wire, 0, at);
          model.irVersion = r.varint();
          break;
        case 2:
          r.expect(wire, 2, at);
          model.producerName = r.string();
          break;
        case 3:
          r.expect(wire, 2, at);
          model.producerVersion = r.string();
          break;
        case 7: {
          r.expect(wire, 2, at);
          if (model.graph) throw new WireError(at, 'invalid');
          const [s, e] = r.span();
          model.graph = readGraph(r, s, e, 0);
          model.graphField = { start: at, contentStart: s, end: e };
          break;
        }
        case 8: {
          r.expect(wire, 2, at);
          const [s, e] = r.span();
          const sub = new Reader(bytes, s, e);
          const op: OnnxOpset = { domain: '', version: 0 };
          while (!sub.done) {
            const t = sub.tag();
            if (t.field === 1 && t.wire === 2) op.domain = sub.string();
            else if (t.field === 2 && t.wire === 0) op.version = sub.varint();
            else sub.skip(t.wire);
          }
          if (op.domain === 'ai.onnx') op.domain = '';
          model.opsetImports.push(op);
          break;
        }
        default:
          r.skip(wire);
      }
    }
  } catch (e) {
    if (e instanceof WireError) {
      const what = e.reason === 'truncated' ? `truncated at byte ${e.at}` : `malformed at byte ${e.at}`;
      throw new ModelError(
        'invalid-onnx',
        `${label} is not a valid ONNX model (${what} of ${bytes.length}); re-export or re-download it.`,
      );
    }
    throw e;
  }
  if (!model.graph || model.graphField === undefined || model.irVersion === 0) {
    throw new ModelError(
      'invalid-onnx',
      `${label} is not a valid ONNX model (no ${model.graph ? 'IR version' : 'graph'} found in ${bytes.length} bytes); re-export or re-download it.`,
    );
  }
  return model as OnnxModel;
}

const NO_BYTES = new Uint8Array(0);

/** A tensor's header without its payload (which {@link tensorNumbers} then reads as unknown). */
function withoutPayload(t: OnnxTensor): OnnxTensor {
  return { ...t, payload: [], source: NO_BYTES };
}

function graphWithoutPayloads(g: OnnxGraph): OnnxGraph {
  return {
    ...g,
    initializers: g.initializers.map(withoutPayload),
    nodes: g.nodes.map((n) => ({
      ...n,
      attributes: n.attributes.map((a) => ({
        ...a,
        t: a.t && withoutPayload(a.t),
        g: a.g && graphWithoutPayloads(a.g),
        graphs: a.graphs?.map(graphWithoutPayloads),
      })),
    })),
  };
}

/**
 * The parse of a model holding no view into its bytes: tensors keep their headers (name, type, dims, size) but not
 * their values. Once a runtime session holds the weights, this is what needs to stay (inputs, outputs, operators),
 * and the file's bytes — as large as the model — can be freed.
 */
export function withoutPayloads(model: OnnxModel): OnnxModel {
  return { ...model, graph: graphWithoutPayloads(model.graph) };
}

/**
 * Says how an inline tensor's header disagrees with its data: raw bytes that are not dims × element
 * size (a header claiming 2^40 rows over a few kilobytes, say). Undefined when they agree, or when the
 * data is external, in typed fields, or of a type without a fixed element size.
 */
export function tensorSizeProblem(t: OnnxTensor): string | undefined {
  const per = ELEMENT_BYTES[t.dataType];
  const raw = t.payload.filter((p) => p.field === 9);
  if (!per || t.externalLocation !== undefined || raw.length === 0) return undefined;
  const held = raw.reduce((a, p) => a + p.end - p.start, 0);
  const claimed = t.elementCount * per;
  if (held === claimed) return undefined;
  return `tensor "${t.name}" declares ${t.elementCount.toLocaleString('en-US')} elements ([${t.dims.join(', ')}]) of ${dataTypeName(t.dataType)}, which take ${claimed.toLocaleString('en-US')} bytes, but holds ${held.toLocaleString('en-US')}`;
}

/** The opset version the model imports for a domain ('' is the default ONNX domain); 0 when absent. */
export function opsetVersion(model: OnnxModel, domain = ''): number {
  return model.opsetImports.find((o) => o.domain === domain)?.version ?? 0;
}

/**
 * Decodes a small inline tensor into numbers (int64 as numbers; bool and ints as integers).
 * Returns undefined for external, string, oversized or unsupported tensors.
 */
export function tensorNumbers(t: OnnxTensor): number[] | undefined {
  if (t.externalLocation !== undefined || t.elementCount > MAX_DECODED_ELEMENTS) return undefined;
  const out: number[] = [];
  for (const p of t.payload) {
    const view = new DataView(t.source.buffer, t.source.byteOffset + p.start, p.end - p.start);
    if (p.field === 9) {
      const per = ELEMENT_BYTES[t.dataType];
      if (!per || view.byteLength % per !== 0) return undefined;
      const n = view.byteLength / per;
      for (let i = 0; i < n; i++) {
        const o = i * per;
        switch (t.dataType) {
          case DataType.FLOAT: out.push(view.getFloat32(o, true)); break;
          case DataType.DOUBLE: out.push(view.getFloat64(o, true)); break;
          case DataType.INT64: out.push(Number(view.getBigInt64(o, true))); break;
          case DataType.UINT64: out.push(Number(view.getBigUint64(o, true))); break;
          case DataType.INT32: out.push(view.getInt32(o, true)); break;
          case DataType.UINT32: out.push(view.getUint32(o, true)); break;
          case DataType.INT16: out.push(view.getInt16(o, true)); break;
          case DataType.UINT16: out.push(view.getUint16(o, true)); break;
          case DataType.INT8: out.push(view.getInt8(o)); break;
          case DataType.UINT8: case DataType.BOOL: out.push(view.getUint8(o)); break;
          case DataType.FLOAT16: out.push(halfToFloat(view.getUint16(o, true))); break;
          default: return undefined;
        }
      }
    } else if (p.field === 4) {
      const r = new Reader(t.source, p.start, p.end);
      if (p.packed) while (!r.done) out.push(r.float32());
      else out.push(r.float32());
    } else if (p.field === 10) {
      for (let o = 0; o + 8 <= view.byteLength; o += 8) out.push(view.getFloat64(o, true));
    } else {
      // int32_data also carries int8/uint8/int16/bool/float16 values, one per varint.
      const r = new Reader(t.source, p.start, p.end);
      while (!r.done) {
        const v = r.varint();
        out.push(t.dataType === DataType.FLOAT16 ? halfToFloat(v) : v);
      }
    }
  }
  return out.length === t.elementCount ? out : undefined;
}

/* ------------------------------------------------------------------------------------------------ */
/* Writing                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

const textEncoder = new TextEncoder();

class Writer {
  private chunks: number[] = [];
  private parts: Uint8Array[] = [];
  private size = 0;

  varint(v: number): this {
    if (v < 0) {
      // Negative int64: ten bytes, two's complement.
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 10; i++) {
        const byte = Number(big & 0x7fn);
        big >>= 7n;
        this.chunks.push(big === 0n ? byte : byte | 0x80);
        if (big === 0n) break;
      }
      return this;
    }
    let n = v;
    while (n >= 128) {
      this.chunks.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.chunks.push(n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.flush();
    this.parts.push(data);
    this.size += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, textEncoder.encode(s));
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  private flush(): void {
    if (this.chunks.length) {
      this.parts.push(Uint8Array.from(this.chunks));
      this.size += this.chunks.length;
      this.chunks = [];
    }
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** A tensor to write into a new node attribute or initializer. */
export interface NewTensor {
  name?: string;
  dataType: typeof DataType.FLOAT | typeof DataType.INT64;
  dims: number[];
  values: number[];
}

/** An attribute of a new node. */
export type NewAttribute =
  | { name: string; int: number }
  | { name: string; float: number }
  | { name: string; ints: number[] }
  | { name: string; string: string }
  | { name: string; tensor: NewTensor };

/** A node to append to a graph. */
export interface NewNode {
  opType: string;
  domain?: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: NewAttribute[];
}

/** A graph input to append: a float/int tensor with a shape of fixed sizes or symbolic names. */
export interface NewInput {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/** Encodes a TensorProto with raw_data. */
export function encodeTensor(t: NewTensor): Uint8Array {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  if (t.name) w.string(8, t.name);
  const per = t.dataType === DataType.FLOAT ? 4 : 8;
  const raw = new Uint8Array(t.values.length * per);
  const dv = new DataView(raw.buffer);
  t.values.forEach((v, i) => {
    if (t.dataType === DataType.FLOAT) dv.setFloat32(i * 4, v, true);
    else dv.setBigInt64(i * 8, BigInt(Math.trunc(v)), true);
  });
  w.bytes(9, raw);
  return w.finish();
}

function encodeAttribute(a: NewAttribute): Uint8Array {
  const w = new Writer().string(1, a.name);
  if ('int' in a) w.int(3, a.int).int(20, 2);
  else if ('float' in a) w.float(2, a.float).int(20, 1);
  else if ('ints' in a) {
    for (const v of a.ints) w.int(8, v);
    w.int(20, 7);
  } else if ('string' in a) w.string(4, a.string).int(20, 3);
  else w.bytes(5, encodeTensor(a.tensor)).int(20, 4);
  return w.finish();
}

/** Encodes a NodeProto. */
export function encodeNode(n: NewNode): Uint8Array {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.bytes(5, encodeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

/** Encodes a ValueInfoProto with only a name (the runtime infers type and shape). */
function encodeNameOnlyValueInfo(name: string): Uint8Array {
  return new Writer().string(1, name).finish();
}

function encodeTypedValueInfo(v: NewInput): Uint8Array {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = typeof d === 'number' ? new Writer().int(1, d).finish() : new Writer().string(2, d).finish();
    shape.bytes(1, dim);
  }
  const tensorType = new Writer().int(1, v.elemType).bytes(2, shape.finish()).finish();
  const type = new Writer().bytes(1, tensorType).finish();
  return new Writer().string(1, v.name).bytes(2, type).finish();
}

/** Concatenates byte pieces. */
function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Changes to one existing node, written by {@link editGraph}. */
export interface NodeEdits {
  /** Outputs to rename: old name → new name. */
  renameOutputs?: Map<string, string>;
  /** New outputs, after the node's own (an If node's, each matched by a new output of both branches). */
  addOutputs?: string[];
  /** Edits to the graphs the node holds in attributes (an If's `then_branch` and `else_branch`), by attribute name. */
  graphs?: Map<string, GraphEdits>;
  /**
   * New nodes written right after this one: where their outputs are read by nodes further on. A subgraph's nodes
   * must come in topological order (the runtime sorts a main graph itself, not a branch of an If).
   */
  insertAfter?: NewNode[];
}

/**
 * Re-writes one AttributeProto field whose graph is edited: every field but the graph (6) is copied as it is.
 * @returns the whole field (tag, length and message).
 */
function rewriteGraphAttribute(bytes: Uint8Array, start: number, end: number, graph: OnnxGraph, edits: GraphEdits): Uint8Array {
  const r = new Reader(bytes, start, end);
  const parts: Uint8Array[] = [];
  while (!r.done) {
    const fieldStart = r.pos;
    const { field, wire } = r.tag();
    if (field === 6 && wire === 2) {
      r.span();
      parts.push(new Writer().bytes(6, editedGraphContent(bytes, graph, edits)).finish());
    } else {
      r.skip(wire);
      parts.push(bytes.subarray(fieldStart, r.pos));
    }
  }
  return new Writer().bytes(5, joined(parts)).finish();
}

/** Re-writes one NodeProto with its edits, copying its other fields as they are; returns the message. */
function rewriteNode(bytes: Uint8Array, node: OnnxNode, edits: NodeEdits): Uint8Array {
  const outer = new Reader(bytes, node.fieldStart, node.fieldEnd);
  outer.tag();
  const [start, end] = outer.span();
  const r = new Reader(bytes, start, end);
  const parts: Uint8Array[] = [];
  let attribute = 0;
  while (!r.done) {
    const fieldStart = r.pos;
    const { field, wire } = r.tag();
    if (field === 2 && wire === 2) {
      const name = r.string();
      parts.push(new Writer().string(2, edits.renameOutputs?.get(name) ?? name).finish());
      continue;
    }
    r.skip(wire);
    if (field === 5 && wire === 2) {
      // Attribute fields come in the order node.attributes was read in.
      const a = node.attributes[attribute++];
      const graphEdits = a && edits.graphs?.get(a.name);
      if (graphEdits) {
        if (!a.g || a.g.contentStart === undefined) throw new Error(`attribute ${a.name} of node ${node.name} holds no graph`);
        const inner = new Reader(bytes, fieldStart, r.pos);
        inner.tag();
        const [s, e] = inner.span();
        parts.push(rewriteGraphAttribute(bytes, s, e, a.g, graphEdits));
        continue;
      }
    }
    parts.push(bytes.subarray(fieldStart, r.pos));
  }
  // A repeated field may continue after other fields: appended outputs follow the node's own.
  for (const o of edits.addOutputs ?? []) parts.push(new Writer().string(2, o).finish());
  return joined(parts);
}

/** Changes to a graph (the main one, or a subgraph through {@link NodeEdits.graphs}), written by {@link editGraph}. */
export interface GraphEdits {
  /** Names of existing tensors to declare as graph outputs (name only; the runtime infers types). */
  outputs?: string[];
  /** New graph inputs. */
  inputs?: NewInput[];
  /** New nodes, appended after the existing ones. */
  nodes?: NewNode[];
  /** Outputs of existing nodes to rename, by node index in the graph's nodes: old name → new name. */
  renameOutputs?: Map<number, Map<string, string>>;
  /** Other changes to existing nodes, by node index in the graph's nodes. */
  nodeEdits?: Map<number, NodeEdits>;
  /** New initializers. */
  initializers?: NewTensor[];
}

/** A graph's GraphProto message with the edits applied: changed nodes re-written in place, new fields appended. */
function editedGraphContent(bytes: Uint8Array, graph: OnnxGraph, edits: GraphEdits): Uint8Array {
  if (graph.contentStart === undefined || graph.contentEnd === undefined) throw new Error(`graph ${graph.name} has no byte range`);
  const byNode = new Map<number, NodeEdits>();
  for (const [index, names] of edits.renameOutputs ?? []) byNode.set(index, { renameOutputs: names });
  for (const [index, e] of edits.nodeEdits ?? []) {
    const renames = byNode.get(index)?.renameOutputs;
    byNode.set(index, { ...e, renameOutputs: new Map([...(renames ?? []), ...(e.renameOutputs ?? [])]) });
  }
  const changed = [...byNode.entries()].map(([index, e]) => ({ node: graph.nodes[index], e })).sort((a, b) => a.node.fieldStart - b.node.fieldStart);
  const pieces: Uint8Array[] = [];
  let cursor = graph.contentStart;
  for (const { node, e } of changed) {
    pieces.push(bytes.subarray(cursor, node.fieldStart));
    pieces.push(new Writer().bytes(1, rewriteNode(bytes, node, e)).finish());
    for (const n of e.insertAfter ?? []) pieces.push(new Writer().bytes(1, encodeNode(n)).finish());
    cursor = node.fieldEnd;
  }
  pieces.push(bytes.subarray(cursor, graph.contentEnd));
  const appended = new Writer();
  for (const n of edits.nodes ?? []) appended.bytes(1, encodeNode(n));
  for (const t of edits.initializers ?? []) appended.bytes(5, encodeTensor(t));
  for (const i of edits.inputs ?? []) appended.bytes(11, encodeTypedValueInfo(i));
  for (const o of edits.outputs ?? []) appended.bytes(12, encodeNameOnlyValueInfo(o));
  pieces.push(appended.finish());
  return joined(pieces);
}

/**
 * Returns new model bytes with the edits applied to the main graph (and, through `nodeEdits`, to the subgraphs its
 * nodes hold). Everything else in the file is copied byte for byte: new fields are appended inside the GraphProto
 * and the length prefixes that enclose a change are rewritten; a re-written node keeps every other field's bytes.
 * @param bytes the original serialized model.
 * @param model the result of {@link parseOnnxModel} on those same bytes.
 */
export function editGraph(bytes: Uint8Array, model: OnnxModel, edits: GraphEdits): Uint8Array {
  const gf = model.graphField;
  const content = editedGraphContent(bytes, { ...model.graph, contentStart: gf.contentStart, contentEnd: gf.end }, edits);
  const head = new Writer().tag(7, 2).varint(content.length).finish();
  return joined([bytes.subarray(0, gf.start), head, content, bytes.subarray(gf.end)]);
}
