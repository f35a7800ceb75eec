/*
 * One evaluation: a baseline and a candidate kernel set on one shape of one
 * workload, coordinated from the `kgrade run` process. Each set runs in a
 * worker process of its own (worker.h), with its own device context; this
 * process holds the inputs' host copies and the CPU reference, and checks
 * every output a worker reads back. No candidate kernel ever runs where the
 * baseline's buffers or the reference's answers are.
 *
 * The steps (docs/integrity.md has the reasons):
 *   1. a per-evaluation secret, from the system's random source, seeds
 *      everything a kernel must not predict: the extra input sets, the
 *      per-run perturbations and output fills, which units are checked,
 *      which timed runs are read back, the recheck inputs. It is written to
 *      the record when the evaluation ends, so the run can be replayed;
 *   2. both workers build their sets on the same input sets;
 *   3. each set is run and checked twice on the same inputs (determinism,
 *      elements never written);
 *   4. the sets that passed are timed alternately (ABBA), every run
 *      following kg_run_once; after some rounds, chosen by the secret, the
 *      outputs are read back and checked;
 *   5. the guard zones and every input set are verified once more;
 *   6. rechecks: a few elements nudged (index tensors included), fresh
 *      inputs in another layout, heavy-tailed inputs, each stress input of
 *      the workload.
 * The outcome is a "shape" record for the results file (docs/formats.md).
 */
#ifndef KG_GRADE_SHAPE_H
#define KG_GRADE_SHAPE_H

#include "measure.h"
#include "workload.h"

#include <cjson/cJSON.h>

typedef struct kg_grade_job {
    const char *exe;     /* the kgrade binary, for the workers */
    const char *backend; /* the device: backend name and index */
    int device_index;
    const kg_device_info *info;
    const char *baselines_dir; /* where the workers load the workload from */
    const kg_workload *w;
    kg_size_class cls;
    size_t shape_no;
    const char *baseline, *candidate; /* set names (tiers, or submission paths) */
    uint64_t seed;                    /* the run's seed: set 0's inputs derive from it */
    kg_measure_settings measure;
    const cJSON *settings; /* the run header's settings, handed to the workers */
    double timeout_s;      /* each set's own time budget for the evaluation */
    int progress;          /* a one-line progress display on stderr */
    int forward_output;    /* the workers' output to stderr */
    const char *label;     /* "softmax rows=7,cols=33" */
    size_t index, total;
    /* For the progress line: kg_worker_now() when the run began grading,
     * and the estimated time left at this evaluation's start (< 0: none
     * yet), from the evaluations before it. */
    double run_started, eta_s;
} kg_grade_job;

/* Grades the job's shape. *record receives a new cJSON object the caller
 * owns. Failures of the kernels (crashes and time-outs included) are
 * recorded in it, not returned; an error comes back only when the
 * evaluation itself could not be made (KG_ERR_INTERRUPTED: the run was
 * interrupted). */
int kg_grade_shape(const kg_grade_job *job, cJSON **record, kg_error *err);

/* Adds the shape's symbols and the parameters in force for it to a shape
 * record. */
void kg_record_shape_values(cJSON *rec, const kg_workload *w, const kg_shape *shape);

/* The seed of one purpose within a run (1: inputs), reproducible from the
 * run seed. */
uint64_t kg_grade_seed(uint64_t seed, const char *workload, size_t shape, uint64_t purpose);

#endif
