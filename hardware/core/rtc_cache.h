/*
 * Compiled code kept across processes (NVRTC cubins, hiprtc code objects),
 * only where KGRADE_BUILD_CACHE names a folder: `kgrade check` points it
 * into the ledger's folder, which the agent being graded must not be able
 * to write (docs/agents.md). A cache the graded party can write could hold
 * a slow binary under the baseline's key; so the folder must be owned by
 * this user and writable by nobody else, or it is not used. Entries are
 * keyed by the SHA-256 of the compiler's description (name, version,
 * library), the target, every option and the whole source text.
 */
#ifndef KG_RTC_CACHE_H
#define KG_RTC_CACHE_H

#include <stddef.h>

/* The key of one build (hex, 65 bytes). */
void kg_rtc_cache_key(const char *compiler, const char *arch, const char *const *options,
                      int count, const char *source, size_t size, char hex[65]);

/* 1 with *image (*size bytes) and *log (both malloc'd) when the cache
 * holds the key, else 0 (no cache, a miss, or an unreadable entry). */
int kg_rtc_cache_get(const char *hex, void **image, size_t *size, char **log);

/* Stores a build under the key (written to new files and renamed);
 * failures are silent: the cache is an optimisation. */
void kg_rtc_cache_put(const char *hex, const void *image, size_t size, const char *log);

#endif
