/* workload.json: parsing and validation. */
#include "workload.h"
#include "str.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const size_class_names[KG_SIZE_CLASS_COUNT] = {"smoke", "small", "full", "claim",
                                                                  "dev"};

const char *kg_size_class_name(kg_size_class c)
{
    return (int)c >= 0 && c < KG_SIZE_CLASS_COUNT ? size_class_names[c] : "unknown";
}

int kg_size_class_parse(const char *name)
{
    for (int i = 0; i < KG_SIZE_CLASS_COUNT; i++)
        if (strcmp(size_class_names[i], name) == 0)
            return i;
    return -1;
}

static char *dup_string(const char *s)
{
    return s ? kg_strdup(s) : NULL;
}

int kg_workload_tensor_index(const kg_workload *w, const char *name)
{
    for (size_t i = 0; i < w->tensor_count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return (int)i;
    return -1;
}

int kg_workload_param_index(const kg_workload *w, const char *name)
{
    for (size_t i = 0; i < w->param_count; i++)
        if (strcmp(w->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

int kg_workload_has_symbol(const kg_workload *w, const char *name)
{
    for (size_t i = 0; i < w->symbol_count; i++)
        if (strcmp(w->symbols[i], name) == 0)
            return 1;
    return 0;
}

int kg_workload_symbol_is_public(const kg_workload *w, const char *name)
{
    if (!w->public_symbols)
        return kg_workload_has_symbol(w, name);
    for (size_t i = 0; i < w->public_count; i++)
        if (strcmp(w->public_symbols[i], name) == 0)
            return 1;
    return 0;
}

struct symbol_check {
    const kg_workload *w;
    const char *const *extra;
    size_t extra_count;
    int public_only; /* a kernel manifest's expression */
    const char *bad;
    size_t position;
    int is_private;
};

static int check_symbol(const char *name, size_t position, void *user)
{
    struct symbol_check *c = user;
    if (kg_workload_has_symbol(c->w, name)) {
        if (!c->public_only || kg_workload_symbol_is_public(c->w, name))
            return 0;
        c->bad = name;
        c->position = position;
        c->is_private = 1;
        return 1;
    }
    for (size_t i = 0; i < c->extra_count; i++)
        if (strcmp(c->extra[i], name) == 0)
            return 0;
    c->bad = name;
    c->position = position;
    return 1;
}

static int parse_expr(const kg_workload *w, const char *const *extra, size_t extra_count,
                      int public_only, const kg_json_where *where, const cJSON *item, kg_expr **out,
                      kg_error *err);

int kg_workload_parse_expr(const kg_workload *w, const kg_json_where *where, const cJSON *item,
                           kg_expr **out, kg_error *err)
{
    return parse_expr(w, NULL, 0, 0, where, item, out, err);
}

int kg_workload_parse_expr_with(const kg_workload *w, const char *const *extra, size_t extra_count,
                                const kg_json_where *where, const cJSON *item, kg_expr **out,
                                kg_error *err)
{
    return parse_expr(w, extra, extra_count, 1, where, item, out, err);
}

static int parse_expr(const kg_workload *w, const char *const *extra, size_t extra_count,
                      int public_only, const kg_json_where *where, const cJSON *item, kg_expr **out,
                      kg_error *err)
{
    *out = NULL;
    char text[64];
    const char *src;
    if (cJSON_IsString(item)) {
        src = item->valuestring;
    } else if (cJSON_IsNumber(item) && item->valuedouble == floor(item->valuedouble) &&
               fabs(item->valuedouble) < 9e15) {
        snprintf(text, sizeof text, "%.0f", item->valuedouble);
        src = text;
    } else {
        return kg_json_fail(where, err, "expected an integer or an expression string");
    }
    kg_error xe;
    kg_expr *e;
    if (kg_expr_parse(src, &e, &xe) != 0)
        return kg_json_fail(where, err, "bad expression \"%s\": %s", src, xe.message);
    struct symbol_check c = {
        .w = w, .extra = extra, .extra_count = extra_count, .public_only = public_only};
    if (kg_expr_visit_symbols(e, check_symbol, &c)) {
        int rc = c.is_private
                     ? kg_json_fail(where, err,
                                    "symbol '%s' (position %zu in \"%s\") is private to workload "
                                    "%s: it describes how kgrade draws the inputs, which a kernel "
                                    "may not assume (not in \"public_symbols\" of %s)",
                                    c.bad, c.position, src, w->name, w->file)
                     : kg_json_fail(where, err, "unknown symbol '%s' at position %zu in \"%s\"",
                                    c.bad, c.position, src);
        kg_expr_free(e);
        return rc;
    }
    *out = e;
    return KG_OK;
}

/* Names must be C identifiers: they become kernel arguments, defines and
 * expression symbols. */
int kg_is_identifier(const char *s)
{
    if (!s || !*s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    const char *start = s;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    /* Measured from the start: `s` is at the terminator by now. */
    return (size_t)(s - start) < KG_SYMBOL_NAME_MAX;
}

/* "symbols" (each shape gives them) then "derived_symbols" (the reference
 * computes them per shape), in one list. */
static int parse_symbol_list(kg_workload *w, const kg_json_where *root, const cJSON *doc,
                             const char *key, int required, kg_error *err)
{
    const cJSON *arr = NULL;
    int rc = kg_json_array(root, doc, key, required, &arr, err);
    if (rc || !arr)
        return rc;
    kg_json_where at = kg_json_at_key(root, key);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if ((required && n == 0) || w->symbol_count + n > KG_SYMTAB_MAX / 2)
        return kg_json_fail(&at, err, "expected 1 to %d symbol names in all", KG_SYMTAB_MAX / 2);
    char **grown = realloc(w->symbols, (w->symbol_count + n + 1) * sizeof *w->symbols);
    if (!grown)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    w->symbols = grown;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        kg_json_where iw = kg_json_at_index(&at, i++);
        if (!cJSON_IsString(item) || !kg_is_identifier(item->valuestring))
            return kg_json_fail(&iw, err, "expected a symbol name (a C identifier)");
        if (kg_workload_has_symbol(w, item->valuestring))
            return kg_json_fail(&iw, err, "symbol '%s' listed twice", item->valuestring);
        w->symbols[w->symbol_count++] = strdup(item->valuestring);
    }
    return KG_OK;
}

/* "symbol_defaults": {"is_causal": 1, ...}: the value of a given symbol
 * for a shape that does not set it, so that options most shapes leave off
 * need not be written out in each. */
static int parse_symbol_defaults(kg_workload *w, const kg_json_where *root, const cJSON *doc,
                                 kg_error *err)
{
    const cJSON *obj = NULL;
    int rc = kg_json_object(root, doc, "symbol_defaults", 0, &obj, err);
    if (rc || !obj)
        return rc;
    kg_json_where at = kg_json_at_key(root, "symbol_defaults");
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        kg_json_where iw = kg_json_at_key(&at, item->string);
        size_t k = 0;
        while (k < w->given_symbol_count && strcmp(w->symbols[k], item->string) != 0)
            k++;
        if (k == w->given_symbol_count)
            return kg_json_fail(&iw, err, "'%s' is not one of the workload's \"symbols\"",
                                item->string);
        if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble) ||
            item->valuedouble < 0 || item->valuedouble > 9e15)
            return kg_json_fail(&iw, err, "expected a non-negative integer");
        kg_symtab_set(&w->symbol_defaults, item->string, (int64_t)item->valuedouble);
    }
    return KG_OK;
}

static int parse_symbols(kg_workload *w, const kg_json_where *root, const cJSON *doc, kg_error *err)
{
    int rc = parse_symbol_list(w, root, doc, "symbols", 1, err);
    w->given_symbol_count = w->symbol_count;
    if (!rc)
        rc = parse_symbol_list(w, root, doc, "derived_symbols", 0, err);
    if (!rc)
        rc = parse_symbol_defaults(w, root, doc, err);
    return rc;
}

/* "public_symbols": the symbols kernel manifests may read. The others
 * describe how kgrade draws the inputs (a layout seed, whether the cache is
 * shuffled), which a kernel may not specialise to. Absent, every symbol is
 * public; a workload that fills tensors itself (index tensors) or derives
 * symbols has a layout, so it must say. */
static int parse_public_symbols(kg_workload *w, const kg_json_where *root, const cJSON *doc,
                                kg_error *err)
{
    const cJSON *arr = NULL;
    int rc = kg_json_array(root, doc, "public_symbols", 0, &arr, err);
    if (rc)
        return rc;
    int has_layout = w->symbol_count > w->given_symbol_count;
    for (size_t i = 0; i < w->tensor_count; i++)
        has_layout |= w->tensors[i].init.dist == KG_DIST_WORKLOAD;
    if (!arr && has_layout)
        return kg_json_fail(
            root, err,
            "\"public_symbols\" is required: the workload fills tensors or "
            "derives symbols itself, so it must say which symbols kernels may read");
    if (!arr)
        return KG_OK;
    kg_json_where at = kg_json_at_key(root, "public_symbols");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    w->public_symbols = calloc(n ? n : 1, sizeof *w->public_symbols);
    if (!w->public_symbols)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        kg_json_where iw = kg_json_at_index(&at, i++);
        if (!cJSON_IsString(item) || !kg_workload_has_symbol(w, item->valuestring))
            return kg_json_fail(&iw, err, "expected the name of one of the workload's symbols");
        if (kg_workload_symbol_is_public(w, item->valuestring))
            return kg_json_fail(&iw, err, "'%s' listed twice", item->valuestring);
        w->public_symbols[w->public_count++] = strdup(item->valuestring);
    }
    return KG_OK;
}

static int parse_params(kg_workload *w, const kg_json_where *root, const cJSON *doc, kg_error *err)
{
    const cJSON *obj = NULL;
    int rc = kg_json_object(root, doc, "params", 0, &obj, err);
    if (rc || !obj)
        return rc;
    kg_json_where at = kg_json_at_key(root, "params");
    size_t n = (size_t)cJSON_GetArraySize(obj);
    w->params = calloc(n ? n : 1, sizeof *w->params);
    if (!w->params)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        kg_json_where iw = kg_json_at_key(&at, item->string);
        if (!kg_is_identifier(item->string))
            return kg_json_fail(&iw, err, "parameter names must be C identifiers");
        if (!cJSON_IsNumber(item))
            return kg_json_fail(&iw, err, "expected a number");
        if (kg_workload_has_symbol(w, item->string))
            return kg_json_fail(&iw, err, "'%s' is both a symbol and a parameter", item->string);
        w->params[w->param_count].name = strdup(item->string);
        w->params[w->param_count].value = item->valuedouble;
        w->param_count++;
    }
    return KG_OK;
}

/* An init object: {"dist": "normal", "mean", "std"}, {"dist": "uniform",
 * "low", "high"} or {"dist": "workload"}; a stress input (`stress` 1) may
 * add "row_offset": [low, high] and "neg_inf": fraction, and may not be
 * "workload". */
static int parse_init_object(const kg_json_where *iw, const cJSON *init, int stress, kg_init *out,
                             kg_error *err)
{
    const char *dist;
    int rc;
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(init))
        return kg_json_fail(iw, err, "expected an object with \"dist\"");
    if ((rc = kg_json_string(iw, init, "dist", 1, &dist, err)))
        return rc;
    static const char *const normal_keys[] = {"dist", "mean", "std", "row_offset", "neg_inf", NULL};
    static const char *const uniform_keys[] = {"dist",       "low",     "high",
                                               "row_offset", "neg_inf", NULL};
    static const char *const workload_keys[] = {"dist", NULL};
    const char *const *keys = normal_keys;
    if (strcmp(dist, "normal") == 0) {
        out->dist = KG_DIST_NORMAL;
        out->a = 0.0;
        out->b = 1.0;
        if ((rc = kg_json_number(iw, init, "mean", 0, &out->a, err)) ||
            (rc = kg_json_number(iw, init, "std", 0, &out->b, err)))
            return rc;
        if (!(out->b > 0))
            return kg_json_fail(iw, err, "std must be > 0");
    } else if (strcmp(dist, "workload") == 0 && !stress) {
        out->dist = KG_DIST_WORKLOAD;
        keys = workload_keys;
    } else if (strcmp(dist, "uniform") == 0) {
        out->dist = KG_DIST_UNIFORM;
        keys = uniform_keys;
        if ((rc = kg_json_number(iw, init, "low", 1, &out->a, err)) ||
            (rc = kg_json_number(iw, init, "high", 1, &out->b, err)))
            return rc;
        if (!(out->b > out->a))
            return kg_json_fail(iw, err, "high must be greater than low");
    } else {
        kg_json_where dw = kg_json_at_key(iw, "dist");
        return kg_json_fail(&dw, err, "unknown distribution '%s' (expected normal, uniform%s)",
                            dist, stress ? "" : " or workload");
    }
    if ((rc = kg_json_only_keys(iw, init, keys, err)))
        return rc;
    const cJSON *offset = cJSON_GetObjectItemCaseSensitive(init, "row_offset");
    const cJSON *neg_inf = cJSON_GetObjectItemCaseSensitive(init, "neg_inf");
    if ((offset || neg_inf) && !stress)
        return kg_json_fail(iw, err, "row_offset and neg_inf are for stress inputs only");
    if (offset) {
        kg_json_where ow = kg_json_at_key(iw, "row_offset");
        const cJSON *lo = cJSON_GetArrayItem(offset, 0), *hi = cJSON_GetArrayItem(offset, 1);
        if (!cJSON_IsArray(offset) || cJSON_GetArraySize(offset) != 2 || !cJSON_IsNumber(lo) ||
            !cJSON_IsNumber(hi) || !(hi->valuedouble >= lo->valuedouble))
            return kg_json_fail(&ow, err, "expected [low, high] with low <= high");
        out->row_offset_lo = lo->valuedouble;
        out->row_offset_hi = hi->valuedouble;
    }
    if (neg_inf) {
        kg_json_where nw = kg_json_at_key(iw, "neg_inf");
        if (!cJSON_IsNumber(neg_inf) || !(neg_inf->valuedouble >= 0) ||
            !(neg_inf->valuedouble <= 0.9))
            return kg_json_fail(&nw, err, "expected a fraction of elements from 0 to 0.9");
        out->neg_inf_fraction = neg_inf->valuedouble;
    }
    return KG_OK;
}

static int parse_init(const kg_json_where *tw, const cJSON *t, kg_tensor_spec *spec, kg_error *err)
{
    const cJSON *init = NULL;
    int rc = kg_json_object(tw, t, "init", spec->is_input, &init, err);
    if (rc)
        return rc;
    if (!init)
        return KG_OK;
    kg_json_where iw = kg_json_at_key(tw, "init");
    if (!spec->is_input)
        return kg_json_fail(&iw, err, "an output tensor has no init");
    return parse_init_object(&iw, init, 0, &spec->init, err);
}

/* {"atol": ..., "rtol": ...}, both >= 0. */
static int parse_tolerance_object(const kg_json_where *at, const cJSON *t, kg_tolerance *tol,
                                  kg_error *err)
{
    static const char *const keys[] = {"atol", "rtol", NULL};
    int rc;
    if (!cJSON_IsObject(t))
        return kg_json_fail(at, err, "expected {\"atol\": ..., \"rtol\": ...}");
    if ((rc = kg_json_only_keys(at, t, keys, err)) ||
        (rc = kg_json_number(at, t, "atol", 1, &tol->atol, err)) ||
        (rc = kg_json_number(at, t, "rtol", 1, &tol->rtol, err)))
        return rc;
    if (!(tol->atol >= 0) || !(tol->rtol >= 0))
        return kg_json_fail(at, err, "atol and rtol must be >= 0");
    tol->present = 1;
    return KG_OK;
}

/* A tensor's "role" and its own "tolerance" (outputs only), and its place
 * among the outputs. */
static int parse_role(kg_workload *w, const kg_json_where *tw, const cJSON *t, const char *role,
                      kg_tensor_spec *spec, kg_error *err)
{
    kg_json_where rw = kg_json_at_key(tw, "role");
    spec->is_input = strcmp(role, "input") == 0 || strcmp(role, "inout") == 0;
    spec->is_output = strcmp(role, "output") == 0 || strcmp(role, "inout") == 0;
    if (!spec->is_input && !spec->is_output)
        return kg_json_fail(&rw, err, "expected \"input\", \"output\" or \"inout\", got \"%s\"",
                            role);
    const cJSON *tol = cJSON_GetObjectItemCaseSensitive(t, "tolerance");
    kg_json_where lw = kg_json_at_key(tw, "tolerance");
    if (tol && !spec->is_output)
        return kg_json_fail(&lw, err, "only a tensor the kernel writes has a tolerance");
    if (tol) {
        int rc = parse_tolerance_object(&lw, tol, &spec->tolerance, err);
        if (rc)
            return rc;
    }
    if (!spec->is_output)
        return KG_OK;
    if (w->output_count == KG_MAX_OUTPUTS)
        return kg_json_fail(&rw, err, "at most %d tensors with role \"output\" or \"inout\"",
                            KG_MAX_OUTPUTS);
    w->outputs[w->output_count++] = w->tensor_count - 1;
    return KG_OK;
}

const kg_tolerance *kg_workload_tolerance(const kg_workload *w, size_t tensor)
{
    const kg_tensor_spec *t = &w->tensors[tensor];
    return t->tolerance.present ? &t->tolerance : &w->tolerance[t->dtype];
}

const char *kg_tensor_role_name(const kg_tensor_spec *t)
{
    return t->is_input ? (t->is_output ? "inout" : "input") : "output";
}

/* "stress": [{"name", "why", "inputs": {"x": {init object}, ...}}, ...]:
 * inputs for a recheck that matter for the workload's numerics. */
static int parse_stress(kg_workload *w, const kg_json_where *root, const cJSON *doc, kg_error *err)
{
    const cJSON *arr = NULL;
    int rc = kg_json_array(root, doc, "stress", 0, &arr, err);
    if (rc || !arr)
        return rc;
    kg_json_where at = kg_json_at_key(root, "stress");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n > 16)
        return kg_json_fail(&at, err, "at most 16 stress inputs");
    w->stress = calloc(n ? n : 1, sizeof *w->stress);
    if (!w->stress)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    static const char *const keys[] = {"name", "why", "inputs", NULL};
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        kg_json_where cw = kg_json_at_index(&at, w->stress_count);
        kg_stress_case *sc = &w->stress[w->stress_count++];
        sc->inits = calloc(w->tensor_count, sizeof *sc->inits);
        const char *name, *why = "";
        const cJSON *inputs;
        if (!sc->inits)
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        if (!cJSON_IsObject(c))
            return kg_json_fail(&cw, err, "expected {\"name\", \"why\", \"inputs\"}");
        if ((rc = kg_json_only_keys(&cw, c, keys, err)) ||
            (rc = kg_json_string(&cw, c, "name", 1, &name, err)) ||
            (rc = kg_json_string(&cw, c, "why", 0, &why, err)) ||
            (rc = kg_json_object(&cw, c, "inputs", 1, &inputs, err)))
            return rc;
        if (!kg_is_identifier(name) &&
            strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name))
            return kg_json_fail(&cw, err, "name: expected lower-case words joined by '-'");
        sc->name = strdup(name);
        sc->why = strdup(why);
        kg_json_where iw = kg_json_at_key(&cw, "inputs");
        const cJSON *t;
        cJSON_ArrayForEach(t, inputs)
        {
            kg_json_where tw = kg_json_at_key(&iw, t->string);
            int ti = kg_workload_tensor_index(w, t->string);
            if (ti < 0 || !w->tensors[ti].is_input || w->tensors[ti].init.dist == KG_DIST_WORKLOAD)
                return kg_json_fail(
                    &tw, err, "'%s' is not an input tensor drawn from a distribution", t->string);
            if ((rc = parse_init_object(&tw, t, 1, &sc->inits[ti], err)))
                return rc;
        }
    }
    return KG_OK;
}

static int parse_tensors(kg_workload *w, const kg_json_where *root, const cJSON *doc, kg_error *err)
{
    static const char *const keys[] = {"name", "role", "dtype", "shape", "init", "tolerance", NULL};
    const cJSON *arr;
    int rc = kg_json_array(root, doc, "tensors", 1, &arr, err);
    if (rc)
        return rc;
    kg_json_where at = kg_json_at_key(root, "tensors");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return kg_json_fail(&at, err, "expected at least one tensor");
    w->tensors = calloc(n, sizeof *w->tensors);
    if (!w->tensors)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        kg_json_where tw = kg_json_at_index(&at, w->tensor_count);
        kg_tensor_spec *spec = &w->tensors[w->tensor_count];
        const char *name, *role, *dtype;
        const cJSON *shape;
        if (!cJSON_IsObject(t))
            return kg_json_fail(&tw, err, "expected a tensor object");
        if ((rc = kg_json_only_keys(&tw, t, keys, err)) ||
            (rc = kg_json_string(&tw, t, "name", 1, &name, err)) ||
            (rc = kg_json_string(&tw, t, "role", 1, &role, err)) ||
            (rc = kg_json_string(&tw, t, "dtype", 1, &dtype, err)) ||
            (rc = kg_json_array(&tw, t, "shape", 1, &shape, err)))
            return rc;
        if (!kg_is_identifier(name))
            return kg_json_fail(&tw, err, "tensor name '%s' is not a C identifier", name);
        if (kg_workload_tensor_index(w, name) >= 0 || kg_workload_has_symbol(w, name) ||
            kg_workload_param_index(w, name) >= 0)
            return kg_json_fail(&tw, err, "name '%s' is already used", name);
        spec->name = strdup(name);
        w->tensor_count++;
        if ((rc = parse_role(w, &tw, t, role, spec, err)))
            return rc;
        int dt = kg_dtype_parse(dtype);
        if (dt < 0) {
            kg_json_where dw = kg_json_at_key(&tw, "dtype");
            return kg_json_fail(&dw, err, "unknown dtype '%s' (expected %s)", dtype,
                                KG_DTYPE_NAMES);
        }
        spec->dtype = (kg_dtype)dt;
        kg_json_where sw = kg_json_at_key(&tw, "shape");
        int rank = cJSON_GetArraySize(shape);
        if (rank < 1 || rank > KG_MAX_RANK)
            return kg_json_fail(&sw, err, "expected 1 to %d dimensions", KG_MAX_RANK);
        const cJSON *dim;
        cJSON_ArrayForEach(dim, shape)
        {
            kg_json_where dw = kg_json_at_index(&sw, (size_t)spec->rank);
            if ((rc = kg_workload_parse_expr(w, &dw, dim, &spec->dims[spec->rank], err)))
                return rc;
            spec->rank++;
        }
        if ((rc = parse_init(&tw, t, spec, err)))
            return rc;
    }
    if (w->output_count == 0)
        return kg_json_fail(&at, err,
                            "expected at least one tensor with role \"output\" or \"inout\"");
    return KG_OK;
}

static int is_derived(const kg_workload *w, const char *name)
{
    for (size_t i = w->given_symbol_count; i < w->symbol_count; i++)
        if (strcmp(w->symbols[i], name) == 0)
            return 1;
    return 0;
}

static int parse_shapes(kg_workload *w, const kg_json_where *root, const cJSON *doc, kg_error *err)
{
    const cJSON *obj;
    int rc = kg_json_object(root, doc, "shapes", 1, &obj, err);
    if (rc)
        return rc;
    kg_json_where at = kg_json_at_key(root, "shapes");
    static const char *const keys[] = {"smoke", "small", "full", "claim", "dev", NULL};
    if ((rc = kg_json_only_keys(&at, obj, keys, err)))
        return rc;
    for (int c = 0; c < KG_SIZE_CLASS_COUNT; c++) {
        const cJSON *list = NULL;
        int required = c != KG_SIZE_CLAIM && c != KG_SIZE_DEV;
        if ((rc = kg_json_array(&at, obj, size_class_names[c], required, &list, err)))
            return rc;
        if (!list)
            continue;
        kg_json_where cw = kg_json_at_key(&at, size_class_names[c]);
        size_t n = (size_t)cJSON_GetArraySize(list);
        if (n == 0)
            return kg_json_fail(&cw, err, "expected at least one shape");
        w->shapes[c] = calloc(n, sizeof(kg_shape));
        if (!w->shapes[c])
            return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
        const cJSON *s;
        cJSON_ArrayForEach(s, list)
        {
            kg_json_where sw = kg_json_at_index(&cw, w->shape_count[c]);
            kg_shape *shape = &w->shapes[c][w->shape_count[c]++];
            kg_symtab_init(&shape->symbols);
            shape->params = calloc(w->param_count ? w->param_count : 1, sizeof *shape->params);
            if (!shape->params)
                return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
            if (w->param_count)
                memcpy(shape->params, w->params, w->param_count * sizeof *shape->params);
            if (!cJSON_IsObject(s))
                return kg_json_fail(&sw, err, "expected an object giving every symbol");
            char generated[256] = "";
            const cJSON *v;
            cJSON_ArrayForEach(v, s)
            {
                if (strcmp(v->string, "name") == 0) {
                    if (!cJSON_IsString(v))
                        return kg_json_fail(&sw, err, "name: expected a string");
                    continue;
                }
                kg_json_where vw = kg_json_at_key(&sw, v->string);
                int param = kg_workload_param_index(w, v->string);
                if (param >= 0) {
                    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
                        return kg_json_fail(&vw, err, "expected a number (parameter '%s')",
                                            v->string);
                    shape->params[param].value = v->valuedouble;
                    size_t len = strlen(generated);
                    snprintf(generated + len, sizeof generated - len, "%s%s=%g", len ? "," : "",
                             v->string, v->valuedouble);
                    continue;
                }
                if (!kg_workload_has_symbol(w, v->string))
                    return kg_json_fail(&vw, err, "unknown symbol '%s'", v->string);
                if (is_derived(w, v->string))
                    return kg_json_fail(&vw, err,
                                        "'%s' is derived by the reference; a shape cannot set it",
                                        v->string);
                if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
                    v->valuedouble < 0 || v->valuedouble > 9e15)
                    return kg_json_fail(&vw, err, "expected a non-negative integer");
                kg_symtab_set(&shape->symbols, v->string, (int64_t)v->valuedouble);
                size_t len = strlen(generated);
                snprintf(generated + len, sizeof generated - len, "%s%s=%.0f", len ? "," : "",
                         v->string, v->valuedouble);
            }
            for (size_t k = 0; k < w->given_symbol_count; k++) {
                int64_t value;
                if (kg_symtab_get(&shape->symbols, w->symbols[k], &value))
                    continue;
                if (!kg_symtab_get(&w->symbol_defaults, w->symbols[k], &value))
                    return kg_json_fail(&sw, err, "symbol '%s' is not given", w->symbols[k]);
                kg_symtab_set(&shape->symbols, w->symbols[k], value);
            }
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
            shape->name = strdup(name ? name->valuestring : generated);
        }
    }
    return KG_OK;
}

static int parse_tolerance(kg_workload *w, const kg_json_where *root, const cJSON *doc,
                           kg_error *err)
{
    const cJSON *obj;
    int rc = kg_json_object(root, doc, "tolerance", 1, &obj, err);
    if (rc)
        return rc;
    kg_json_where at = kg_json_at_key(root, "tolerance");
    const cJSON *t;
    cJSON_ArrayForEach(t, obj)
    {
        kg_json_where tw = kg_json_at_key(&at, t->string);
        int dt = kg_dtype_parse(t->string);
        if (dt < 0)
            return kg_json_fail(&tw, err, "unknown dtype '%s'", t->string);
        if ((rc = parse_tolerance_object(&tw, t, &w->tolerance[dt], err)))
            return rc;
    }
    for (size_t k = 0; k < w->output_count; k++) {
        const kg_tensor_spec *out = &w->tensors[w->outputs[k]];
        if (!kg_workload_tolerance(w, w->outputs[k])->present)
            return kg_json_fail(&at, err,
                                "no tolerance for output %s: none of its own, none for "
                                "its dtype '%s'",
                                out->name, kg_dtype_name(out->dtype));
    }
    return KG_OK;
}

/* The reference declares what it reads; checking it here turns a mismatch
 * between reference.c and workload.json into a load error. */
static int bind_reference(kg_workload *w, kg_error *err)
{
    w->reference = kg_reference_find(w->name);
    if (!w->reference)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: no CPU reference compiled in for workload '%s' (is "
                            "baselines/%s/reference.c present, and was kgrade rebuilt?)",
                            w->file, w->name, w->name);
    char needs[512];
    snprintf(needs, sizeof needs, "%s", w->reference->needs ? w->reference->needs : "");
    for (char *save = NULL, *tok = strtok_r(needs, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (kg_workload_tensor_index(w, tok) < 0 && !kg_workload_has_symbol(w, tok) &&
            kg_workload_param_index(w, tok) < 0)
            return kg_error_set(err, KG_ERR_INVALID,
                                "%s: the CPU reference reads '%s', which the workload does not "
                                "define",
                                w->file, tok);
    }
    /* The reference's outputs, in order, are the workload's. */
    char outputs[512] = "";
    for (size_t k = 0; k < w->output_count; k++)
        snprintf(outputs + strlen(outputs), sizeof outputs - strlen(outputs), "%s%s", k ? ", " : "",
                 w->tensors[w->outputs[k]].name);
    if (!w->reference->output || strcmp(w->reference->output, outputs) != 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: the CPU reference writes '%s' but the workload's outputs are '%s'",
                            w->file, w->reference->output ? w->reference->output : "(none)",
                            outputs);
    return KG_OK;
}

/* Completes every shape with the derived symbols, and checks that the
 * reference can fill every tensor initialised by the workload. */
static int derive_symbols(kg_workload *w, kg_error *err)
{
    int derived = w->symbol_count > w->given_symbol_count;
    int filled = 0;
    for (size_t i = 0; i < w->tensor_count; i++)
        filled |= w->tensors[i].init.dist == KG_DIST_WORKLOAD;
    if (derived && !w->reference->derive)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: derived_symbols are listed but the CPU reference of '%s' has no "
                            "derive function",
                            w->file, w->name);
    if (filled && !w->reference->fill)
        return kg_error_set(err, KG_ERR_INVALID,
                            "%s: a tensor has init {\"dist\": \"workload\"} but the CPU "
                            "reference of '%s' has no fill function",
                            w->file, w->name);
    if (!derived)
        return KG_OK;
    for (int c = 0; c < KG_SIZE_CLASS_COUNT; c++)
        for (size_t s = 0; s < w->shape_count[c]; s++) {
            kg_shape *shape = &w->shapes[c][s];
            kg_error why = {0};
            if (w->reference->derive(&shape->symbols, &why) != KG_OK ||
                (w->reference->derive_params &&
                 w->reference->derive_params(&shape->symbols, shape->params, w->param_count,
                                             &why) != KG_OK))
                return kg_error_set(err, KG_ERR_INVALID, "%s: shapes.%s[%zu] (%s): %s", w->file,
                                    kg_size_class_name((kg_size_class)c), s, shape->name,
                                    why.message);
            for (size_t k = w->given_symbol_count; k < w->symbol_count; k++) {
                int64_t unused;
                if (!kg_symtab_get(&shape->symbols, w->symbols[k], &unused))
                    return kg_error_set(err, KG_ERR_INVALID,
                                        "%s: the CPU reference did not derive '%s' for shape %s",
                                        w->file, w->symbols[k], shape->name);
            }
        }
    return KG_OK;
}

int kg_workload_load(const char *dir, kg_workload **out, kg_error *err)
{
    *out = NULL;
    kg_workload *w = calloc(1, sizeof *w);
    if (!w)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    w->dir = strdup(dir);
    size_t len = strlen(dir) + sizeof "/workload.json";
    w->file = malloc(len);
    if (!w->dir || !w->file) {
        kg_workload_free(w);
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    }
    snprintf(w->file, len, "%s/workload.json", dir);

    cJSON *doc;
    int rc = kg_json_load(w->file, &doc, err);
    if (rc) {
        kg_workload_free(w);
        return rc;
    }
    kg_json_where root = {.file = w->file};
    static const char *const keys[] = {
        "kgrade_workload", "name",           "description", "symbols", "derived_symbols",
        "symbol_defaults", "public_symbols", "params",      "tensors", "shapes",
        "tolerance",       "flops",          "bytes",       "stress",  NULL};
    double version = 0;
    const char *name, *description = "";
    if ((rc = kg_json_only_keys(&root, doc, keys, err)) ||
        (rc = kg_json_number(&root, doc, "kgrade_workload", 1, &version, err)))
        goto done;
    if (version != 1) {
        rc =
            kg_json_fail(&root, err, "kgrade_workload is %g; this kgrade reads version 1", version);
        goto done;
    }
    if ((rc = kg_json_string(&root, doc, "name", 1, &name, err)) ||
        (rc = kg_json_string(&root, doc, "description", 0, &description, err)))
        goto done;
    w->name = dup_string(name);
    w->description = dup_string(description);
    const char *slash = strrchr(dir, '/');
    const char *folder = slash && slash[1] ? slash + 1 : dir;
    if (strcmp(folder, name) != 0) {
        rc = kg_json_fail(&root, err, "name '%s' differs from its folder '%s'", name, folder);
        goto done;
    }
    if ((rc = parse_symbols(w, &root, doc, err)) || (rc = parse_params(w, &root, doc, err)) ||
        (rc = parse_tensors(w, &root, doc, err)) ||
        (rc = parse_public_symbols(w, &root, doc, err)) ||
        (rc = parse_stress(w, &root, doc, err)) || (rc = parse_shapes(w, &root, doc, err)) ||
        (rc = parse_tolerance(w, &root, doc, err)))
        goto done;
    const cJSON *flops = cJSON_GetObjectItemCaseSensitive(doc, "flops");
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(doc, "bytes");
    kg_json_where fw = kg_json_at_key(&root, "flops"), bw = kg_json_at_key(&root, "bytes");
    if (!flops || !bytes) {
        rc = kg_json_fail(flops ? &bw : &fw, err, "missing required field");
        goto done;
    }
    if ((rc = kg_workload_parse_expr(w, &fw, flops, &w->flops, err)) ||
        (rc = kg_workload_parse_expr(w, &bw, bytes, &w->bytes, err)))
        goto done;
    if ((rc = bind_reference(w, err)) == KG_OK)
        rc = derive_symbols(w, err);
done:
    cJSON_Delete(doc);
    if (rc) {
        kg_workload_free(w);
        return rc;
    }
    *out = w;
    return KG_OK;
}

void kg_workload_free(kg_workload *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->symbol_count; i++)
        free(w->symbols[i]);
    free(w->symbols);
    for (size_t i = 0; i < w->public_count; i++)
        free(w->public_symbols[i]);
    free(w->public_symbols);
    for (size_t i = 0; i < w->stress_count; i++) {
        free(w->stress[i].name);
        free(w->stress[i].why);
        free(w->stress[i].inits);
    }
    free(w->stress);
    for (size_t i = 0; i < w->param_count; i++)
        free((char *)w->params[i].name);
    free(w->params);
    for (size_t i = 0; i < w->tensor_count; i++) {
        free(w->tensors[i].name);
        for (int d = 0; d < w->tensors[i].rank; d++)
            kg_expr_free(w->tensors[i].dims[d]);
    }
    free(w->tensors);
    for (int c = 0; c < KG_SIZE_CLASS_COUNT; c++) {
        for (size_t i = 0; i < w->shape_count[c]; i++) {
            free(w->shapes[c][i].name);
            free(w->shapes[c][i].params);
        }
        free(w->shapes[c]);
    }
    kg_expr_free(w->flops);
    kg_expr_free(w->bytes);
    free(w->name);
    free(w->description);
    free(w->dir);
    free(w->file);
    free(w);
}

const kg_param_value *kg_shape_params(const kg_workload *w, const kg_shape *shape)
{
    return shape->params ? shape->params : w->params;
}

int kg_eval_for_shape(const kg_expr *e, const kg_shape *shape, const char *workload,
                      const char *what, int64_t *value, kg_error *err)
{
    kg_error xe;
    if (kg_expr_eval(e, &shape->symbols, value, &xe) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: shape %s: %s (\"%s\"): %s", workload,
                            shape->name, what, kg_expr_text(e), xe.message);
    return KG_OK;
}
