/* kernels.json, language "library" (docs/formats.md): the "call" a
 * library tier makes to the backend's BLAS library. */
#include "kernelset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kg_library_call_free(kg_library_call *call)
{
    if (!call)
        return;
    kg_expr_free(call->m);
    kg_expr_free(call->n);
    kg_expr_free(call->k);
    free(call);
}

void kg_library_call_describe(const kg_library_call *call, char *out, size_t size)
{
    /* The dtype as workload.json spells it (not device.c's name for it:
     * the parsers are also built without the hardware stage, for fuzzing). */
    kg_dtype dtype = call->dtype == KG_BLAS_F16    ? KG_DTYPE_F16
                     : call->dtype == KG_BLAS_BF16 ? KG_DTYPE_BF16
                                                   : KG_DTYPE_F32;
    snprintf(out, size, "gemm %s, B %s", kg_dtype_name(dtype),
             call->b_transposed ? "[n][k]" : "[k][n]");
}

/* The workload's tensor named by `key`, an input (want_output 0) or an
 * output; its index in *index. */
static int parse_tensor(const kg_workload *w, const kg_json_where *cw, const cJSON *obj,
                        const char *key, int want_output, size_t *index, kg_error *err)
{
    const char *name;
    int rc = kg_json_string(cw, obj, key, 1, &name, err);
    if (rc)
        return rc;
    kg_json_where at = kg_json_at_key(cw, key);
    int i = kg_workload_tensor_index(w, name);
    if (i < 0)
        return kg_json_fail(&at, err, "'%s' is not a tensor of workload %s", name, w->name);
    const kg_tensor_spec *t = &w->tensors[i];
    /* An inout would be both read and overwritten by a call that takes
     * its operands and its result as separate matrices. */
    if (want_output && (!t->is_output || t->is_input))
        return kg_json_fail(&at, err, "'%s' is not an output of workload %s (the call writes %s)",
                            name, w->name, key);
    if (!want_output && (!t->is_input || t->is_output))
        return kg_json_fail(&at, err, "'%s' is not an input of workload %s (the call reads %s)",
                            name, w->name, key);
    *index = (size_t)i;
    return KG_OK;
}

/* One element type for A, B and C, one a library GEMM takes. */
static int parse_dtype(const kg_workload *w, const kg_json_where *cw, kg_library_call *call,
                       kg_error *err)
{
    kg_dtype a = w->tensors[call->a].dtype, b = w->tensors[call->b].dtype,
             c = w->tensors[call->c].dtype;
    if (a != b || a != c)
        return kg_json_fail(cw, err, "A, B and C are %s, %s and %s; a library GEMM takes one type",
                            kg_dtype_name(a), kg_dtype_name(b), kg_dtype_name(c));
    switch (a) {
    case KG_DTYPE_F32:
        call->dtype = KG_BLAS_F32;
        return KG_OK;
    case KG_DTYPE_F16:
        call->dtype = KG_BLAS_F16;
        return KG_OK;
    case KG_DTYPE_BF16:
        call->dtype = KG_BLAS_BF16;
        return KG_OK;
    default:
        return kg_json_fail(cw, err, "a library GEMM takes f32, f16 or bf16 tensors, not %s",
                            kg_dtype_name(a));
    }
}

static int parse_gemm(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *cw,
                      const cJSON *obj, kg_library_call *call, kg_error *err)
{
    static const char *const keys[] = {"op", "a", "b", "c", "m", "n", "k", "b_layout", NULL};
    const char *layout = "kn";
    int rc;
    if ((rc = kg_json_only_keys(cw, obj, keys, err)) ||
        (rc = parse_tensor(w, cw, obj, "a", 0, &call->a, err)) ||
        (rc = parse_tensor(w, cw, obj, "b", 0, &call->b, err)) ||
        (rc = parse_tensor(w, cw, obj, "c", 1, &call->c, err)) ||
        (rc = kg_json_string(cw, obj, "b_layout", 0, &layout, err)))
        return rc;
    if (strcmp(layout, "kn") != 0 && strcmp(layout, "nk") != 0) {
        kg_json_where lw = kg_json_at_key(cw, "b_layout");
        return kg_json_fail(&lw, err,
                            "unknown layout '%s' (expected \"kn\": B[k][n], or \"nk\": B[n][k], "
                            "C = A * B^T)",
                            layout);
    }
    call->b_transposed = layout[0] == 'n';
    static const char *const dims[] = {"m", "n", "k"};
    kg_expr **outs[] = {&call->m, &call->n, &call->k};
    for (int d = 0; d < 3; d++) {
        kg_json_where dw = kg_json_at_key(cw, dims[d]);
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, dims[d]);
        if (!item)
            return kg_json_fail(&dw, err, "missing required field");
        if ((rc = kg_kernel_entry_parse_expr(w, e, &dw, item, outs[d], err)))
            return rc;
    }
    return parse_dtype(w, cw, call, err);
}

int kg_library_call_parse(const kg_workload *w, kg_kernel_entry *e, const kg_json_where *where,
                          const cJSON *obj, kg_error *err)
{
    kg_json_where lw = kg_json_at_key(where, "language");
    /* A submission is graded on kernels of its own; a vendor library's
     * time is a baseline to be compared against, never a candidate's. */
    if (kg_set_is_submission(e->set))
        return kg_json_fail(&lw, err,
                            "language library is for baseline tiers (baselines/<workload>/"
                            "kernels.json): a submission is graded on kernels of its own");
    static const char *const not_for_library[] = {"source",  "upstream", "defines", "launches",
                                                  "scratch", "sweep",    "options", NULL};
    for (int i = 0; not_for_library[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(obj, not_for_library[i])) {
            kg_json_where at = kg_json_at_key(where, not_for_library[i]);
            return kg_json_fail(&at, err,
                                "a library tier has a \"call\" and no \"%s\": the library is "
                                "its code",
                                not_for_library[i]);
        }
    const cJSON *call_obj = NULL;
    int rc = kg_json_object(where, obj, "call", 1, &call_obj, err);
    if (rc)
        return rc;
    kg_json_where cw = kg_json_at_key(where, "call");
    const char *op;
    if ((rc = kg_json_string(&cw, call_obj, "op", 1, &op, err)))
        return rc;
    if (strcmp(op, "gemm") != 0) {
        kg_json_where ow = kg_json_at_key(&cw, "op");
        return kg_json_fail(&ow, err, "unknown op '%s' (expected gemm)", op);
    }
    e->call = calloc(1, sizeof *e->call);
    if (!e->call)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    e->call->op = KG_LIBRARY_GEMM;
    return parse_gemm(w, e, &cw, call_obj, e->call, err);
}
