/*
 * One driver for the runtime compilers, NVRTC and hiprtc: checks the
 * request, builds the option list (the request's defines and allowlisted
 * options, then the vendor's own for the target), prepends the portable
 * prelude, compiles, and returns the image and the log. Each compiler is a
 * small table of its calls (nvrtc_compile.c, hiprtc_compile.c).
 */
#ifndef KG_RTC_COMPILE_H
#define KG_RTC_COMPILE_H

#include "build_text.h"
#include "device.h"

enum { KG_RTC_SCRATCH = 4 };

typedef struct kg_rtc_vendor {
    const char *compiler; /* "NVRTC": in messages */
    /* OPTIONAL: the compiler's version and library, once loaded ("NVRTC
     * 13.0 (libnvrtc.so.13)"): part of the build cache's key (rtc_cache.h). */
    const char *(*describe)(void);
    kg_language native;   /* the language it takes besides portable */
    const char *prelude;  /* the portable dialect's prelude */
    /* What a native source gets in front: NULL passes it through as it
     * is; "" adds only the #line naming the file (hiprtc's own diagnostics
     * name a temporary file). */
    const char *native_prelude;

    /* KG_OK once the library is loaded (first call loads it), else
     * KG_ERR_UNAVAILABLE with what is missing. */
    int (*load)(kg_error *err);
    /* OPTIONAL: refuse a target before compiling (KG_ERR_UNSUPPORTED). */
    int (*check_target)(const char *name, const char *arch, kg_error *err);
    /* Adds the compiler's own options for `arch`; strings it makes go in
     * `scratch`. */
    void (*add_options)(kg_build_options *o, const char *arch, char (*scratch)[96]);

    /* The compiler's calls: 0 is success, else its code. */
    const char *(*error_string)(int rc);
    int (*create)(void **prog, const char *source, const char *name);
    int (*compile)(void *prog, int count, const char *const *options);
    int (*log_size)(void *prog, size_t *size);
    int (*log)(void *prog, char *out);
    int (*code_size)(void *prog, size_t *size);
    int (*code)(void *prog, void *out);
    void (*destroy)(void *prog);
} kg_rtc_vendor;

/* Compiles a `portable` (prelude prepended) or native build request for
 * `arch`. On success *image (malloc'd, *image_size bytes) is the code
 * object. *log (malloc'd, possibly "") receives the compiler's log on
 * success and failure alike; the caller frees both. Errors:
 * KG_ERR_UNAVAILABLE when the compiler cannot be loaded, KG_ERR_BUILD with
 * the log's first error in the message, KG_ERR_UNSUPPORTED for another
 * language or a refused target, KG_ERR_INVALID for an unsafe define.
 * With KGRADE_BUILD_CACHE set, a build already made is read back from
 * there instead (rtc_cache.h). */
int kg_rtc_compile(const kg_rtc_vendor *v, const kg_build_request *req, const char *arch,
                   void **image, size_t *image_size, char **log, kg_error *err);

#endif
