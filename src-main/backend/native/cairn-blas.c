/*
 * cairn-blas: float32 matrix products of the wasm backend on the machine's CBLAS library
 * (OpenBLAS, MKL, BLIS, Apple Accelerate), for the `wasm-blas` backend (src-main/backend/blas.ts).
 *
 * Why a native addon under a wasm backend: wasm has 128-bit SIMD and no FMA, so tfjs-wasm's
 * XNNPACK and Cairn's own kernel reach 30-35 GFLOP/s on one core where OpenBLAS reaches
 * 70-200 on the same core (AVX2/AVX-512 with FMA). The operands already live in a wasm linear
 * memory (tfjs-wasm's heap or the gate kernel's memory); this reads and writes that memory in
 * place, given the ArrayBuffer and byte offsets, so nothing is copied.
 *
 * The library is opened at run time (dlopen), not linked: the addon builds with only a C
 * compiler and Node's headers, and a machine without a CBLAS library still loads it and is
 * told so. The library is pinned to one thread: Cairn runs seeds in parallel, one per core,
 * and the bench compares one thread with one thread.
 *
 * N-API (version 8) keeps the binary ABI-stable across Node and Electron releases, and
 * NAPI_MODULE_INIT makes it context-aware, so worker threads (the update helpers) load it too.
 * Every call checks its offsets against the buffer: a bad call throws instead of corrupting
 * memory, so a bug fails its run, not the process.
 *
 * The same addon carries the GRU gate kernels in C (cairn-gates.c, registered below).
 */
#include "cairn-native.h"
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int order, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);

static sgemm_fn sgemm = NULL;
static char lib_path[1024];

napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, "CAIRN_BLAS", msg);
  return NULL;
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  napi_create_string_utf8(env, val ? val : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

/* open(path) -> { path, config, core } or throws with dlerror's text. */
static napi_value open_lib(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[1024];
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return throw_error(env, "open(path): path must be a string");
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) return throw_error(env, dlerror());
  sgemm_fn f = (sgemm_fn)dlsym(h, "cblas_sgemm");
  if (!f) {
    dlclose(h);
    return throw_error(env, "the library has no cblas_sgemm");
  }
  /* One thread, whichever library this is (the setters of the others are absent). */
  void (*openblas_threads)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  if (openblas_threads) openblas_threads(1);
  void (*mkl_threads)(int) = (void (*)(int))dlsym(h, "MKL_Set_Num_Threads");
  if (mkl_threads) mkl_threads(1);
  void (*blis_threads)(long) = (void (*)(long))dlsym(h, "bli_thread_set_num_threads");
  if (blis_threads) blis_threads(1);
  sgemm = f;
  snprintf(lib_path, sizeof lib_path, "%s", path);
  napi_value out;
  napi_create_object(env, &out);
  set_str(env, out, "path", lib_path);
  char *(*config)(void) = (char *(*)(void))dlsym(h, "openblas_get_config");
  char *(*core)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
  set_str(env, out, "config", config ? config() : "");
  set_str(env, out, "core", core ? core() : "");
  return out;
}

/* The buffer's bytes and length; NULL (with a thrown error) when detached or not an ArrayBuffer. */
char *buffer_of(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  if (napi_get_arraybuffer_info(env, v, &data, len) != napi_ok || !data) {
    throw_error(env, "the memory must be an attached ArrayBuffer");
    return NULL;
  }
  return (char *)data;
}

int ints(napi_env env, napi_value *argv, size_t argc, size_t want, int64_t *v) {
  if (argc < want) return 0;
  for (size_t i = 0; i < want; i++)
    if (napi_get_value_int64(env, argv[i], &v[i]) != napi_ok) return 0;
  return 1;
}

/* Does [off, off + floats * 4) lie in a buffer of len bytes, 4-byte aligned? */
static int fits(int64_t off, int64_t floats, size_t len) {
  return off >= 0 && floats >= 0 && (off & 3) == 0 && (uint64_t)(off + floats * 4) <= len;
}

static void fill_bias(float *c, const float *bias, int64_t M, int64_t N) {
  for (int64_t i = 0; i < M; i++) memcpy(c + i * N, bias, (size_t)N * 4);
}

/* max(0, v) with wasm's f32 max semantics: -0 becomes +0, NaN stays NaN. */
static void relu(float *c, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (c[i] <= 0.f) c[i] = 0.f;
}

/*
 * gemm(buffer, batch, M, N, K, a, strideA, transA, b, strideB, transB, c, bias, relu):
 * for each of `batch` products, c [M][N] = op(a) @ op(b) (+ bias [N] when bias != 0, then
 * max(0, .) when relu != 0), where op(a) is a [M][K] (transA = 0) or the transpose of a stored
 * [K][M]; op(b) likewise [K][N] or [N][K]. Offsets and strides are in bytes; a stride of 0
 * broadcasts that operand over the batch; c's products are packed ([batch][M][N]).
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!sgemm) return throw_error(env, "gemm before open");
  size_t len;
  if (argc < 14) return throw_error(env, "gemm: 14 arguments");
  char *base = buffer_of(env, argv[0], &len);
  if (!base) return NULL;
  int64_t v[13];
  if (!ints(env, argv + 1, argc - 1, 13, v)) return throw_error(env, "gemm: integer arguments expected");
  int64_t batch = v[0], M = v[1], N = v[2], K = v[3], a = v[4], sa = v[5], ta = v[6], b = v[7], sb = v[8], tb = v[9], c = v[10], bias = v[11], act = v[12];
  if (batch < 1 || M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) return throw_error(env, "gemm: bad sizes");
  if (sa < 0 || sb < 0 || (sa & 3) || (sb & 3)) return throw_error(env, "gemm: bad strides");
  if (!fits(a, M * K, len) || !fits(a + (batch - 1) * sa, M * K, len) || !fits(b, K * N, len) ||
      !fits(b + (batch - 1) * sb, K * N, len) || !fits(c, batch * M * N, len) || (bias && !fits(bias, N, len)))
    return throw_error(env, "gemm: an operand lies outside the memory");
  for (int64_t i = 0; i < batch; i++) {
    const float *A = (const float *)(base + a + i * sa);
    const float *B = (const float *)(base + b + i * sb);
    float *C = (float *)(base + c) + i * M * N;
    if (M == 0 || N == 0) continue;
    float beta = 0.f;
    if (bias) {
      fill_bias(C, (const float *)(base + bias), M, N);
      beta = 1.f;
    }
    if (K == 0) {
      if (!bias) memset(C, 0, (size_t)(M * N) * 4);
    } else {
      sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, (int)M, (int)N, (int)K, 1.f, A, ta ? (int)M : (int)K, B,
            tb ? (int)K : (int)N, beta, C, (int)N);
    }
    if (act) relu(C, M * N);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_lib, NULL, &f);
  napi_set_named_property(env, exports, "open", f);
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, NULL, &f);
  napi_set_named_property(env, exports, "gemm", f);
  cairn_gates_init(env, exports);
  return exports;
}
