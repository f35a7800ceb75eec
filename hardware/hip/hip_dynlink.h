/*
 * Run-time loading of the ROCm libraries (dynlink.h): the HIP runtime
 * (libamdhip64), hiprtc (its own library from ROCm 6, inside libamdhip64
 * on ROCm 5) and comgr (to ask which GPU targets the installed compiler
 * knows before asking hiprtc to compile for one: some hiprtc versions abort
 * the process on an unknown target). Nothing is linked at build time, so
 * one kgrade binary starts with or without ROCm and says what is missing.
 */
#ifndef KG_HIP_DYNLINK_H
#define KG_HIP_DYNLINK_H

#include "device.h"
#include "dynlink.h"

#include <hip/hip_runtime_api.h>
#include <hip/hiprtc.h>

/* X(member, symbol, fallback symbol or NULL). All required. */
#define KG_HIP_RUNTIME_FUNCTIONS(X)                                                                \
    X(hipInit, "hipInit", NULL)                                                                    \
    X(hipDriverGetVersion, "hipDriverGetVersion", NULL)                                            \
    X(hipRuntimeGetVersion, "hipRuntimeGetVersion", NULL)                                          \
    X(hipGetErrorName, "hipGetErrorName", NULL)                                                    \
    X(hipGetErrorString, "hipGetErrorString", NULL)                                                \
    X(hipGetDeviceCount, "hipGetDeviceCount", NULL)                                                \
    X(hipSetDevice, "hipSetDevice", NULL)                                                          \
    X(hipDeviceGet, "hipDeviceGet", NULL)                                                          \
    X(hipDeviceGetName, "hipDeviceGetName", NULL)                                                  \
    X(hipDeviceGetAttribute, "hipDeviceGetAttribute", NULL)                                        \
    X(hipDeviceTotalMem, "hipDeviceTotalMem", NULL)                                                \
    /* ROCm 6 changed hipDeviceProp_t and kept the 5.x layout, which these                         \
     * headers describe, under the R0000 name. */                                                  \
    X(hipGetDeviceProperties, "hipGetDevicePropertiesR0000", "hipGetDeviceProperties")             \
    X(hipStreamCreate, "hipStreamCreate", NULL)                                                    \
    X(hipStreamDestroy, "hipStreamDestroy", NULL)                                                  \
    X(hipStreamSynchronize, "hipStreamSynchronize", NULL)                                          \
    X(hipEventCreate, "hipEventCreate", NULL)                                                      \
    X(hipEventDestroy, "hipEventDestroy", NULL)                                                    \
    X(hipEventRecord, "hipEventRecord", NULL)                                                      \
    X(hipEventSynchronize, "hipEventSynchronize", NULL)                                            \
    X(hipEventElapsedTime, "hipEventElapsedTime", NULL)                                            \
    X(hipModuleLoadData, "hipModuleLoadData", NULL)                                                \
    X(hipModuleUnload, "hipModuleUnload", NULL)                                                    \
    X(hipModuleGetFunction, "hipModuleGetFunction", NULL)                                          \
    X(hipModuleLaunchKernel, "hipModuleLaunchKernel", NULL)                                        \
    X(hipMalloc, "hipMalloc", NULL)                                                                \
    X(hipFree, "hipFree", NULL)                                                                    \
    X(hipMemcpyHtoD, "hipMemcpyHtoD", NULL)                                                        \
    X(hipMemcpyDtoH, "hipMemcpyDtoH", NULL)                                                        \
    X(hipMemcpyDtoDAsync, "hipMemcpyDtoDAsync", NULL)                                              \
    X(hipMemsetD8Async, "hipMemsetD8Async", NULL)                                                  \
    X(hipMemsetD16Async, "hipMemsetD16Async", NULL)                                                \
    X(hipMemsetD32Async, "hipMemsetD32Async", NULL)

#define KG_HIPRTC_FUNCTIONS(X)                                                                     \
    X(hiprtcVersion, "hiprtcVersion", NULL)                                                        \
    X(hiprtcGetErrorString, "hiprtcGetErrorString", NULL)                                          \
    X(hiprtcCreateProgram, "hiprtcCreateProgram", NULL)                                            \
    X(hiprtcDestroyProgram, "hiprtcDestroyProgram", NULL)                                          \
    X(hiprtcCompileProgram, "hiprtcCompileProgram", NULL)                                          \
    X(hiprtcGetProgramLogSize, "hiprtcGetProgramLogSize", NULL)                                    \
    X(hiprtcGetProgramLog, "hiprtcGetProgramLog", NULL)                                            \
    X(hiprtcGetCodeSize, "hiprtcGetCodeSize", NULL)                                                \
    X(hiprtcGetCode, "hiprtcGetCode", NULL)

typedef struct kg_hip_runtime {
    void *handle;
    char library[64]; /* the name that loaded, e.g. "libamdhip64.so.6" */
    KG_HIP_RUNTIME_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_hip_runtime;

typedef struct kg_hiprtc {
    void *handle;
    char library[64];
    KG_HIPRTC_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_hiprtc;

/* comgr's two ISA queries, declared here so that its header is not needed
 * (amd_comgr_status_t is an int-sized enum; 0 is success). */
typedef struct kg_comgr {
    void *handle;
    int (*amd_comgr_get_isa_count)(size_t *count);
    int (*amd_comgr_get_isa_name)(size_t index, const char **name);
} kg_comgr;

/* Each loader fills its struct or returns KG_ERR_UNAVAILABLE with a message
 * naming the library or the missing symbol. KGRADE_HIP_RUNTIME names
 * another runtime library (a path or a soname): for a ROCm outside the
 * loader's path, and to test the no-runtime path on a machine that has one. */
int kg_hip_runtime_load(kg_hip_runtime *r, kg_error *err);
/* libhiprtc.so.6, libhiprtc.so, then the runtime's own (ROCm 5). */
int kg_hiprtc_load(kg_hiprtc *h, kg_error *err);
/* libamd_comgr.so.2 (or .so.3, .so); optional: without it targets are not
 * checked before compiling. */
int kg_comgr_load(kg_comgr *c, kg_error *err);

#endif
