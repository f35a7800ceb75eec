/*
 * Run-time loading of the NVIDIA libraries (FFmpeg's dynlink_loader shape):
 * one struct of function pointers per library, filled with dlopen/dlsym,
 * never linked at build time, so one kgrade binary starts on a machine with
 * or without an NVIDIA driver and says which part is missing.
 *
 * Members keep the API's names; cuda.h maps some of them to versioned
 * symbols by macro (cuMemAlloc -> cuMemAlloc_v2), and the tables below name
 * the exact symbol looked up, so a driver's old unversioned entry point is
 * never picked by accident.
 */
#ifndef KG_CUDA_DYNLINK_H
#define KG_CUDA_DYNLINK_H

#include "device.h"
#include "dynlink.h"

#include <cuda.h>
#include <nvrtc.h>

/* X(member, symbol, fallback symbol or NULL). All required. */
#define KG_CUDA_DRIVER_FUNCTIONS(X)                                                                \
    X(cuInit, "cuInit", NULL)                                                                      \
    X(cuDriverGetVersion, "cuDriverGetVersion", NULL)                                              \
    X(cuGetErrorName, "cuGetErrorName", NULL)                                                      \
    X(cuGetErrorString, "cuGetErrorString", NULL)                                                  \
    X(cuDeviceGetCount, "cuDeviceGetCount", NULL)                                                  \
    X(cuDeviceGet, "cuDeviceGet", NULL)                                                            \
    X(cuDeviceGetName, "cuDeviceGetName", NULL)                                                    \
    X(cuDeviceGetAttribute, "cuDeviceGetAttribute", NULL)                                          \
    X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", NULL)                                               \
    X(cuDeviceGetPCIBusId, "cuDeviceGetPCIBusId", NULL)                                            \
    X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL)                                  \
    X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", NULL)                             \
    X(cuCtxSetCurrent, "cuCtxSetCurrent", NULL)                                                    \
    X(cuStreamCreate, "cuStreamCreate", NULL)                                                      \
    X(cuStreamDestroy, "cuStreamDestroy_v2", NULL)                                                 \
    X(cuStreamSynchronize, "cuStreamSynchronize", NULL)                                            \
    X(cuEventCreate, "cuEventCreate", NULL)                                                        \
    X(cuEventDestroy, "cuEventDestroy_v2", NULL)                                                   \
    X(cuEventRecord, "cuEventRecord", NULL)                                                        \
    X(cuEventSynchronize, "cuEventSynchronize", NULL)                                              \
    X(cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime")                           \
    X(cuModuleLoadDataEx, "cuModuleLoadDataEx", NULL)                                              \
    X(cuModuleUnload, "cuModuleUnload", NULL)                                                      \
    X(cuModuleGetFunction, "cuModuleGetFunction", NULL)                                            \
    X(cuFuncGetAttribute, "cuFuncGetAttribute", NULL)                                              \
    X(cuFuncSetAttribute, "cuFuncSetAttribute", NULL)                                              \
    X(cuLaunchKernel, "cuLaunchKernel", NULL)                                                      \
    X(cuMemAlloc, "cuMemAlloc_v2", NULL)                                                           \
    X(cuMemFree, "cuMemFree_v2", NULL)                                                             \
    X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", NULL)                                                       \
    X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", NULL)                                                       \
    X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", NULL)                                             \
    X(cuMemsetD8Async, "cuMemsetD8Async", NULL)                                                    \
    X(cuMemsetD16Async, "cuMemsetD16Async", NULL)                                                  \
    X(cuMemsetD32Async, "cuMemsetD32Async", NULL)

#define KG_NVRTC_FUNCTIONS(X)                                                                      \
    X(nvrtcVersion, "nvrtcVersion", NULL)                                                          \
    X(nvrtcGetErrorString, "nvrtcGetErrorString", NULL)                                            \
    X(nvrtcCreateProgram, "nvrtcCreateProgram", NULL)                                              \
    X(nvrtcDestroyProgram, "nvrtcDestroyProgram", NULL)                                            \
    X(nvrtcCompileProgram, "nvrtcCompileProgram", NULL)                                            \
    X(nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", NULL)                                      \
    X(nvrtcGetProgramLog, "nvrtcGetProgramLog", NULL)                                              \
    X(nvrtcGetCUBINSize, "nvrtcGetCUBINSize", NULL)                                                \
    X(nvrtcGetCUBIN, "nvrtcGetCUBIN", NULL)

typedef struct kg_cuda_driver {
    void *handle;
    KG_CUDA_DRIVER_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_cuda_driver;

typedef struct kg_nvrtc {
    void *handle;
    char library[64]; /* the name that loaded, e.g. "libnvrtc.so.13" */
    KG_NVRTC_FUNCTIONS(KG_DYNLINK_MEMBER)
} kg_nvrtc;

/* NVML: the toolkit image has no nvml.h, so the few declarations used are
 * written out here (types from NVML's public API: opaque device handle,
 * int status, NVML_CLOCK_SM = 1, clock-event reason bits). */
typedef struct kg_nvml_device_st *kg_nvml_device;
#define KG_NVML_SUCCESS  0
#define KG_NVML_CLOCK_SM 1
/* Reasons that mean the clock is held down by power, heat or hardware
 * protection (not idleness or a user's application-clock setting). */
#define KG_NVML_SLOWDOWN_REASONS                                                                   \
    (0x4ull /* SW power cap */ | 0x8ull /* HW slowdown */ | 0x20ull /* SW thermal */ |             \
     0x40ull /* HW thermal */ | 0x80ull /* HW power brake */)

typedef struct kg_nvml {
    void *handle;
    int (*nvmlInit)(void);
    int (*nvmlShutdown)(void);
    int (*nvmlSystemGetDriverVersion)(char *version, unsigned int length);
    const char *(*nvmlErrorString)(int result);
    int (*nvmlDeviceGetHandleByPciBusId)(const char *bus_id, kg_nvml_device *device);
    int (*nvmlDeviceGetClockInfo)(kg_nvml_device device, int type, unsigned int *mhz);
    int (*nvmlDeviceGetDefaultApplicationsClock)(kg_nvml_device device, int type,
                                                 unsigned int *mhz);
    int (*nvmlDeviceGetCurrentClocksEventReasons)(kg_nvml_device device,
                                                  unsigned long long *reasons);
} kg_nvml;

/* Each loader fills its struct or returns KG_ERR_UNAVAILABLE with a message
 * naming the library or the missing symbol ("driver not found
 * (libcuda.so.1)", "libcuda.so.1 lacks cuEventElapsedTime_v2: driver too
 * old?"). On failure the struct is left zeroed and nothing stays open. */
int kg_cuda_driver_load(kg_cuda_driver *d, kg_error *err); /* KGRADE_CUDA_DRIVER overrides */
/* Tries libnvrtc.so.13, libnvrtc.so.12, libnvrtc.so, then the same names in
 * the toolkit library folder CMake found (KG_CUDA_TOOLKIT_LIBDIR). */
int kg_nvrtc_load(kg_nvrtc *n, kg_error *err);
/* libnvidia-ml.so.1; optional for the backend (no clocks without it). */
int kg_nvml_load(kg_nvml *m, kg_error *err);

#endif
