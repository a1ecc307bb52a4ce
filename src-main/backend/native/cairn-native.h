/*
 * What the addon's two C files share: cairn-blas.c's argument helpers (so the gate kernels check
 * buffers and integers the same way) and cairn-gates.c's registration, called from
 * cairn-blas.c's NAPI_MODULE_INIT (one addon, one file to load).
 */
#ifndef CAIRN_NATIVE_H
#define CAIRN_NATIVE_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

napi_value throw_error(napi_env env, const char *msg);
char *buffer_of(napi_env env, napi_value v, size_t *len);
int ints(napi_env env, napi_value *argv, size_t argc, size_t want, int64_t *v);
void cairn_gates_init(napi_env env, napi_value exports);

#endif
