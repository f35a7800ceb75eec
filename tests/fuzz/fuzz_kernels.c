/*
 * libFuzzer target: the kernel manifest parser (kg_kernel_entry_load), with
 * the input as a kernels.json. Once per process, every workload under
 * baselines/ is copied into the scratch folder and loaded, and a submission
 * folder "sub" is made; each workload folder's kernels.json is a link to
 * sub/kernels.json, so one write of the input serves both look-ups:
 *   - as a submission ("workloads"): for each key naming a loaded workload;
 *   - as a baseline tier ("tiers"): for each tier key, against every
 *     workload (tier entries do not say which workload they are for).
 * An input with neither is loaded once as a submission of the first
 * workload, for the top-level checks. Empty source files with the names
 * the real manifests use exist in every folder, so entries get past the
 * source look-up to their defines, scratch, launches and sweep.
 *
 * A loaded entry must also survive what a run does before building: its
 * defines and every launch expression evaluated for every shape of the
 * workload, with the device symbols of an sm_90 GPU, with and without the
 * sweep's first configuration; a Triton launch's constexprs, warps and
 * stages too.
 */
#include "fuzz_common.h"

#include "kernelset.h"
#include "workload.h"

#include <cjson/cJSON.h>
#include <dirent.h>

#ifndef KG_SOURCE_DIR
#error "KG_SOURCE_DIR must name the source tree (for baselines/)"
#endif

#define MAX_WORKLOADS 16
/* Keys of "workloads" / "tiers" tried per input: enough for every real
 * manifest, few enough that a huge object does not stall the fuzzer. */
#define MAX_KEYS 8

static kg_workload *workloads[MAX_WORKLOADS];
static size_t workload_count;
static char submission[PATH_MAX];
static char manifest[PATH_MAX + 32];

static const char *const source_names[] = {"k.cl",         "naive.kc",   "tuned.kc",
                                           "reference.kc", "softmax.cl", "softmax_off_by_one.kc",
                                           "softmax.py",   "rmsnorm.py", "extend_attention.py"};

static void make_sources(const char *dir)
{
    for (size_t i = 0; i < sizeof source_names / sizeof source_names[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", dir, source_names[i]);
        kg_fuzz_write(path, (const uint8_t *)"", 0);
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copies baselines/<name>/workload.json into <root>/<name>/ and loads it
 * from there, so that the workload's folder (where tiers are looked up) is
 * a scratch folder. */
static void load_workload(const char *name)
{
    char from[PATH_MAX], dir[PATH_MAX], to[PATH_MAX + 32], link_path[PATH_MAX + 32];
    snprintf(from, sizeof from, "%s/baselines/%s/workload.json", KG_SOURCE_DIR, name);
    char *text;
    size_t size;
    kg_error err;
    if (kg_read_file(from, &text, &size, &err) != KG_OK)
        kg_fuzz_die("cannot read", from);
    kg_fuzz_make_folder(name, dir, sizeof dir);
    snprintf(to, sizeof to, "%s/workload.json", dir);
    kg_fuzz_write(to, (const uint8_t *)text, size);
    free(text);
    make_sources(dir);
    snprintf(link_path, sizeof link_path, "%s/kernels.json", dir);
    if (symlink(manifest, link_path) != 0)
        kg_fuzz_die("cannot link", link_path);
    if (kg_workload_load(dir, &workloads[workload_count], &err) != KG_OK)
        kg_fuzz_die(err.message, dir);
    workload_count++;
}

static void set_up(void)
{
    kg_fuzz_make_folder("sub", submission, sizeof submission);
    snprintf(manifest, sizeof manifest, "%s/kernels.json", submission);
    kg_fuzz_write(manifest, (const uint8_t *)"{}", 2);
    make_sources(submission);

    const char *baselines = KG_SOURCE_DIR "/baselines";
    DIR *d = opendir(baselines);
    if (d == NULL)
        kg_fuzz_die("cannot list", baselines);
    char *names[MAX_WORKLOADS];
    size_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL && n < MAX_WORKLOADS) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/workload.json", baselines, entry->d_name);
        if (entry->d_name[0] != '.' && stat(path, &st) == 0)
            names[n++] = strdup(entry->d_name);
    }
    closedir(d);
    if (n == 0)
        kg_fuzz_die("no workloads found", baselines);
    /* readdir's order is the file system's: sorted, runs are reproducible. */
    qsort(names, n, sizeof names[0], compare_names);
    for (size_t i = 0; i < n; i++) {
        load_workload(names[i]);
        free(names[i]);
    }
}

static void check(int ok, const char *what)
{
    if (!ok)
        kg_fuzz_die("loaded entry is inconsistent", what);
}

static void check_entry(const kg_workload *w, const kg_kernel_entry *e)
{
    check(e->source_path != NULL && e->set != NULL && e->manifest != NULL, "strings");
    for (size_t i = 0; i < e->define_count; i++)
        check(strlen(e->define_names[i]) < KG_SYMBOL_NAME_MAX && e->define_values[i] != NULL,
              "define");
    check(e->launch_count >= 1, "launch count");
    for (size_t i = 0; i < e->launch_count; i++) {
        const kg_launch_spec *l = &e->launches[i];
        /* A Triton launch has no block: num_warps x warp size threads. */
        int triton = e->language == KG_LANG_TRITON;
        check(triton == (l->triton != NULL), "triton fields");
        check(l->grid_dims >= 1 && l->grid_dims <= 3 &&
                  (triton ? l->block_dims == 0 : l->block_dims >= 1 && l->block_dims <= 3),
              "launch dimensions");
        if (triton)
            check(l->triton->param_count == l->arg_count && l->triton->num_warps &&
                      l->triton->num_stages,
                  "triton signature");
        for (size_t a = 0; a < l->arg_count; a++) {
            const kg_arg_spec *arg = &l->args[a];
            switch (arg->source) {
            case KG_ARGSRC_TENSOR:
                check(arg->index < w->tensor_count, "tensor argument");
                break;
            case KG_ARGSRC_SCRATCH:
                check(arg->index < e->scratch_count, "scratch argument");
                break;
            case KG_ARGSRC_PARAM:
                check(arg->index < w->param_count, "parameter argument");
                break;
            default:
                check(arg->expr != NULL, "expression argument");
                break;
            }
        }
    }
    check(e->sweep_count <= KG_MAX_SWEEP_DEFINES, "sweep count");
    for (size_t k = 0; k < e->sweep_count; k++)
        check(e->sweep_value_count[k] >= 1 && e->sweep_value_count[k] <= KG_MAX_SWEEP_VALUES,
              "sweep values");
}

static void eval_exprs(const kg_workload *w, kg_expr *const *exprs, size_t count,
                       const kg_shape *shape)
{
    for (size_t i = 0; i < count; i++) {
        int64_t v;
        kg_error err;
        if (exprs[i] != NULL)
            kg_eval_for_shape(exprs[i], shape, w->name, "expression", &v, &err);
    }
}

/* What evaluate.c's kg_prepare does with an entry for one shape. */
static void eval_for_shape(const kg_workload *w, const kg_kernel_entry *e,
                           const kg_shape *workload_shape, const kg_symtab *overrides)
{
    static kg_device_info gpu = {.backend = "cuda", .arch = "sm_90", .type = KG_DEVICE_GPU};
    kg_shape shape = *workload_shape;
    if (kg_device_symbols(&gpu, &shape.symbols) != 0)
        return;
    kg_shape_defines defines;
    kg_error err;
    if (kg_entry_eval_defines(w, e, &shape, overrides, &defines, &err) != KG_OK)
        return;
    for (size_t i = 0; i < e->scratch_count; i++)
        eval_exprs(w, &e->scratch[i].count, 1, &shape);
    for (size_t i = 0; i < e->launch_count; i++) {
        const kg_launch_spec *l = &e->launches[i];
        eval_exprs(w, l->grid, (size_t)l->grid_dims, &shape);
        eval_exprs(w, l->block, (size_t)l->block_dims, &shape);
        eval_exprs(w, &l->local_mem, 1, &shape);
        for (size_t a = 0; a < l->arg_count; a++)
            eval_exprs(w, &l->args[a].expr, 1, &shape);
        if (!l->triton)
            continue;
        for (size_t c = 0; c < l->triton->constexpr_count; c++)
            eval_exprs(w, &l->triton->constexprs[c].value, 1, &shape);
        eval_exprs(w, &l->triton->num_warps, 1, &shape);
        eval_exprs(w, &l->triton->num_stages, 1, &shape);
    }
}

static void exercise(const kg_workload *w, const kg_kernel_entry *e)
{
    check_entry(w, e);
    kg_symtab first;
    kg_symtab_init(&first);
    for (size_t k = 0; k < e->sweep_count; k++)
        kg_symtab_set(&first, e->sweep_names[k], e->sweep_values[k][0]);
    for (int c = 0; c < KG_SIZE_CLASS_COUNT; c++)
        for (size_t s = 0; s < w->shape_count[c]; s++) {
            eval_for_shape(w, e, &w->shapes[c][s], NULL);
            if (e->sweep_count)
                eval_for_shape(w, e, &w->shapes[c][s], &first);
        }
}

static void load(const kg_workload *w, const char *set)
{
    kg_kernel_entry *e = NULL;
    kg_error err;
    err.message[0] = '\0';
    int rc = kg_kernel_entry_load(w, set, &e, &err);
    char what[PATH_MAX + 80];
    snprintf(what, sizeof what, "%s for %s", set, w->name);
    kg_fuzz_report(what, rc, err.message);
    if (rc == KG_OK) {
        exercise(w, e);
        kg_kernel_entry_free(e);
    } else if (e != NULL || err.message[0] == '\0') {
        kg_fuzz_die("failed load without a message or with an entry", set);
    }
}

static const kg_workload *find_workload(const char *name)
{
    for (size_t i = 0; i < workload_count; i++)
        if (strcmp(workloads[i]->name, name) == 0)
            return workloads[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (workload_count == 0)
        set_up();
    kg_fuzz_write(manifest, data, size);

    size_t loads = 0, keys = 0;
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *item;
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(doc, "workloads");
    if (!cJSON_IsObject(table))
        table = NULL;
    cJSON_ArrayForEach(item, table)
    {
        if (keys++ == MAX_KEYS)
            break;
        const kg_workload *w = find_workload(item->string);
        if (w != NULL) {
            load(w, submission);
            loads++;
        }
    }
    keys = 0;
    table = cJSON_GetObjectItemCaseSensitive(doc, "tiers");
    if (!cJSON_IsObject(table))
        table = NULL;
    cJSON_ArrayForEach(item, table)
    {
        if (keys++ == MAX_KEYS)
            break;
        if (kg_set_is_submission(item->string))
            continue;
        for (size_t i = 0; i < workload_count; i++)
            load(workloads[i], item->string);
        loads++;
    }
    cJSON_Delete(doc);
    if (loads == 0)
        load(workloads[0], submission);
    return 0;
}
