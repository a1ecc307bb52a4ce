/**
 * Encodings shared by the tables: exact numbers inside JSON batches, JSON columns, and gzip
 * for replay blobs.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Index of the high 32-bit word of a double in `u32` (platform endianness). */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;
const TWO_52 = 4503599627370496;
const TWO_53 = 9007199254740992;

/** Mantissa and exponent of a double: `m * 2^e === v`, `m` an integer with |m| <= 2^53. */
export interface RealParts {
  m: number;
  e: number;
}

/**
 * Split a double into `out.m * 2^out.e` exactly (NaN excluded), for JSON batches decoded in
 * SQL as `m * pow(2, e)`.
 *
 * Why not the plain decimal: SQLite's text-to-double conversion is not correctly rounded
 * (about 1 double in 15,000 comes back one ulp off), and metric values must round-trip
 * exactly. Integers up to 2^53 convert exactly, and so do powers of two, and multiplying by a
 * power of two is exact. ±Infinity is `±1 * 2^1024` (pow overflows to infinity). -0 becomes 0.
 * Writes into `out` rather than allocating: this runs once per metric point.
 */
export function realParts(v: number, out: RealParts): RealParts {
  if (Number.isInteger(v) && v <= TWO_53 && v >= -TWO_53) {
    out.m = v === 0 ? 0 : v;
    out.e = 0;
    return out;
  }
  f64[0] = v;
  const hi = u32[HI];
  const lo = u32[LO];
  const sign = hi >>> 31 ? -1 : 1;
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (hi & 0xfffff) * 4294967296 + lo;
  if (biased === 0x7ff) {
    out.m = sign; // NaN is filtered out by callers
    out.e = 1024;
  } else if (biased === 0) {
    out.m = sign * fraction; // subnormal
    out.e = -1074;
  } else {
    out.m = sign * (fraction + TWO_52);
    out.e = biased - 1075;
  }
  return out;
}

const scratch: RealParts = { m: 0, e: 0 };

/** `realParts` as the text `"m,e"`. */
export function exactReal(v: number): string {
  realParts(v, scratch);
  return `${scratch.m},${scratch.e}`;
}

/** JSON for a TEXT column; NaN and ±Infinity become null (JSON has no spelling for them). */
export function toJson(v: unknown): string {
  return JSON.stringify(v);
}

export function fromJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** gzip of the object's JSON. */
export async function compressJson(v: object): Promise<Buffer> {
  return gzipAsync(Buffer.from(JSON.stringify(v)));
}

export async function decompressJson(blob: Buffer): Promise<unknown> {
  const raw = await gunzipAsync(blob);
  return JSON.parse(raw.toString('utf8'));
}
