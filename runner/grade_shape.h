/*
 * One evaluation: a baseline and a candidate kernel set on one shape of one
 * workload, on an open device. Both sets are built, checked (twice on the
 * same inputs, with guard zones and input comparison), timed alternately,
 * then checked again on fresh and on heavy-tailed inputs. The outcome is a
 * "shape" record for the results file (docs/formats.md), every integrity
 * finding a flag in it (docs/integrity.md).
 *
 * This runs inside a worker process (worker.h): a crash or a hang here
 * costs that process, never the run.
 */
#ifndef KG_GRADE_SHAPE_H
#define KG_GRADE_SHAPE_H

#include "evaluate.h"
#include "measure.h"
#include "workload.h"

#include <cjson/cJSON.h>

typedef struct kg_grade_job {
    const kg_backend *backend;
    kg_device *dev;
    const kg_device_info *info;
    kg_build_cache *cache;
    const kg_workload *w;
    kg_size_class cls;
    size_t shape_no;
    const char *baseline, *candidate; /* set names (tiers or folders) */
    uint64_t seed;                    /* the run's seed; per-shape seeds derive from it */
    kg_measure_settings measure;
    /* Called before each step with the role ("baseline", "candidate", or
     * "both" while timing) and the step ("build", "check", ...), so that a
     * crash can be charged to the set and step it happened in. May be NULL. */
    void (*phase)(void *user, const char *role, const char *step);
    /* Called when a set's first checks are over, with its status then
     * ("ok" when it goes on to timing). May be NULL. */
    void (*checked)(void *user, const char *role, const char *status);
    void *phase_user;
    /* A one-line progress display on stderr, rewritten in place. */
    int progress;
    const char *label; /* "softmax rows=7,cols=33" */
    size_t index, total;
} kg_grade_job;

/* Grades the job's shape. *record receives a new cJSON object the caller
 * owns. Failures of the kernels are recorded in it, not returned: an error
 * comes back only when the evaluation itself could not be made (host
 * memory, a workload the reference rejects). */
int kg_grade_shape(const kg_grade_job *job, cJSON **record, kg_error *err);

/* The seed of one purpose within a run (1: inputs, 2: fresh inputs, 5:
 * heavy-tailed inputs), reproducible from the run seed. */
uint64_t kg_grade_seed(uint64_t seed, const char *workload, size_t shape, uint64_t purpose);

#endif
