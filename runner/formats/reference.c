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
