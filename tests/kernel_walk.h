/* Every kernel entry of the repository, for the compile tests: each tier of
 * baselines/<workload>/kernels.json and each workload entry of every
 * kernels.json under kernels/. Header-only test helper (kg_test.h style). */
#ifndef KG_KERNEL_WALK_H
#define KG_KERNEL_WALK_H

#include "json_file.h"
#include "kernelset.h"
#include "kg_test.h"
#include "source_text.h"
#include "workload.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef void (*kg_kernel_visit)(const kg_workload *w, const kg_kernel_entry *e, void *user);

/* Targets compiled with one define set per source (a test defines the
 * list before including this file): one of a family, when a sibling target
 * of the same ISA compiles every set. */
#ifndef KG_WALK_SAMPLED_TARGETS
#define KG_WALK_SAMPLED_TARGETS ""
#endif

/* Whether `target` gets one define set per source: it is listed above,
 * or KG_COMPILE_SAMPLE is set (the sanitizer build). */
static int kg_walk_sampled(const char *target)
{
    if (getenv("KG_COMPILE_SAMPLE"))
        return 1;
    size_t len = strlen(target);
    for (const char *p = KG_WALK_SAMPLED_TARGETS; p && *p;
         p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, target, len) == 0 && (p[len] == ',' || !p[len]))
            return 1;
    return 0;
}

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

/* An adversarial example whose expect.json says kgrade refuses it when it
 * loads the manifest (exit 2): there is nothing of it to compile. */
static int kg_walk_refused_at_load(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/expect.json", dir);
    cJSON *doc = NULL;
    kg_error err = {0};
    if (kg_json_load(path, &doc, &err) != KG_OK)
        return 0;
    int refused = 0;
    const cJSON *code;
    cJSON_ArrayForEach(code, cJSON_GetObjectItemCaseSensitive(doc, "exit"))
    {
        refused |= cJSON_IsNumber(code) && code->valuedouble == 2;
    }
    cJSON_Delete(doc);
    return refused;
}

/* Whether the submission's manifest (`path`) gives `workload` in Triton:
 * its kernels are compiled by Triton, and checked by
 * tests/triton/compile_examples.py (label triton), not here. */
static int kg_walk_is_triton(const char *path, const char *workload)
{
    cJSON *doc = NULL;
    kg_error err = {0};
    if (kg_json_load(path, &doc, &err) != KG_OK)
        return 0;
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "workloads"), workload);
    const cJSON *lang = cJSON_GetObjectItemCaseSensitive(entry, "language");
    int triton = cJSON_IsString(lang) && strcmp(lang->valuestring, "triton") == 0;
    cJSON_Delete(doc);
    return triton;
}

/* Every folder under `dir` holding a kernels.json is a submission. */
static void kg_walk_submissions(char *dir, size_t cap, kg_workload **workloads, size_t nw,
                                kg_kernel_visit visit, void *user)
{
    size_t len = strlen(dir);
    char manifest[4400];
    snprintf(manifest, sizeof manifest, "%s/kernels.json", dir);
    struct stat st;
    if (stat(manifest, &st) == 0) {
        for (size_t i = 0; i < nw; i++) {
            if (kg_walk_is_triton(manifest, workloads[i]->name))
                continue;
            kg_kernel_entry *e = NULL;
            kg_error err = {0};
            int rc = kg_kernel_entry_load(workloads[i], dir, &e, &err);
            if (rc == KG_ERR_INVALID && kg_walk_refused_at_load(dir))
                continue;
            KG_CHECK_MSG(rc == KG_OK || rc == KG_ERR_NOT_FOUND, "%s", err.message);
            if (e)
                visit(workloads[i], e, user);
            kg_kernel_entry_free(e);
        }
    }
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

/* Build keys already compiled (source | target | defines | options). */
static char **kg_walk_done;
static size_t kg_walk_done_count;

static int kg_walk_seen(const char *key)
{
    for (size_t i = 0; i < kg_walk_done_count; i++)
        if (strcmp(kg_walk_done[i], key) == 0)
            return 1;
    char **grown = realloc(kg_walk_done, (kg_walk_done_count + 1) * sizeof *grown);
    if (!grown)
        return 0;
    kg_walk_done = grown;
    kg_walk_done[kg_walk_done_count++] = strdup(key);
    return 0;
}

static void kg_walk_forget(void)
{
    for (size_t i = 0; i < kg_walk_done_count; i++)
        free(kg_walk_done[i]);
    free(kg_walk_done);
    kg_walk_done = NULL;
    kg_walk_done_count = 0;
}

/* Fills the device a target stands for (backend, arch, warp size), for the
 * device symbols of the manifest's expressions. */
typedef void (*kg_walk_describe)(size_t target, kg_device_info *gpu);
/* Compiles one request for one target; `what` labels it for the output. */
typedef void (*kg_walk_compile)(const kg_build_request *req, size_t target, const char *what);

/* For every shape of every size class and every target: the entry's
 * defines as kgrade would evaluate them on that device, compiled once per
 * distinct (source, target, defines, options). Entries in other languages
 * than `lang_a` or `lang_b` are skipped. */
static void kg_walk_define_sets(const kg_workload *w, const kg_kernel_entry *e, kg_language lang_a,
                                kg_language lang_b, const char *const *targets, size_t n_targets,
                                kg_walk_describe describe, kg_walk_compile compile)
{
    if (e->language != lang_a && e->language != lang_b)
        return;
    /* The source as kgrade hands it to the compiler (source_text.h); one
     * kgrade refuses (an adversarial example) is not compiled. */
    kg_source_text text;
    kg_error err = {0};
    char set_dir[4096];
    snprintf(set_dir, sizeof set_dir, "%s", e->manifest);
    char *slash = strrchr(set_dir, '/');
    if (slash)
        *slash = '\0';
    int loaded = kg_source_text_load(e->source_path, set_dir, e->language, &text, &err);
    if (loaded != KG_OK) {
        KG_CHECK_MSG(text.refused, "%s", err.message);
        printf("  refused, as kgrade would: %s\n", err.message);
        kg_source_text_free(&text);
        return;
    }
    const char *source = text.text;
    size_t size = text.size;
    const char *shown = e->source_path;
    if (strncmp(shown, KG_SOURCE_DIR "/", strlen(KG_SOURCE_DIR) + 1) == 0)
        shown += strlen(KG_SOURCE_DIR) + 1;
    for (int cls = 0; cls < KG_SIZE_CLASS_COUNT; cls++)
        for (size_t s = 0; s < w->shape_count[cls]; s++)
            for (size_t t = 0; t < n_targets; t++) {
                kg_shape shape = w->shapes[cls][s];
                kg_device_info gpu = {.type = KG_DEVICE_GPU};
                describe(t, &gpu);
                KG_CHECK_INT(kg_device_symbols(&gpu, &shape.symbols), 0);
                kg_shape_defines defs;
                int rc = kg_entry_eval_defines(w, e, &shape, NULL, &defs, &err);
                KG_CHECK_MSG(rc == KG_OK, "%s: %s", e->manifest, err.message);
                if (rc)
                    continue;
                /* KG_COMPILE_SAMPLE (the sanitizer build): one define set
                 * per source and target, since what ASan watches is
                 * kgrade's driver, not the vendor compiler's work. */
                char key[1024];
                snprintf(key, sizeof key, "%s|%s|%s|%s", e->source_path, targets[t],
                         kg_walk_sampled(targets[t]) ? "" : defs.joined, e->options);
                if (kg_walk_seen(key))
                    continue;
                kg_build_request req = {.language = e->language,
                                        .source = source,
                                        .source_size = size,
                                        .source_name = e->source_path,
                                        .defines = defs.list,
                                        .define_count = defs.count,
                                        .options = e->options};
                char what[1200];
                snprintf(what, sizeof what, "%s [%s]", shown, defs.joined);
                compile(&req, t, what);
            }
    kg_source_text_free(&text);
}

/* Visits every kernel entry of the repository. */
static void kg_walk_every_kernel(kg_workload **workloads, size_t nw, kg_kernel_visit visit,
                                 void *user)
{
    /* KG_COMPILE_WORKLOADS=a,b: only those workloads (while writing one). */
    const char *only = getenv("KG_COMPILE_WORKLOADS");
    kg_workload *wanted_list[64];
    if (only && *only && nw <= 64) {
        size_t kept = 0;
        for (size_t i = 0; i < nw; i++) {
            size_t len = strlen(workloads[i]->name);
            const char *p = only;
            int wanted = 0;
            while (p && *p && !wanted) {
                wanted = strncmp(p, workloads[i]->name, len) == 0 && (p[len] == ',' || !p[len]);
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
            }
            if (wanted)
                wanted_list[kept++] = workloads[i];
        }
        workloads = wanted_list;
        nw = kept;
    }
    for (size_t i = 0; i < nw; i++)
        kg_walk_tiers(workloads[i], visit, user);
    char path[4096];
    snprintf(path, sizeof path, "%s/kernels", KG_SOURCE_DIR);
    kg_walk_submissions(path, sizeof path, workloads, nw, visit, user);
}

#endif
