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

#endif
