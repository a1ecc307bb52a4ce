/**
 * The consensus layout [copy][shared parameter] (C x P floats) read from and written to
 * variables that hold every copy at once on a leading axis ([C, ...]): F2A2-SAC's stacked
 * critic copies and F2A2-ISAC's parameter copies. `vars` lists the shared variables in the
 * layout's order; each contributes size / C values per copy, at the running offset.
 */
import type { Tf, Variable } from '../../nn/tf';

export function gatherStacked(vars: Iterable<Variable>, C: number, P: number): Float32Array {
  const out = new Float32Array(C * P);
  let off = 0;
  for (const v of vars) {
    const d = v.dataSync() as Float32Array;
    const s = d.length / C;
    for (let c = 0; c < C; c++) out.set(d.subarray(c * s, (c + 1) * s), c * P + off);
    off += s;
  }
  return out;
}

export function scatterStacked(tf: Tf, vars: Iterable<Variable>, copies: Float32Array, C: number, P: number): void {
  let off = 0;
  for (const v of vars) {
    const s = v.size / C;
    const d = new Float32Array(v.size);
    for (let c = 0; c < C; c++) d.set(copies.subarray(c * P + off, c * P + off + s), c * s);
    const t = tf.tensor(d, v.shape, 'float32');
    v.assign(t);
    t.dispose();
    off += s;
  }
}
