/*
 * Shards of one run merged into one run (`kgrade merge`, docs/slurm.md).
 * A shard is a results file written by `kgrade run --only IDS`: a normal
 * run whose header says which run it belongs to (settings.run_id) and
 * whose shape records carry their evaluation ids. Shards written on other
 * machines, killed at any point or copied about are the input; nothing in
 * them is trusted to be well formed.
 */
#ifndef KG_SHARDS_H
#define KG_SHARDS_H

#include "error.h"

#include <stddef.h>

#include <cjson/cJSON.h>

/* Evaluation ids run from 1 to at most this (kgrade run --list, --only). */
#define KG_MAX_EVALUATIONS 65536

typedef struct kg_merged {
    /* The merged run, owned: its header (the first shard's, with its
     * settings' `only` and `results_file` removed and `merged` added:
     * docs/formats.md), then the skipped and shape records in evaluation
     * order, each evaluation once. No summary: the caller computes it. */
    cJSON *records;
    /* Strings, owned: each line or record not used and why, naming the
     * file (a torn line, an id out of range, a duplicate, a shard with no
     * header). Also under the header's merged.notes. */
    cJSON *notes;
    size_t evaluations;     /* the run's (settings.evaluations) */
    unsigned char *missing; /* owned, [evaluations + 1]: 1 for each id no shard holds */
    size_t missing_count;
    size_t duplicates; /* evaluations found in more than one place, the later ones dropped */
} kg_merged;

/* Reads the shards `paths` (n of them, in any order: they are taken in
 * the order of their names, so that which duplicate is kept does not
 * depend on the command line) and merges them into *out, which the caller
 * frees with kg_merged_free, also after a failure.
 *
 * Refused, with an error naming both files and the first difference: a
 * shard of another run (settings other than results_file and only, the
 * kgrade version or commit, the device's name, backend or driver), one
 * whose kernel sources differ from another's for the same set and
 * workload, or one whose evaluation N is another workload or shape than
 * N elsewhere. An unreadable file is an error. Repaired, with a note: a
 * shard with no run header (its task was killed before it began), torn
 * or damaged lines, records with no evaluation id or one outside the
 * run's range or the shard's `only`, duplicates. */
int kg_shards_merge(const char *const *paths, size_t n, kg_merged *out, kg_error *err);

void kg_merged_free(kg_merged *m);

#endif
