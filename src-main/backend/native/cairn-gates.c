/*
 * cairn-gates: the GRU gate kernels `gatesForward` and `gatesBackward` of
 * src-shared/nn/wasm/gru-gates.as.ts in C, for the `wasm-blas` backend (issue 15n). Same
 * arguments, same reads and writes, on the same memory: the gate kernel's wasm linear memory,
 * given as its ArrayBuffer, pointers as byte offsets into it (0: absent for hp, r and back).
 *
 * Why: under wasm-blas the products run on CBLAS and the gate kernels became a third of a PG
 * round; wasm has 128-bit SIMD only, this machine class has AVX2/AVX-512. The functions are
 * written as plain loops over the hidden units for GCC to vectorise, cloned for AVX-512, AVX2 and
 * the baseline with runtime dispatch (x86-64 Linux; elsewhere one plain build).
 *
 * Bit-identical to the wasm kernel, so switching it on changes no result: every element is the
 * same sequence of IEEE float32 operations as one lane of the wasm code (the wasm tail already
 * runs the vector code on one lane, so an element never depends on its position). That needs
 *  - no FMA contraction: built with -ffp-contract=off, and no -ffast-math;
 *  - the constants rounded as AssemblyScript rounds them: literal -> double -> float (F());
 *  - f32x4.nearest (round half to even) as (v + 1.5 2^23) - 1.5 2^23 with v's sign put back
 *    (|v| <= 128 here): exact, and vectorises without SSE4.1's roundps;
 *  - f32x4.min/max's NaN propagation: the clamps keep x when a comparison is false;
 *  - bitwise sign and select steps as bit operations on the float's bits.
 * NaN inputs give NaNs in the same places, but a NaN's payload bits may differ.
 *
 * Inputs of a row are copied into local arrays chunk by chunk and the outputs copied out after:
 * the compute loops then provably touch no aliased memory (so they vectorise without runtime
 * alias checks) and unaligned offsets are fine, as in wasm. Every array's byte range is checked
 * against the buffer before anything is touched: a bad call throws, naming the argument.
 */
#include "cairn-native.h"
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#define STREAM_STORES 1
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif

/* AssemblyScript reads a float literal as a double and rounds it to f32 where an f32 is wanted. */
#define F(x) ((float)(x))

/* Units per chunk: the locals of one chunk stay in L1. */
enum { CH = 128 };

typedef __int128 wide;

static inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static inline float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/*
 * c ? a : b as bits (v128.bitselect): a branch-free select, so GCC if-converts and vectorises
 * the loops without -fno-trapping-math.
 */
static inline float select(int c, float a, float b) {
  const uint32_t m = -(uint32_t)c;
  return float_of((bits_of(a) & m) | (bits_of(b) & ~m));
}

/* f32x4.min(f32x4.max(x, lo), hi) for finite bounds: a NaN x stays NaN. */
static inline float clamp(float x, float lo, float hi) {
  x = select(x < lo, lo, x);
  return select(x > hi, hi, x);
}

/* vexp of gru-gates.as.ts. */
static inline float vexp(float x0) {
  const float x = clamp(x0, F(-87.3), F(88.3));
  const float v = x * F(1.44269504088896341);
  const float fx = __builtin_copysignf((v + 12582912.0f) - 12582912.0f, v);
  float r = x - fx * F(0.693359375);
  r = r - fx * F(-2.12194440e-4);
  const float z = r * r;
  float y = F(1.9875691500e-4);
  y = y * r + F(1.3981999507e-3);
  y = y * r + F(8.3334519073e-3);
  y = y * r + F(4.1665795894e-2);
  y = y * r + F(1.6666665459e-1);
  y = y * r + F(5.0000001201e-1);
  y = (y * z + r) + 1.0f;
  const int32_t n = (int32_t)fx;
  return y * float_of((uint32_t)(n + 127) << 23);
}

static inline float vsigmoid(float x) {
  return 1.0f / (1.0f + vexp(-x));
}

/* vtanh of gru-gates.as.ts: both branches computed, then selected, as the vector code does. */
static inline float vtanh(float x0) {
  const float x = clamp(x0, F(-7.90531110763549805), F(7.90531110763549805));
  const float x2 = x * x;
  float p = F(-2.76076847742355e-16);
  p = p * x2 + F(2.00018790482477e-13);
  p = p * x2 + F(-8.60467152213735e-11);
  p = p * x2 + F(5.12229709037114e-8);
  p = p * x2 + F(1.48572235717979e-5);
  p = p * x2 + F(6.37261928875436e-4);
  p = p * x2 + F(4.89352455891786e-3);
  p = p * x;
  float q = F(1.19825839466702e-6);
  q = q * x2 + F(1.18534705686654e-4);
  q = q * x2 + F(2.26843463243900e-3);
  q = q * x2 + F(4.89352518554385e-3);
  const uint32_t ux = bits_of(x0);
  const float ax = float_of(ux & 0x7fffffffu);
  const float pq = p / q;
  const float small = select(ax < F(0.0004), x0, pq);
  const float big = 1.0f - 2.0f / (vexp(2.0f * ax) + 1.0f);
  const float sgn = float_of(bits_of(big) | (ux & 0x80000000u));
  return select(ax < F(0.625), small, sgn);
}

/* One row of gatesForward: gi, gh [3H], hp, ho and the trace [H]; hp / r NULL: absent. */
CLONES static void forward_row(int64_t H, const char *gi, const char *gh, const char *hp, char *ho, char *tr, char *tz, char *tn, char *tghn) {
  float ar[CH], az[CH], an[CH], gr[CH], gz[CH], gn[CH], h[CH], out[CH], rv[CH], zv[CH], nv[CH];
  const size_t Hb = (size_t)H * 4;
  for (int64_t u0 = 0; u0 < H; u0 += CH) {
    const int len = (int)(H - u0 < CH ? H - u0 : CH);
    const size_t o = (size_t)u0 * 4, nb = (size_t)len * 4;
    memcpy(ar, gi + o, nb);
    memcpy(az, gi + Hb + o, nb);
    memcpy(an, gi + 2 * Hb + o, nb);
    memcpy(gr, gh + o, nb);
    memcpy(gz, gh + Hb + o, nb);
    memcpy(gn, gh + 2 * Hb + o, nb);
    if (hp) memcpy(h, hp + o, nb);
    else memset(h, 0, nb);
    for (int j = 0; j < len; j++) {
      const float r = vsigmoid(ar[j] + gr[j]);
      const float z = vsigmoid(az[j] + gz[j]);
      const float n = vtanh(an[j] + r * gn[j]);
      out[j] = (1.0f - z) * n + z * h[j];
      rv[j] = r;
      zv[j] = z;
      nv[j] = n;
    }
    memcpy(ho + o, out, nb);
    if (tr) {
      memcpy(tr + o, rv, nb);
      memcpy(tz + o, zv, nb);
      memcpy(tn + o, nv, nb);
      memcpy(tghn + o, gn, nb);
    }
  }
}

/* acc[j] += (double)v[j] over n float64 values at an address of any alignment. */
static void add_f64(char *acc, const float *v, int n) {
  double d[CH];
  memcpy(d, acc, (size_t)n * 8);
  for (int j = 0; j < n; j++) d[j] += (double)v[j];
  memcpy(acc, d, (size_t)n * 8);
}

/* Rows per tile of gatesBackward's transposed writes: 32 columns of dGIT / dGHT, two 64-byte cache lines (16: 1.5x slower at PG's shapes). */
enum { RT = 32 };

/*
 * dGIT + dGHT of at least this many bytes are written with non-temporal stores: they are read
 * only by the weight-gradient products after the last step, long after, and at this size would
 * not stay in L2 anyway; streaming them saves the read of each line before it is written and
 * keeps the step's working set in cache (PG's 15 MB: backward sequence 6.4 -> 4.5-4.7 ms CPU,
 * bench PG CPU ratio 1.40 -> 1.64-1.77 beside it). Only whole lines: see put_run.
 */
#define STREAM_BYTES ((wide)4 << 20)

/*
 * dst[0..R) = src[0..R) (same bits either way); when `stream`, the whole 64-byte lines of the run
 * with non-temporal stores and the partial lines at its ends with plain ones: a partial line
 * stored non-temporally costs a read-modify-write in memory (COMA's runs of 22 columns: 3x
 * slower than plain stores), and its other part is written by the next step anyway.
 */
static inline void put_run(char *dst, const float *src, int R, int stream) {
#ifdef STREAM_STORES
  if (stream) {
    int q = 0;
    for (; q < R && ((uintptr_t)(dst + 4 * q) & 63); q++) memcpy(dst + 4 * q, src + q, 4);
    for (; q + 16 <= R; q += 16) {
      float *d = (float *)(dst + 4 * q);
      _mm_stream_ps(d, _mm_loadu_ps(src + q));
      _mm_stream_ps(d + 4, _mm_loadu_ps(src + q + 4));
      _mm_stream_ps(d + 8, _mm_loadu_ps(src + q + 8));
      _mm_stream_ps(d + 12, _mm_loadu_ps(src + q + 12));
    }
    if (q < R) memcpy(dst + 4 * q, src + q, (size_t)(R - q) * 4);
    return;
  }
#endif
  memcpy(dst, src, (size_t)R * 4);
}

/*
 * R consecutive rows of gatesBackward, all in one group and consecutive in the sequence (so
 * their columns of dGIT / dGHT are adjacent). Pointers are the first row's: per-row arrays as
 * gatesBackward's, rows H (or 3H for dgi, dgh) floats apart; gt / ght: dGIT / dGHT at the first
 * row's column of unit 0 (`sm` bytes per unit, `gm` bytes per gate), non-temporal stores when
 * `stream`; bih / bhh: the group's float64 sums [3H].
 *
 * The wasm kernel writes dGIT / dGHT one float at a time, m floats apart: a cache line per
 * store. Here a tile of up to RT rows x CH units is gathered transposed and each unit's RT
 * columns go out as one contiguous run. The bias sums still take the rows in order, so every
 * sum sees the same additions in the same order.
 */
CLONES static void backward_rows(int R, int64_t H, char *dh, const char *back, const char *up, const char *tr, const char *tz, const char *tn,
                                 const char *tghn, const char *hp, char *dgi, char *dgh, char *hprev, char *gt, char *ght, size_t sm, size_t gm,
                                 int stream, char *bih, char *bhh) {
  float dhv[CH], bk[CH], upv[CH], zv[CH], rv[CH], nv[CH], gn[CH], hv[CH];
  float dr[CH], dz[CH], dn[CH], dnr[CH], dhz[CH];
  float tile[4][CH][RT];
  const size_t Hb = (size_t)H * 4, Hd = (size_t)H * 8;
  for (int64_t u0 = 0; u0 < H; u0 += CH) {
    const int len = (int)(H - u0 < CH ? H - u0 : CH);
    const size_t nb = (size_t)len * 4, od = (size_t)u0 * 8;
    for (int row = 0; row < R; row++) {
      const size_t o = (size_t)row * Hb + (size_t)u0 * 4, o3 = (size_t)row * 3 * Hb + (size_t)u0 * 4;
      memcpy(dhv, dh + o, nb);
      if (back) memcpy(bk, back + o, nb);
      else memset(bk, 0, nb);
      memcpy(upv, up + o, nb);
      memcpy(zv, tz + o, nb);
      memcpy(rv, tr + o, nb);
      memcpy(nv, tn + o, nb);
      memcpy(gn, tghn + o, nb);
      if (hp) memcpy(hv, hp + o, nb);
      else memset(hv, 0, nb);
      for (int j = 0; j < len; j++) {
        /* The wasm kernel's order of operations, product by product. */
        const float d = (dhv[j] + bk[j]) + upv[j];
        const float omz = 1.0f - zv[j];
        const float dnj = (d * omz) * (1.0f - nv[j] * nv[j]);
        dz[j] = ((d * (hv[j] - nv[j])) * zv[j]) * omz;
        dr[j] = ((dnj * gn[j]) * rv[j]) * (1.0f - rv[j]);
        dnr[j] = dnj * rv[j];
        dhz[j] = d * zv[j];
        dn[j] = dnj;
      }
      memcpy(dgi + o3, dr, nb);
      memcpy(dgi + o3 + Hb, dz, nb);
      memcpy(dgi + o3 + 2 * Hb, dn, nb);
      memcpy(dgh + o3, dr, nb);
      memcpy(dgh + o3 + Hb, dz, nb);
      memcpy(dgh + o3 + 2 * Hb, dnr, nb);
      memcpy(dh + o, dhz, nb);
      memcpy(hprev + o, hv, nb);
      for (int j = 0; j < len; j++) {
        tile[0][j][row] = dr[j];
        tile[1][j][row] = dz[j];
        tile[2][j][row] = dn[j];
        tile[3][j][row] = dnr[j];
      }
      add_f64(bih + od, dr, len);
      add_f64(bih + Hd + od, dz, len);
      add_f64(bih + 2 * Hd + od, dn, len);
      add_f64(bhh + 2 * Hd + od, dnr, len);
    }
    for (int j = 0; j < len; j++) {
      const size_t p = (size_t)(u0 + j) * sm;
      put_run(gt + p, tile[0][j], R, stream);
      put_run(gt + p + gm, tile[1][j], R, stream);
      put_run(gt + p + 2 * gm, tile[2][j], R, stream);
      put_run(ght + p, tile[0][j], R, stream);
      put_run(ght + p + gm, tile[1][j], R, stream);
      put_run(ght + p + 2 * gm, tile[3][j], R, stream);
    }
  }
}

/* Does [off, off + bytes) lie in a buffer of len bytes? */
static int inside(wide off, wide bytes, size_t len) {
  return off >= 0 && bytes >= 0 && off + bytes <= (wide)len;
}

#define I32 ((int64_t)1 << 31)

/*
 * gatesForward(buffer, nBlocks, B, H, gi, giStride, gh, hp, ho, r, z, n, ghn): the wasm export's
 * contract (gru-gates.as.ts): block a's gi rows from gi + a giStride, everything else contiguous
 * over the nBlocks B rows; hp = 0: zero state; r = 0: no trace.
 */
static napi_value gates_forward(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 13) return throw_error(env, "gatesForward: 13 arguments (buffer, nBlocks, B, H, gi, giStride, gh, hp, ho, r, z, n, ghn)");
  size_t len;
  char *base = buffer_of(env, argv[0], &len);
  if (!base) return NULL;
  int64_t v[12];
  if (!ints(env, argv + 1, argc - 1, 12, v)) return throw_error(env, "gatesForward: integer arguments expected");
  const int64_t nBlocks = v[0], B = v[1], H = v[2], gi = v[3], giStride = v[4], gh = v[5], hp = v[6], ho = v[7], r = v[8], z = v[9], n = v[10],
                ghn = v[11];
  if (nBlocks < 0 || B < 0 || H < 0 || nBlocks >= I32 || B >= I32 || H >= I32) return throw_error(env, "gatesForward: nBlocks, B and H must be integers in [0, 2^31)");
  if (giStride < 0) return throw_error(env, "gatesForward: giStride must be >= 0 (bytes)");
  const wide rows = (wide)nBlocks * B, Hb = (wide)H * 4;
  if (rows == 0 || H == 0) return NULL;
  if (!inside(gi, (wide)(nBlocks - 1) * giStride + B * 3 * Hb, len)) return throw_error(env, "gatesForward: gi (nBlocks blocks of B rows, giStride apart) lies outside the memory");
  if (!inside(gh, rows * 3 * Hb, len)) return throw_error(env, "gatesForward: gh lies outside the memory");
  if (hp && !inside(hp, rows * Hb, len)) return throw_error(env, "gatesForward: hp lies outside the memory");
  if (!inside(ho, rows * Hb, len)) return throw_error(env, "gatesForward: ho lies outside the memory");
  if (r && !(inside(r, rows * Hb, len) && inside(z, rows * Hb, len) && inside(n, rows * Hb, len) && inside(ghn, rows * Hb, len)))
    return throw_error(env, "gatesForward: the trace (r, z, n, ghn) lies outside the memory");
  const size_t hb = (size_t)H * 4, h3b = 3 * hb;
  for (int64_t a = 0; a < nBlocks; a++) {
    for (int64_t k = 0; k < B; k++) {
      const size_t rowH = (size_t)(a * B + k) * hb;
      forward_row(H, base + gi + (size_t)a * (size_t)giStride + (size_t)k * h3b, base + gh + (size_t)(a * B + k) * h3b, hp ? base + hp + rowH : NULL,
                  base + ho + rowH, r ? base + r + rowH : NULL, base + z + rowH, base + n + rowH, base + ghn + rowH);
    }
  }
  return NULL;
}

/*
 * gatesBackward(buffer, N, B, T, t, H, m, dh, back, dHs, r, z, n, ghn, hp, dGI, dGIT, dGHT, hPrev,
 * dgh, dBih, dBhh): the wasm export's contract (gru-gates.as.ts): step t's N B rows; dHs, dGI
 * and hPrev in [N][T][B] row order; dGIT / dGHT [G][3H][m]; dBih / dBhh float64 [G][3H] added to;
 * back = 0: no recurrent term; hp = 0: h_{t-1} = 0.
 */
static napi_value gates_backward(napi_env env, napi_callback_info info) {
  size_t argc = 22;
  napi_value argv[22];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 22)
    return throw_error(env, "gatesBackward: 22 arguments (buffer, N, B, T, t, H, m, dh, back, dHs, r, z, n, ghn, hp, dGI, dGIT, dGHT, hPrev, dgh, dBih, dBhh)");
  size_t len;
  char *base = buffer_of(env, argv[0], &len);
  if (!base) return NULL;
  int64_t v[21];
  if (!ints(env, argv + 1, argc - 1, 21, v)) return throw_error(env, "gatesBackward: integer arguments expected");
  const int64_t N = v[0], B = v[1], T = v[2], t = v[3], H = v[4], m = v[5];
  const int64_t dh = v[6], back = v[7], dHs = v[8], r = v[9], z = v[10], n = v[11], ghn = v[12], hp = v[13];
  const int64_t dGI = v[14], dGIT = v[15], dGHT = v[16], hPrev = v[17], dgh = v[18], dBih = v[19], dBhh = v[20];
  if (N < 0 || B < 0 || T < 1 || H < 0 || N >= I32 || B >= I32 || T >= I32 || H >= I32) return throw_error(env, "gatesBackward: N, B, H must be integers in [0, 2^31) and T in [1, 2^31)");
  if (t < 0 || t >= T) return throw_error(env, "gatesBackward: t must be in [0, T)");
  if (m < 1 || m >= I32) return throw_error(env, "gatesBackward: m (rows per group) must be in [1, 2^31)");
  const wide rows = (wide)N * B, Hb = (wide)H * 4;
  if (rows == 0 || H == 0) return NULL;
  /* The largest sequence row of this step, its group, and its column's byte offset in [G][3H][m]. */
  const wide sMax = ((wide)(N - 1) * T + t) * B + B - 1;
  const wide gMax = sMax / m;
  const wide colMax = gMax * 3 * H * m + (sMax - gMax * m);
  if (!inside(dh, rows * Hb, len)) return throw_error(env, "gatesBackward: dh lies outside the memory");
  if (back && !inside(back, rows * Hb, len)) return throw_error(env, "gatesBackward: back lies outside the memory");
  if (!inside(dHs, (sMax + 1) * Hb, len)) return throw_error(env, "gatesBackward: dHs lies outside the memory");
  if (!(inside(r, rows * Hb, len) && inside(z, rows * Hb, len) && inside(n, rows * Hb, len) && inside(ghn, rows * Hb, len)))
    return throw_error(env, "gatesBackward: the trace (r, z, n, ghn) lies outside the memory");
  if (hp && !inside(hp, rows * Hb, len)) return throw_error(env, "gatesBackward: hp lies outside the memory");
  if (!inside(dGI, (sMax + 1) * 3 * Hb, len)) return throw_error(env, "gatesBackward: dGI lies outside the memory");
  if (!inside(dGIT, (colMax + (wide)(3 * H - 1) * m + 1) * 4, len)) return throw_error(env, "gatesBackward: dGIT lies outside the memory");
  if (!inside(dGHT, (colMax + (wide)(3 * H - 1) * m + 1) * 4, len)) return throw_error(env, "gatesBackward: dGHT lies outside the memory");
  if (!inside(hPrev, (sMax + 1) * Hb, len)) return throw_error(env, "gatesBackward: hPrev lies outside the memory");
  if (!inside(dgh, rows * 3 * Hb, len)) return throw_error(env, "gatesBackward: dgh lies outside the memory");
  if (!inside(dBih, (gMax + 1) * 3 * H * 8, len)) return throw_error(env, "gatesBackward: dBih lies outside the memory");
  if (!inside(dBhh, (gMax + 1) * 3 * H * 8, len)) return throw_error(env, "gatesBackward: dBhh lies outside the memory");
  const size_t hb = (size_t)H * 4, h3b = 3 * hb, sm = (size_t)m * 4, gm = (size_t)H * sm;
  /* The size of dGIT and dGHT when the groups cover the sequence (G m = N T B). */
  const int stream = (wide)N * T * B * 3 * Hb * 2 >= STREAM_BYTES;
  for (int64_t a = 0; a < N; a++) {
    for (int64_t k = 0; k < B;) {
      const size_t i = (size_t)(a * B + k), rowH = i * hb;
      const size_t s = (size_t)((a * T + t) * B + k);
      const size_t g = s / (size_t)m;
      /* Rows k.. of this block up to RT, not past the group's last row. */
      int64_t R = B - k < RT ? B - k : RT;
      if ((int64_t)((g + 1) * (size_t)m - s) < R) R = (int64_t)((g + 1) * (size_t)m - s);
      const size_t colm = (g * 3 * (size_t)H * (size_t)m + (s - g * (size_t)m)) * 4;
      const size_t bo = g * 3 * (size_t)H * 8;
      backward_rows((int)R, H, base + dh + rowH, back ? base + back + rowH : NULL, base + dHs + s * hb, base + r + rowH, base + z + rowH, base + n + rowH,
                    base + ghn + rowH, hp ? base + hp + rowH : NULL, base + dGI + s * h3b, base + dgh + i * h3b, base + hPrev + s * hb, base + dGIT + colm,
                    base + dGHT + colm, sm, gm, stream, base + dBih + bo, base + dBhh + bo);
      k += R;
    }
  }
#ifdef STREAM_STORES
  /* Non-temporal stores are weakly ordered: make them visible before JS (or another thread) reads. */
  if (stream) _mm_sfence();
#endif
  return NULL;
}

void cairn_gates_init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "gatesForward", NAPI_AUTO_LENGTH, gates_forward, NULL, &f);
  napi_set_named_property(env, exports, "gatesForward", f);
  napi_create_function(env, "gatesBackward", NAPI_AUTO_LENGTH, gates_backward, NULL, &f);
  napi_set_named_property(env, exports, "gatesBackward", f);
}
