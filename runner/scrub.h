/*
 * Local-memory scrubbing for the repeat check (docs/integrity.md): before
 * each of the two runs on the same inputs, every compute unit's local
 * (shared) memory is filled with a different pattern. A kernel that reads
 * local memory it did not write this launch (a missing barrier, an
 * uninitialised tile) then sees different garbage in the two runs and its
 * outputs disagree, instead of depending on which work-group happened to
 * run before it.
 */
#ifndef KG_SCRUB_H
#define KG_SCRUB_H

#include "backend.h"

typedef struct kg_scrubber kg_scrubber;

/* Builds the scrub kernel for `dev`. Free with kg_scrubber_free (NULL
 * allowed). */
int kg_scrubber_create(const kg_backend *b, kg_device *dev, const kg_device_info *info,
                       kg_scrubber **out, kg_error *err);
void kg_scrubber_free(kg_scrubber *s);

/* The scrub kernel's source, in the portable dialect (for compile tests). */
const char *kg_scrub_source(void);

/* Fills local memory with pattern number `which` (1, 2, ...) and waits. */
int kg_scrubber_run(kg_scrubber *s, int which, kg_error *err);

#endif
