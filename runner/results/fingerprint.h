/*
 * Where a result came from: kgrade's version and commit, the host, the
 * device. Recorded in every results file so that a number can be traced.
 */
#ifndef KG_FINGERPRINT_H
#define KG_FINGERPRINT_H

#include "device.h"

#include <cjson/cJSON.h>

/* The commit kgrade was built from ("<sha>", "<sha>-dirty" or "unknown"),
 * written at build time by scripts/git_commit.cmake. */
extern const char kg_git_commit[];

/* kgrade's version ("0.1.0"). */
const char *kg_version(void);

/* New cJSON objects; the caller owns them (cJSON_Delete, or add to a tree). */
cJSON *kg_fingerprint_kgrade(void);
cJSON *kg_fingerprint_host(void);
cJSON *kg_fingerprint_device(const kg_device_info *info);

/* Current UTC time as ISO 8601 ("2026-11-24T12:00:00Z") into buf. */
void kg_utc_now(char *buf, size_t size);

#endif
