/* Look-ups shared by every workload's CPU reference. */
#include "reference.h"

#include <math.h>
#include <string.h>

const kg_host_tensor *kg_ref_tensor(const kg_ref_inputs *in, const char *name)
{
    for (size_t i = 0; i < in->tensor_count; i++)
        if (strcmp(in->tensors[i].name, name) == 0)
            return &in->tensors[i];
    return NULL;
}

double kg_ref_param(const kg_ref_inputs *in, const char *name)
{
    for (size_t i = 0; i < in->param_count; i++)
        if (strcmp(in->params[i].name, name) == 0)
            return in->params[i].value;
    return NAN;
}

int64_t kg_ref_symbol(const kg_ref_inputs *in, const char *name)
{
    int64_t v = 0;
    kg_symtab_get(in->symbols, name, &v);
    return v;
}

double kg_ref_at(const kg_host_tensor *t, size_t i)
{
    return kg_dtype_load(t->dtype, t->data, i);
}

uint64_t kg_ref_layout_seed(uint64_t layout_seed, uint64_t recheck_salt, uint64_t shape_basis,
                            const int64_t *parts, size_t count)
{
    if (layout_seed)
        return layout_seed ^ recheck_salt;
    uint64_t h = shape_basis;
    for (size_t i = 0; i < count; i++)
        h = (h ^ (uint64_t)parts[i]) * 1099511628211ull; /* the FNV-1a prime */
    return h;
}

kg_host_tensor *kg_ref_index_tensor(const kg_ref_inputs *in, kg_host_tensor *tensors,
                                    const char *name, size_t count)
{
    for (size_t i = 0; i < in->tensor_count; i++)
        if (strcmp(tensors[i].name, name) == 0)
            return tensors[i].dtype == KG_DTYPE_I32 && tensors[i].count == count ? &tensors[i]
                                                                                 : NULL;
    return NULL;
}

void kg_ref_shuffle_i32(int32_t *v, int64_t n, kg_rng *rng)
{
    for (int64_t s = n - 1; s > 0; s--) {
        int64_t r = (int64_t)kg_rng_below(rng, (uint64_t)s + 1);
        int32_t tmp = v[s];
        v[s] = v[r];
        v[r] = tmp;
    }
}

int kg_ref_attention_params(const kg_symtab *t, const char *head_dim, kg_param_value *params,
                            size_t count, kg_error *err)
{
    int64_t d = 0;
    kg_symtab_get(t, head_dim, &d);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(params[i].name, "sm_scale") == 0 && params[i].value == 0 && d > 0)
            params[i].value = 1.0 / sqrt((double)d);
        if (params[i].value < 0)
            return kg_error_set(err, KG_ERR_INVALID, "%s = %g must be >= 0", params[i].name,
                                params[i].value);
    }
    return KG_OK;
}
