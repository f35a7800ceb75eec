/*
 * The results file: JSON lines, one record per line, each appended and
 * fsync'd as soon as it exists, so an interrupted run loses nothing that
 * finished. See docs/formats.md.
 */
#ifndef KG_RESULTS_H
#define KG_RESULTS_H

#include "error.h"

#include <stdint.h>

#include <cjson/cJSON.h>

#define KG_RESULTS_SCHEMA 1

typedef struct kg_results_file kg_results_file;

/* Opens (creating, appending) `path`; creates missing parent folders. A
 * torn last line (no newline: the process died mid-append) is cut off
 * first; kg_results_torn_bytes says how much. Free with kg_results_close
 * (NULL allowed). */
int kg_results_open(const char *path, kg_results_file **out, kg_error *err);
size_t kg_results_torn_bytes(const kg_results_file *f);
/* Writes `record` as one line and syncs it to disk. */
int kg_results_append(kg_results_file *f, const cJSON *record, kg_error *err);
void kg_results_close(kg_results_file *f);

/* The records of the last run in a results file (its header and what
 * follows), as a new cJSON array the caller deletes. */
int kg_results_read_last_run(const char *path, cJSON **records, kg_error *err);

/* The same for files made elsewhere (`compare`, `export`, `replicate`):
 * what can be read is read, and each thing that could not be used is said
 * in `notes` (a cJSON array of strings the caller owns): a line that is
 * not a JSON object, anywhere in the file; a run header of a newer schema
 * (read as this one: fields it does not know are ignored); a record of a
 * type this kgrade does not know. Fails only when the file cannot be read
 * or holds no run header. */
int kg_results_read_last_run_tolerant(const char *path, cJSON **records, cJSON *notes,
                                      kg_error *err);

/* kg_results_read_last_run_tolerant, each note printed to stderr after
 * "<who>: " (a command's name). */
int kg_results_read_noting(const char *path, const char *who, cJSON **records, kg_error *err);

/* The run's seed from a header's settings: "seed_exact" (a decimal string,
 * every 64-bit value) where it is, else "seed" (a JSON number, exact up to
 * 2^53, in files written before seed_exact existed), else `fallback`. */
uint64_t kg_results_settings_seed(const cJSON *settings, uint64_t fallback);

/* Reads every record of a results file into a cJSON array the caller
 * deletes. A malformed line is an error naming the line, except a
 * truncated last line (a crash mid-write), which is skipped. */
int kg_results_read(const char *path, cJSON **records, kg_error *err);

#endif
