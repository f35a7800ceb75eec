/* kernels.json: parsing entries and resolving their names. */
#include "kernelset.h"
#include "sha256.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int kg_set_is_submission(const char *set)
{
    /* Only the spelling decides, never the file system: a folder named
     * like a tier (./naive) must not shadow the tier. */
    return strchr(set, '/') != NULL;
}

void kg_kernel_entry_free(kg_kernel_entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->define_count; i++) {
        free(e->define_names[i]);
        kg_expr_free(e->define_values[i]);
    }
    free(e->define_names);
    free(e->define_values);
    for (size_t i = 0; i < e->sweep_count; i++)
        free(e->sweep_names[i]);
    for (size_t i = 0; i < e->refusal_count; i++) {
        kg_expr_free(e->refuse_when[i]);
        free(e->refuse_why[i]);
    }
    for (size_t i = 0; i < e->device_refusal_count; i++) {
        kg_expr_free(e->device_refuse_when[i]);
        free(e->device_refuse_why[i]);
    }
    for (size_t i = 0; i < e->launch_count; i++) {
        kg_launch_spec *l = &e->launches[i];
        free(l->entry);
        for (int d = 0; d < 3; d++) {
            kg_expr_free(l->grid[d]);
            kg_expr_free(l->block[d]);
        }
        kg_expr_free(l->local_mem);
        for (size_t a = 0; a < l->arg_count; a++)
            kg_expr_free(l->args[a].expr);
        free(l->args);
        kg_triton_launch_free(l->triton);
    }
    free(e->launches);
    for (size_t i = 0; i < e->scratch_count; i++) {
        free(e->scratch[i].name);
        kg_expr_free(e->scratch[i].count);
    }
    free(e->scratch);
    free(e->set);
    free(e->manifest);
    free(e->description);
    free(e->source_path);
    free(e->source_file);
    free(e->upstream_package);
    free(e->upstream_version);
    free(e->upstream_path);
    free(e->options);
    kg_library_call_free(e->call);
    free(e);
}

/* Expressions of an entry may use the workload's symbols and the entry's
 * defines parsed so far (so a define may use earlier ones, and launches all). */
int kg_kernel_entry_parse_expr(const kg_workload *w, const kg_kernel_entry *e,
                               const kg_json_where *at, const cJSON *item, kg_expr **out,
                               kg_error *err)
{
    static const char *const device_names[] = KG_DEVICE_SYMBOL_NAMES;
    const char *names[KG_MAX_DEFINES + KG_DEVICE_SYMBOL_COUNT];
    size_t n = 0;
    for (size_t i = 0; i < KG_DEVICE_SYMBOL_COUNT; i++)
        names[n++] = device_names[i];
    for (size_t i = 0; i < e->define_count && i < KG_MAX_DEFINES; i++)
        names[n++] = e->define_names[i];
    return kg_workload_parse_expr_with(w, names, n, at, item, out, err);
}

int kg_device_symbols(const kg_device_info *info, kg_symtab *t)
{
    int cc = 0;
    if (strcmp(info->backend, "cuda") == 0) {
        int major = 0, minor = 0;
        if (sscanf(info->arch, "sm_%1d%d", &major, &minor) == 2)
            cc = major * 10 + minor;
    }
    if (kg_symtab_set(t, "cuda_cc", cc) != 0 ||
        kg_symtab_set(t, "is_gpu", info->type == KG_DEVICE_GPU) != 0 ||
        kg_symtab_set(t, "is_hip", strcmp(info->backend, "hip") == 0) != 0 ||
        kg_symtab_set(t, "warp_size", info->subgroup_width) != 0)
        return -1;
    return 0;
}

static int parse_expr_list(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *at,
                           const cJSON *arr, kg_expr **out, int *count, kg_error *err)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (n < 1 || n > 3)
        return kg_json_fail(at, err, "expected an array of 1 to 3 expressions");
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, arr)
    {
        kg_json_where iw = kg_json_at_index(at, (size_t)i);
        int rc = kg_kernel_entry_parse_expr(w, e, &iw, item, &out[i], err);
        if (rc)
            return rc;
        *count = ++i;
    }
    return KG_OK;
}

static int scratch_index(const kg_kernel_entry *e, const char *name)
{
    for (size_t i = 0; i < e->scratch_count; i++)
        if (strcmp(e->scratch[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int is_define(const kg_kernel_entry *e, const char *name)
{
    for (size_t i = 0; i < e->define_count; i++)
        if (strcmp(e->define_names[i], name) == 0)
            return 1;
    return 0;
}

/* An argument is a tensor, a scratch buffer, a parameter, or else an
 * integer expression: names win over expressions so that "x" is the tensor,
 * never an unknown symbol. */
static int parse_arg(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *at,
                     const cJSON *item, kg_arg_spec *arg, kg_error *err)
{
    if (cJSON_IsNumber(item)) {
        arg->source = KG_ARGSRC_I32;
        return kg_kernel_entry_parse_expr(w, e, at, item, &arg->expr, err);
    }
    if (!cJSON_IsString(item))
        return kg_json_fail(at, err,
                            "expected a tensor, scratch or parameter name, or an "
                            "integer expression");
    const char *s = item->valuestring;
    int idx;
    if ((idx = kg_workload_tensor_index(w, s)) >= 0) {
        arg->source = KG_ARGSRC_TENSOR;
        arg->index = (size_t)idx;
        return KG_OK;
    }
    if ((idx = scratch_index(e, s)) >= 0) {
        arg->source = KG_ARGSRC_SCRATCH;
        arg->index = (size_t)idx;
        return KG_OK;
    }
    if ((idx = kg_workload_param_index(w, s)) >= 0) {
        arg->source = KG_ARGSRC_PARAM;
        arg->index = (size_t)idx;
        return KG_OK;
    }
    if (kg_is_identifier(s) && !kg_workload_has_symbol(w, s) && !is_define(e, s)) {
        char tensors[256] = "";
        for (size_t i = 0; i < w->tensor_count; i++) {
            size_t len = strlen(tensors);
            snprintf(tensors + len, sizeof tensors - len, "%s%s", i ? ", " : "",
                     w->tensors[i].name);
        }
        return kg_json_fail(at, err,
                            "'%s' is not a tensor (%s), scratch buffer, parameter, shape symbol "
                            "or define of workload %s",
                            s, tensors, w->name);
    }
    cJSON tmp = *item;
    arg->source = KG_ARGSRC_I32;
    if (strncmp(s, "i64:", 4) == 0) {
        arg->source = KG_ARGSRC_I64;
        tmp.valuestring = (char *)s + 4;
    } else if (strncmp(s, "f32:", 4) == 0) {
        /* A float the shape decides, e.g. Triton's sm_scale = 1/sqrt(D):
         * expressions are integers, so rsqrt() is the one float form. */
        arg->source = KG_ARGSRC_F32;
        tmp.valuestring = (char *)s + 4;
        size_t len = strlen(tmp.valuestring);
        if (strncmp(tmp.valuestring, "rsqrt(", 6) == 0 && len > 7 &&
            tmp.valuestring[len - 1] == ')') {
            char inner[256];
            if (len - 7 >= sizeof inner)
                return kg_json_fail(at, err, "expression too long");
            memcpy(inner, tmp.valuestring + 6, len - 7);
            inner[len - 7] = '\0';
            arg->rsqrt = 1;
            tmp.valuestring = inner;
            return kg_kernel_entry_parse_expr(w, e, at, &tmp, &arg->expr, err);
        }
    }
    return kg_kernel_entry_parse_expr(w, e, at, &tmp, &arg->expr, err);
}

static int parse_scratch(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *ew,
                         const cJSON *obj, kg_error *err)
{
    const cJSON *arr = NULL;
    int rc = kg_json_array(ew, obj, "scratch", 0, &arr, err);
    if (rc || !arr)
        return rc;
    kg_json_where at = kg_json_at_key(ew, "scratch");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    e->scratch = calloc(n ? n : 1, sizeof *e->scratch);
    if (!e->scratch)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    static const char *const keys[] = {"name", "dtype", "count", NULL};
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        kg_json_where sw = kg_json_at_index(&at, e->scratch_count);
        kg_scratch_spec *spec = &e->scratch[e->scratch_count];
        const char *name, *dtype;
        if (!cJSON_IsObject(s))
            return kg_json_fail(&sw, err, "expected {\"name\", \"dtype\", \"count\"}");
        if ((rc = kg_json_only_keys(&sw, s, keys, err)) ||
            (rc = kg_json_string(&sw, s, "name", 1, &name, err)) ||
            (rc = kg_json_string(&sw, s, "dtype", 1, &dtype, err)))
            return rc;
        if (kg_workload_tensor_index(w, name) >= 0 || scratch_index(e, name) >= 0)
            return kg_json_fail(&sw, err, "scratch name '%s' is already used", name);
        int dt = kg_dtype_parse(dtype);
        if (dt < 0)
            return kg_json_fail(&sw, err, "unknown dtype '%s'", dtype);
        spec->name = strdup(name);
        spec->dtype = (kg_dtype)dt;
        e->scratch_count++;
        kg_json_where cw = kg_json_at_key(&sw, "count");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(s, "count");
        if (!count)
            return kg_json_fail(&cw, err, "missing required field");
        if ((rc = kg_kernel_entry_parse_expr(w, e, &cw, count, &spec->count, err)))
            return rc;
    }
    return KG_OK;
}

static int parse_defines(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *ew,
                         const cJSON *obj, kg_error *err)
{
    const cJSON *defs = NULL;
    int rc = kg_json_object(ew, obj, "defines", 0, &defs, err);
    if (rc || !defs)
        return rc;
    kg_json_where at = kg_json_at_key(ew, "defines");
    size_t n = (size_t)cJSON_GetArraySize(defs);
    e->define_names = calloc(n ? n : 1, sizeof *e->define_names);
    e->define_values = calloc(n ? n : 1, sizeof *e->define_values);
    if (!e->define_names || !e->define_values)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const cJSON *d;
    cJSON_ArrayForEach(d, defs)
    {
        kg_json_where dw = kg_json_at_key(&at, d->string);
        if (!kg_is_identifier(d->string))
            return kg_json_fail(&dw, err,
                                "a define name must be a C identifier of at most %d "
                                "characters",
                                KG_SYMBOL_NAME_MAX - 1);
        if (kg_workload_has_symbol(w, d->string))
            return kg_json_fail(&dw, err, "define '%s' has the name of a shape symbol", d->string);
        static const char *const device_names[] = KG_DEVICE_SYMBOL_NAMES;
        for (size_t i = 0; i < KG_DEVICE_SYMBOL_COUNT; i++)
            if (strcmp(d->string, device_names[i]) == 0)
                return kg_json_fail(&dw, err, "define '%s' has the name of a device symbol",
                                    d->string);
        /* Parsed before the name is added, so a define sees only earlier ones. */
        if ((rc =
                 kg_kernel_entry_parse_expr(w, e, &dw, d, &e->define_values[e->define_count], err)))
            return rc;
        e->define_names[e->define_count] = strdup(d->string);
        e->define_count++;
    }
    return KG_OK;
}

static int is_device_symbol(const char *name, size_t position, void *user)
{
    (void)position;
    static const char *const device_names[] = KG_DEVICE_SYMBOL_NAMES;
    for (size_t i = 0; i < KG_DEVICE_SYMBOL_COUNT; i++)
        if (strcmp(name, device_names[i]) == 0)
            return 0;
    *(const char **)user = name;
    return 1;
}

/* "refuses": [{"when": "use_custom_mask", "why": "..."}, ...]: each
 * condition an expression of the workload's public symbols (not the
 * device's: a set either computes a shape or says it does not).
 * "unsupported_devices" (device != 0): the same form, each condition an
 * expression of the device symbols only (not the shape's: a device either
 * has what the set needs or it has not). */
static int parse_refusals(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *ew,
                          const cJSON *obj, int device, kg_error *err)
{
    const char *key = device ? "unsupported_devices" : "refuses";
    size_t *count = device ? &e->device_refusal_count : &e->refusal_count;
    kg_expr **whens = device ? e->device_refuse_when : e->refuse_when;
    char **whys = device ? e->device_refuse_why : e->refuse_why;
    const cJSON *arr = NULL;
    int rc = kg_json_array(ew, obj, key, 0, &arr, err);
    if (rc || !arr)
        return rc;
    kg_json_where at = kg_json_at_key(ew, key);
    static const char *const keys[] = {"when", "why", NULL};
    static const char *const device_names[] = KG_DEVICE_SYMBOL_NAMES;
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        kg_json_where rw = kg_json_at_index(&at, *count);
        const char *why;
        if (*count == KG_MAX_REFUSALS)
            return kg_json_fail(&at, err, "at most %d entries", KG_MAX_REFUSALS);
        if (!cJSON_IsObject(r))
            return kg_json_fail(&rw, err, "expected {\"when\": expression, \"why\": text}");
        if ((rc = kg_json_only_keys(&rw, r, keys, err)) ||
            (rc = kg_json_string(&rw, r, "why", 1, &why, err)))
            return rc;
        kg_json_where cw = kg_json_at_key(&rw, "when");
        const cJSON *when = cJSON_GetObjectItemCaseSensitive(r, "when");
        if (!when)
            return kg_json_fail(&cw, err, "missing required field");
        if ((rc = kg_workload_parse_expr_with(w, device ? device_names : NULL,
                                              device ? KG_DEVICE_SYMBOL_COUNT : 0, &cw, when,
                                              &whens[*count], err)))
            return rc;
        const char *shape_symbol = NULL;
        if (device && kg_expr_visit_symbols(whens[*count], is_device_symbol, &shape_symbol)) {
            rc = kg_json_fail(&cw, err,
                              "reads the shape symbol '%s': a condition on the device may "
                              "read only cuda_cc, is_hip, is_gpu and warp_size (a shape the "
                              "set does not compute goes in \"refuses\")",
                              shape_symbol);
            kg_expr_free(whens[*count]); /* after the message: it owns the name */
            whens[*count] = NULL;
            return rc;
        }
        whys[(*count)++] = strdup(why);
    }
    return KG_OK;
}

int kg_kernel_entry_source(const kg_kernel_entry *e, kg_source_text *out, kg_error *err)
{
    char set_dir[4096];
    snprintf(set_dir, sizeof set_dir, "%s", e->manifest ? e->manifest : "");
    char *slash = strrchr(set_dir, '/');
    if (slash)
        *slash = '\0';
    return kg_source_text_load(e->source_path, slash && !e->upstream_package ? set_dir : ".",
                               e->language, out, err);
}

const char *kg_kernel_entry_device_refusal(const kg_kernel_entry *e, const kg_device_info *info,
                                           char *buf, size_t size)
{
    kg_symtab device;
    kg_symtab_init(&device);
    if (e->device_refusal_count && kg_device_symbols(info, &device) != 0) {
        snprintf(buf, size, "too many device symbols");
        return buf;
    }
    for (size_t i = 0; i < e->device_refusal_count; i++) {
        int64_t v = 0;
        kg_error xe = {0};
        if (kg_expr_eval(e->device_refuse_when[i], &device, &v, &xe) != KG_OK) {
            snprintf(buf, size, "unsupported_devices \"%s\" (%s)",
                     kg_expr_text(e->device_refuse_when[i]), xe.message);
            return buf;
        }
        if (v)
            return e->device_refuse_why[i];
    }
    return NULL;
}

const char *kg_kernel_entry_refusal(const kg_kernel_entry *e, const kg_shape *shape, char *buf,
                                    size_t size)
{
    for (size_t i = 0; i < e->refusal_count; i++) {
        int64_t v = 0;
        kg_error xe = {0};
        if (kg_expr_eval(e->refuse_when[i], &shape->symbols, &v, &xe) != KG_OK) {
            snprintf(buf, size, "refuses \"%s\" (%s)", kg_expr_text(e->refuse_when[i]), xe.message);
            return buf;
        }
        if (v)
            return e->refuse_why[i];
    }
    return NULL;
}

/* "sweep": {"BLOCK_M": [16, 32, 64], ...}: each name a define of the
 * entry, each value a positive integer, at most 256 combinations. */
static int parse_sweep(kg_kernel_entry *e, const kg_json_where *ew, const cJSON *obj, kg_error *err)
{
    const cJSON *sweep = NULL;
    int rc = kg_json_object(ew, obj, "sweep", 0, &sweep, err);
    if (rc || !sweep)
        return rc;
    kg_json_where at = kg_json_at_key(ew, "sweep");
    size_t combinations = 1;
    const cJSON *item;
    cJSON_ArrayForEach(item, sweep)
    {
        kg_json_where iw = kg_json_at_key(&at, item->string);
        if (e->sweep_count == KG_MAX_SWEEP_DEFINES)
            return kg_json_fail(&at, err, "at most %d defines can be swept", KG_MAX_SWEEP_DEFINES);
        if (!is_define(e, item->string))
            return kg_json_fail(&iw, err, "'%s' is not one of this entry's defines", item->string);
        size_t n = (size_t)cJSON_GetArraySize(item);
        if (!cJSON_IsArray(item) || n == 0 || n > KG_MAX_SWEEP_VALUES)
            return kg_json_fail(&iw, err, "expected an array of 1 to %d integers",
                                KG_MAX_SWEEP_VALUES);
        size_t k = e->sweep_count;
        e->sweep_names[k] = strdup(item->string);
        e->sweep_count++;
        const cJSON *v;
        cJSON_ArrayForEach(v, item)
        {
            /* Range first: casting a double beyond int64 is undefined. */
            if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
                v->valuedouble != (double)(int64_t)v->valuedouble)
                return kg_json_fail(&iw, err, "expected positive integers up to 9e15");
            e->sweep_values[k][e->sweep_value_count[k]++] = (int64_t)v->valuedouble;
        }
        combinations *= n;
    }
    if (combinations > 256)
        return kg_json_fail(&at, err, "%zu combinations; at most 256", combinations);
    return KG_OK;
}

static int parse_launches(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *ew,
                          const cJSON *obj, kg_error *err)
{
    const cJSON *arr;
    int rc = kg_json_array(ew, obj, "launches", 1, &arr, err);
    if (rc)
        return rc;
    kg_json_where at = kg_json_at_key(ew, "launches");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return kg_json_fail(&at, err, "expected at least one launch");
    e->launches = calloc(n, sizeof *e->launches);
    if (!e->launches)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    static const char *const keys[] = {"entry", "grid", "block", "local_mem", "args", NULL};
    static const char *const triton_keys[] = {"entry",      "grid",        "args",
                                              "signature",  "constexprs",  "num_warps",
                                              "num_stages", "hip_options", NULL};
    int triton = e->language == KG_LANG_TRITON;
    const cJSON *l;
    cJSON_ArrayForEach(l, arr)
    {
        kg_json_where lw = kg_json_at_index(&at, e->launch_count);
        kg_launch_spec *spec = &e->launches[e->launch_count++];
        const char *entry;
        const cJSON *args;
        if (!cJSON_IsObject(l))
            return kg_json_fail(&lw, err, "expected a launch object");
        if ((rc = kg_json_only_keys(&lw, l, triton ? triton_keys : keys, err)) ||
            (rc = kg_json_string(&lw, l, "entry", 1, &entry, err)) ||
            (rc = kg_json_array(&lw, l, "args", 1, &args, err)))
            return rc;
        spec->entry = strdup(entry);
        kg_json_where gw = kg_json_at_key(&lw, "grid"), bw = kg_json_at_key(&lw, "block");
        if ((rc = parse_expr_list(w, e, &gw, cJSON_GetObjectItemCaseSensitive(l, "grid"),
                                  spec->grid, &spec->grid_dims, err)) ||
            (!triton &&
             (rc = parse_expr_list(w, e, &bw, cJSON_GetObjectItemCaseSensitive(l, "block"),
                                   spec->block, &spec->block_dims, err))))
            return rc;
        const cJSON *local = cJSON_GetObjectItemCaseSensitive(l, "local_mem");
        kg_json_where mw = kg_json_at_key(&lw, "local_mem");
        if (local && (rc = kg_kernel_entry_parse_expr(w, e, &mw, local, &spec->local_mem, err)))
            return rc;
        size_t na = (size_t)cJSON_GetArraySize(args);
        spec->args = calloc(na ? na : 1, sizeof *spec->args);
        if (!spec->args)
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        kg_json_where aw = kg_json_at_key(&lw, "args");
        const cJSON *a;
        cJSON_ArrayForEach(a, args)
        {
            kg_json_where iw = kg_json_at_index(&aw, spec->arg_count);
            rc = parse_arg(w, e, &iw, a, &spec->args[spec->arg_count], err);
            spec->arg_count++;
            if (rc)
                return rc;
        }
        if (triton && (rc = kg_triton_launch_parse(w, e, &lw, l, spec, err)))
            return rc;
    }
    return KG_OK;
}

/* 1 when `path` has a component that is exactly "..": "a..b.cl" is a
 * file name, "x/../k.cl" leaves the folder it names. */
static int has_dotdot_component(const char *path)
{
    for (const char *s = path;;) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return 1;
        if (!slash)
            return 0;
        s = slash + 1;
    }
}

/* 1 when real path `file` lies under real path `dir`; the '/' boundary
 * keeps "/x/set2/k.cl" out of "/x/set". */
static int path_inside(const char *dir, const char *file)
{
    size_t len = strlen(dir);
    if (len > 0 && dir[len - 1] == '/')
        len--;
    return strncmp(file, dir, len) == 0 && file[len] == '/';
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Resolves `file` against the manifest's folder. Kernel sets are written by
 * the party being graded, so the source must stay in the set's folder (no
 * absolute path, no '..' component, no symlink out: real paths are
 * compared), and be a regular file of bounded size, so that the build can
 * neither read the grader's files nor hang on a FIFO or /dev/zero. */
static int resolve_source(const kg_json_where *sw, const char *manifest_dir, const char *file,
                          char **out, kg_error *err)
{
    static const char expected[] = "expected a relative path to a file inside the kernel set's "
                                   "folder";
    if (!file[0])
        return kg_json_fail(sw, err, "source is empty; %s", expected);
    if (file[0] == '/')
        return kg_json_fail(sw, err, "source '%s' is an absolute path; %s", file, expected);
    if (has_dotdot_component(file))
        return kg_json_fail(sw, err, "source '%s' has a '..' component; %s", file, expected);
    size_t len = strlen(manifest_dir) + strlen(file) + 2;
    char *path = malloc(len);
    if (!path)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    snprintf(path, len, "%s/%s", manifest_dir, file);
    struct stat st;
    char real_dir[PATH_MAX], real_file[PATH_MAX];
    int rc = KG_OK;
    if (stat(path, &st) != 0)
        rc = errno == ENOENT || errno == ENOTDIR
                 ? kg_json_fail(sw, err, "source file '%s' not found (looked for %s)", file, path)
                 : kg_json_fail(sw, err, "source '%s' cannot be read (%s): %s", file, path,
                                strerror(errno));
    else if (!realpath(manifest_dir, real_dir) || !realpath(path, real_file))
        rc = kg_json_fail(sw, err, "source '%s' cannot be resolved (%s): %s", file, path,
                          strerror(errno));
    else if (!path_inside(real_dir, real_file))
        rc = kg_json_fail(sw, err,
                          "source '%s' resolves to %s, outside the kernel set's folder %s; "
                          "expected a file inside it (a symlink may not leave the folder)",
                          file, real_file, real_dir);
    else if (!S_ISREG(st.st_mode))
        rc = kg_json_fail(sw, err, "source '%s' is %s; expected a regular file", file,
                          file_kind(st.st_mode));
    else if (st.st_size > KG_MAX_SOURCE_BYTES)
        rc = kg_json_fail(sw, err, "source '%s' is %lld bytes; expected at most %d MiB", file,
                          (long long)st.st_size, KG_MAX_SOURCE_BYTES >> 20);
    if (rc) {
        free(path);
        return rc;
    }
    *out = path;
    return KG_OK;
}

/* The compiler options a manifest may ask for. Anything else is refused:
 * an option can read files (-I, -include), write them (-o), or change the
 * code in ways a reader of the manifest would not see; defines have their
 * own field. Fast-math options are allowed and recorded with the results. */
typedef enum option_value {
    OPTION_FLAG,   /* exactly the name */
    OPTION_INT,    /* name=N, min <= N <= max */
    OPTION_CHOICE, /* name=one of `choices` ("|"-separated) */
} option_value;

typedef struct option_rule {
    const char *name;
    unsigned languages; /* LANG_BIT(KG_LANG_...) */
    option_value value;
    const char *choices;
    int min, max;
} option_rule;

#define LANG_BIT(lang) (1u << (lang))
#define OPENCL         LANG_BIT(KG_LANG_OPENCL)
#define CUDA           LANG_BIT(KG_LANG_CUDA)
#define HIP            LANG_BIT(KG_LANG_HIP)

static const option_rule option_rules[] = {
    {"-cl-mad-enable", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"-cl-no-signed-zeros", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"-cl-unsafe-math-optimizations", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"-cl-finite-math-only", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"-cl-fast-relaxed-math", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"-cl-denorms-are-zero", OPENCL, OPTION_FLAG, NULL, 0, 0},
    {"--use_fast_math", CUDA, OPTION_FLAG, NULL, 0, 0},
    {"-lineinfo", CUDA, OPTION_FLAG, NULL, 0, 0},
    {"--maxrregcount", CUDA, OPTION_INT, NULL, 16, 255},
    {"--extra-device-vectorization", CUDA, OPTION_FLAG, NULL, 0, 0},
    {"-ftz", CUDA, OPTION_CHOICE, "true|false", 0, 0},
    {"-prec-div", CUDA, OPTION_CHOICE, "true|false", 0, 0},
    {"-prec-sqrt", CUDA, OPTION_CHOICE, "true|false", 0, 0},
    {"-fmad", CUDA, OPTION_CHOICE, "true|false", 0, 0},
    {"-std", CUDA, OPTION_CHOICE, "c++17|c++20", 0, 0},
    {"-ffast-math", HIP, OPTION_FLAG, NULL, 0, 0},
    {"-O3", HIP, OPTION_FLAG, NULL, 0, 0},
};
#define OPTION_RULE_COUNT (sizeof option_rules / sizeof option_rules[0])

/* "-ftz=true|false, --maxrregcount=N (16 to 255), ..." for `lang`. */
static void allowed_options(kg_language lang, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < OPTION_RULE_COUNT && len < size; i++) {
        const option_rule *r = &option_rules[i];
        if (!(r->languages & LANG_BIT(lang)))
            continue;
        const char *sep = len ? ", " : "";
        int n =
            r->value == OPTION_FLAG ? snprintf(out + len, size - len, "%s%s", sep, r->name)
            : r->value == OPTION_INT
                ? snprintf(out + len, size - len, "%s%s=N (%d to %d)", sep, r->name, r->min, r->max)
                : snprintf(out + len, size - len, "%s%s=%s", sep, r->name, r->choices);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* 1 when `value` is one of the "|"-separated `choices`. */
static int is_choice(const char *value, const char *choices)
{
    size_t len = strlen(value);
    for (const char *c = choices;;) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        if (len && clen == len && strncmp(c, value, len) == 0)
            return 1;
        if (!bar)
            return 0;
        c = bar + 1;
    }
}

/* An integer of 1 to 6 digits, nothing else (no sign, space or suffix). */
static int parse_small_int(const char *s, int *out)
{
    int v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9' && i < 6; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return i > 0 && s[i] == '\0';
}

static const option_rule *find_option_rule(kg_language lang, const char *name, size_t name_len)
{
    for (size_t i = 0; i < OPTION_RULE_COUNT; i++) {
        const option_rule *r = &option_rules[i];
        if ((r->languages & LANG_BIT(lang)) && strlen(r->name) == name_len &&
            strncmp(r->name, name, name_len) == 0)
            return r;
    }
    return NULL;
}

int kg_compiler_option_check(kg_language lang, const char *option, kg_error *err)
{
    char allowed[512];
    allowed_options(lang, allowed, sizeof allowed);
    if (lang == KG_LANG_PORTABLE) {
        return kg_error_set(
            err, KG_ERR_INVALID,
            "compiler options are not allowed for language portable: a portable source is "
            "built by every backend, each with its own compiler (use language opencl or "
            "cuda to pass options)");
    }
    if (!allowed[0]) {
        return kg_error_set(err, KG_ERR_INVALID, "language %s takes no compiler options",
                            kg_language_name(lang));
    }
    const char *eq = strchr(option, '=');
    size_t name_len = eq ? (size_t)(eq - option) : strlen(option);
    const option_rule *r = find_option_rule(lang, option, name_len);
    if (r && r->value == OPTION_FLAG && !eq)
        return KG_OK;
    if (r && r->value == OPTION_INT && eq) {
        int v;
        if (parse_small_int(eq + 1, &v) && v >= r->min && v <= r->max)
            return KG_OK;
        return kg_error_set(err, KG_ERR_INVALID,
                            "'%s': expected %s=N with N an integer from %d to %d", option, r->name,
                            r->min, r->max);
    }
    if (r && r->value == OPTION_CHOICE && eq) {
        if (is_choice(eq + 1, r->choices))
            return KG_OK;
        return kg_error_set(err, KG_ERR_INVALID, "'%s': expected %s=%s", option, r->name,
                            r->choices);
    }
    if (r) {
        return kg_error_set(err, KG_ERR_INVALID, "'%s': expected %s%s%s", option, r->name,
                            r->value == OPTION_FLAG ? "" : "=",
                            r->value == OPTION_FLAG  ? " (no value)"
                            : r->value == OPTION_INT ? "N"
                                                     : r->choices);
    }
    return kg_error_set(
        err, KG_ERR_INVALID, "'%s' is not an allowed compiler option for %s%s; allowed: %s", option,
        kg_language_name(lang), strncmp(option, "-D", 2) == 0 ? " (defines go in \"defines\")" : "",
        allowed);
}

/* "options": ["-cl-mad-enable", ...], each on the allowlist, each option
 * at most once; joined into e->options. */
static int parse_options(kg_kernel_entry *e, const kg_json_where *ew, const cJSON *obj,
                         kg_error *err)
{
    const cJSON *arr = NULL;
    int rc = kg_json_array(ew, obj, "options", 0, &arr, err);
    if (rc)
        return rc;
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    kg_json_where at = kg_json_at_key(ew, "options");
    if (n > KG_MAX_OPTIONS)
        return kg_json_fail(&at, err, "%zu options; expected at most %d", n, KG_MAX_OPTIONS);
    char joined[1024] = "";
    size_t len = 0, i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        kg_json_where iw = kg_json_at_index(&at, i++);
        if (!cJSON_IsString(item))
            return kg_json_fail(&iw, err, "expected a compiler option (a string)");
        const char *opt = item->valuestring;
        kg_error why = {0};
        if (kg_compiler_option_check(e->language, opt, &why) != KG_OK)
            return kg_json_fail(&iw, err, "%s", why.message);
        size_t name_len = strcspn(opt, "=");
        for (const cJSON *prev = arr->child; prev != item; prev = prev->next)
            if (strcspn(prev->valuestring, "=") == name_len &&
                strncmp(prev->valuestring, opt, name_len) == 0)
                return kg_json_fail(&iw, err, "option '%.*s' is given twice", (int)name_len, opt);
        int w = snprintf(joined + len, sizeof joined - len, "%s%s", len ? " " : "", opt);
        if (w < 0 || (size_t)w >= sizeof joined - len)
            return kg_json_fail(&at, err, "options too long");
        len += (size_t)w;
    }
    e->options = strdup(joined);
    if (!e->options)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    return KG_OK;
}

int kg_kernel_entry_parse(const kg_workload *w, const kg_json_where *where, const cJSON *obj,
                          const char *set, const char *manifest, const char *manifest_dir,
                          kg_kernel_entry **out, kg_error *err)
{
    *out = NULL;
    static const char *const keys[] = {"description", "source",   "upstream", "language",
                                       "defines",     "launches", "scratch",  "sweep",
                                       "options",     "refuses",  "call",     "unsupported_devices",
                                       NULL};
    if (!cJSON_IsObject(obj))
        return kg_json_fail(where, err, "expected a kernel entry object");
    kg_kernel_entry *e = calloc(1, sizeof *e);
    if (!e)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const char *source = NULL, *language, *description = "";
    const cJSON *upstream = cJSON_GetObjectItemCaseSensitive(obj, "upstream");
    int rc;
    if ((rc = kg_json_only_keys(where, obj, keys, err)) ||
        (rc = kg_json_string(where, obj, "language", 1, &language, err)) ||
        (rc = kg_json_string(where, obj, "description", 0, &description, err)))
        goto fail;
    e->set = strdup(set);
    e->manifest = strdup(manifest);
    e->description = strdup(description);
    int lang = kg_language_parse(language);
    if (lang < 0) {
        kg_json_where lw = kg_json_at_key(where, "language");
        rc = kg_json_fail(&lw, err,
                          "unknown language '%s' (expected portable, opencl, cuda, hip, ptx, "
                          "cubin, fatbin, hsaco, spirv, triton or library)",
                          language);
        goto fail;
    }
    e->language = (kg_language)lang;
    /* A library tier calls a vendor library: no source to resolve. */
    if (e->language == KG_LANG_LIBRARY) {
        if ((rc = kg_library_call_parse(w, e, where, obj, err)) ||
            (rc = parse_refusals(w, e, where, obj, 0, err)) ||
            (rc = parse_refusals(w, e, where, obj, 1, err)))
            goto fail;
        e->options = strdup("");
        *out = e;
        return KG_OK;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "call")) {
        kg_json_where cw = kg_json_at_key(where, "call");
        rc = kg_json_fail(&cw, err, "\"call\" is for language library");
        goto fail;
    }
    if ((rc = kg_json_string(where, obj, "source", !upstream, &source, err)))
        goto fail;
    kg_json_where sw = kg_json_at_key(where, "source");
    if (upstream) {
        /* Only a baseline tier may name a package file: a submission's
         * source is always inside its own folder. */
        kg_json_where uw = kg_json_at_key(where, "upstream");
        if (source)
            rc = kg_json_fail(&uw, err, "give \"source\" or \"upstream\", not both");
        else if (kg_set_is_submission(set))
            rc = kg_json_fail(&uw, err,
                              "only a baseline tier may take its source from a package "
                              "(\"upstream\"); a submission's source is a file in its folder");
        else if (e->language != KG_LANG_TRITON)
            rc = kg_json_fail(&uw, err, "\"upstream\" is for language triton");
        else
            rc = kg_upstream_parse(e, where, upstream, err);
        if (rc)
            goto fail;
    } else {
        e->source_file = strdup(source);
        rc = resolve_source(&sw, manifest_dir, source, &e->source_path, err);
    }
    if (rc || (rc = parse_defines(w, e, where, obj, err)) ||
        (rc = parse_scratch(w, e, where, obj, err)) ||
        (rc = parse_launches(w, e, where, obj, err)) || (rc = parse_sweep(e, where, obj, err)) ||
        (rc = parse_options(e, where, obj, err)) ||
        (rc = parse_refusals(w, e, where, obj, 0, err)) ||
        (rc = parse_refusals(w, e, where, obj, 1, err)))
        goto fail;
    *out = e;
    return KG_OK;
fail:
    kg_kernel_entry_free(e);
    return rc;
}

int kg_kernel_entry_load(const kg_workload *w, const char *set, kg_kernel_entry **out,
                         kg_error *err)
{
    *out = NULL;
    int submission = kg_set_is_submission(set);
    char dir[PATH_MAX], manifest[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", submission ? set : w->dir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    if (snprintf(manifest, sizeof manifest, "%s/kernels.json", dir) >= (int)sizeof manifest)
        return kg_error_set(err, KG_ERR_INVALID, "%s: path too long", dir);
    /* Read only a regular file of bounded size: a submission's kernels.json
     * could be a FIFO (reading blocks) or a symlink to /dev/zero. A missing
     * one is left to kg_json_load's message. */
    struct stat st;
    int exists = stat(manifest, &st) == 0;
    if (exists && !S_ISREG(st.st_mode))
        return kg_error_set(err, KG_ERR_INVALID, "%s: is %s; expected a JSON file", manifest,
                            file_kind(st.st_mode));
    if (exists && st.st_size > KG_MAX_SOURCE_BYTES)
        return kg_error_set(err, KG_ERR_INVALID, "%s: %lld bytes; expected at most %d MiB",
                            manifest, (long long)st.st_size, KG_MAX_SOURCE_BYTES >> 20);
    /* The report names the manifest by its real path and hash: which file
     * "naive" or "./mine" turned out to be is part of every result. */
    char real[PATH_MAX];
    if (exists && realpath(manifest, real))
        snprintf(manifest, sizeof manifest, "%s", real);
    char hash[65] = "";
    char *raw;
    size_t raw_size;
    if (exists && kg_read_file(manifest, &raw, &raw_size, NULL) == KG_OK) {
        kg_sha256_hex(raw, raw_size, hash);
        free(raw);
    }
    cJSON *doc;
    int rc = kg_json_load(manifest, &doc, err);
    if (rc)
        return rc;
    kg_json_where root = {.file = manifest};
    static const char *const keys[] = {"kgrade_kernels", "description", "tiers", "workloads", NULL};
    const char *group = submission ? "workloads" : "tiers";
    const char *key = submission ? w->name : set;
    const cJSON *table = NULL;
    double version = 0;
    if ((rc = kg_json_only_keys(&root, doc, keys, err)) ||
        (rc = kg_json_number(&root, doc, "kgrade_kernels", 1, &version, err)))
        goto done;
    if (version != 1) {
        rc = kg_json_fail(&root, err, "kgrade_kernels is %g; this kgrade reads version 1", version);
        goto done;
    }
    if ((rc = kg_json_object(&root, doc, group, 1, &table, err)))
        goto done;
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(table, key);
    if (!entry) {
        struct stat dir_st;
        int is_folder = !submission && stat(set, &dir_st) == 0 && S_ISDIR(dir_st.st_mode);
        rc = kg_error_set(err, KG_ERR_NOT_FOUND, "%s: no %s '%s' in \"%s\"%s%s%s", manifest,
                          submission ? "workload" : "tier", key, group,
                          is_folder ? " (a folder of that name exists: a submission is given as a "
                                      "path, e.g. ./"
                                    : "",
                          is_folder ? set : "", is_folder ? ")" : "");
        goto done;
    }
    kg_json_where ew = kg_json_at_key(&root, group);
    ew = kg_json_at_key(&ew, key);
    rc = kg_kernel_entry_parse(w, &ew, entry, set, manifest, dir, out, err);
    if (rc == KG_OK)
        memcpy((*out)->manifest_sha256, hash, sizeof hash);
done:
    cJSON_Delete(doc);
    return rc;
}

int kg_entry_eval_defines(const kg_workload *w, const kg_kernel_entry *e, kg_shape *shape,
                          const kg_symtab *overrides, kg_shape_defines *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    if (e->define_count > KG_MAX_DEFINES)
        return kg_error_set(err, KG_ERR_INVALID, "%s: at most %d defines", e->manifest,
                            KG_MAX_DEFINES);
    for (size_t i = 0; i < e->define_count; i++) {
        int64_t v;
        char what[96];
        snprintf(what, sizeof what, "%s: defines.%s", e->set, e->define_names[i]);
        int rc = overrides && kg_symtab_get(overrides, e->define_names[i], &v)
                     ? KG_OK
                     : kg_eval_for_shape(e->define_values[i], shape, w->name, what, &v, err);
        if (rc)
            return rc;
        if (kg_symtab_set(&shape->symbols, e->define_names[i], v) != 0)
            return kg_error_set(err, KG_ERR_INVALID, "%s: too many symbols and defines",
                                e->manifest);
        snprintf(out->text[i], sizeof out->text[i], "%s=%lld", e->define_names[i], (long long)v);
        out->list[i] = out->text[i];
        size_t len = strlen(out->joined);
        snprintf(out->joined + len, sizeof out->joined - len, "%s-D%s", len ? " " : "",
                 out->text[i]);
        out->count++;
    }
    return KG_OK;
}
