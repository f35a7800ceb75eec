/*
 * One kernel set made ready on a device for one shape: the program built
 * (through a per-run cache), its kernels created, device buffers allocated
 * and filled from the host tensors, every launch's geometry and arguments
 * evaluated. The runner then poisons, runs, reads back and times it.
 */
#ifndef KG_EVALUATE_H
#define KG_EVALUATE_H

#include "device.h"
#include "check.h"
#include "inputs.h"
#include "kernelset.h"
#include "workload.h"

#include <cjson/cJSON.h>

/* Programs built during a run, keyed by source file, language and defines,
 * so a set whose defines do not depend on the shape is built once. */
typedef struct kg_build_cache kg_build_cache;

/* Creates an empty cache for one device; `info` (normally kg_dev_info(dev);
 * tests shrink it) gives the memory sets are planned against and the device
 * symbols of kernelset.h to every expression. Free with kg_build_cache_free
 * (NULL allowed), which frees the programs. */
kg_build_cache *kg_build_cache_create(kg_device *dev, const kg_device_info *info);
void kg_build_cache_free(kg_build_cache *cache);

/* What building a set for a shape produced, for the results file. */
typedef struct kg_build_info {
    char source_sha256[65]; /* of the source as compiled: includes inlined */
    char defines[512];      /* "-DBLOCK=256 -DTILE=32" as passed */
    const char *log;        /* compiler log, owned by the cache; may be "" */
    double seconds;         /* compile time (0 when it came from the cache) */
    int cached;
    /* Every file the build read, [{"path", "sha256", "bytes"}], owned by
     * the cache; NULL before the source was read. */
    const cJSON *source_files;
    int source_refused; /* the source broke a rule of source_text.h */
    /* Language triton: what the helper said of the build (Triton's version,
     * target, cache key, upstream file), owned by the cache; the last
     * launch's when an entry has several. NULL otherwise. */
    const cJSON *triton;
    /* Language library: the library called (library_tier.h), owned by the
     * cache; its file is also the source (source_sha256, source_files). */
    const cJSON *library;
    /* kg_prepare refused (KG_ERR_MEMORY) because of what the set itself
     * asks for (its scratch), where the shape's tensors alone would fit: a
     * failure of the set, not of the shape. */
    int refused_own_request;
} kg_build_info;

typedef struct kg_prepared kg_prepared;

/* Builds and sets up `entry` for `shape` on the cache's device (with the
 * define values in `overrides`, which may be NULL: a sweep's configuration):
 * every input set of `inputs` uploaded to buffers of its own, one buffer
 * per output (and inout) and the scratch buffers allocated, launches
 * resolved for input set 0. On a build failure returns KG_ERR_BUILD with *build filled (log
 * included) and *out NULL. On success *out is freed with kg_prepared_free. */
int kg_prepare(kg_build_cache *cache, const kg_workload *w, const kg_kernel_entry *entry,
               const kg_shape *shape, const kg_symtab *overrides, const kg_input_sets *inputs,
               kg_prepared **out, kg_build_info *build, kg_error *err);
void kg_prepared_free(kg_prepared *p);

/* Guard zones around every buffer a kernel sees (inputs, output and
 * scratch), on backends with buffer views: this many bytes on each side,
 * each byte KG_GUARD_BYTE, checked by kg_prepared_verify. */
#define KG_GUARD_BYTES ((size_t)KG_BUFFER_VIEW_ALIGN)
#define KG_GUARD_BYTE  0xc3

/* What kg_prepared_verify found. */
typedef struct kg_integrity {
    int guarded;                /* 0 when the backend cannot place guards */
    size_t guard_bytes_damaged; /* over every buffer's two zones */
    char first_damaged[96];     /* "tensor y" or "scratch partial" */
    size_t inputs_modified;     /* input tensors whose device copy changed */
    char first_modified[64];
} kg_integrity;

#define KG_ALL_INPUT_SETS ((size_t)-1)

/* Reads back every guard zone (damage there is permanent, so one look
 * covers every run since the buffers were made) and the device copy of
 * input set `set` (or KG_ALL_INPUT_SETS), comparing them with what was
 * written: the guard pattern, and `inputs`, the host copies. Synchronous. */
int kg_prepared_verify(kg_prepared *p, const kg_input_sets *inputs, size_t set, kg_integrity *out,
                       kg_error *err);

/* Points the launches' input arguments at input set `set`. */
void kg_prepared_select(kg_prepared *p, size_t set);
size_t kg_prepared_set_count(const kg_prepared *p);

/* Enqueues every launch of the set once, in order (asynchronous); a
 * library tier's call instead of launches. */
int kg_prepared_enqueue(kg_prepared *p, kg_error *err);

/* Uploads the inputs of `tensors` (a host set) as input set `set`. */
int kg_prepared_upload_set(kg_prepared *p, size_t set, const kg_host_tensor *tensors,
                           kg_error *err);

/* Uploads only the elements a perturbation changed in `tensors`. */
int kg_prepared_write_elements(kg_prepared *p, size_t set, const kg_host_tensor *tensors,
                               const kg_perturbation *changed, kg_error *err);

/* Fills every scratch buffer with the 4-byte `pattern` (a new one before
 * every run: nothing a kernel leaves there survives to the next). */
int kg_prepared_scrub_scratch(kg_prepared *p, uint32_t pattern, kg_error *err);

/* Where each output sits in a readback (check.h). */
const kg_output_layout *kg_prepared_layout(const kg_prepared *p);

/* The buffer of output k (0 .. layout count - 1), which kernels write. */
kg_buffer *kg_prepared_output(const kg_prepared *p, size_t k);

/* Whether output k is an inout: it starts each run from the selected
 * input set's values (kg_prepared_reset_inout) instead of a fill. */
int kg_prepared_output_is_inout(const kg_prepared *p, size_t k);

/* Enqueues the copy of inout k's value in the selected input set (a
 * buffer no kernel sees) into the buffer kernels update in place; nothing
 * for a plain output. */
int kg_prepared_reset_inout(kg_prepared *p, size_t k, kg_error *err);

/* Blocking read of every output into dst, laid out as kg_prepared_layout
 * says. */
int kg_prepared_read_output(kg_prepared *p, void *dst, kg_error *err);

/* The launches as resolved for this shape, for the results file: entry,
 * grid and block (3 each), dynamic local bytes, and each argument as
 * {"tensor": name}, {"scratch": name, "bytes": n}, {"param": name, "f32": v},
 * {"i32": v} or {"i64": v}. Enough to replay the set outside kgrade
 * (tools/crosscheck_timing.py does). A new cJSON array the caller owns. */
cJSON *kg_prepared_launches_json(const kg_prepared *p);

/* A library tier's call as resolved for the shape; NULL for other sets. */
const kg_blas_gemm *kg_prepared_library_call(const kg_prepared *p);

/* The workload and device the set was prepared for. */
const kg_workload *kg_prepared_workload(const kg_prepared *p);
kg_device *kg_prepared_device(const kg_prepared *p);

#endif
