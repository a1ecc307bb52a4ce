/**
 * Checkpoint files: one binary file per checkpoint, referenced from the database.
 *
 * Layout (version 2, magic "CAIRNCK2"):
 *   magic (8) | uint32 LE header length | UTF-8 JSON header {tensors:[{name,shape,offset,length}],
 *   extra} padded with spaces to a 4-byte boundary | float32 LE data | SHA-256 of all bytes before it (32)
 * Float data stays binary so a checkpoint of a few hundred thousand weights is a few hundred KB
 * and loads without parsing. Version 1 files ("CAIRNCK1", no checksum) written by earlier
 * Cairns are still read, with the same length and shape checks.
 *
 * Reading validates everything before returning: magic, header JSON and its fields, tensor
 * offsets contiguous and inside the data, shape products equal to lengths, the exact file
 * length and the checksum. A file cut at any byte, or with any byte changed,
 * is refused with a CheckpointError naming the file, never half-loaded (an optimiser that
 * fills missing state with zeros would otherwise resume silently wrong).
 *
 * Writing goes to a temp file that is fsynced before the rename that publishes it, and the
 * folder is fsynced after, so a crash or power loss leaves the old file or the whole new one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Checkpoint } from '../../src-shared/algos/types';

const MAGIC_V1 = Buffer.from('CAIRNCK1');
const MAGIC_V2 = Buffer.from('CAIRNCK2');
const DIGEST_BYTES = 32;
/** A header larger than this is damage, not a checkpoint (real ones are a few KB). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

interface Entry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** A checkpoint file that is missing, damaged or not a checkpoint. The message names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`checkpoint ${file}: ${why}`);
  }
}

export function writeCheckpointFile(file: string, ckpt: Checkpoint): number {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  let header = Buffer.from(JSON.stringify({ tensors: entries, extra: ckpt.extra }), 'utf8');
  const pad = (4 - ((MAGIC_V2.length + 4 + header.length) % 4)) % 4;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const data = new Float32Array(offset);
  for (const e of entries) data.set(ckpt.tensors[e.name].data, e.offset);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = Buffer.concat([MAGIC_V2, len, header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  const digest = crypto.createHash('sha256').update(body).digest();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, body);
    fs.writeSync(fd, digest);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
  return body.length + digest.length;
}

/** Make the rename itself durable. Some platforms (Windows) cannot open a folder: skip there. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort: the file's own data is already on disk.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function readCheckpointFile(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(file, code === 'ENOENT' ? 'the file is missing' : `cannot read it (${code ?? String(err)})`);
  }
  return parseCheckpoint(file, buf);
}

/** Validate a checkpoint without keeping it. @returns null when valid, else why not. */
export function checkCheckpointFile(file: string): CheckpointError | null {
  try {
    readCheckpointFile(file);
    return null;
  } catch (err) {
    if (err instanceof CheckpointError) return err;
    throw err;
  }
}

function parseCheckpoint(file: string, buf: Buffer): Checkpoint {
  const bad = (why: string) => new CheckpointError(file, `damaged (${why}); it cannot be resumed from`);
  if (buf.length < 12) throw new CheckpointError(file, `not a Cairn checkpoint file (${buf.length} bytes)`);
  const magic = buf.subarray(0, 8);
  const v2 = magic.equals(MAGIC_V2);
  if (!v2 && !magic.equals(MAGIC_V1)) throw new CheckpointError(file, 'not a Cairn checkpoint file');
  const end = v2 ? buf.length - DIGEST_BYTES : buf.length;
  if (v2) {
    if (end < 12) throw bad('shorter than its checksum');
    const want = crypto.createHash('sha256').update(buf.subarray(0, end)).digest();
    if (!want.equals(buf.subarray(end))) throw bad('checksum mismatch');
  }
  const hlen = buf.readUInt32LE(8);
  if (hlen > MAX_HEADER_BYTES || 12 + hlen > end) throw bad(`header length ${hlen} runs past the end of the file`);
  if ((12 + hlen) % 4 !== 0) throw bad('data not 4-byte aligned');
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8'));
  } catch {
    throw bad('header is not valid JSON');
  }
  const h = header as { tensors?: unknown; extra?: unknown };
  if (typeof h !== 'object' || h === null || !Array.isArray(h.tensors)) throw bad('header has no tensor list');
  if (typeof h.extra !== 'object' || h.extra === null || Array.isArray(h.extra)) throw bad('header has no extra object');
  const floats = (end - 12 - hlen) / 4;
  if (!Number.isInteger(floats)) throw bad('data length is not a whole number of float32 values');
  let expected = 0;
  const names = new Set<string>();
  for (const raw of h.tensors as unknown[]) {
    const e = raw as Partial<Entry>;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string') throw bad('a tensor entry has no name');
    if (names.has(e.name)) throw bad(`tensor ${e.name} appears twice`);
    names.add(e.name);
    const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw bad(`tensor ${e.name} has an invalid shape`);
    if (!isCount(e.length) || !isCount(e.offset)) throw bad(`tensor ${e.name} has an invalid offset or length`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size !== e.length) throw bad(`tensor ${e.name} has shape [${e.shape.join(', ')}] but ${e.length} values`);
    if (e.offset !== expected) throw bad(`tensor ${e.name} starts at ${e.offset}, expected ${expected}`);
    expected += e.length;
  }
  if (expected !== floats) throw bad(`the header lists ${expected} values but the file holds ${floats}`);
  const start = 12 + hlen;
  // Copy into an aligned buffer: Buffer slices of the file may not be 4-byte aligned in memory.
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + end));
  const tensors: Checkpoint['tensors'] = {};
  for (const e of h.tensors as Entry[]) {
    tensors[e.name] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  }
  return { tensors, extra: h.extra as Record<string, unknown> };
}
