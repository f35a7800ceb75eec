/*
 * Local-memory scrubbing (docs/integrity.md): before every run, checked or
 * timed, the whole local (shared) memory of every compute unit is filled
 * with a pattern that differs from run to run. A kernel that reads local
 * memory it did not write this launch (a missing barrier, an uninitialised
 * tile) sees different garbage in two runs on the same inputs, and a
 * kernel that keeps state in local memory between launches (a cache of
 * earlier answers) finds it gone.
 */
#ifndef KG_SCRUB_H
#define KG_SCRUB_H

#include "device.h"

typedef struct kg_scrubber kg_scrubber;

/* Builds the scrub kernel for `dev`. Free with kg_scrubber_free (NULL
 * allowed). */
int kg_scrubber_create(kg_device *dev, kg_scrubber **out, kg_error *err);
void kg_scrubber_free(kg_scrubber *s);

/* The scrub kernel's source, in the portable dialect (for compile tests). */
const char *kg_scrub_source(void);

/* Fills local memory with a pattern derived from `pattern` and waits. */
int kg_scrubber_run(kg_scrubber *s, uint32_t pattern, kg_error *err);

/* Bytes of local memory each scrub group covers (the device's per-group
 * maximum), for the results. */
uint64_t kg_scrubber_bytes(const kg_scrubber *s);

#endif
