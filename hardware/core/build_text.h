/*
 * Assembling what a backend hands to its compiler: the portable-dialect
 * source (prelude, then a #line directive so that
 * compiler messages point into the user's file), and the check that a
 * define cannot smuggle in other compiler options. Shared by every backend
 * that compiles source.
 */
#ifndef KG_BUILD_TEXT_H
#define KG_BUILD_TEXT_H

#include "device.h"
#include "str.h"

#include <stddef.h>

/* prelude + `#line 1 "name"` + source (source_size bytes, or up to its NUL
 * when 0). For the portable dialect; `prelude` is NULL for native sources,
 * which are passed through unchanged. */
void kg_text_source(kg_text *t, const char *prelude, const char *name, const char *source,
                    size_t source_size);

/* 1 when `define` is NAME or NAME=VALUE without whitespace, quotes or
 * backslashes: compilers split options on whitespace and disagree about
 * quoting, so anything else could turn into other options. */
int kg_define_is_safe(const char *define);

/* The option list of a runtime compiler (NVRTC, hiprtc): "-D" + each of the
 * request's defines (checked with kg_define_is_safe), then its options
 * (already allowlisted by the runner) split at spaces. `list` points into
 * the struct itself; a backend adds its own options with kg_build_options_add. */
enum { KG_BUILD_MAX_DEFINES = 64, KG_BUILD_MAX_EXTRA = 16, KG_BUILD_MAX_OWN = 8 };
typedef struct kg_build_options {
    const char *list[KG_BUILD_MAX_OWN + KG_BUILD_MAX_DEFINES + KG_BUILD_MAX_EXTRA];
    int count;
    int has_std; /* the request's options name a language standard (-std=) */
    char defines[KG_BUILD_MAX_DEFINES][160];
    char extra[1024];
} kg_build_options;

/* Fills `o` from the request (its name is for messages). KG_OK, or
 * KG_ERR_INVALID when there are too many defines or options, a define is
 * unsafe, or the options are too long. */
int kg_build_options_make(kg_build_options *o, const kg_build_request *req, kg_error *err);
/* Adds one of the backend's own options (a string that outlives `o`);
 * at most KG_BUILD_MAX_OWN. */
void kg_build_options_add(kg_build_options *o, const char *option);

/* `first` (may be NULL) and then every option of `o`, separated by spaces,
 * as one malloc'd string for compilers that take a single option string
 * (OpenCL); NULL when out of memory. */
char *kg_build_options_join(const kg_build_options *o, const char *first);

/* Copies into `out` the line of a compiler log most worth quoting in an
 * error message: the first line mentioning "error", else the first
 * non-empty line; "" for a NULL or empty log. */
void kg_log_headline(const char *log, char *out, size_t size);

#endif
