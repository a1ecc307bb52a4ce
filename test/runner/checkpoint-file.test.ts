/**
 * Checkpoint files refuse damage: a file cut at any 4-byte boundary (the trial's case, which
 * used to resume silently with zero-filled optimiser state), one flipped byte, a lying header.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, readCheckpointFile, writeCheckpointFile } from '../../src-main/runner/checkpoint-file';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-ckpt-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sample = {
  tensors: {
    w: { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2) },
    'adam/m': { shape: [12], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
    b: { shape: [4], data: new Float32Array([1, -1, 0.25, 3]) },
  },
  extra: { cairn: { round: 7, envSteps: 70, episodeIdx: 28 }, rng: [1, 2, 3] },
};

describe('checkpoint files', () => {
  it('round-trip exactly and leave no temp file', () => {
    const file = path.join(dir, 'ok', 'round-00000007.ckpt');
    const bytes = writeCheckpointFile(file, sample);
    expect(fs.statSync(file).size).toBe(bytes);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['round-00000007.ckpt']);
    const back = readCheckpointFile(file);
    expect(back.extra).toEqual(sample.extra);
    for (const [k, t] of Object.entries(sample.tensors)) {
      expect(back.tensors[k].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[k].data)).toEqual(Array.from(t.data));
    }
  });

  it('refuse a file cut at every 4-byte boundary, naming the file', () => {
    const file = path.join(dir, 'cut', 'round-00000007.ckpt');
    writeCheckpointFile(file, sample);
    const whole = fs.readFileSync(file);
    const cut = path.join(dir, 'cut', 'cut.ckpt');
    for (let n = 0; n < whole.length; n += 4) {
      fs.writeFileSync(cut, whole.subarray(0, n));
      expect(() => readCheckpointFile(cut), `cut at ${n}`).toThrow(CheckpointError);
      expect(() => readCheckpointFile(cut)).toThrow(cut);
    }
  });

  it('refuse any single flipped byte', () => {
    const file = path.join(dir, 'flip', 'round-00000007.ckpt');
    writeCheckpointFile(file, sample);
    const whole = fs.readFileSync(file);
    const bad = path.join(dir, 'flip', 'bad.ckpt');
    for (let i = 0; i < whole.length; i += 3) {
      const b = Buffer.from(whole);
      b[i] ^= 0x10;
      fs.writeFileSync(bad, b);
      expect(() => readCheckpointFile(bad), `byte ${i}`).toThrow(CheckpointError);
    }
  });

  it('check the header of version-1 files (no checksum): lengths, offsets and shapes', () => {
    const v1 = (header: object, floats: number) => {
      let h = Buffer.from(JSON.stringify(header));
      const pad = (4 - ((12 + h.length) % 4)) % 4;
      h = Buffer.concat([h, Buffer.alloc(pad, 0x20)]);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(h.length);
      return Buffer.concat([Buffer.from('CAIRNCK1'), len, h, Buffer.alloc(floats * 4)]);
    };
    const file = path.join(dir, 'v1.ckpt');
    const good = { tensors: [{ name: 'w', shape: [2, 3], offset: 0, length: 6 }], extra: { cairn: { round: 1 } } };
    fs.writeFileSync(file, v1(good, 6));
    expect(readCheckpointFile(file).tensors.w.data).toHaveLength(6);
    fs.writeFileSync(file, v1(good, 5)); // cut by one value
    expect(() => readCheckpointFile(file)).toThrow(/lists 6 values but the file holds 5/);
    fs.writeFileSync(file, v1({ ...good, tensors: [{ name: 'w', shape: [2, 2], offset: 0, length: 6 }] }, 6));
    expect(() => readCheckpointFile(file)).toThrow(/shape \[2, 2\] but 6 values/);
    fs.writeFileSync(file, v1({ ...good, tensors: [{ name: 'w', shape: [6], offset: 1, length: 6 }] }, 7));
    expect(() => readCheckpointFile(file)).toThrow(/starts at 1/);
  });

  it('name a missing file and a foreign one', () => {
    expect(() => readCheckpointFile(path.join(dir, 'nope.ckpt'))).toThrow(/nope\.ckpt: the file is missing/);
    fs.writeFileSync(path.join(dir, 'foreign.ckpt'), 'hello world, not a checkpoint');
    expect(() => readCheckpointFile(path.join(dir, 'foreign.ckpt'))).toThrow(/not a Cairn checkpoint/);
  });
});
