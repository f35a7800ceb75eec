/* Every kernel entry of the repository, for the compile tests: each tier of
 * baselines/<workload>/kernels.json and each workload entry of every
 * kernels.json under kernels/. Header-only test helper (kg_test.h style). */
#ifndef KG_KERNEL_WALK_H
#define KG_KERNEL_WALK_H

#include "json_file.h"
#include "kernelset.h"
#include "kg_test.h"
#include "workload.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef void (*kg_kernel_visit)(const kg_workload *w, const kg_kernel_entry *e, void *user);

/* Loads every workload under baselines/ into workloads[] (at most max). */
static size_t kg_walk_load_workloads(kg_workload **workloads, size_t max)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/baselines", KG_SOURCE_DIR);
    DIR *d = opendir(path);
    KG_CHECK(d != NULL);
    size_t nw = 0;
    struct dirent *ent;
    while (d && (ent = readdir(d)) && nw < max) {
        if (ent->d_name[0] == '.')
            continue;
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/%s", path, ent->d_name);
        kg_error err = {0};
        kg_workload *w = NULL;
        if (kg_workload_load(dir, &w, &err) == KG_OK)
            workloads[nw++] = w;
        else
            KG_CHECK_MSG(0, "%s", err.message);
    }
    if (d)
        closedir(d);
    return nw;
}

/* The tiers of a baseline manifest, in file order. */
static void kg_walk_tiers(const kg_workload *w, kg_kernel_visit visit, void *user)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/kernels.json", w->dir);
    cJSON *doc = NULL;
    kg_error err = {0};
    if (kg_json_load(path, &doc, &err) != KG_OK)
        return; /* a workload without baseline tiers */
    const cJSON *tier;
    cJSON_ArrayForEach(tier, cJSON_GetObjectItemCaseSensitive(doc, "tiers"))
    {
        kg_kernel_entry *e = NULL;
        KG_CHECK_MSG(kg_kernel_entry_load(w, tier->string, &e, &err) == KG_OK, "%s", err.message);
        if (e)
            visit(w, e, user);
        kg_kernel_entry_free(e);
    }
    cJSON_Delete(doc);
}

/* Every folder under `dir` holding a kernels.json is a submission. */
static void kg_walk_submissions(char *dir, size_t cap, kg_workload **workloads, size_t nw,
                                kg_kernel_visit visit, void *user)
{
    size_t len = strlen(dir);
    snprintf(dir + len, cap - len, "/kernels.json");
    struct stat st;
    if (stat(dir, &st) == 0) {
        dir[len] = '\0';
        for (size_t i = 0; i < nw; i++) {
            kg_kernel_entry *e = NULL;
            kg_error err = {0};
            int rc = kg_kernel_entry_load(workloads[i], dir, &e, &err);
            KG_CHECK_MSG(rc == KG_OK || rc == KG_ERR_UNAVAILABLE, "%s", err.message);
            if (e)
                visit(workloads[i], e, user);
            kg_kernel_entry_free(e);
        }
    }
    dir[len] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        snprintf(dir + len, cap - len, "/%s", ent->d_name);
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            kg_walk_submissions(dir, cap, workloads, nw, visit, user);
        dir[len] = '\0';
    }
    closedir(d);
}

/* Visits every kernel entry of the repository. */
static void kg_walk_every_kernel(kg_workload **workloads, size_t nw, kg_kernel_visit visit,
                                 void *user)
{
    for (size_t i = 0; i < nw; i++)
        kg_walk_tiers(workloads[i], visit, user);
    char path[4096];
    snprintf(path, sizeof path, "%s/kernels", KG_SOURCE_DIR);
    kg_walk_submissions(path, sizeof path, workloads, nw, visit, user);
}

#endif
