/* Enumerating and choosing devices across backends. */
#include "device_select.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int kg_devices_enumerate(kg_device_list *list)
{
    memset(list, 0, sizeof *list);
    size_t cap = 0;
    for (const kg_backend *const *bp = kg_backends(); *bp; bp++) {
        const kg_backend *b = *bp;
        kg_error err = {0};
        if (kg_backend_init(b, &err) != KG_OK) {
            if (list->failure_count < sizeof list->failures / sizeof list->failures[0]) {
                list->failures[list->failure_count].backend = b;
                list->failures[list->failure_count].error = err;
                list->failure_count++;
            }
            continue;
        }
        int n = kg_backend_device_count(b);
        for (int i = 0; i < n; i++) {
            if (list->count == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                kg_device_entry *items = realloc(list->items, ncap * sizeof *items);
                if (!items)
                    return KG_ERR_MEMORY;
                list->items = items;
                cap = ncap;
            }
            kg_device_entry *e = &list->items[list->count];
            memset(e, 0, sizeof *e);
            e->backend = b;
            if (kg_backend_device_info(b, i, &e->info, &err) != KG_OK)
                continue; /* a device that cannot describe itself cannot be graded on */
            list->count++;
        }
    }
    return KG_OK;
}

void kg_devices_release(kg_device_list *list)
{
    free(list->items);
    for (const kg_backend *const *bp = kg_backends(); *bp; bp++)
        kg_backend_shutdown(*bp);
    memset(list, 0, sizeof *list);
}

static int type_rank(kg_device_type t)
{
    switch (t) {
    case KG_DEVICE_GPU:
        return 3;
    case KG_DEVICE_ACCELERATOR:
        return 2;
    case KG_DEVICE_CPU:
        return 1;
    default:
        return 0;
    }
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int no_match(const kg_device_list *list, const char *spec, const char *why, kg_error *err)
{
    char names[768] = "";
    for (size_t i = 0; i < list->count; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%zu = %s:%d %s", i ? "; " : "", i,
                 list->items[i].info.backend, list->items[i].info.index, list->items[i].info.name);
    }
    return kg_error_set(err, KG_ERR_INVALID, "--device %s: %s (devices: %s)", spec, why,
                        list->count ? names : "none found");
}

int kg_devices_select(const kg_device_list *list, const char *spec, size_t *index, kg_error *err)
{
    if (list->count == 0)
        return kg_error_set(err, KG_ERR_UNAVAILABLE,
                            "no device found by any backend (run `kgrade devices` to see why)");
    if (!spec || strcmp(spec, "best") == 0) {
        size_t best = 0;
        for (size_t i = 1; i < list->count; i++) {
            const kg_device_info *a = &list->items[i].info, *b = &list->items[best].info;
            int ra = type_rank(a->type), rb = type_rank(b->type);
            double sa = (double)a->compute_units * a->clock_mhz;
            double sb = (double)b->compute_units * b->clock_mhz;
            if (ra > rb || (ra == rb && sa > sb))
                best = i;
        }
        *index = best;
        return KG_OK;
    }
    if (all_digits(spec)) {
        unsigned long i = strtoul(spec, NULL, 10);
        if (i >= list->count)
            return no_match(list, spec, "no device at that position", err);
        *index = i;
        return KG_OK;
    }
    const char *colon = strchr(spec, ':');
    if (colon && all_digits(colon + 1)) {
        int i = atoi(colon + 1);
        size_t blen = (size_t)(colon - spec);
        for (size_t k = 0; k < list->count; k++)
            if (strlen(list->items[k].info.backend) == blen &&
                strncmp(list->items[k].info.backend, spec, blen) == 0 &&
                list->items[k].info.index == i) {
                *index = k;
                return KG_OK;
            }
        return no_match(list, spec, "no such backend device", err);
    }
    size_t found = 0, match = 0;
    for (size_t k = 0; k < list->count; k++) {
        const char *name = list->items[k].info.name;
        size_t n = strlen(spec);
        for (const char *p = name; *p; p++)
            if (strncasecmp(p, spec, n) == 0) {
                found++;
                match = k;
                break;
            }
    }
    if (found == 1) {
        *index = match;
        return KG_OK;
    }
    return no_match(list, spec, found ? "matches several devices" : "matches no device name", err);
}
