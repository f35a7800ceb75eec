/* kernels.json, language "triton" (docs/triton.md): the fields of a Triton
 * launch and a baseline tier's "upstream" source. */
#include "kernelset.h"
#include "python_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kg_triton_launch_free(kg_triton_launch *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->param_count; i++) {
        free(t->params[i].name);
        free(t->params[i].type);
    }
    free(t->params);
    for (size_t i = 0; i < t->constexpr_count; i++) {
        free(t->constexprs[i].name);
        free(t->constexprs[i].dtype);
        kg_expr_free(t->constexprs[i].value);
    }
    free(t->constexprs);
    kg_expr_free(t->num_warps);
    kg_expr_free(t->num_stages);
    for (size_t i = 0; i < t->hip_option_count; i++)
        free(t->hip_option_names[i]);
    free(t);
}

/* Triton's scalar type names, and the element types a pointer may have. */
static const char *const scalar_types[] = {"i1",   "i8",      "i16",   "i32",  "i64",  "u8",
                                           "u16",  "u32",     "u64",   "fp16", "bf16", "fp32",
                                           "fp64", "fp8e4nv", "fp8e5", NULL};

static int known_scalar(const char *t)
{
    for (size_t i = 0; scalar_types[i]; i++)
        if (strcmp(t, scalar_types[i]) == 0)
            return 1;
    return 0;
}

/* The Triton element type of a kgrade dtype ("bf16" -> "bf16", "f32" ->
 * "fp32"). */
static const char *triton_element(kg_dtype dtype)
{
    const char *name = kg_dtype_name(dtype);
    if (strcmp(name, "f32") == 0)
        return "fp32";
    if (strcmp(name, "f16") == 0)
        return "fp16";
    if (strcmp(name, "f64") == 0)
        return "fp64";
    /* OCP fp8: Triton's fp8e4nv is e4m3 with NaN only at 0x7f/0xff (torch's
     * float8_e4m3fn), fp8e5 is e5m2. */
    if (strcmp(name, "f8e4m3") == 0)
        return "fp8e4nv";
    if (strcmp(name, "f8e5m2") == 0)
        return "fp8e5";
    return name;
}

/* Is argument `a` of the launch what a parameter of type `type` takes? A
 * tensor or scratch buffer goes to a pointer of its own dtype (a kernel
 * that reads bf16 as fp16 would be graded on garbage), an integer
 * expression to an integer, a float to fp32. */
static int check_arg(const kg_workload *w, const kg_kernel_entry *e, const kg_arg_spec *a,
                     const char *type, char *why, size_t size)
{
    int pointer = type[0] == '*';
    const char *element = pointer ? type + 1 : type;
    if (!known_scalar(element)) {
        snprintf(why, size,
                 "unknown Triton type '%s' (expected *T or T, T one of i32, i64, "
                 "fp32, bf16, fp16, ...)",
                 type);
        return -1;
    }
    switch (a->source) {
    case KG_ARGSRC_TENSOR:
    case KG_ARGSRC_SCRATCH: {
        kg_dtype dtype =
            a->source == KG_ARGSRC_TENSOR ? w->tensors[a->index].dtype : e->scratch[a->index].dtype;
        const char *want = triton_element(dtype);
        if (pointer && strcmp(element, want) == 0)
            return 0;
        /* A byte buffer is also what torch hands Triton for a bool tensor. */
        if (pointer && dtype == KG_DTYPE_U8 && strcmp(element, "i1") == 0)
            return 0;
        snprintf(why, size, "the argument is a %s buffer, so the type must be *%s, not %s",
                 kg_dtype_name(dtype), want, type);
        return -1;
    }
    case KG_ARGSRC_PARAM:
    case KG_ARGSRC_F32:
        if (strcmp(type, "fp32") == 0)
            return 0;
        snprintf(why, size, "the argument is a float, so the type must be fp32, not %s", type);
        return -1;
    case KG_ARGSRC_I32:
        if (strcmp(type, "i32") == 0)
            return 0;
        snprintf(why, size,
                 "the argument is an int32 expression, so the type must be i32, not "
                 "%s (write \"i64:...\" for i64)",
                 type);
        return -1;
    case KG_ARGSRC_I64:
        if (strcmp(type, "i64") == 0)
            return 0;
        snprintf(why, size, "the argument is \"i64:...\", so the type must be i64, not %s", type);
        return -1;
    }
    return 0;
}

static int parse_signature(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *lw,
                           const cJSON *l, kg_launch_spec *spec, kg_error *err)
{
    kg_triton_launch *t = spec->triton;
    const cJSON *sig = NULL;
    int rc = kg_json_object(lw, l, "signature", 1, &sig, err);
    if (rc)
        return rc;
    kg_json_where sw = kg_json_at_key(lw, "signature");
    size_t n = (size_t)cJSON_GetArraySize(sig);
    if (n != spec->arg_count)
        return kg_json_fail(&sw, err,
                            "%zu parameters in the signature but %zu args: one argument per "
                            "runtime parameter, in order",
                            n, spec->arg_count);
    t->params = calloc(n ? n : 1, sizeof *t->params);
    if (!t->params)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const cJSON *p;
    cJSON_ArrayForEach(p, sig)
    {
        kg_json_where pw = kg_json_at_key(&sw, p->string);
        if (!kg_is_identifier(p->string))
            return kg_json_fail(&pw, err, "a parameter name must be an identifier");
        if (!cJSON_IsString(p))
            return kg_json_fail(&pw, err, "expected a Triton type such as \"*bf16\" or \"i32\"");
        char why[256];
        if (check_arg(w, e, &spec->args[t->param_count], p->valuestring, why, sizeof why))
            return kg_json_fail(&pw, err, "parameter %s (args[%zu]): %s", p->string, t->param_count,
                                why);
        t->params[t->param_count].name = strdup(p->string);
        t->params[t->param_count].type = strdup(p->valuestring);
        t->param_count++;
    }
    return KG_OK;
}

static int parse_constexprs(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *lw,
                            const cJSON *l, kg_triton_launch *t, kg_error *err)
{
    const cJSON *obj = NULL;
    int rc = kg_json_object(lw, l, "constexprs", 0, &obj, err);
    if (rc || !obj)
        return rc;
    kg_json_where cw = kg_json_at_key(lw, "constexprs");
    size_t n = (size_t)cJSON_GetArraySize(obj);
    t->constexprs = calloc(n ? n : 1, sizeof *t->constexprs);
    if (!t->constexprs)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        kg_json_where iw = kg_json_at_key(&cw, c->string);
        if (!kg_is_identifier(c->string))
            return kg_json_fail(&iw, err, "a parameter name must be an identifier");
        for (size_t i = 0; i < t->param_count; i++)
            if (strcmp(t->params[i].name, c->string) == 0)
                return kg_json_fail(&iw, err, "%s is in the signature too", c->string);
        kg_triton_constexpr *k = &t->constexprs[t->constexpr_count++];
        k->name = strdup(c->string);
        /* "dtype:bf16": a Triton dtype (SGLang's fused MoE kernel takes its
         * compute type as tl.bfloat16), which no number can stand for. */
        if (cJSON_IsString(c) && strncmp(c->valuestring, "dtype:", 6) == 0) {
            k->param = -1;
            if (!known_scalar(c->valuestring + 6))
                return kg_json_fail(&iw, err,
                                    "unknown Triton dtype '%s' (expected dtype:T, T one of i32, "
                                    "fp32, bf16, fp16, fp8e4nv, ...)",
                                    c->valuestring + 6);
            if (!(k->dtype = strdup(c->valuestring + 6)))
                return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
            continue;
        }
        /* A workload parameter's name: its value for the shape, a float
         * (logit_cap), which an integer expression cannot give. */
        k->param = cJSON_IsString(c) ? kg_workload_param_index(w, c->valuestring) : -1;
        if (k->param < 0 && !cJSON_IsNull(c) &&
            (rc = kg_kernel_entry_parse_expr(w, e, &iw, c, &k->value, err)))
            return rc;
    }
    return KG_OK;
}

/* "hip_options": {"waves_per_eu": 1, ...}: Triton's AMD options, each an
 * integer, each at most once. */
static int parse_hip_options(const kg_json_where *lw, const cJSON *l, kg_triton_launch *t,
                             kg_error *err)
{
    static const char *const allowed[] = {"waves_per_eu", "matrix_instr_nonkdim", "kpack"};
    const cJSON *obj = NULL;
    int rc = kg_json_object(lw, l, "hip_options", 0, &obj, err);
    if (rc || !obj)
        return rc;
    kg_json_where hw = kg_json_at_key(lw, "hip_options");
    const cJSON *o;
    cJSON_ArrayForEach(o, obj)
    {
        kg_json_where ow = kg_json_at_key(&hw, o->string);
        size_t k = 0;
        while (k < KG_TRITON_MAX_HIP_OPTIONS && strcmp(o->string, allowed[k]) != 0)
            k++;
        if (k == KG_TRITON_MAX_HIP_OPTIONS)
            return kg_json_fail(&ow, err,
                                "unknown option (expected waves_per_eu, matrix_instr_nonkdim "
                                "or kpack)");
        if (!cJSON_IsNumber(o) || o->valuedouble < 0 || o->valuedouble > 1024 ||
            o->valuedouble != (double)(int64_t)o->valuedouble)
            return kg_json_fail(&ow, err, "expected an integer from 0 to 1024");
        for (size_t i = 0; i < t->hip_option_count; i++)
            if (strcmp(t->hip_option_names[i], o->string) == 0)
                return kg_json_fail(&ow, err, "given twice");
        t->hip_option_names[t->hip_option_count] = strdup(o->string);
        t->hip_option_values[t->hip_option_count++] = (int64_t)o->valuedouble;
    }
    return KG_OK;
}

int kg_triton_launch_parse(const kg_workload *w, const kg_kernel_entry *e, const kg_json_where *lw,
                           const cJSON *l, kg_launch_spec *spec, kg_error *err)
{
    spec->triton = calloc(1, sizeof *spec->triton);
    if (!spec->triton)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    kg_triton_launch *t = spec->triton;
    static const char *const counts[] = {"num_warps", "num_stages"};
    kg_expr **outs[] = {&t->num_warps, &t->num_stages};
    int rc;
    if ((rc = parse_signature(w, e, lw, l, spec, err)) ||
        (rc = parse_constexprs(w, e, lw, l, t, err)) || (rc = parse_hip_options(lw, l, t, err)))
        return rc;
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, counts[i]);
        kg_json_where vw = kg_json_at_key(lw, counts[i]);
        if (!v)
            return kg_json_fail(lw, err, "missing \"%s\" (an expression)", counts[i]);
        if ((rc = kg_kernel_entry_parse_expr(w, e, &vw, v, outs[i], err)))
            return rc;
    }
    return KG_OK;
}

/* A path inside a package: relative, no '..' component, no odd bytes. */
static int package_path_ok(const char *p)
{
    if (!p[0] || p[0] == '/')
        return 0;
    for (const char *s = p; *s; s++)
        if (!(s[0] == '/' || s[0] == '_' || s[0] == '-' || s[0] == '.' ||
              (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
              (s[0] >= '0' && s[0] <= '9')))
            return 0;
    return strstr(p, "..") == NULL;
}

int kg_upstream_parse(kg_kernel_entry *e, const kg_json_where *where, const cJSON *obj,
                      kg_error *err)
{
    kg_json_where uw = kg_json_at_key(where, "upstream");
    static const char *const keys[] = {"package", "version", "path", NULL};
    const char *package, *version, *path;
    int rc;
    if (!cJSON_IsObject(obj))
        return kg_json_fail(&uw, err, "expected {\"package\", \"version\", \"path\"}");
    if ((rc = kg_json_only_keys(&uw, obj, keys, err)) ||
        (rc = kg_json_string(&uw, obj, "package", 1, &package, err)) ||
        (rc = kg_json_string(&uw, obj, "version", 1, &version, err)) ||
        (rc = kg_json_string(&uw, obj, "path", 1, &path, err)))
        return rc;
    if (!package_path_ok(package) || strchr(package, '/') || !package_path_ok(version) ||
        strchr(version, '/') || !package_path_ok(path))
        return kg_json_fail(&uw, err,
                            "package, version and path must be plain names (letters, digits, "
                            "'.', '_', '-'; '/' in path only; no '..')");
    e->upstream_package = strdup(package);
    e->upstream_version = strdup(version);
    e->upstream_path = strdup(path);
    char full[4096];
    snprintf(full, sizeof full, "%s/%s-%s/%s", kg_upstream_dir(), package, version, path);
    e->source_path = strdup(full);
    char shown[512];
    snprintf(shown, sizeof shown, "%s-%s/%s", package, version, path);
    e->source_file = strdup(shown);
    return e->upstream_package && e->source_path && e->source_file
               ? KG_OK
               : kg_error_set(err, KG_ERR_MEMORY, "out of memory");
}
