/**
 * Named parameter collections: the bridge between tfjs variables, optimisers and checkpoints.
 *
 * tfjs variable names are global to the engine, so two trainers in one process (tests, eval
 * next to training) would collide if we named variables ourselves. We let tfjs pick unique
 * names and keep our own stable names ("gru/weight_hh") here; checkpoints and optimiser state
 * use the stable names.
 */
import type { Scalar, Tensor, TensorRecord, Tf, Variable } from './tf';

export class ParamSet {
  private readonly byName = new Map<string, Variable>();
  private readonly nameOfVar = new Map<string, string>();

  constructor(
    private readonly tf: Tf,
    /** Non-trainable sets (target networks) are skipped by `tf.variableGrads` defaults. */
    readonly trainable = true,
  ) {}

  /** Create a variable from initial values (copied); names must be unique within the set. */
  add(name: string, shape: number[], data: Float32Array): Variable {
    if (this.byName.has(name)) throw new Error(`params: duplicate parameter name "${name}"`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(`params: "${name}" expects ${size} values for shape [${shape}], got ${data.length}`);
    }
    const init = this.tf.tensor(data, shape, 'float32');
    const v = this.tf.variable(init, this.trainable);
    init.dispose();
    this.byName.set(name, v);
    this.nameOfVar.set(v.name, name);
    return v;
  }

  get(name: string): Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`params: no parameter "${name}" (have ${[...this.byName.keys()].join(', ')})`);
    return v;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  variables(): Variable[] {
    return [...this.byName.values()];
  }

  /** Total number of scalars. */
  size(): number {
    let n = 0;
    for (const v of this.byName.values()) n += v.size;
    return n;
  }

  /**
   * Loss value and gradients by parameter name. `f` runs under the tape; everything it creates
   * is disposed, except the returned gradients, which the caller owns.
   */
  grads(f: () => Scalar): { value: number; grads: Record<string, Tensor> } {
    const { value, grads } = this.tf.variableGrads(f, this.variables());
    const out: Record<string, Tensor> = {};
    for (const [varName, g] of Object.entries(grads)) {
      const name = this.nameOfVar.get(varName);
      if (name === undefined) {
        g.dispose();
        continue;
      }
      out[name] = g;
    }
    const v = value.dataSync()[0];
    value.dispose();
    return { value: v, grads: out };
  }

  /** Copy every value from another set with the same names and shapes (hard target update). */
  copyFrom(other: ParamSet): void {
    for (const [name, v] of this.byName) {
      const src = other.get(name);
      if (!this.tf.util.arraysEqual(src.shape, v.shape)) {
        throw new Error(`params: shape mismatch for "${name}": [${src.shape}] vs [${v.shape}]`);
      }
      // tfjs tensors are immutable and assign() rebinds, so sharing the data is safe.
      v.assign(src);
    }
  }

  /** Plain-data copy of every parameter, keyed `${prefix}${name}`. */
  toRecords(prefix = ''): Record<string, TensorRecord> {
    const out: Record<string, TensorRecord> = {};
    for (const [name, v] of this.byName) {
      out[prefix + name] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) };
    }
    return out;
  }

  /** Restore every parameter from records written by `toRecords` (all must be present). */
  loadRecords(records: Record<string, TensorRecord>, prefix = ''): void {
    for (const [name, v] of this.byName) {
      const rec = records[prefix + name];
      if (!rec) throw new Error(`params: checkpoint has no tensor "${prefix + name}"`);
      if (!this.tf.util.arraysEqual(rec.shape, v.shape)) {
        throw new Error(`params: checkpoint tensor "${prefix + name}" has shape [${rec.shape}], expected [${v.shape}]`);
      }
      // A copy: on the cpu backend a tensor may keep (alias) the array it was made from.
      const t = this.tf.tensor(Float32Array.from(rec.data), rec.shape, 'float32');
      v.assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const v of this.byName.values()) v.dispose();
    this.byName.clear();
    this.nameOfVar.clear();
  }
}
