/* dlopen/dlsym into function tables, for every backend that loads a vendor
 * library at run time. */
#include "dynlink.h"

#include <dlfcn.h>
#include <string.h>

void kg_dynlink_unload(void **handle, void *table_struct, size_t struct_size)
{
    if (*handle)
        dlclose(*handle);
    memset(table_struct, 0, struct_size);
}

/* Resolves every entry into `base`; on a missing symbol names it and the
 * library, and leaves the caller to unload. */
static int resolve(void *handle, const char *library, const kg_dynlink_symbol *entries,
                   size_t count, void *base, kg_error *err)
{
    for (size_t i = 0; i < count; i++) {
        void *fn = dlsym(handle, entries[i].symbol);
        if (!fn && entries[i].fallback)
            fn = dlsym(handle, entries[i].fallback);
        if (!fn)
            return kg_error_set(err, KG_ERR_UNAVAILABLE,
                                "%s lacks %s: the library is older than this kgrade needs", library,
                                entries[i].symbol);
        /* POSIX guarantees a dlsym result converts to a function pointer;
         * memcpy keeps the conversion free of aliasing warnings. */
        memcpy((char *)base + entries[i].offset, &fn, sizeof fn);
    }
    return KG_OK;
}

int kg_dynlink_load(const char *const *names, size_t count, const kg_dynlink_symbol *entries,
                    size_t n, void *table, size_t table_size, void **handle, const char **loaded,
                    kg_error *err)
{
    memset(table, 0, table_size);
    *handle = NULL;
    for (size_t i = 0; i < count && !*handle; i++) {
        *handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (*handle)
            *loaded = names[i];
    }
    if (!*handle)
        return 1;
    const char *slash = strrchr(*loaded, '/');
    int rc = resolve(*handle, slash ? slash + 1 : *loaded, entries, n, table, err);
    if (rc)
        kg_dynlink_unload(handle, table, table_size);
    return rc;
}
