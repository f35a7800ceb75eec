/*
 * Reading JSON manifests with errors a user can act on: a syntax error names
 * the file, line and column; a wrong field names the file and the JSON path
 * to it ("tiers.naive.launches[0].grid") and what was expected.
 */
#ifndef KG_JSON_FILE_H
#define KG_JSON_FILE_H

#include "error.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Reads and parses `path`. On success *root is a new cJSON tree the caller
 * frees with cJSON_Delete. On failure returns KG_ERR_INVALID with e.g.
 * "kernels/x/kernels.json:4:17: invalid JSON in line '  \"grid\": [1, }'" or
 * "kernels/x/kernels.json: cannot open: No such file or directory". */
int kg_json_load(const char *path, cJSON **root, kg_error *err);

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * *size gets the length without the NUL; size may be NULL. */
int kg_read_file(const char *path, char **data, size_t *size, kg_error *err);

/* Writes `size` bytes to `path` whole or not at all: into a new file
 * beside it, synced, then renamed over it, so a reader or a crash never
 * sees half of it. KG_OK, or an error naming the file. */
int kg_write_file_atomic(const char *path, const void *data, size_t size, kg_error *err);

/* Where a field lives, for error messages: the file and a JSON path that
 * the readers below extend as they descend. Plain value type. */
typedef struct kg_json_where {
    const char *file;
    char path[256];
} kg_json_where;

/* A child location: "<parent>.<key>" or "<parent>[<index>]". */
kg_json_where kg_json_at_key(const kg_json_where *parent, const char *key);
kg_json_where kg_json_at_index(const kg_json_where *parent, size_t index);

/* Field readers. `required` = 0 makes a missing field succeed with *out
 * untouched (the caller's default). A present field of the wrong type is
 * always an error: "FILE: PATH.KEY: expected a string". Returned pointers
 * point into the cJSON tree (owned by it). */
int kg_json_string(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   const char **out, kg_error *err);
int kg_json_number(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   double *out, kg_error *err);
int kg_json_object(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                   const cJSON **out, kg_error *err);
int kg_json_array(const kg_json_where *w, const cJSON *obj, const char *key, int required,
                  const cJSON **out, kg_error *err);

/* Formats an error at a location: "FILE: PATH: message". Returns KG_ERR_INVALID. */
int kg_json_fail(const kg_json_where *w, kg_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Rejects keys of `obj` not in the NULL-ended `allowed` list, so a typo
 * ("lauches") is an error instead of a silently ignored field. */
int kg_json_only_keys(const kg_json_where *w, const cJSON *obj, const char *const *allowed,
                      kg_error *err);

/* A JSON array of the n values, each written with 17 significant digits so
 * that reading the file gives back exactly the doubles that were measured
 * (cJSON's own printing can drop the last bit). The caller owns it. */
cJSON *kg_json_exact_array(const double *values, size_t n);

/* Turns every finite number in `tree` into raw text that reads back as
 * exactly the same double (the shortest such, up to 17 digits), so that a
 * record read from a file and written again keeps every bit of every
 * sample. Afterwards the numbers are no longer cJSON numbers: call it on a
 * copy made for printing. */
void kg_json_make_numbers_exact(cJSON *tree);

/* Readers of records written by kgrade itself: member `key` of `o` as a
 * string (else `fallback`), as a number (else NAN). `o` may be NULL. */
const char *kg_json_str(const cJSON *o, const char *key, const char *fallback);
double kg_json_num(const cJSON *o, const char *key);

#endif
