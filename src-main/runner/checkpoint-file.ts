/**
 * Checkpoint files: one binary file per checkpoint, referenced from the database.
 *
 * Layout: "CAIRNCK1" magic, uint32 header length, UTF-8 JSON header {tensors:[{name,shape,
 * offset,length}], extra}, then float32 data (4-byte aligned). Float data stays binary so a
 * checkpoint of a few hundred thousand weights is a few hundred KB and loads without parsing.
 * Written to a temp file and renamed, so a crash mid-write never leaves a torn checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Checkpoint } from '../../src-shared/algos/types';

const MAGIC = Buffer.from('CAIRNCK1');

export function writeCheckpointFile(file: string, ckpt: Checkpoint): number {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  let header = Buffer.from(JSON.stringify({ tensors: entries, extra: ckpt.extra }), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + header.length) % 4)) % 4;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const data = new Float32Array(offset);
  for (const e of entries) data.set(ckpt.tensors[e.name].data, e.offset);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = Buffer.concat([MAGIC, len, header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
  return body.length;
}

export function readCheckpointFile(file: string): Checkpoint {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) {
    throw new Error(`checkpoint ${file}: not a Cairn checkpoint file`);
  }
  const hlen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as {
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
    extra: Record<string, unknown>;
  };
  const start = 12 + hlen;
  // Copy into an aligned buffer: Buffer slices of the file may not be 4-byte aligned in memory.
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const tensors: Checkpoint['tensors'] = {};
  for (const e of header.tensors) {
    tensors[e.name] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  }
  return { tensors, extra: header.extra };
}
