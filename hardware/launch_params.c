/* Packing kernel arguments for cuLaunchKernel and hipModuleLaunchKernel. */
#include "launch_params.h"

int kg_launch_params(const kg_launch *l, const char *entry, void *(*buffer_slot)(kg_buffer *),
                     void **params, size_t max, kg_error *err)
{
    if (l->arg_count > max)
        return kg_error_set(err, KG_ERR_INVALID, "%s: %zu arguments (at most %zu)", entry,
                            l->arg_count, max);
    for (size_t i = 0; i < l->arg_count; i++) {
        const kg_arg *a = &l->args[i];
        switch (a->kind) {
        case KG_ARG_BUFFER:
            if (!a->value.buffer)
                return kg_error_set(err, KG_ERR_INVALID, "%s: argument %zu is a NULL buffer", entry,
                                    i);
            params[i] = buffer_slot(a->value.buffer);
            break;
        case KG_ARG_I32:
            params[i] = (void *)&a->value.i32;
            break;
        case KG_ARG_I64:
            params[i] = (void *)&a->value.i64;
            break;
        case KG_ARG_F32:
            params[i] = (void *)&a->value.f32;
            break;
        default:
            return kg_error_set(err, KG_ERR_INVALID, "%s: argument %zu has an unknown kind", entry,
                                i);
        }
    }
    return KG_OK;
}
