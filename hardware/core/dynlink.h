/*
 * Run-time loading of vendor libraries (FFmpeg's dynlink_loader shape): a
 * backend declares a struct of function pointers and a table saying which
 * exported symbol fills which member; kg_dynlink_load opens the first
 * library name that loads and fills the struct, or says what is missing.
 * Used by the CUDA (libcuda, NVRTC, NVML) and HIP (libamdhip64, hiprtc,
 * comgr) backends, so that one kgrade binary starts on a machine with any
 * subset of drivers.
 */
#ifndef KG_DYNLINK_H
#define KG_DYNLINK_H

#include "device.h"

#include <stddef.h>

/* One member of a function table: the exact symbol looked up (versioned
 * where the API versions it), an optional older name, and the member. */
typedef struct kg_dynlink_symbol {
    const char *symbol;
    const char *fallback;
    size_t offset;
} kg_dynlink_symbol;

/* Declares a member with the type of the API function it points to. */
#define KG_DYNLINK_MEMBER(member, symbol, fallback) __typeof__(member) *member;

/* Opens the first of `names` that loads and resolves every entry into
 * `table` (table_size bytes; *handle is set). Returns 1 when no name
 * loaded (the caller says what was missing), KG_ERR_UNAVAILABLE naming the
 * library and the first missing symbol, or KG_OK with *loaded the name that
 * loaded. On any failure the table is zeroed and nothing stays open. */
int kg_dynlink_load(const char *const *names, size_t count, const kg_dynlink_symbol *entries,
                    size_t n, void *table, size_t table_size, void **handle, const char **loaded,
                    kg_error *err);

/* dlclose and zero; safe on a zeroed struct. */
void kg_dynlink_unload(void **handle, void *table_struct, size_t struct_size);

#endif
