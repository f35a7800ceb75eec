/*
 * Errors, the one convention of kgrade: a function returns KG_OK (0) or a
 * negative kg_status, and fills the kg_error it was given (which may be
 * NULL) with a message and, where a vendor API failed, its code and name.
 * Everything above this folder uses it, the backends included.
 */
#ifndef KG_ERROR_H
#define KG_ERROR_H

typedef enum kg_status {
    KG_OK = 0,
    KG_ERR_UNAVAILABLE = -1, /* a library or driver is not there */
    KG_ERR_INVALID = -2,     /* bad input: an argument, a file's contents */
    KG_ERR_BUILD = -3,       /* the compiler rejected the source */
    KG_ERR_LAUNCH = -4,      /* launch or execution failed */
    KG_ERR_MEMORY = -5,      /* allocation failed or would not fit (host or device) */
    KG_ERR_DEVICE = -6,      /* any other device API error */
    KG_ERR_UNSUPPORTED = -7, /* the backend cannot do this (e.g. language) */
    KG_ERR_NOT_FOUND = -8,   /* what was asked for does not exist (a tier, a workload entry) */
    KG_ERR_INTERRUPTED = -9, /* the run was interrupted (Ctrl-C, SIGTERM) */
} kg_status;

/* An error: our message plus, where a vendor API failed, its code and name. */
typedef struct kg_error {
    int vendor_code;      /* e.g. CL_BUILD_PROGRAM_FAILURE (-11); 0 if none */
    char vendor_name[64]; /* e.g. "CL_BUILD_PROGRAM_FAILURE"; "" if none */
    char message[1024];
} kg_error;

/* "ok", "unavailable", "invalid", ... for messages and records. */
const char *kg_status_name(int status);

/* Fill `err` printf-style; returns `status` so callers can write
 * `return kg_error_set(err, KG_ERR_INVALID, "...")`. err may be NULL. */
int kg_error_set(kg_error *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Same, recording a vendor code and its name. */
int kg_error_set_vendor(kg_error *err, int status, int vendor_code, const char *vendor_name,
                        const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

#endif
