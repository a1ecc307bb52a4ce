// AssemblyScript source of the float32 SIMD GRU gate kernels (issue 15). Compiled by
// `npm run build:wasm` (scripts/build-wasm.mjs) into gru-gates.wasm.ts; loaded by
// nn/gru-simd.ts, which owns the memory layout. Not TypeScript: excluded from tsc.
//
// Gates as nn/gru.ts (PyTorch's cell; r applied after the recurrent matmul):
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
//   h' = (1 - z) * n + z * h.
// Every pointer is a byte offset into this module's one memory; rows are [3H] (gates) or [H].
// H need not be a multiple of 4: the tail runs the same vector code on one lane, so an element's
// value never depends on its position.
//
// exp: Cephes' expf (range reduction x = n ln2 + r with ln2 split in two, |r| <= ln2/2, degree-6
// polynomial, 2^n built in the exponent bits), inputs clamped to [-87.3, 88.3] so 2^n stays a
// normal float. tanh: below |x| = 0.625 the rational 13/6 minimax fit Eigen uses
// (generic_fast_tanh_float; x itself below |x| = 4e-4), above it 1 - 2 / (exp(2|x|) + 1).
// Measured error against Math.exp / Math.tanh in float64: test/nn/gru-simd.test.ts.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

// @ts-ignore: decorator
@inline function vexp(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2n = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline function vtanh(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  const ax = f32x4.abs(x0);
  const tiny = f32x4.lt(ax, f32x4.splat(0.0004));
  const small = v128.bitselect(x0, f32x4.div(p, q), tiny);
  // Above |x| = 0.625 the fit's absolute error reaches ~2.7 eps (5 ulp near 1); 1 - 2/(e^2|x| + 1)
  // with the sign put back stays within ~1 eps there (no cancellation: the result is >= 0.55).
  const two = f32x4.splat(2.0);
  const big = f32x4.sub(f32x4.splat(1.0), f32x4.div(two, f32x4.add(vexp(f32x4.mul(two, ax)), f32x4.splat(1.0))));
  const signed = v128.or(big, v128.and(x0, f32x4.splat(-0.0)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** exp, sigmoid, tanh of n floats at src into dst (what the accuracy test measures). */
export function mathTest(kind: i32, src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const x = f32x4.splat(load<f32>(src + (<usize>i << 2)));
    const y = kind === 0 ? vexp(x) : kind === 1 ? vsigmoid(x) : vtanh(x);
    store<f32>(dst + (<usize>i << 2), f32x4.extract_lane(y, 0));
  }
}

// @ts-ignore: decorator
@inline function gate4(giRow: usize, ghRow: usize, hpRow: usize, hasHp: bool, o: usize, Hb: usize, ho: usize, r: usize, z: usize, n: usize, ghn: usize, tail: bool): void {
  let ar: v128, az: v128, an: v128, gr: v128, gz: v128, gn: v128, h: v128;
  if (tail) {
    ar = f32x4.splat(load<f32>(giRow + o));
    az = f32x4.splat(load<f32>(giRow + Hb + o));
    an = f32x4.splat(load<f32>(giRow + 2 * Hb + o));
    gr = f32x4.splat(load<f32>(ghRow + o));
    gz = f32x4.splat(load<f32>(ghRow + Hb + o));
    gn = f32x4.splat(load<f32>(ghRow + 2 * Hb + o));
    h = hasHp ? f32x4.splat(load<f32>(hpRow + o)) : f32x4.splat(0);
  } else {
    ar = v128.load(giRow + o);
    az = v128.load(giRow + Hb + o);
    an = v128.load(giRow + 2 * Hb + o);
    gr = v128.load(ghRow + o);
    gz = v128.load(ghRow + Hb + o);
    gn = v128.load(ghRow + 2 * Hb + o);
    h = hasHp ? v128.load(hpRow + o) : f32x4.splat(0);
  }
  const rv = vsigmoid(f32x4.add(ar, gr));
  const zv = vsigmoid(f32x4.add(az, gz));
  const nv = vtanh(f32x4.add(an, f32x4.mul(rv, gn)));
  const out = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1.0), zv), nv), f32x4.mul(zv, h));
  if (tail) {
    store<f32>(ho + o, f32x4.extract_lane(out, 0));
    if (r !== 0) {
      store<f32>(r + o, f32x4.extract_lane(rv, 0));
      store<f32>(z + o, f32x4.extract_lane(zv, 0));
      store<f32>(n + o, f32x4.extract_lane(nv, 0));
      store<f32>(ghn + o, f32x4.extract_lane(gn, 0));
    }
  } else {
    v128.store(ho + o, out);
    if (r !== 0) {
      v128.store(r + o, rv);
      v128.store(z + o, zv);
      v128.store(n + o, nv);
      v128.store(ghn + o, gn);
    }
  }
}

/**
 * Forward gates of one step for nBlocks * B rows. Block a's gi rows start at gi + a * giStride
 * (bytes; the [N][T][B] layout of a whole sequence's input gates), all other arrays are
 * contiguous over the rows. hp = 0: zero state. r = 0: no trace (z, n, ghn ignored).
 */
export function gatesForward(
  nBlocks: i32, B: i32, H: i32, gi: usize, giStride: usize, gh: usize, hp: usize,
  ho: usize, r: usize, z: usize, n: usize, ghn: usize,
): void {
  const Hb = <usize>H << 2;
  const H3b = <usize>3 * Hb;
  const H4 = <usize>(H & ~3) << 2;
  for (let a = 0; a < nBlocks; a++) {
    for (let k = 0; k < B; k++) {
      const i = <usize>(a * B + k);
      const giRow = gi + <usize>a * giStride + <usize>k * H3b;
      const ghRow = gh + i * H3b;
      const rowH = i * Hb;
      const hpRow = hp + rowH;
      const hasHp = hp !== 0;
      const rr: usize = r === 0 ? 0 : r + rowH;
      for (let o: usize = 0; o < H4; o += 16) {
        gate4(giRow, ghRow, hpRow, hasHp, o, Hb, ho + rowH, rr, z + rowH, n + rowH, ghn + rowH, false);
      }
      for (let o: usize = H4; o < Hb; o += 4) {
        gate4(giRow, ghRow, hpRow, hasHp, o, Hb, ho + rowH, rr, z + rowH, n + rowH, ghn + rowH, true);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function scatter(
  unit: usize, vr: f32, vz: f32, vn: f32, vnr: f32, colm: usize, dGIT: usize, dGHT: usize,
  strideM: usize, gapM: usize, bih: usize, bhh: usize, gapB: usize,
): void {
  const p = colm + unit * strideM;
  store<f32>(dGIT + p, vr);
  store<f32>(dGIT + p + gapM, vz);
  store<f32>(dGIT + p + 2 * gapM, vn);
  store<f32>(dGHT + p, vr);
  store<f32>(dGHT + p + gapM, vz);
  store<f32>(dGHT + p + 2 * gapM, vnr);
  // Bias gradients stay float64 sums (as in the float64 path), over t descending, rows ascending.
  const bo = unit << 3;
  store<f64>(bih + bo, load<f64>(bih + bo) + <f64>vr);
  store<f64>(bih + gapB + bo, load<f64>(bih + gapB + bo) + <f64>vz);
  store<f64>(bih + 2 * gapB + bo, load<f64>(bih + 2 * gapB + bo) + <f64>vn);
  store<f64>(bhh + 2 * gapB + bo, load<f64>(bhh + 2 * gapB + bo) + <f64>vnr);
}

// @ts-ignore: decorator
@inline function back4(
  o: usize, Hb: usize, dh: usize, back: usize, dHs: usize, r: usize, z: usize, n: usize, ghn: usize,
  hp: usize, hPrev: usize, dGI: usize, dGIT: usize, dGHT: usize, colm: usize, strideM: usize,
  dgh: usize, bih: usize, bhh: usize, tail: bool, rows: bool = false,
): void {
  let dhv: v128, bk: v128, up: v128, zv: v128, rv: v128, nv: v128, gn: v128, hv: v128;
  if (tail) {
    dhv = f32x4.splat(load<f32>(dh + o));
    bk = back !== 0 ? f32x4.splat(load<f32>(back + o)) : f32x4.splat(0);
    up = f32x4.splat(load<f32>(dHs + o));
    zv = f32x4.splat(load<f32>(z + o));
    rv = f32x4.splat(load<f32>(r + o));
    nv = f32x4.splat(load<f32>(n + o));
    gn = f32x4.splat(load<f32>(ghn + o));
    hv = hp !== 0 ? f32x4.splat(load<f32>(hp + o)) : f32x4.splat(0);
  } else {
    dhv = v128.load(dh + o);
    bk = back !== 0 ? v128.load(back + o) : f32x4.splat(0);
    up = v128.load(dHs + o);
    zv = v128.load(z + o);
    rv = v128.load(r + o);
    nv = v128.load(n + o);
    gn = v128.load(ghn + o);
    hv = hp !== 0 ? v128.load(hp + o) : f32x4.splat(0);
  }
  const one = f32x4.splat(1.0);
  // (dh z + dgh W_hh^T) + upstream, in the order the float64 path adds them.
  const d = f32x4.add(f32x4.add(dhv, bk), up);
  const omz = f32x4.sub(one, zv);
  const dn = f32x4.mul(f32x4.mul(d, omz), f32x4.sub(one, f32x4.mul(nv, nv)));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(d, f32x4.sub(hv, nv)), zv), omz);
  const dr = f32x4.mul(f32x4.mul(f32x4.mul(dn, gn), rv), f32x4.sub(one, rv));
  const dnr = f32x4.mul(dn, rv);
  const dhz = f32x4.mul(d, zv);
  const unit = o >> 2;
  const gapM = (Hb >> 2) * strideM;
  const gapB = (Hb >> 2) << 3;
  if (tail) {
    store<f32>(dGI + o, f32x4.extract_lane(dr, 0));
    store<f32>(dGI + Hb + o, f32x4.extract_lane(dz, 0));
    store<f32>(dGI + 2 * Hb + o, f32x4.extract_lane(dn, 0));
    store<f32>(dgh + o, f32x4.extract_lane(dr, 0));
    store<f32>(dgh + Hb + o, f32x4.extract_lane(dz, 0));
    store<f32>(dgh + 2 * Hb + o, f32x4.extract_lane(dnr, 0));
    store<f32>(dh + o, f32x4.extract_lane(dhz, 0));
    store<f32>(hPrev + o, f32x4.extract_lane(hv, 0));
    // rows: the caller reads dGI and dgh (then whole-sequence) in row order (gatesBackwardRows).
    if (rows) return;
    scatter(unit, f32x4.extract_lane(dr, 0), f32x4.extract_lane(dz, 0), f32x4.extract_lane(dn, 0), f32x4.extract_lane(dnr, 0), colm, dGIT, dGHT, strideM, gapM, bih, bhh, gapB);
  } else {
    v128.store(dGI + o, dr);
    v128.store(dGI + Hb + o, dz);
    v128.store(dGI + 2 * Hb + o, dn);
    v128.store(dgh + o, dr);
    v128.store(dgh + Hb + o, dz);
    v128.store(dgh + 2 * Hb + o, dnr);
    v128.store(dh + o, dhz);
    v128.store(hPrev + o, hv);
    if (rows) return;
    scatter(unit, f32x4.extract_lane(dr, 0), f32x4.extract_lane(dz, 0), f32x4.extract_lane(dn, 0), f32x4.extract_lane(dnr, 0), colm, dGIT, dGHT, strideM, gapM, bih, bhh, gapB);
    scatter(unit + 1, f32x4.extract_lane(dr, 1), f32x4.extract_lane(dz, 1), f32x4.extract_lane(dn, 1), f32x4.extract_lane(dnr, 1), colm, dGIT, dGHT, strideM, gapM, bih, bhh, gapB);
    scatter(unit + 2, f32x4.extract_lane(dr, 2), f32x4.extract_lane(dz, 2), f32x4.extract_lane(dn, 2), f32x4.extract_lane(dnr, 2), colm, dGIT, dGHT, strideM, gapM, bih, bhh, gapB);
    scatter(unit + 3, f32x4.extract_lane(dr, 3), f32x4.extract_lane(dz, 3), f32x4.extract_lane(dn, 3), f32x4.extract_lane(dnr, 3), colm, dGIT, dGHT, strideM, gapM, bih, bhh, gapB);
  }
}

/**
 * The BPTT gate derivatives of step t of GRUCell.sequence, for the N * B rows of that step
 * ([N][B] order). Per-step arrays (dh, back, r, z, n, ghn, hp, dgh) are [rows][H] / [rows][3H];
 * dHs, dGI and hPrev are whole-sequence arrays in [N][T][B] row order; dGIT / dGHT are
 * [G][3H][m] (m = N T B / G rows per group); dBih / dBhh float64 [G][3H], accumulated.
 * back = 0: no recurrent term yet (last step); hp = 0: h_{t-1} = 0 (first step).
 * Writes dh := (dh + back + upstream) * z, the direct path into h_{t-1}.
 */
export function gatesBackward(
  N: i32, B: i32, T: i32, t: i32, H: i32, m: i32,
  dh: usize, back: usize, dHs: usize, r: usize, z: usize, n: usize, ghn: usize, hp: usize,
  dGI: usize, dGIT: usize, dGHT: usize, hPrev: usize, dgh: usize, dBih: usize, dBhh: usize,
): void {
  const Hb = <usize>H << 2;
  const H3b = <usize>3 * Hb;
  const H4 = <usize>(H & ~3) << 2;
  const strideM = <usize>m << 2;
  for (let a = 0; a < N; a++) {
    for (let k = 0; k < B; k++) {
      const i = <usize>(a * B + k);
      const s = <usize>((a * T + t) * B + k);
      const g = s / <usize>m;
      // Byte address of (group g, unit 0, column s - g m) in [G][3H][m].
      const colm = (g * 3 * <usize>H * <usize>m + (s - g * <usize>m)) << 2;
      const bih = dBih + g * 3 * (<usize>H << 3);
      const bhh = dBhh + g * 3 * (<usize>H << 3);
      const rowH = i * Hb;
      const bk: usize = back === 0 ? 0 : back + rowH;
      const hpr: usize = hp === 0 ? 0 : hp + rowH;
      for (let o: usize = 0; o < H4; o += 16) {
        back4(o, Hb, dh + rowH, bk, dHs + s * Hb, r + rowH, z + rowH, n + rowH, ghn + rowH, hpr, hPrev + s * Hb,
          dGI + s * H3b, dGIT, dGHT, colm, strideM, dgh + i * H3b, bih, bhh, false);
      }
      for (let o: usize = H4; o < Hb; o += 4) {
        back4(o, Hb, dh + rowH, bk, dHs + s * Hb, r + rowH, z + rowH, n + rowH, ghn + rowH, hpr, hPrev + s * Hb,
          dGI + s * H3b, dGIT, dGHT, colm, strideM, dgh + i * H3b, bih, bhh, true);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matmul: out[i][j] = bias[j] + sum_k a[i][k] w[k][j] (bias = 0: none), row-major, w [K][N].
// Each output is accumulated from its bias (or +0) in ascending k, every product rounded to
// float32 and then added: the order of XNNPACK's wasm SIMD GEMM (what tfjs-wasm's MatMul and
// _FusedMatMul run), so the results are the same bits as the tfjs matmuls they replace
// (test/nn/gru-simd.test.ts checks this). Tiles of 4 rows x 8 columns (eight f32x4
// accumulators, one splat of a per row and two loads of w per k), then 4-column and one-lane
// column tails and single rows for M % 4; for each column panel all row tiles in turn, so the
// panel of w stays in L1. Long K (the weight gradients over all rows of a batch) runs in blocks
// of KB: a tile's partial sums go to `out` and are loaded back for the next block, which keeps
// every output's order of additions (the same bits) while a block of a and w stays in cache.
// relu != 0: max(0, .) as XNNPACK's clamp (pmax(0, x): +0 for -0 and NaN).

const KB: i32 = 256;

// @ts-ignore: decorator
@inline function fin(v: v128, relu: bool): v128 {
  return relu ? f32x4.pmax(f32x4.splat(0), v) : v;
}

// @ts-ignore: decorator
@inline function init4(bias: usize, o: usize, first: bool): v128 {
  return first ? (bias !== 0 ? v128.load(bias) : f32x4.splat(0)) : v128.load(o);
}

// @ts-ignore: decorator
@inline function tile4x8(a0: usize, lda: usize, kl: usize, w: usize, Nb: usize, bias: usize, o0: usize, first: bool, relu: bool): void {
  const a1 = a0 + lda;
  const a2 = a1 + lda;
  const a3 = a2 + lda;
  const o1 = o0 + Nb;
  const o2 = o1 + Nb;
  const o3 = o2 + Nb;
  const b1: usize = bias !== 0 ? bias + 16 : 0;
  let c00 = init4(bias, o0, first), c01 = init4(b1, o0 + 16, first);
  let c10 = init4(bias, o1, first), c11 = init4(b1, o1 + 16, first);
  let c20 = init4(bias, o2, first), c21 = init4(b1, o2 + 16, first);
  let c30 = init4(bias, o3, first), c31 = init4(b1, o3 + 16, first);
  let wp = w;
  for (let k: usize = 0; k < kl; k += 4) {
    const w0 = v128.load(wp);
    const w1 = v128.load(wp + 16);
    const x0 = v128.load32_splat(a0 + k);
    const x1 = v128.load32_splat(a1 + k);
    const x2 = v128.load32_splat(a2 + k);
    const x3 = v128.load32_splat(a3 + k);
    c00 = f32x4.add(c00, f32x4.mul(x0, w0));
    c01 = f32x4.add(c01, f32x4.mul(x0, w1));
    c10 = f32x4.add(c10, f32x4.mul(x1, w0));
    c11 = f32x4.add(c11, f32x4.mul(x1, w1));
    c20 = f32x4.add(c20, f32x4.mul(x2, w0));
    c21 = f32x4.add(c21, f32x4.mul(x2, w1));
    c30 = f32x4.add(c30, f32x4.mul(x3, w0));
    c31 = f32x4.add(c31, f32x4.mul(x3, w1));
    wp += Nb;
  }
  v128.store(o0, fin(c00, relu));
  v128.store(o0 + 16, fin(c01, relu));
  v128.store(o1, fin(c10, relu));
  v128.store(o1 + 16, fin(c11, relu));
  v128.store(o2, fin(c20, relu));
  v128.store(o2 + 16, fin(c21, relu));
  v128.store(o3, fin(c30, relu));
  v128.store(o3 + 16, fin(c31, relu));
}

// @ts-ignore: decorator
@inline function tile1x4(a0: usize, kl: usize, w: usize, Nb: usize, bias: usize, o0: usize, first: bool, relu: bool): void {
  let c0 = init4(bias, o0, first);
  let wp = w;
  for (let k: usize = 0; k < kl; k += 4) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0 + k), v128.load(wp)));
    wp += Nb;
  }
  v128.store(o0, fin(c0, relu));
}

// @ts-ignore: decorator
@inline function tile1x1(a0: usize, kl: usize, w: usize, Nb: usize, bias: usize, o0: usize, first: bool, relu: bool): void {
  let c: f32 = first ? (bias !== 0 ? load<f32>(bias) : 0) : load<f32>(o0);
  let wp = w;
  for (let k: usize = 0; k < kl; k += 4) {
    c = c + load<f32>(a0 + k) * load<f32>(wp);
    wp += Nb;
  }
  store<f32>(o0, f32x4.extract_lane(fin(f32x4.splat(c), relu), 0));
}

// @ts-ignore: decorator
@inline function block(M: i32, a: usize, lda: usize, kl: usize, w: usize, Nb: usize, N8: usize, N4: usize, bias: usize, out: usize, first: bool, relu: bool): void {
  const M4 = M & ~3;
  let j: usize = 0;
  for (; j < N8; j += 32) {
    const bb: usize = bias !== 0 ? bias + j : 0;
    let i = 0;
    for (; i < M4; i += 4) tile4x8(a + <usize>i * lda, lda, kl, w + j, Nb, bb, out + <usize>i * Nb + j, first, relu);
    for (; i < M; i++) {
      tile1x4(a + <usize>i * lda, kl, w + j, Nb, bb, out + <usize>i * Nb + j, first, relu);
      tile1x4(a + <usize>i * lda, kl, w + j + 16, Nb, bias !== 0 ? bb + 16 : 0, out + <usize>i * Nb + j + 16, first, relu);
    }
  }
  for (; j < N4; j += 16) {
    const bb: usize = bias !== 0 ? bias + j : 0;
    for (let i = 0; i < M; i++) tile1x4(a + <usize>i * lda, kl, w + j, Nb, bb, out + <usize>i * Nb + j, first, relu);
  }
  for (; j < Nb; j += 4) {
    const bb: usize = bias !== 0 ? bias + j : 0;
    for (let i = 0; i < M; i++) tile1x1(a + <usize>i * lda, kl, w + j, Nb, bb, out + <usize>i * Nb + j, first, relu);
  }
}

/** out [M][N] = a [M][K] @ w [K][N] (+ bias [N] when bias != 0), then max(0, .) when relu != 0. */
export function matmul(M: i32, K: i32, N: i32, a: usize, w: usize, bias: usize, out: usize, relu: i32): void {
  const lda = <usize>K << 2;
  const Nb = <usize>N << 2;
  const N8 = <usize>(N & ~7) << 2;
  const N4 = <usize>(N & ~3) << 2;
  for (let k0 = 0; k0 === 0 || k0 < K; k0 += KB) {
    const kl = <usize>min(KB, K - k0) << 2;
    const first = k0 === 0;
    const r = relu !== 0 && k0 + KB >= K;
    const ak = a + (<usize>k0 << 2);
    const wk = w + <usize>k0 * Nb;
    if (first) {
      if (r) block(M, ak, lda, kl, wk, Nb, N8, N4, bias, out, true, true);
      else block(M, ak, lda, kl, wk, Nb, N8, N4, bias, out, true, false);
    } else {
      if (r) block(M, ak, lda, kl, wk, Nb, N8, N4, bias, out, false, true);
      else block(M, ak, lda, kl, wk, Nb, N8, N4, bias, out, false, false);
    }
  }
}

/**
 * dz = x * step(mask) (mask = 0: dz = x) over m rows of C columns at x (mask [m][C] likewise):
 * writes dz^T [C][m] to dst (the weight gradient's operand) and adds the column sums of dz to
 * sums [C] in float32, row 0 first (tfjs-wasm's Sum over the rows). step(v) = v > 0 ? 1 : 0 and
 * the product x * step keeps tfjs's relu derivative bits (a -0 where x < 0 and v <= 0).
 * out != 0: dz itself [m][C] there too (may be x).
 */
export function columnsT(m: i32, C: i32, x: usize, mask: usize, dst: usize, sums: usize, out: usize): void {
  const C4 = C & ~3;
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  const rowB = <usize>C << 2;
  const colB = <usize>m << 2;
  for (let k = 0; k < m; k++) {
    const xr = x + <usize>k * rowB;
    const mr = mask + <usize>k * rowB;
    const dk = dst + (<usize>k << 2);
    let j = 0;
    for (; j < C4; j += 4) {
      const jb = <usize>j << 2;
      let v = v128.load(xr + jb);
      if (mask) v = f32x4.mul(v, v128.and(f32x4.gt(v128.load(mr + jb), zero), one));
      if (out) v128.store(out + <usize>k * rowB + jb, v);
      v128.store(sums + jb, f32x4.add(v128.load(sums + jb), v));
      const d = dk + <usize>j * colB;
      f32.store(d, f32x4.extract_lane(v, 0));
      f32.store(d + colB, f32x4.extract_lane(v, 1));
      f32.store(d + 2 * colB, f32x4.extract_lane(v, 2));
      f32.store(d + 3 * colB, f32x4.extract_lane(v, 3));
    }
    for (; j < C; j++) {
      const jb = <usize>j << 2;
      let v = f32.load(xr + jb);
      if (mask) v = v * (f32.load(mr + jb) > 0 ? <f32>1.0 : <f32>0.0);
      if (out) f32.store(out + <usize>k * rowB + jb, v);
      f32.store(sums + jb, f32.load(sums + jb) + v);
      f32.store(dk + <usize>j * colB, v);
    }
  }
}

/**
 * dst[i] = a[i] + b[i] over n float32 values (IEEE float32 additions, so the bits of
 * Math.fround(a + b) and of tfjs's Add); dst may be a or b. For summing block products and
 * gradient contributions in a fixed order inside the kernel's memory (nn/ppo-kernel.ts).
 */
export function addF32(n: i32, dst: usize, a: usize, b: usize): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(dst + o, f32.load(a + o) + f32.load(b + o));
  }
}

// ---------------------------------------------------------------------------------------------
// Matmul with the left operand stored transposed (issue-15r): out [M][N] = a^T w for a stored
// [K][M], w [K][N]. Each output accumulated from +0 in ascending k, every product rounded to
// float32 and then added, in K blocks of KB with the partial sums kept in `out` as `matmul`
// does: so the same bits as `matmul` on the transposed copy of a (and as tfjs-wasm's MatMul of
// it). For the R-pass's weight gradients X^T dY (nn/policy-rop.ts), whose X rows can then be
// copied in as they are instead of transposed on the CPU. Tiles of 4 output rows (4 adjacent
// columns of a, one splat each) x 8 columns, tails as `matmul`'s.

// @ts-ignore: decorator
@inline function tileT4x8(a0: usize, lda: usize, kn: i32, w: usize, Nb: usize, o0: usize, first: bool): void {
  const o1 = o0 + Nb;
  const o2 = o1 + Nb;
  const o3 = o2 + Nb;
  let c00 = init4(0, o0, first), c01 = init4(0, o0 + 16, first);
  let c10 = init4(0, o1, first), c11 = init4(0, o1 + 16, first);
  let c20 = init4(0, o2, first), c21 = init4(0, o2 + 16, first);
  let c30 = init4(0, o3, first), c31 = init4(0, o3 + 16, first);
  let ap = a0;
  let wp = w;
  for (let k = 0; k < kn; k++) {
    const w0 = v128.load(wp);
    const w1 = v128.load(wp + 16);
    const x0 = v128.load32_splat(ap);
    const x1 = v128.load32_splat(ap + 4);
    const x2 = v128.load32_splat(ap + 8);
    const x3 = v128.load32_splat(ap + 12);
    c00 = f32x4.add(c00, f32x4.mul(x0, w0));
    c01 = f32x4.add(c01, f32x4.mul(x0, w1));
    c10 = f32x4.add(c10, f32x4.mul(x1, w0));
    c11 = f32x4.add(c11, f32x4.mul(x1, w1));
    c20 = f32x4.add(c20, f32x4.mul(x2, w0));
    c21 = f32x4.add(c21, f32x4.mul(x2, w1));
    c30 = f32x4.add(c30, f32x4.mul(x3, w0));
    c31 = f32x4.add(c31, f32x4.mul(x3, w1));
    ap += lda;
    wp += Nb;
  }
  v128.store(o0, c00);
  v128.store(o0 + 16, c01);
  v128.store(o1, c10);
  v128.store(o1 + 16, c11);
  v128.store(o2, c20);
  v128.store(o2 + 16, c21);
  v128.store(o3, c30);
  v128.store(o3 + 16, c31);
}

// @ts-ignore: decorator
@inline function tileT1x4(a0: usize, lda: usize, kn: i32, w: usize, Nb: usize, o0: usize, first: bool): void {
  let c0 = init4(0, o0, first);
  let ap = a0;
  let wp = w;
  for (let k = 0; k < kn; k++) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ap), v128.load(wp)));
    ap += lda;
    wp += Nb;
  }
  v128.store(o0, c0);
}

// @ts-ignore: decorator
@inline function tileT1x1(a0: usize, lda: usize, kn: i32, w: usize, Nb: usize, o0: usize, first: bool): void {
  let c: f32 = first ? 0 : load<f32>(o0);
  let ap = a0;
  let wp = w;
  for (let k = 0; k < kn; k++) {
    c = c + load<f32>(ap) * load<f32>(wp);
    ap += lda;
    wp += Nb;
  }
  store<f32>(o0, c);
}

// @ts-ignore: decorator
@inline function blockT(M: i32, a: usize, lda: usize, kn: i32, w: usize, Nb: usize, N8: usize, N4: usize, out: usize, first: bool): void {
  const M4 = M & ~3;
  let j: usize = 0;
  for (; j < N8; j += 32) {
    let i = 0;
    for (; i < M4; i += 4) tileT4x8(a + (<usize>i << 2), lda, kn, w + j, Nb, out + <usize>i * Nb + j, first);
    for (; i < M; i++) {
      tileT1x4(a + (<usize>i << 2), lda, kn, w + j, Nb, out + <usize>i * Nb + j, first);
      tileT1x4(a + (<usize>i << 2), lda, kn, w + j + 16, Nb, out + <usize>i * Nb + j + 16, first);
    }
  }
  for (; j < N4; j += 16) {
    for (let i = 0; i < M; i++) tileT1x4(a + (<usize>i << 2), lda, kn, w + j, Nb, out + <usize>i * Nb + j, first);
  }
  for (; j < Nb; j += 4) {
    for (let i = 0; i < M; i++) tileT1x1(a + (<usize>i << 2), lda, kn, w + j, Nb, out + <usize>i * Nb + j, first);
  }
}

/** out [M][N] = a^T @ w for a stored [K][M] and w [K][N]: `matmul`'s bits on a's transpose (no bias, no relu). */
export function matmulAT(M: i32, K: i32, N: i32, a: usize, w: usize, out: usize): void {
  const lda = <usize>M << 2;
  const Nb = <usize>N << 2;
  const N8 = <usize>(N & ~7) << 2;
  const N4 = <usize>(N & ~3) << 2;
  for (let k0 = 0; k0 === 0 || k0 < K; k0 += KB) {
    const kn = min(KB, K - k0);
    const ak = a + <usize>k0 * lda;
    const wk = w + <usize>k0 * Nb;
    if (k0 === 0) blockT(M, ak, lda, kn, wk, Nb, N8, N4, out, true);
    else blockT(M, ak, lda, kn, wk, Nb, N8, N4, out, false);
  }
}

// ---------------------------------------------------------------------------------------------
// gatesBackwardRows (issue-15q): gatesBackward's derivatives of one step with every output in
// row order, for callers whose products run on a host BLAS (nn/ppo-gru-host.ts on wasm-blas):
// the weight gradients there read dG_ih and dG_hh as gemm operands in place (transA over all
// rows) and the bias gradients are their column sums, so none of gatesBackward's transposed
// scatter (two strided stores per gate and unit) or float64 bias sums is needed: that scatter
// was most of its time at IPPO's sizes. It is back4 with `rows` set: the same formulas, lane for lane.

/**
 * Step t of the BPTT for N * B rows ([N][B] order), as gatesBackward but with dGI, dGH (the
 * hidden side: r, z, n * r) [N][T][B][3H] and hPrev [N][T][B][H] all in row order and no
 * transposes or bias sums. dh, back, r, z, n, ghn, hp are per-step [rows][H]; dHs [N][T][B][H].
 * back = 0: no recurrent term (last step); hp = 0: h_{t-1} = 0. Writes dh := (dh + back + dHs) * z.
 */
export function gatesBackwardRows(
  N: i32, B: i32, T: i32, t: i32, H: i32,
  dh: usize, back: usize, dHs: usize, r: usize, z: usize, n: usize, ghn: usize, hp: usize,
  dGI: usize, dGH: usize, hPrev: usize,
): void {
  const Hb = <usize>H << 2;
  const H3b = <usize>3 * Hb;
  const H4 = <usize>(H & ~3) << 2;
  for (let a = 0; a < N; a++) {
    for (let k = 0; k < B; k++) {
      const i = <usize>(a * B + k);
      const s = <usize>((a * T + t) * B + k);
      const rowH = i * Hb;
      const bk: usize = back === 0 ? 0 : back + rowH;
      const hpr: usize = hp === 0 ? 0 : hp + rowH;
      for (let o: usize = 0; o < H4; o += 16) {
        back4(o, Hb, dh + rowH, bk, dHs + s * Hb, r + rowH, z + rowH, n + rowH, ghn + rowH, hpr, hPrev + s * Hb, dGI + s * H3b, 0, 0, 0, 0, dGH + s * H3b, 0, 0, false, true);
      }
      for (let o: usize = H4; o < Hb; o += 4) {
        back4(o, Hb, dh + rowH, bk, dHs + s * Hb, r + rowH, z + rowH, n + rowH, ghn + rowH, hpr, hPrev + s * Hb, dGI + s * H3b, 0, 0, 0, 0, dGH + s * H3b, 0, 0, true, true);
      }
    }
  }
}
