/* The error convention (error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *kg_status_name(int status)
{
    switch (status) {
    case KG_OK:
        return "ok";
    case KG_ERR_UNAVAILABLE:
        return "unavailable";
    case KG_ERR_INVALID:
        return "invalid";
    case KG_ERR_BUILD:
        return "build_failed";
    case KG_ERR_LAUNCH:
        return "launch_failed";
    case KG_ERR_MEMORY:
        return "out_of_memory";
    case KG_ERR_DEVICE:
        return "device_error";
    case KG_ERR_UNSUPPORTED:
        return "unsupported";
    case KG_ERR_NOT_FOUND:
        return "not_found";
    case KG_ERR_INTERRUPTED:
        return "interrupted";
    default:
        return "error";
    }
}

int kg_error_set(kg_error *err, int status, const char *fmt, ...)
{
    if (!err)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->vendor_code = 0;
    err->vendor_name[0] = '\0';
    return status;
}

int kg_error_set_vendor(kg_error *err, int status, int vendor_code, const char *vendor_name,
                        const char *fmt, ...)
{
    if (!err)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->vendor_code = vendor_code;
    snprintf(err->vendor_name, sizeof err->vendor_name, "%s", vendor_name ? vendor_name : "");
    return status;
}
