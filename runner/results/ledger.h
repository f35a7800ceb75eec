/*
 * The ledger of an agent's evaluations (`kgrade check`, docs/agents.md):
 * one JSON line per check, appended and synced, each holding the SHA-256
 * of the line before it, so that a record deleted, edited or moved is
 * found by kg_ledger_verify. Each record is numbered ("seq", 1, 2, ...);
 * records of one check share its "check" number. Beside it, in FILE.objects/, every source
 * file the checks read, stored once under its SHA-256, and in FILE.evals/
 * each check's results file.
 */
#ifndef KG_LEDGER_H
#define KG_LEDGER_H

#include "error.h"

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct kg_ledger kg_ledger;

/* Opens (creating) the ledger at `path` for appending: a torn last line
 * (a check killed mid-write) is cut, the last record's number and hash
 * are read, and the file is locked until kg_ledger_close, so two checks
 * never interleave. */
int kg_ledger_open(const char *path, kg_ledger **out, kg_error *err);
void kg_ledger_close(kg_ledger *l);

/* The number the next check gets: one more than the highest "check" of
 * any record (1 for a new ledger). A check writes two records, "start"
 * (its sources, before grading) and "check" (its result), both with its
 * number: a check killed or abandoned leaves its start. */
size_t kg_ledger_next_check(const kg_ledger *l);

/* Where the next check's results file goes, FILE.evals/<check>.jsonl, into
 * out, and its name in that folder (what the record keeps) into name. */
void kg_ledger_eval_path(const kg_ledger *l, char *out, size_t size, char *name, size_t name_size);

/* Copies every regular file under `dir` (hidden ones and files over 4 MiB
 * left out, at most 256) into the object store, once per content, and
 * returns [{"path" (relative to dir), "sha256", "bytes"}] sorted by path
 * in *files (caller deletes). */
int kg_ledger_store_folder(kg_ledger *l, const char *dir, cJSON **files, kg_error *err);

/* Appends `record` with "seq", "at" and "prev" (the previous line's
 * SHA-256; 64 zeros for the first) added, synced. Its own hash goes to
 * hash (65 bytes). */
int kg_ledger_append(kg_ledger *l, cJSON *record, char hash[65], kg_error *err);

/* Checks a whole ledger: every line a JSON object, numbered 1, 2, ... in
 * order, each "prev" the hash of the line before, every stored source
 * and results file present with its hash. KG_OK with the number of
 * records and the hash of the last (what a lab publishes: an edit of the
 * last record changes it) in head; else an error naming the line and
 * what is wrong. A torn last line is not part of the ledger: noted in
 * *torn (1), not an error. */
int kg_ledger_verify(const char *path, size_t *count, char head[65], int *torn, kg_error *err);

/* Writes the files of a "start" record's `sources` back under `dir` (made
 * if missing) from the object store of the ledger at `path`, each checked
 * against its hash. A path that is absolute or climbs out (..) is refused:
 * a ledger is input like any other. */
int kg_ledger_restore_sources(const char *path, const cJSON *sources, const char *dir,
                              kg_error *err);

/* Reads every record of a verified ledger (caller deletes). */
int kg_ledger_read(const char *path, cJSON **records, kg_error *err);

#endif
