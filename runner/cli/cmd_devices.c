/* `kgrade devices`: every device of every compiled-in backend. */
#include "commands.h"
#include "device_select.h"
#include "fingerprint.h"
#include "python_env.h"
#include "triton_build.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

typedef struct devices_options {
    int json;
} devices_options;

static const kg_option devices_options_table[] = {
    {"json", KG_OPT_FLAG, offsetof(devices_options, json), NULL,
     "print one JSON object (devices and backends that could not start)"},
};

static void print_bytes(char *buf, size_t size, unsigned long long b)
{
    if (b >= (1ull << 30))
        snprintf(buf, size, "%.1f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(buf, size, "%.1f MiB", (double)b / (1ull << 20));
    else
        snprintf(buf, size, "%.0f KiB", (double)b / 1024);
}

/* The BLAS library a device's `library` tiers call (f32 GEMM), or why
 * there is none: into *lib, or the reason into `why`. KG_OK when found. */
static int device_library(const kg_device_info *d, kg_blas_library *lib, char *why, size_t size)
{
    kg_error err = {0};
    int rc = kg_backend_blas(kg_backend_find(d->backend), KG_BLAS_F32, lib, &err);
    snprintf(why, size, "%s", rc == KG_OK ? "" : err.message);
    return rc;
}

static void print_json(const kg_device_list *list)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *devices = cJSON_AddArrayToObject(root, "devices");
    for (size_t i = 0; i < list->count; i++) {
        cJSON *d = kg_fingerprint_device(&list->items[i].info);
        kg_blas_library lib;
        char why[1100];
        cJSON *o = cJSON_AddObjectToObject(d, "library");
        if (device_library(&list->items[i].info, &lib, why, sizeof why) == KG_OK) {
            cJSON_AddStringToObject(o, "name", lib.name);
            cJSON_AddStringToObject(o, "version", lib.version);
            cJSON_AddStringToObject(o, "path", lib.path);
        } else {
            cJSON_AddStringToObject(o, "reason", why);
        }
        cJSON_AddItemToArray(devices, d);
    }
    cJSON *missing = cJSON_AddArrayToObject(root, "unavailable_backends");
    for (size_t i = 0; i < list->failure_count; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "backend", kg_backend_name(list->failures[i].backend));
        cJSON_AddStringToObject(f, "reason", list->failures[i].error.message);
        cJSON_AddItemToArray(missing, f);
    }
    cJSON_AddStringToObject(root, "backends_compiled", kg_backends_compiled());
    char why[1100] = "";
    const char *version = kg_triton_version(why, sizeof why);
    cJSON *triton = cJSON_AddObjectToObject(root, "triton");
    cJSON_AddStringToObject(triton, "python", kg_python_path());
    if (version)
        cJSON_AddStringToObject(triton, "version", version);
    else
        cJSON_AddStringToObject(triton, "reason", why);
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
}

static void print_table(const kg_device_list *list)
{
    printf("backends compiled: %s\n", kg_backends_compiled()[0] ? kg_backends_compiled() : "none");
    for (size_t i = 0; i < list->failure_count; i++)
        printf("%s: %s\n", kg_backend_name(list->failures[i].backend),
               list->failures[i].error.message);
    /* Which Triton compiles Triton kernel sets (for CUDA and HIP devices). */
    char why[1100] = "";
    const char *version = kg_triton_version(why, sizeof why);
    if (version)
        printf("triton: %s, with %s (kernels for CUDA and HIP devices)\n", version,
               kg_python_path());
    else
        printf("triton: unavailable: %s\n", why);
    if (list->count == 0) {
        printf("no devices found\n");
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        const kg_device_info *d = &list->items[i].info;
        char mem[32], cache[32], local[32];
        print_bytes(mem, sizeof mem, d->global_mem_bytes);
        print_bytes(cache, sizeof cache, d->cache_bytes);
        print_bytes(local, sizeof local, d->local_mem_bytes);
        printf("\n[%zu] %s:%d  %s\n", i, d->backend, d->index, d->name);
        printf("    vendor %s, type %s%s%s\n", d->vendor, kg_device_type_name(d->type),
               d->platform[0] ? ", platform " : "", d->platform);
        printf("    driver %s, %s\n", d->driver_version, d->api_version);
        printf("    %u compute units at %u MHz, max work-group %u\n", d->compute_units,
               d->clock_mhz, d->max_group_size);
        /* Say where the cache size came from: it sets the flush size. */
        const char *cache_note = strcmp(d->cache_source, "host") == 0
                                     ? " (the host's; the driver reports none)"
                                 : strcmp(d->cache_source, "none") == 0 ? " (not reported)"
                                                                        : "";
        printf("    memory %s, last-level cache %s%s, local memory %s\n", mem, cache, cache_note,
               local);
        if (d->peak_dram_gbs > 0)
            printf("    memory bus %u bits at %u MHz: %.0f GB/s theoretical\n", d->memory_bus_bits,
                   d->memory_clock_mhz, d->peak_dram_gbs);
        kg_blas_library lib;
        char no_library[1100];
        if (device_library(d, &lib, no_library, sizeof no_library) == KG_OK)
            printf("    library tiers: %s %s (%s)\n", lib.name, lib.version, lib.path);
        else
            printf("    library tiers: not graded (%s)\n", no_library);
    }
}

static int run_devices(const kg_command *self, int argc, char **argv)
{
    devices_options opts = {0};
    const char *pos[1];
    size_t npos;
    int rc = kg_cli_parse(self, &opts, argc, argv, pos, 0, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    kg_device_list list;
    if (kg_devices_enumerate(&list) != 0) {
        fprintf(stderr, "kgrade devices: out of memory\n");
        return KG_EXIT_FAILED;
    }
    if (opts.json)
        print_json(&list);
    else
        print_table(&list);
    kg_devices_release(&list);
    return KG_EXIT_OK;
}

const kg_command kg_command_devices = {
    .name = "devices",
    .summary = "List every device of every compiled-in backend.",
    .usage = "kgrade devices [--json]",
    .description = "Numbers in brackets are what `kgrade run --device N` takes. Backends whose\n"
                   "driver or library is missing are listed with the reason and skipped.",
    .exit_status = "0 listed (a device or none), 1 out of memory, 2 bad usage",
    .options = devices_options_table,
    .option_count = sizeof devices_options_table / sizeof devices_options_table[0],
    .run = run_devices,
};
