/*
 * The entries of a folder that a caller wants, sorted by name (byte order),
 * so that workloads and profiles are always visited in the same order.
 */
#ifndef KG_DIR_LIST_H
#define KG_DIR_LIST_H

#include <stddef.h>

/* Calls keep(dir, name, user) for every entry except "." and ".." and hidden
 * ones; returns the names it accepted, sorted, in *names (each and the array
 * malloc'd; free with kg_dir_list_free). Returns -1 when `dir` cannot be
 * opened, else 0. Out of memory stops the listing early. */
int kg_dir_list(const char *dir, int (*keep)(const char *dir, const char *name, void *user),
                void *user, char ***names, size_t *count);
void kg_dir_list_free(char **names, size_t count);

/* A `keep` filter for kg_dir_list: names ending in ".json". */
int kg_dir_is_json(const char *dir, const char *name, void *user);

#endif
