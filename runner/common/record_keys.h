/*
 * The vocabulary of the results file (docs/formats.md), named once: every
 * key of every record, the record types, the statuses of a kernel set and
 * the integrity flags. Whatever writes a record and whatever reads one
 * (summaries, verdicts, reports, resuming) uses these names, so a key or a
 * status cannot be spelled one way where it is written and another where
 * it is read. The results file stays the source of truth: the strings here
 * are exactly what files hold, and renaming one breaks every file already
 * written (change the schema, KG_RESULTS_SCHEMA in results.h, instead).
 * tools/crosscheck_timing.py reads some of these keys too.
 *
 * Keys are grouped by the record or object that holds them; a key that
 * several objects share has one name per object, since its meaning
 * differs ("baseline" is a set's name in the settings and the set's whole
 * object in a shape record). Times are in seconds unless the name says
 * otherwise; "median" means the median of a set's samples.
 *
 * Statuses, flags and record types are enums with one name table each
 * (record_keys.c): parsing an unknown name gives the enum's UNKNOWN value,
 * so files from other versions of kgrade still load, and readers decide
 * what an unknown value means (never "ok").
 */
#ifndef KG_RECORD_KEYS_H
#define KG_RECORD_KEYS_H

#include <cjson/cJSON.h>

/* ---- every record -------------------------------------------------------- */

#define KG_KEY_TYPE "type" /* the record type: kg_record_type_name() */

typedef enum kg_record_type {
    KG_RECORD_UNKNOWN = 0, /* no "type", or one this kgrade does not know */
    KG_RECORD_RUN,         /* "run": the run header, first line of a run */
    KG_RECORD_SHAPE,       /* "shape": one evaluation (a shape, both sets) */
    KG_RECORD_SKIPPED,     /* "skipped": a workload not graded (a set has no kernel) */
    KG_RECORD_RESUMED,     /* "resumed": `kgrade run --resume` continued the run here */
    KG_RECORD_SUMMARY,     /* "summary": geometric means, last line of a finished run */
    KG_RECORD_TYPE_COUNT
} kg_record_type;

/* "run", "shape", ...; NULL for KG_RECORD_UNKNOWN and out-of-range values. */
const char *kg_record_type_name(kg_record_type type);
/* The type named `name`; KG_RECORD_UNKNOWN for NULL or an unknown name. */
kg_record_type kg_record_type_parse(const char *name);
/* The type of a record (its "type"); KG_RECORD_UNKNOWN when it has none. */
kg_record_type kg_record_type_of(const cJSON *record);
/* 1 when `record` is of type `type`. */
int kg_record_is(const cJSON *record, kg_record_type type);

/* ---- the run header ("type": "run") ------------------------------------- */

#define KG_KEY_RUN_SCHEMA   "schema"   /* format version, KG_RESULTS_SCHEMA */
#define KG_KEY_RUN_STARTED  "started"  /* UTC start time, ISO 8601 ("2024-05-01T12:00:00Z") */
#define KG_KEY_RUN_KGRADE   "kgrade"   /* kgrade's fingerprint (KG_KEY_KGRADE_*) */
#define KG_KEY_RUN_HOST     "host"     /* the host's fingerprint (KG_KEY_HOST_*) */
#define KG_KEY_RUN_DEVICE   "device"   /* the device graded on (KG_KEY_DEVICE_*) */
#define KG_KEY_RUN_PROFILE  "profile"  /* matching GPU profile (KG_KEY_PROFILE_*) or null */
#define KG_KEY_RUN_SETTINGS "settings" /* the run's options (KG_KEY_SETTINGS_*) */
#define KG_KEY_RUN_PEAKS    "peaks"    /* peaks the speed-of-light bounds use (KG_KEY_PEAKS_*) */
#define KG_KEY_RUN_MERGED   "merged"   /* a run merged from shards (KG_KEY_MERGED_*); absent otherwise */

/* ---- a merged run's header: "merged" (kgrade merge) -------------------- */
#define KG_KEY_MERGED_SHARDS     "shards"             /* each shard read: KG_KEY_MERGED_SHARD_* */
#define KG_KEY_MERGED_MISSING    "missing"            /* the ids no shard held ("4,7-9"; "" none) */
#define KG_KEY_MERGED_DUPLICATES "duplicates_dropped" /* evaluations held twice, the later dropped */
#define KG_KEY_MERGED_NOTES      "notes"              /* what was not used and why, in words */
#define KG_KEY_MERGED_SHARD_FILE    "file"    /* the shard as named */
#define KG_KEY_MERGED_SHARD_ONLY    "only"    /* the ids it was to grade ("all" for a whole run) */
#define KG_KEY_MERGED_SHARD_HOST    "host"    /* the host it ran on */
#define KG_KEY_MERGED_SHARD_STARTED "started" /* when it began */
#define KG_KEY_MERGED_SHARD_TAKEN   "taken"   /* how many of its evaluations the merge kept */

/* kgrade's fingerprint: in the header and in each "resumed" record. */
#define KG_KEY_KGRADE_VERSION           "version"           /* kgrade's version */
#define KG_KEY_KGRADE_GIT_COMMIT        "git_commit"        /* commit it was built from */
#define KG_KEY_KGRADE_BACKENDS_COMPILED "backends_compiled" /* "opencl,cuda,hip" */
#define KG_KEY_KGRADE_COMPILER          "compiler"          /* the C compiler's version */

/* The host's fingerprint. */
#define KG_KEY_HOST_OS           "os"           /* uname sysname */
#define KG_KEY_HOST_KERNEL       "kernel"       /* uname release */
#define KG_KEY_HOST_MACHINE      "machine"      /* uname machine ("x86_64") */
#define KG_KEY_HOST_HOSTNAME     "hostname"     /* uname nodename */
#define KG_KEY_HOST_CPU          "cpu"          /* /proc/cpuinfo model name */
#define KG_KEY_HOST_CPUS_ONLINE  "cpus_online"  /* logical CPUs online */
#define KG_KEY_HOST_MEMORY       "memory"       /* /proc/meminfo MemTotal, as written there */
#define KG_KEY_HOST_DISTRIBUTION "distribution" /* /etc/os-release PRETTY_NAME */

/* The device: every field of `kgrade devices --json`. */
#define KG_KEY_DEVICE_BACKEND          "backend"          /* "opencl", "cuda", "hip" */
#define KG_KEY_DEVICE_INDEX            "index"            /* the device's index in its backend */
#define KG_KEY_DEVICE_NAME             "name"             /* the driver's name for it */
#define KG_KEY_DEVICE_VENDOR           "vendor"           /* vendor name */
#define KG_KEY_DEVICE_TYPE             "type"             /* "gpu", "cpu", ... */
#define KG_KEY_DEVICE_DRIVER_VERSION   "driver_version"   /* driver version string */
#define KG_KEY_DEVICE_API_VERSION      "api_version"      /* API version string */
#define KG_KEY_DEVICE_PLATFORM         "platform"         /* OpenCL platform name; "" elsewhere */
#define KG_KEY_DEVICE_ARCH             "arch"             /* "sm_90", "gfx90a", ... */
#define KG_KEY_DEVICE_COMPUTE_UNITS    "compute_units"    /* SMs, CUs, cores */
#define KG_KEY_DEVICE_CLOCK_MHZ        "clock_mhz"        /* default core clock, MHz */
#define KG_KEY_DEVICE_GLOBAL_MEM_BYTES "global_mem_bytes" /* device memory, bytes */
#define KG_KEY_DEVICE_LOCAL_MEM_BYTES  "local_mem_bytes"  /* local memory per group, bytes */
#define KG_KEY_DEVICE_CACHE_BYTES      "cache_bytes"      /* last-level cache, bytes (flush size) */
#define KG_KEY_DEVICE_CACHE_SOURCE     "cache_source"     /* where cache_bytes came from */
#define KG_KEY_DEVICE_CACHE_LINE_BYTES "cache_line_bytes" /* cache line, bytes */
#define KG_KEY_DEVICE_MAX_GROUP_SIZE   "max_group_size"   /* work-items per group, at most */
#define KG_KEY_DEVICE_SUBGROUP_WIDTH   "subgroup_width"   /* warp or wavefront width */
#define KG_KEY_DEVICE_MAX_ALLOC_BYTES  "max_alloc_bytes"  /* largest allocation, bytes */
#define KG_KEY_DEVICE_MEMORY_CLOCK_MHZ "memory_clock_mhz" /* memory clock, MHz; 0 if unknown */
#define KG_KEY_DEVICE_MEMORY_BUS_BITS  "memory_bus_bits"  /* memory bus width, bits; 0 if unknown */
#define KG_KEY_DEVICE_PEAK_DRAM_GBS    "peak_dram_gbs"    /* theoretical GB/s; 0 if unknown */

/* The GPU profile (hardware/profiles/), as the header holds it. */
#define KG_KEY_PROFILE_FILE        "file"        /* the profile's file name */
#define KG_KEY_PROFILE_NAME        "name"        /* the GPU model */
#define KG_KEY_PROFILE_DRAM_GBS    "dram_gbs"    /* datasheet DRAM bandwidth, GB/s */
#define KG_KEY_PROFILE_PEAK_TFLOPS "peak_tflops" /* datasheet compute peaks, TFLOP/s: */
#define KG_KEY_PROFILE_FP32        "fp32"        /*   FP32 (also the profile file's key) */
#define KG_KEY_PROFILE_TF32_TENSOR "tf32_tensor" /*   TF32 on tensor cores */
#define KG_KEY_PROFILE_FP16_TENSOR "fp16_tensor" /*   FP16 on tensor cores */
#define KG_KEY_PROFILE_BF16_TENSOR "bf16_tensor" /*   BF16 on tensor cores */

/* The peaks the speed-of-light bounds use (docs/methodology.md). */
#define KG_KEY_PEAKS_SOURCE         "source"         /* where they come from, in words */
#define KG_KEY_PEAKS_MEASURED       "measured"       /* true: probe kernels, not a datasheet */
#define KG_KEY_PEAKS_DRAM_GBS       "dram_gbs"       /* DRAM bandwidth, GB/s */
#define KG_KEY_PEAKS_COMPUTE_TFLOPS "compute_tflops" /* compute peak, TFLOP/s, per dtype: */
#define KG_KEY_PEAKS_F32            "f32"            /*   f32 outputs */
#define KG_KEY_PEAKS_F16            "f16"            /*   f16 outputs */
#define KG_KEY_PEAKS_BF16           "bf16"           /*   bf16 outputs */

/* The run's settings: what `kgrade run --resume` takes back. */
#define KG_KEY_SETTINGS_BASELINE      "baseline"             /* --baseline as given, "a,b" */
#define KG_KEY_SETTINGS_CANDIDATE     "candidate"            /* --candidate, as given */
#define KG_KEY_SETTINGS_SIZE_CLASS    "size_class"           /* "smoke", "small" or "full" */
#define KG_KEY_SETTINGS_WORKLOADS     "workloads"            /* --workload, or "all" */
#define KG_KEY_SETTINGS_SEED          "seed"                 /* --seed as a number, exact to 2^53 */
#define KG_KEY_SETTINGS_SEED_EXACT    "seed_exact"           /* --seed as a decimal string, exact */
#define KG_KEY_SETTINGS_HOT           "hot"                  /* true: no cache flush (--hot) */
#define KG_KEY_SETTINGS_MIN_SAMPLES   "min_samples"          /* samples per set before stopping */
#define KG_KEY_SETTINGS_MAX_SAMPLES   "max_samples"          /* cap on samples per set */
#define KG_KEY_SETTINGS_MIN_TIME_S    "min_time_s"           /* sampling time before stopping */
#define KG_KEY_SETTINGS_MAX_TIME_S    "max_time_s"           /* cap on sampling time per shape */
#define KG_KEY_SETTINGS_TARGET        "target_rel_halfwidth" /* stop at this relative half-width */
#define KG_KEY_SETTINGS_WARMUP_S      "warmup_s"             /* warm-up time per set */
#define KG_KEY_SETTINGS_RESAMPLES     "bootstrap_resamples"  /* bootstrap resamples */
#define KG_KEY_SETTINGS_TIMEOUT_S     "timeout_s"            /* each set's time limit per shape */
#define KG_KEY_SETTINGS_BASELINES_DIR "baselines_dir"        /* the folder of workloads */
#define KG_KEY_SETTINGS_TIMER         "timer"                /* what the samples time, in words */
#define KG_KEY_SETTINGS_RESULTS_FILE  "results_file"         /* the results file as named (--out) */
#define KG_KEY_SETTINGS_FINAL         "final"                /* true: kgrade run --final, held-out shapes and seed */
#define KG_KEY_SETTINGS_EVALUATIONS   "evaluations"          /* how many evaluations the run has (ids 1..this) */
#define KG_KEY_SETTINGS_RUN_ID        "run_id"               /* hash of these settings but the file and --only: the run a shard belongs to */
#define KG_KEY_SETTINGS_ONLY          "only"                 /* --only: the evaluation ids this file grades (a shard) */
#define KG_SETTINGS_ALL_WORKLOADS     "all"                  /* "workloads" without --workload */

/* ---- a shape record ("type": "shape") ----------------------------------- */

#define KG_KEY_SHAPE_WORKLOAD            "workload"             /* the workload's name */
#define KG_KEY_SHAPE_SIZE_CLASS          "size_class"           /* "smoke", "small" or "full" */
#define KG_KEY_SHAPE_SHAPE               "shape"                /* the shape's name */
#define KG_KEY_SHAPE_INDEX               "shape_index"          /* its position in the size class */
#define KG_KEY_SHAPE_EVALUATION          "evaluation"           /* its id in the run (kgrade run --list), 1.. */
#define KG_KEY_SHAPE_OUTPUT_DTYPE        "output_dtype"         /* "f32", "bf16", ... */
#define KG_KEY_SHAPE_TENSORS             "tensors"              /* [KG_KEY_TENSOR_*] */
#define KG_KEY_SHAPE_SYMBOLS             "symbols"              /* {symbol: value} of the shape */
#define KG_KEY_SHAPE_PARAMS              "params"               /* {parameter: value} in force for the shape */
#define KG_KEY_SHAPE_FLOPS               "flops"                /* FLOPs of one run */
#define KG_KEY_SHAPE_BYTES               "bytes"                /* minimum bytes moved by one run */
#define KG_KEY_SHAPE_INPUT_SEED          "input_seed"           /* input set 0's seed (53 bits) */
#define KG_KEY_SHAPE_INPUT_SETS          "input_sets"           /* input sets runs rotate among */
#define KG_KEY_SHAPE_SAMPLE_INPUT_SETS   "sample_input_sets"    /* input set of each timed round */
#define KG_KEY_SHAPE_SECRET              "secret"               /* the evaluation's secret, hex */
#define KG_KEY_SHAPE_FILL_POOL_VALUES    "fill_pool_values"     /* values in the fill pool */
#define KG_KEY_SHAPE_DEGENERATE          "degenerate_reference" /* why zeros or a constant pass */
#define KG_KEY_SHAPE_BASELINE            "baseline"             /* the baseline: KG_KEY_SET_* */
#define KG_KEY_SHAPE_CANDIDATE           "candidate"            /* the candidate: KG_KEY_SET_* */
#define KG_KEY_SHAPE_STOP_REASON         "stop_reason"          /* why timing stopped: KG_STOP_* */
#define KG_KEY_SHAPE_SAMPLING_WALL_S     "sampling_wall_s"      /* timing, without the read-backs */
#define KG_KEY_SHAPE_TIMED_CHECKS_WALL_S "timed_checks_wall_s"  /* read-backs of timed rounds */
#define KG_KEY_SHAPE_CHECKS_WALL_S       "checks_wall_s"        /* checking both sets' outputs */
#define KG_KEY_SHAPE_WORST_HALFWIDTH     "worst_rel_halfwidth"  /* widest relative half-width */
#define KG_KEY_SHAPE_WORKER_WALL_S       "worker_wall_s"        /* the whole evaluation */
#define KG_KEY_SHAPE_SPEED_OF_LIGHT_S    "speed_of_light_s"     /* the shape's roofline time */
#define KG_KEY_SHAPE_SPEEDUP             "speedup"              /* KG_KEY_SPEEDUP_*, if compared */

/* Why timing stopped (the shape's "stop_reason"). */
#define KG_STOP_CONVERGED   "converged"   /* the median's interval reached the target */
#define KG_STOP_MAX_SAMPLES "max_samples" /* the sample cap */
#define KG_STOP_MAX_TIME    "max_time"    /* the sampling time cap */
#define KG_STOP_ERROR       "error"       /* a set failed while being timed */
#define KG_STOP_NOT_TIMED   "not_timed"   /* no set reached timing */

/* One tensor of the shape ("tensors"). */
#define KG_KEY_TENSOR_NAME  "name"  /* as in workload.json */
#define KG_KEY_TENSOR_DTYPE "dtype" /* "f32", "bf16", ... */
#define KG_KEY_TENSOR_ROLE  "role"  /* "input" or "output" */
#define KG_KEY_TENSOR_SHAPE "shape" /* dimensions, outermost first */

/* The speedup of the candidate over the baseline ("speedup"). */
#define KG_KEY_SPEEDUP_VALUE     "value"     /* baseline median / candidate median */
#define KG_KEY_SPEEDUP_LO        "lo"        /* 95% bootstrap interval, lower end */
#define KG_KEY_SPEEDUP_HI        "hi"        /* and upper end */
#define KG_KEY_SPEEDUP_RESAMPLES "resamples" /* bootstrap resamples */

/* One kernel set of a shape record ("baseline", "candidate"). */
#define KG_KEY_SET_NAME              "set"             /* the set: a tier name or a folder */
#define KG_KEY_SET_STATUS            "status"          /* kg_set_status_name() */
#define KG_KEY_SET_ERROR             "error"           /* the first reason, in words */
#define KG_KEY_SET_FLAGS             "flags"           /* kg_flag_name()s, the deciding first */
#define KG_KEY_SET_MANIFEST          "manifest"        /* kernels.json, real path */
#define KG_KEY_SET_MANIFEST_SHA256   "manifest_sha256" /* its SHA-256, hex */
#define KG_KEY_SET_SOURCE            "source"          /* the source file, real path */
#define KG_KEY_SET_LANGUAGE          "language"        /* "portable", "opencl", "cuda", ... */
#define KG_KEY_SET_DESCRIPTION       "description"     /* the manifest entry's description */
#define KG_KEY_SET_SOURCE_SHA256     "source_sha256"   /* SHA-256 of the source as compiled */
#define KG_KEY_SET_SOURCE_FILES      "source_files"    /* every file read: KG_KEY_FILE_* */
#define KG_KEY_SET_DEFINES           "defines"         /* the -D defines, as passed */
#define KG_KEY_SET_OPTIONS           "options"         /* compiler options, as passed */
#define KG_KEY_SET_BUILD_SECONDS     "build_seconds"   /* build time */
#define KG_KEY_SET_BUILD_CACHED      "build_cached"    /* true: the build was reused */
#define KG_KEY_SET_LAUNCHES          "launches"        /* as resolved: KG_KEY_LAUNCH_* */
#define KG_KEY_SET_BUILD_LOG         "build_log"       /* the compiler's log */
#define KG_KEY_SET_SWEEP             "sweep"           /* autotuning: KG_KEY_SWEEP_* */
#define KG_KEY_SET_TRITON            "triton"          /* language triton: KG_KEY_TRITON_* */
#define KG_KEY_SET_LIBRARY           "library"         /* language library: KG_KEY_LIBRARY_* */
#define KG_KEY_SET_CHECK             "check"           /* first check: KG_KEY_CHECK_* */
#define KG_KEY_SET_REPEAT_CHECK      "repeat_check"    /* the repeat run: KG_KEY_CHECK_* */
#define KG_KEY_SET_TIMED_CHECKS      "timed_checks"    /* timed rounds read back: KG_KEY_TIMED_* */
#define KG_KEY_SET_RECHECKS          "rechecks"        /* after timing: KG_KEY_RECHECK_* */
#define KG_KEY_SET_INTEGRITY         "integrity"       /* evidence: KG_KEY_INTEGRITY_* */
#define KG_KEY_SET_WARMUP_RUNS       "warmup_runs"     /* untimed runs before sampling */
#define KG_KEY_SET_THROTTLED_SAMPLES "throttled_samples" /* samples taken while throttled */
#define KG_KEY_SET_SAMPLES_S         "samples_s"         /* every sample, device timer, seconds */
#define KG_KEY_SET_HOST_SAMPLES_S    "host_samples_s"    /* the same runs, host clock, seconds */
#define KG_KEY_SET_SM_CLOCK_MHZ      "sm_clock_mhz"      /* per sample, MHz (where readable) */
#define KG_KEY_SET_THROTTLED         "throttled"         /* per sample, true when throttled */
#define KG_KEY_SET_WORKER            "worker"            /* its worker process: KG_KEY_WORKER_* */

/* One file a set's build read ("source_files"), the main source first. */
#define KG_KEY_FILE_PATH   "path"   /* real path */
#define KG_KEY_FILE_SHA256 "sha256" /* SHA-256 of the file as read, hex */
#define KG_KEY_FILE_BYTES  "bytes"  /* its size, bytes */

/* ---- a Triton build (a set's "triton"; the helper's reply, docs/triton.md) */

#define KG_KEY_TRITON_VERSION   "triton_version" /* Triton that compiled it */
#define KG_KEY_TRITON_TARGET    "target"         /* "cuda:90", "hip:gfx942" */
#define KG_KEY_TRITON_CACHE     "cache_key"      /* the helper's content address */
#define KG_KEY_TRITON_UPSTREAM  "upstream"       /* a tier's package file: KG_KEY_UPSTREAM_* */
#define KG_KEY_UPSTREAM_PACKAGE "package"        /* "sglang" */
#define KG_KEY_UPSTREAM_VERSION "version"        /* "0.5.12" */
#define KG_KEY_UPSTREAM_PATH    "path"           /* the file's path in the wheel */
#define KG_KEY_UPSTREAM_SHA256  "sha256"         /* of the file as compiled */

/* What a library tier called ("library"): the library as loaded and the
 * call as resolved for the shape. */
#define KG_KEY_LIBRARY_NAME     "name"     /* "CLBlast", "cuBLAS" */
#define KG_KEY_LIBRARY_VERSION  "version"  /* "1.5.3"; "" when unknown */
#define KG_KEY_LIBRARY_PATH     "path"     /* the shared object, real path */
#define KG_KEY_LIBRARY_SHA256   "sha256"   /* of that file */
#define KG_KEY_LIBRARY_BYTES    "bytes"    /* its size */
#define KG_KEY_LIBRARY_OP       "op"       /* "gemm" */
#define KG_KEY_LIBRARY_DTYPE    "dtype"    /* "f32", "f16", "bf16" */
#define KG_KEY_LIBRARY_B_LAYOUT "b_layout" /* "kn" or "nk" */
#define KG_KEY_LIBRARY_M        "m"        /* the GEMM's sizes for the shape */
#define KG_KEY_LIBRARY_N        "n"
#define KG_KEY_LIBRARY_K        "k"

/* One launch as resolved for the shape ("launches"): enough to replay it. */
#define KG_KEY_LAUNCH_ENTRY         "entry"               /* kernel function */
#define KG_KEY_LAUNCH_GRID          "grid"                /* groups per dimension, 3 */
#define KG_KEY_LAUNCH_BLOCK         "block"               /* work-items per group, 3 */
#define KG_KEY_LAUNCH_DYNAMIC_LOCAL "dynamic_local_bytes" /* dynamic local memory, bytes */
#define KG_KEY_LAUNCH_ARGS          "args"                /* one object per argument: */
#define KG_KEY_ARG_TENSOR           "tensor"              /*   a tensor, by name */
#define KG_KEY_ARG_SCRATCH          "scratch"             /*   a scratch buffer, by name, */
#define KG_KEY_ARG_BYTES            "bytes"               /*   and its size, bytes */
#define KG_KEY_ARG_PARAM            "param"               /*   a workload parameter, by name, */
#define KG_KEY_ARG_F32              "f32"                 /*   and its value as passed */
#define KG_KEY_ARG_I32              "i32"                 /*   a 32-bit integer value */
#define KG_KEY_ARG_I64              "i64"                 /*   a 64-bit integer value */

/* An autotuning sweep ("sweep"). */
#define KG_KEY_SWEEP_SAMPLES_PER_CONFIG "samples_per_config" /* timed runs of each */
#define KG_KEY_SWEEP_HOT                "hot"                /* the run's cache setting */
#define KG_KEY_SWEEP_TRIED              "tried"              /* every configuration: */
#define KG_KEY_TRIED_CONFIG             "config"             /*   "BLOCK_M=64 BLOCK_N=32" */
#define KG_KEY_TRIED_MEDIAN_S           "median_s"           /*   its median, or */
#define KG_KEY_TRIED_STATUS             "status"             /*   KG_TRIED_* when it failed, */
#define KG_KEY_TRIED_ERROR              "error"              /*   and why */
#define KG_KEY_SWEEP_CHOSEN             "chosen"             /* the fastest config, or null */
#define KG_TRIED_BUILD_FAILED           "build_failed"       /* the configuration did not build */
#define KG_TRIED_FAILED                 "failed"             /* it did not run */

/* A check of a set's output against the reference ("check",
 * "repeat_check"); timed checks and rechecks use some of the same keys. */
#define KG_KEY_CHECK_PASSED      "passed"      /* true when every checked element passed */
#define KG_KEY_CHECK_CHECKED     "checked"     /* elements compared */
#define KG_KEY_CHECK_MISMATCHES  "mismatches"  /* elements beyond the tolerance */
#define KG_KEY_CHECK_UNWRITTEN   "unwritten"   /* elements still holding their fill */
#define KG_KEY_CHECK_SAMPLED     "sampled"     /* true: a sample of units was checked */
#define KG_KEY_CHECK_MAX_ABS_ERR "max_abs_err" /* largest |got - want| */
#define KG_KEY_CHECK_MAX_REL_ERR "max_rel_err" /* largest relative error; -1 if not finite */
#define KG_KEY_CHECK_MESSAGE     "message"     /* why it failed (only when it did) */

/* A timed round read back ("timed_checks"), with passed, checked and
 * mismatches as in a check. */
#define KG_KEY_TIMED_ROUND     "round"     /* the timed round's number */
#define KG_KEY_TIMED_INPUT_SET "input_set" /* the input set it ran on */

/* A recheck after timing ("rechecks"), with passed, checked, mismatches,
 * max_abs_err, max_rel_err and message as in a check. */
#define KG_KEY_RECHECK_KIND "kind" /* KG_RECHECK_* */
#define KG_KEY_RECHECK_CASE "case" /* the stress case's name (kind "stress") */

/* The kinds of recheck (also the worker's `inputs` command's KIND). */
#define KG_RECHECK_NUDGE  "nudge"  /* a few elements changed, index tensors included */
#define KG_RECHECK_FRESH  "fresh"  /* every input drawn again, another layout */
#define KG_RECHECK_HEAVY  "heavy"  /* heavy-tailed inputs */
#define KG_RECHECK_STRESS "stress" /* one of the workload's stress inputs */

/* The raw evidence of the integrity checks ("integrity"). */
#define KG_KEY_INTEGRITY_GUARD_ZONES       "guard_zones"                 /* true: guarded buffers */
#define KG_KEY_INTEGRITY_GUARD_BYTES       "guard_bytes_overwritten"     /* guard bytes changed */
#define KG_KEY_INTEGRITY_FIRST_OVERWRITTEN "first_overwritten"           /* where, first */
#define KG_KEY_INTEGRITY_INPUTS_MODIFIED   "inputs_modified"             /* input bytes changed */
#define KG_KEY_INTEGRITY_FIRST_MODIFIED    "first_modified"              /* which input, first */
#define KG_KEY_INTEGRITY_REPEAT            "repeat"                      /* KG_KEY_REPEAT_* */
#define KG_KEY_INTEGRITY_VERIFIED_AFTER    "verified_after_timing"       /* checked after timing */
#define KG_KEY_INTEGRITY_CHECKS_WALL_S     "checks_wall_s"               /* checking its outputs */
#define KG_KEY_INTEGRITY_SCRUBBED          "local_memory_scrubbed"       /* true: scrubbed */
#define KG_KEY_INTEGRITY_SCRUBBED_BYTES    "local_memory_scrubbed_bytes" /* how much, bytes */

/* The repeat run against the first ("integrity"."repeat"). */
#define KG_KEY_REPEAT_DISAGREEING         "disagreeing"         /* elements the runs disagree on */
#define KG_KEY_REPEAT_FIRST_INDEX         "first_index"         /* the first of them */
#define KG_KEY_REPEAT_NEVER_WRITTEN       "never_written"       /* elements neither run wrote */
#define KG_KEY_REPEAT_NEVER_WRITTEN_FIRST "never_written_first" /* the first of them */

/* The set's worker process ("worker"). */
#define KG_KEY_WORKER_BUSY_S      "busy_s"      /* time waited on it: its share of --timeout */
#define KG_KEY_WORKER_WALL_S      "wall_s"      /* its life */
#define KG_KEY_WORKER_SIGNAL      "signal"      /* the signal it died of, or */
#define KG_KEY_WORKER_SIGNAL_NAME "signal_name" /*   that signal's description */
#define KG_KEY_WORKER_EXIT_STATUS "exit_status" /* its exit status */
#define KG_KEY_WORKER_STEP        "step"        /* when lost: what it was doing */
#define KG_KEY_WORKER_OUTPUT_TAIL "output_tail" /* when lost: the end of its output */

/* ---- a skipped workload ("type": "skipped") ------------------------------ */

#define KG_KEY_SKIPPED_WORKLOAD "workload" /* the workload not graded */
#define KG_KEY_SKIPPED_BASELINE "baseline" /* the baseline set it was to be graded against */
#define KG_KEY_SKIPPED_ROLE     "role"     /* "baseline" or "candidate": the set lacking it; "workload": no shapes of the class */
#define KG_KEY_SKIPPED_SET      "set"      /* that set */
#define KG_KEY_SKIPPED_REASON   "reason"   /* why, in words */
#define KG_KEY_SKIPPED_EVALUATIONS "evaluations" /* [first, last]: the ids of the workload's evaluations it stands for */

/* ---- a resumed run ("type": "resumed") ------------------------------------ */

#define KG_KEY_RESUMED_AT     "at"     /* UTC time of the resume, ISO 8601 */
#define KG_KEY_RESUMED_KGRADE "kgrade" /* the resuming kgrade's fingerprint (KG_KEY_KGRADE_*) */

/* ---- the summary ("type": "summary") -------------------------------------- */

#define KG_KEY_SUMMARY_GEOMEAN_OVER "geomean_over"        /* what the geomeans are over, in words */
#define KG_KEY_SUMMARY_RESAMPLES    "resamples"           /* bootstrap resamples */
#define KG_KEY_SUMMARY_WORKLOADS    "workloads"           /* one group per workload and baseline */
#define KG_KEY_SUMMARY_OVERALL      "overall"             /* the first baseline's overall group */
#define KG_KEY_SUMMARY_BY_BASELINE  "overall_by_baseline" /* one overall group per baseline */

/* A group of shapes: a workload against a baseline, or every workload. */
#define KG_KEY_GROUP_WORKLOAD         "workload"         /* absent in an overall group */
#define KG_KEY_GROUP_BASELINE         "baseline"         /* the baseline set */
#define KG_KEY_GROUP_SHAPES           "shapes"           /* shape records in the group */
#define KG_KEY_GROUP_CANDIDATE_PASSED "candidate_passed" /* shapes the candidate passed */
#define KG_KEY_GROUP_COMPARED         "compared"         /* shapes both sets passed */
#define KG_KEY_GROUP_CANDIDATE_FAILED "candidate_failed" /* the candidate failed or was missing */
#define KG_KEY_GROUP_POLICIES         "policies"         /* {KG_POLICY_*: geomean, lo, hi} */
#define KG_KEY_GROUP_FAST_P           "fast_p"           /* {KG_KEY_FAST_P_*: share of shapes} */
#define KG_KEY_GROUP_POLICY           "policy"           /* the policy of the headline numbers */
#define KG_KEY_GROUP_GEOMEAN          "geomean"          /* geometric-mean speedup */
#define KG_KEY_GROUP_LO               "lo"               /* its 95% interval, lower end */
#define KG_KEY_GROUP_HI               "hi"               /* and upper end */
#define KG_KEY_GROUP_INTERVAL         "interval"         /* which: "measurement" (shapes fixed); absent in files before it: shape sampling */
#define KG_KEY_GROUP_SHAPE_LO         "shape_sampling_lo" /* the shape-sampling interval (shapes resampled too), lower end */
#define KG_KEY_GROUP_SHAPE_HI         "shape_sampling_hi" /* and upper end */

/* How a failed candidate enters the geometric mean: keys of "policies"
 * (each holding geomean, lo, hi) and values of "policy". */
#define KG_POLICY_FAILURES_AS_1X    "failures_as_1x"    /* as 1x: the default */
#define KG_POLICY_FAILURES_EXCLUDED "failures_excluded" /* left out (KernelBench's geomean) */
#define KG_POLICY_FAILURES_AS_0     "failures_as_0"     /* as 0: any failure zeroes the mean */

/* fast_p: the share of the shapes the baseline passed on which the
 * candidate is correct and more than p times faster. */
#define KG_KEY_FAST_P_0   "0"
#define KG_KEY_FAST_P_1   "1"
#define KG_KEY_FAST_P_1_5 "1.5"
#define KG_KEY_FAST_P_2   "2"

/* ---- statuses and flags -------------------------------------------------- */

/* A kernel set's status in a shape record (docs/formats.md, docs/integrity.md). */
typedef enum kg_set_status {
    KG_SET_STATUS_UNKNOWN = 0,      /* no status, or one this kgrade does not know */
    KG_SET_STATUS_OK,               /* "ok": passed every check; its samples count */
    KG_SET_STATUS_BUILD_FAILED,     /* "build_failed": compiler or source rules refused it */
    KG_SET_STATUS_SETUP_FAILED,     /* "setup_failed": could not be prepared */
    KG_SET_STATUS_REFUSED,          /* "refused": the shape does not fit this machine */
    KG_SET_STATUS_LAUNCH_FAILED,    /* "launch_failed" */
    KG_SET_STATUS_CHECK_FAILED,     /* "check_failed": a wrong answer */
    KG_SET_STATUS_INTEGRITY_FAILED, /* "integrity_failed": broke a rule */
    KG_SET_STATUS_RECHECK_FAILED,   /* "recheck_failed": wrong on later inputs */
    KG_SET_STATUS_TIMING_FAILED,    /* "timing_failed" */
    KG_SET_STATUS_CRASHED,          /* "crashed": its worker died */
    KG_SET_STATUS_TIMEOUT,          /* "timeout": its worker ran out of time */
    KG_SET_STATUS_MISSING,          /* "missing": no kernel for a workload --workload named */
    KG_SET_STATUS_NOT_RUN,          /* "not_run": the baseline, when the candidate is missing */
    KG_SET_STATUS_COUNT
} kg_set_status;

/* "ok", "build_failed", ...; NULL for KG_SET_STATUS_UNKNOWN and out-of-range values. */
const char *kg_set_status_name(kg_set_status status);
/* The status named `name`; KG_SET_STATUS_UNKNOWN for NULL or an unknown name. */
kg_set_status kg_set_status_parse(const char *name);
/* The status of a set object (its "status"); KG_SET_STATUS_UNKNOWN when it
 * has none, so that only a set that says "ok" is ever taken as ok. */
kg_set_status kg_set_status_of(const cJSON *set);

/* An integrity finding in a set's "flags" (docs/integrity.md). */
typedef enum kg_flag {
    KG_FLAG_UNKNOWN = 0,          /* no flag, or a name this kgrade does not know */
    KG_FLAG_CRASHED,              /* "crashed" */
    KG_FLAG_TIMEOUT,              /* "timeout" */
    KG_FLAG_SOURCE_REFUSED,       /* "source_refused": an include or asm kgrade refuses */
    KG_FLAG_EXCESSIVE_REQUEST,    /* "excessive_request": the set's own request did not fit */
    KG_FLAG_OUT_OF_BOUNDS_WRITE,  /* "out_of_bounds_write": guard bytes overwritten */
    KG_FLAG_INPUT_MODIFIED,       /* "input_modified" */
    KG_FLAG_NONDETERMINISTIC,     /* "nondeterministic": two runs disagree */
    KG_FLAG_UNWRITTEN_OUTPUT,     /* "unwritten_output" */
    KG_FLAG_WRONG_OUTPUT,         /* "wrong_output" */
    KG_FLAG_TIMED_RUN_WRONG,      /* "timed_run_wrong" */
    KG_FLAG_NUDGED_INPUTS_FAILED, /* "nudged_inputs_failed" */
    KG_FLAG_FRESH_INPUTS_FAILED,  /* "fresh_inputs_failed" */
    KG_FLAG_HEAVY_TAILED_FAILED,  /* "heavy_tailed_failed" */
    KG_FLAG_STRESS_FAILED,        /* "stress_failed" */
    KG_FLAG_FASTER_THAN_LIGHT,    /* "faster_than_light" */
    KG_FLAG_MISSING_KERNEL,       /* "missing_kernel" */
    KG_FLAG_UNSUPPORTED_SHAPE,    /* "unsupported_shape" */
    KG_FLAG_COUNT
} kg_flag;

/* "crashed", "wrong_output", ...; NULL for KG_FLAG_UNKNOWN and out-of-range values. */
const char *kg_flag_name(kg_flag flag);
/* The flag named `name`; KG_FLAG_UNKNOWN for NULL or an unknown name. */
kg_flag kg_flag_parse(const char *name);

/* ---- between `kgrade run` and its workers (not in the results file) ------ */

/* The job line a worker starts from. */
#define KG_KEY_JOB_BASELINES_DIR "baselines_dir" /* the folder of workloads */
#define KG_KEY_JOB_WORKLOAD      "workload"      /* the workload's name */
#define KG_KEY_JOB_SIZE_CLASS    "size_class"    /* "smoke", "small" or "full" */
#define KG_KEY_JOB_SHAPE_INDEX   "shape_index"   /* the shape's position in the size class */
#define KG_KEY_JOB_BACKEND       "backend"       /* the device's backend */
#define KG_KEY_JOB_DEVICE_INDEX  "device_index"  /* the device's index in it */
#define KG_KEY_JOB_SET           "set"           /* the kernel set */
#define KG_KEY_JOB_ROLE          "role"          /* "baseline" or "candidate" */
#define KG_KEY_JOB_INPUT_SEEDS   "input_seeds"   /* seed of each input set, hex strings */
#define KG_KEY_JOB_FILL_POOL     "fill_pool"     /* output fill values, raw bits */
#define KG_KEY_JOB_SETTINGS      "settings"      /* the run header's settings */

/* A worker's `ready` or `failed` answer: the set keys above (status,
 * error, manifest, sources, build, launches, sweep) and these. */
#define KG_KEY_INFO_FLAG           "flag"                        /* a flag the preparation raised */
#define KG_KEY_INFO_INPUT_SETS     "input_sets"                  /* input sets it holds */
#define KG_KEY_INFO_SCRUBBED_BYTES "local_memory_scrubbed_bytes" /* local memory it scrubs */

/* A worker's `verified` answer. */
#define KG_KEY_VERIFIED_GUARDED         "guarded"         /* true: buffers are guarded */
#define KG_KEY_VERIFIED_GUARD_BYTES     "guard_bytes"     /* guard bytes overwritten */
#define KG_KEY_VERIFIED_FIRST_DAMAGED   "first_damaged"   /* where, first */
#define KG_KEY_VERIFIED_INPUTS_MODIFIED "inputs_modified" /* input bytes changed */
#define KG_KEY_VERIFIED_FIRST_MODIFIED  "first_modified"  /* which input, first */

#endif
