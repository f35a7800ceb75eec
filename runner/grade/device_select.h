/*
 * Every device of every compiled-in backend, in one list, and the choice of
 * one of them ("best device" or what --device names).
 */
#ifndef KG_DEVICE_SELECT_H
#define KG_DEVICE_SELECT_H

#include "device.h"

#include <stddef.h>

typedef struct kg_device_entry {
    const kg_backend *backend;
    kg_device_info info;
} kg_device_entry;

typedef struct kg_backend_failure {
    const kg_backend *backend;
    kg_error error;
} kg_backend_failure;

typedef struct kg_device_list {
    kg_device_entry *items;
    size_t count;
    kg_backend_failure failures[8]; /* backends that could not start, and why */
    size_t failure_count;
} kg_device_list;

/* Initialises every compiled-in backend and lists its devices. A backend
 * that fails to start is recorded in `failures` (its message says what was
 * missing) and the others carry on. Returns KG_OK even with no device;
 * KG_ERR_MEMORY only on allocation failure. Release with
 * kg_devices_release, which also shuts the backends down. */
int kg_devices_enumerate(kg_device_list *list);
void kg_devices_release(kg_device_list *list);

/* Picks a device. spec NULL or "best": GPU before accelerator before CPU,
 * then most compute units x clock. Otherwise "N" (position in the list, as
 * `kgrade devices` numbers it), "BACKEND:N" (index within a backend), or a
 * case-insensitive substring of the device name that matches exactly one
 * device. Errors list the devices that exist. */
int kg_devices_select(const kg_device_list *list, const char *spec, size_t *index, kg_error *err);

#endif
