/*
 * Kernel manifests (kernels.json): which source to build for a workload and
 * how to launch it. A baseline tier lives in baselines/<workload>/kernels.json
 * under "tiers"; a submission in <folder>/kernels.json under "workloads".
 * See docs/formats.md.
 */
#ifndef KG_KERNELSET_H
#define KG_KERNELSET_H

#include "device.h"
#include "source_text.h"
#include "workload.h"

typedef enum kg_arg_source {
    KG_ARGSRC_TENSOR = 0,  /* index into workload tensors */
    KG_ARGSRC_SCRATCH = 1, /* index into entry scratch */
    KG_ARGSRC_PARAM = 2,   /* index into workload params, passed as f32 */
    KG_ARGSRC_I32 = 3,     /* expression, passed as int32 */
    KG_ARGSRC_I64 = 4,     /* "i64:expression", passed as int64 */
    KG_ARGSRC_F32 = 5,     /* "f32:expression" or "f32:rsqrt(expression)", passed as float */
} kg_arg_source;

typedef struct kg_arg_spec {
    kg_arg_source source;
    size_t index;
    kg_expr *expr; /* I32 / I64 / F32 */
    int rsqrt;     /* F32: pass 1/sqrt(value) (an attention scale) */
} kg_arg_spec;

/* A Triton launch (language "triton"; docs/triton.md): the kernel's
 * runtime parameters with Triton's types, in order, one per argument of
 * the launch; its constexpr parameters with their values (an expression,
 * or NULL for None); warps and pipeline stages. */
typedef struct kg_triton_param {
    char *name;
    char *type; /* "*bf16", "i32", "fp32", ... */
} kg_triton_param;

#define KG_TRITON_MAX_HIP_OPTIONS 3

typedef struct kg_triton_constexpr {
    char *name;
    kg_expr *value; /* NULL: passed as None, a parameter or a dtype (below) */
    int param;      /* >= 0: the workload parameter of that index, passed as a float */
    char *dtype;    /* non-NULL: a Triton dtype ("bf16": tl.bfloat16), from "dtype:bf16" */
} kg_triton_constexpr;

typedef struct kg_triton_launch {
    kg_triton_param *params;
    size_t param_count;
    kg_triton_constexpr *constexprs;
    size_t constexpr_count;
    kg_expr *num_warps, *num_stages;
    /* "hip_options": Triton's AMD compile options the launch passes on a
     * HIP target (waves_per_eu, matrix_instr_nonkdim, kpack), as SGLang's
     * launcher does; ignored on CUDA. */
    char *hip_option_names[KG_TRITON_MAX_HIP_OPTIONS];
    int64_t hip_option_values[KG_TRITON_MAX_HIP_OPTIONS];
    size_t hip_option_count;
} kg_triton_launch;

typedef struct kg_launch_spec {
    char *entry;
    int grid_dims, block_dims;
    kg_expr *grid[3];
    kg_expr *block[3];
    kg_expr *local_mem; /* NULL = 0 */
    kg_arg_spec *args;
    size_t arg_count;
    kg_triton_launch *triton; /* language "triton" only, else NULL */
} kg_launch_spec;

/* A library tier's call (language "library", baseline tiers only;
 * library_call.c): what it asks the backend's BLAS library to compute over
 * the workload's tensors, instead of a source and launches. */
typedef enum kg_library_op {
    KG_LIBRARY_GEMM = 0, /* row-major C[m][n] = sum_k A[m][k] * B[k][n] (or B[n][k]) */
} kg_library_op;

typedef struct kg_library_call {
    kg_library_op op;
    size_t a, b, c; /* tensors: A and B inputs, C the output */
    kg_expr *m, *n, *k;
    int b_transposed;    /* "b_layout": "nk", B stored [n][k]: C = A * B^T */
    kg_blas_dtype dtype; /* of the three tensors */
} kg_library_call;

typedef struct kg_scratch_spec {
    char *name;
    kg_dtype dtype;
    kg_expr *count;
} kg_scratch_spec;

#define KG_MAX_SWEEP_DEFINES 4
#define KG_MAX_SWEEP_VALUES  8
#define KG_MAX_REFUSALS      8

typedef struct kg_kernel_entry {
    char *set;                /* "naive", or the submission folder as given */
    char *manifest;           /* real path of the kernels.json it came from */
    char manifest_sha256[65]; /* of that file as read ("" for kg_kernel_entry_parse) */
    char *description;
    char *source_path; /* resolved path of the source */
    char *source_file; /* as written in the manifest */
    /* "upstream" (baseline tiers, language triton): the source is a file of
     * a pinned Python package, read from the upstream folder the set-up
     * extracted (python_env.h), never from the repository. NULL otherwise. */
    char *upstream_package, *upstream_version, *upstream_path;
    kg_language language;
    size_t define_count;
    char **define_names;
    kg_expr **define_values;
    kg_launch_spec *launches;
    size_t launch_count;
    kg_scratch_spec *scratch;
    size_t scratch_count;
    /* "sweep": for each listed define, the values an autotune sweep tries
     * (every combination; kgrade keeps the fastest per shape). */
    size_t sweep_count;
    char *sweep_names[KG_MAX_SWEEP_DEFINES];
    int64_t sweep_values[KG_MAX_SWEEP_DEFINES][KG_MAX_SWEEP_VALUES];
    size_t sweep_value_count[KG_MAX_SWEEP_DEFINES];
    /* "options": compiler options from the manifest, each on the allowlist
     * for the entry's language, joined by single spaces; "" when none (never
     * NULL). For kg_build_request.options, and recorded with the results:
     * fast-math options change what a speedup compares. */
    char *options;
    /* "refuses": shapes the set does not support, each a condition on the
     * workload's public symbols and the reason; a refused shape is never
     * built or run, and counts as the set's failure (status refused, flag
     * unsupported_shape), not as something else computed. */
    size_t refusal_count;
    kg_expr *refuse_when[KG_MAX_REFUSALS];
    char *refuse_why[KG_MAX_REFUSALS];
    /* "unsupported_devices": devices the set cannot be graded on (a target
     * without a number format the set stores), each a condition on the
     * device symbols only and the reason. On such a device the set is not
     * graded, with the reason, as where its library or Triton is missing. */
    size_t device_refusal_count;
    kg_expr *device_refuse_when[KG_MAX_REFUSALS];
    char *device_refuse_why[KG_MAX_REFUSALS];
    /* Language "library": the call, and no source, launches, defines or
     * scratch (source_path and source_file are NULL). NULL otherwise. */
    kg_library_call *call;
} kg_kernel_entry;

/* The source of entry `e` as its compiler reads it (kg_source_text_load
 * within the folder of its manifest; an upstream file as it is), whose
 * sha256 is what results record as source_sha256. Same returns. */
int kg_kernel_entry_source(const kg_kernel_entry *e, kg_source_text *out, kg_error *err);

/* The reason entry `e` gives for refusing `shape` (owned by e), or NULL
 * when it takes the shape. A condition that cannot be evaluated refuses,
 * with its error in `buf`. */
const char *kg_kernel_entry_refusal(const kg_kernel_entry *e, const kg_shape *shape, char *buf,
                                    size_t size);

/* Limits on what a kernel set may ask kgrade to read or pass on: kernel sets
 * are written by the party being graded. */
#define KG_MAX_SOURCE_BYTES (16 * 1024 * 1024) /* a source file, and kernels.json */
#define KG_MAX_OPTIONS      16                 /* entries of "options" */

/* Returns 1 when `set` names a submission folder, 0 when it names a
 * baseline tier. A submission is always a path (it contains a '/':
 * "./mine", "kernels/x"); a bare word is a tier name even where a folder of
 * that name exists, so that tier names cannot be shadowed. */
int kg_set_is_submission(const char *set);

/* Loads the entry of kernel set `set` for workload `w`: for a tier, from
 * <w->dir>/kernels.json "tiers"[set]; for a submission, from
 * <set>/kernels.json "workloads"[w->name]. Every name and expression is
 * checked against the workload. On success *out is freed with
 * kg_kernel_entry_free. Returns KG_ERR_NOT_FOUND (with a message) when the
 * manifest exists but has no entry for this workload/tier, KG_ERR_INVALID
 * for a bad manifest. */
int kg_kernel_entry_load(const kg_workload *w, const char *set, kg_kernel_entry **out,
                         kg_error *err);

/* Parses one entry object (exposed for tests). `manifest_dir` is where the
 * source path is resolved from. */
int kg_kernel_entry_parse(const kg_workload *w, const kg_json_where *where, const cJSON *obj,
                          const char *set, const char *manifest, const char *manifest_dir,
                          kg_kernel_entry **out, kg_error *err);

/* Checks one compiler option against the allowlist for `lang` (a table in
 * kernelset.c; docs/formats.md lists it). KG_OK when allowed; otherwise
 * KG_ERR_INVALID with `err` saying what is wrong and what is allowed.
 * Options of the portable language are refused: a portable source is
 * built by every backend, each with its own compiler. */
int kg_compiler_option_check(kg_language lang, const char *option, kg_error *err);

/* An expression of entry `e` at `at`: it may use the workload's symbols,
 * the device symbols and the entry's defines parsed so far (so a define
 * may use earlier ones, and launches all of them). */
int kg_kernel_entry_parse_expr(const kg_workload *w, const kg_kernel_entry *e,
                               const kg_json_where *at, const cJSON *item, kg_expr **out,
                               kg_error *err);

/* Language "triton" (triton_manifest.c): parses the Triton fields of
 * launch `l` (signature, constexprs, num_warps, num_stages) into
 * spec->triton and checks them against the launch's args, which are
 * parsed already: one argument per signature entry, a tensor passed where
 * the type is a pointer of the tensor's dtype. A Triton launch has no
 * "block". */
int kg_triton_launch_parse(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *lw,
                           const cJSON *l, kg_launch_spec *spec, kg_error *err);
void kg_triton_launch_free(kg_triton_launch *t);

/* "upstream": {"package", "version", "path"} of a baseline tier: fills
 * e->upstream_* and e->source_path (under kg_upstream_dir(); the file may
 * be missing, which kg_triton_unavailable reports). */
int kg_upstream_parse(kg_kernel_entry *e, const kg_json_where *where, const cJSON *obj,
                      kg_error *err);

/* Language "library" (library_call.c): parses the entry's "call" into
 * e->call, each tensor checked against the workload (A and B inputs, C an
 * output, one floating-point type that a BLAS GEMM takes), m, n, k over
 * its public symbols. A submission may not call a library. */
int kg_library_call_parse(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *where,
                          const cJSON *obj, kg_error *err);
void kg_library_call_free(kg_library_call *call);

/* What the call computes, for messages and records: "gemm f32, B [k][n]". */
void kg_library_call_describe(const kg_library_call *call, char *out, size_t size);

/* Frees an entry; NULL is allowed. */
void kg_kernel_entry_free(kg_kernel_entry *e);

/* An entry's defines evaluated for one shape. */
#define KG_MAX_DEFINES 64
typedef struct kg_shape_defines {
    size_t count;
    char text[KG_MAX_DEFINES][96];    /* "NAME=VALUE" */
    const char *list[KG_MAX_DEFINES]; /* pointers into text, for kg_build_request */
    char joined[512];                 /* "-DNAME=VALUE -D..." for logs and cache keys */
} kg_shape_defines;

/* Evaluates e's defines for `shape` in order, adding each to shape->symbols
 * (pass a copy of the workload's shape) so that later defines and the
 * launch expressions can use it. A define named in `overrides` (may be
 * NULL) takes the value given there instead: one configuration of a sweep. */
int kg_entry_eval_defines(const kg_workload *w, const kg_kernel_entry *e, kg_shape *shape,
                          const kg_symtab *overrides, kg_shape_defines *out, kg_error *err);

/* Symbols describing the device, usable in every expression of a kernel
 * manifest (block-size tables by architecture):
 *   cuda_cc  CUDA compute capability x 10 (90 for sm_90), 0 on other backends
 *   is_hip   1 on the HIP backend (AMD GPUs), 0 elsewhere
 *   is_gpu   1 on a GPU, 0 on a CPU or other device
 *   warp_size  the device's warp, wavefront or preferred group multiple */
#define KG_DEVICE_SYMBOL_NAMES                                                                     \
    {                                                                                              \
        "cuda_cc", "is_hip", "is_gpu", "warp_size"                                                 \
    }
#define KG_DEVICE_SYMBOL_COUNT 4
/* Adds the device symbols of `info` to `t`. Returns -1 when `t` is full. */
int kg_device_symbols(const kg_device_info *info, kg_symtab *t);

/* The reason entry `e` cannot be graded on the device `info` describes
 * (its first "unsupported_devices" condition that holds there), or NULL. */
const char *kg_kernel_entry_device_refusal(const kg_kernel_entry *e, const kg_device_info *info,
                                           char *buf, size_t size);

#endif
