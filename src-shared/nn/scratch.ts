/**
 * Named reusable Float32Array buffers, grown on demand, so a hot loop allocates only on its
 * first (or a larger) call. Contents are undefined between uses; a view handed out is valid
 * until the same name is asked for again.
 */
export class ScratchBuffers {
  private readonly bufs = new Map<string, Float32Array>();

  /** At least n floats under `name`, as a view of exactly n. */
  get(name: string, n: number): Float32Array {
    let a = this.bufs.get(name);
    if (!a || a.length < n) {
      a = new Float32Array(n);
      this.bufs.set(name, a);
    }
    return a.subarray(0, n);
  }

  clear(): void {
    this.bufs.clear();
  }
}
