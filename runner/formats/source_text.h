/*
 * A kernel source as the compiler will read it. Kernel sets are written by
 * the party being graded, so what kgrade hashes and records must be
 * everything the compiler reads from the set, and nothing outside the set's
 * folder may enter the build:
 *
 * - `#include "file"` naming a file inside the set's folder is inlined by
 *   kgrade (with #line markers, so diagnostics still name the file), and the
 *   recorded hash covers the expanded text;
 * - any other include is refused: an absolute path, a '..' component or a
 *   symlink leaving the folder, a computed include (`#include MACRO`),
 *   `#include_next`, `#import`, `#embed`, and `<header>` includes except
 *   the toolchain's own headers for CUDA and HIP (cuda_fp16.h, hip/...);
 * - inline assembly is refused in portable and OpenCL sources: on a CPU
 *   device it is host assembly, which can read files (.incbin).
 *
 * Directives are recognised after line splices and comments, including
 * the digraph `%:`, so spelling tricks do not hide an include.
 */
#ifndef KG_SOURCE_TEXT_H
#define KG_SOURCE_TEXT_H

#include "device.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct kg_source_text {
    char *text;      /* the expanded source (malloc'd; bytes for binary languages) */
    size_t size;     /* of text, without the terminating NUL */
    char sha256[65]; /* of text: what the results record as source_sha256 */
    cJSON *files;    /* [{"path", "sha256", "bytes"}] of every file read, main first */
    int refused;     /* 1 when the source broke one of the rules above */
} kg_source_text;

/* Reads `path` (a file inside `set_dir`, as the manifest parser resolved
 * it) and expands it for `language`. On success fills *out; free with
 * kg_source_text_free. A source that breaks a rule fails with
 * KG_ERR_BUILD, out->refused set, and a message naming the file and line
 * ("kernel.cl:3: #include \"../x.h\" leaves the kernel set's folder ...");
 * an unreadable file with KG_ERR_INVALID. */
int kg_source_text_load(const char *path, const char *set_dir, kg_language language,
                        kg_source_text *out, kg_error *err);

/* Frees what kg_source_text_load filled; a zeroed struct is allowed. */
void kg_source_text_free(kg_source_text *s);

#endif
