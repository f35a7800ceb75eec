/*
 * `kgrade ledger summary`: the story of an agent's run from its ledger
 * (runner/results/ledger.h, docs/agents.md): how many checks, failures by
 * reason, the best speedup so far against check number and wall time,
 * where the time went; and the same curve as one SVG figure.
 */
#ifndef KG_LEDGER_REPORT_H
#define KG_LEDGER_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* The Markdown summary of `records` (a ledger's lines, in order). */
void kg_ledger_markdown(FILE *out, const cJSON *records, const char *ledger_path);

/* A standalone SVG: each check's geomean speedup (passed: a dot; failed:
 * a cross at the bottom), the best so far as a step line, log scale,
 * against the check number. */
void kg_ledger_svg(FILE *out, const cJSON *records);

/* `kgrade replay`: each check chosen (`checks`, the ledger's "check"
 * records) beside its replayed grading (`replayed`: a results file of one
 * run per check, told apart by seed = check number), saying so when the
 * devices differ. */
void kg_replay_markdown(FILE *out, const cJSON *checks, const cJSON *replayed, const char *ledger,
                        const char *head);

/* The recorded and the replayed geomean against the check number. */
void kg_replay_svg(FILE *out, const cJSON *checks, const cJSON *replayed);

#endif
