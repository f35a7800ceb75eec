/*
 * Triton kernels, compiled ahead of time (docs/triton.md). kgrade never
 * runs Python in the timed path: for each launch of a "triton" entry the
 * worker asks the helper hardware/triton/kgrade_triton.py, run by the
 * Python of the set-up (python_env.h), to compile the @triton.jit function
 * for the device's exact target with the shape's constexprs. The helper
 * keeps a content-addressed cache; its reply names the cubin (or hsaco)
 * and the metadata a launch needs (kernel name, shared memory, the
 * parameters Triton kept and the hidden ones it appends). The CUDA or HIP
 * backend then loads the binary like any other.
 */
#ifndef KG_TRITON_BUILD_H
#define KG_TRITON_BUILD_H

#include "kernelset.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* What to compile: one launch of an entry, its values for one shape. */
typedef struct kg_triton_request {
    const char *source; /* the .py text */
    const char *source_name;
    const char *entry; /* the @triton.jit function */
    const kg_triton_launch *spec;
    const int64_t *constexpr_values; /* per spec->constexprs; ignored where value is NULL */
    const double *constexpr_floats;  /* per spec->constexprs; where param >= 0 */
    /* Per signature parameter: the runtime value of an integer argument
     * known when building (Triton specialises on divisibility by 16 and on
     * 1, as its own launcher does); known[i] 0 for buffers and floats. */
    const int64_t *int_values;
    const int *int_known;
    int64_t num_warps, num_stages;
    const kg_device_info *info;
} kg_triton_request;

#define KG_TRITON_MAX_PARAMS 64
#define KG_TRITON_MAX_HIDDEN 4

/* The helper's reply. */
typedef struct kg_triton_binary {
    void *image; /* the cubin or hsaco, read into memory */
    size_t image_size;
    kg_language image_language; /* KG_LANG_CUBIN or KG_LANG_HSACO */
    char name[256];             /* the symbol to load */
    size_t shared;              /* dynamic shared memory to launch with */
    int num_warps, warp_size;
    /* The runtime parameters the compiled kernel takes, in order, as
     * indexes into the signature (a parameter Triton made a constant is
     * gone), then the hidden pointer parameters it appends. */
    size_t kept[KG_TRITON_MAX_PARAMS];
    size_t kept_count;
    size_t hidden_bytes[KG_TRITON_MAX_HIDDEN]; /* per program; 0: pass a null pointer */
    size_t hidden_count;
    /* The compiled entry's .param list ("u64", "u32", "f32", ...; CUDA
     * only, empty elsewhere), for checking what kgrade packs. */
    char ptx_params[KG_TRITON_MAX_PARAMS + KG_TRITON_MAX_HIDDEN][8];
    size_t ptx_param_count;
    /* What the results record of the build: Triton's version, the target,
     * the cache key, whether it came from the cache, seconds. */
    cJSON *record;
    /* Set (the rest empty) when the compile failed because the source
     * tried to run Python of its own (hardware/triton/kgrade_sandbox.py). */
    int source_refused;
} kg_triton_binary;

/* Why Triton sets cannot be built with this device and set-up, in `why`
 * ("triton unavailable (...)" is the caller's), or "" when they can: a
 * CUDA or HIP device, the Python of the set-up, Triton importable in it,
 * the helper found. The import is tried once per process. */
void kg_triton_unavailable(const kg_device_info *info, char *why, size_t size);

/* The Triton version of the set-up's Python ("3.9.0"), or NULL with
 * `why` filled; tried once per process. */
const char *kg_triton_version(char *why, size_t size);

/* Compiles one launch. On success fills *out (free with
 * kg_triton_binary_free) and *log with the helper's messages (caller
 * frees; may be NULL). KG_ERR_BUILD for a compile error (the helper's
 * message and traceback in err and *log), KG_ERR_UNAVAILABLE when Triton
 * cannot be used here, KG_ERR_INVALID for a bad reply. */
int kg_triton_compile(const kg_triton_request *req, kg_triton_binary *out, char **log,
                      kg_error *err);

void kg_triton_binary_free(kg_triton_binary *b);

/* The launch's arguments as the compiled kernel takes them: `args` (one
 * per signature parameter) filtered to the kept ones, then a null pointer
 * for each hidden parameter whose size is 0. `out` holds room for
 * arg_count + KG_TRITON_MAX_HIDDEN. KG_ERR_UNSUPPORTED when a hidden
 * parameter needs memory (not yet supported). */
int kg_triton_pack_args(const kg_triton_binary *b, const kg_arg *args, size_t arg_count,
                        kg_arg *out, size_t *out_count, kg_error *err);

#endif
