/*
 * libFuzzer target: the workload manifest parser (kg_workload_load), with
 * the input as <folder>/workload.json. A loaded workload must also survive
 * what a run does with it before any device is involved: every tensor
 * dimension and the FLOP and byte formulas evaluated for every shape.
 *
 * The loader requires the "name" field to equal the folder's name, so the
 * folder is named after the input's "name" when that is a plain file name:
 * inputs named after a compiled-in workload reach its CPU reference's
 * derive function.
 */
#include "fuzz_common.h"

#include "workload.h"

#include <cjson/cJSON.h>

/* A name usable as one folder: no separators, no "." or "..". */
static int plain_folder_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* The header promises names below KG_SYMBOL_NAME_MAX: they are copied into
 * fixed-size symbol tables and macro buffers later. */
static void check_name(const char *name)
{
    if (name == NULL || strlen(name) >= KG_SYMBOL_NAME_MAX || !kg_is_identifier(name))
        kg_fuzz_die("loaded workload has a bad name", name ? name : "(null)");
}

static void exercise(const kg_workload *w)
{
    for (size_t i = 0; i < w->symbol_count; i++)
        check_name(w->symbols[i]);
    for (size_t i = 0; i < w->param_count; i++)
        check_name(w->params[i].name);
    for (size_t i = 0; i < w->tensor_count; i++)
        check_name(w->tensors[i].name);
    if (w->output_count == 0 || w->outputs[0] >= w->tensor_count || w->reference == NULL)
        kg_fuzz_die("loaded workload is inconsistent", w->name);
    for (int c = 0; c < KG_SIZE_CLASS_COUNT; c++) {
        for (size_t s = 0; s < w->shape_count[c]; s++) {
            const kg_shape *shape = &w->shapes[c][s];
            kg_error err;
            int64_t v;
            for (size_t i = 0; i < w->tensor_count; i++)
                for (int d = 0; d < w->tensors[i].rank; d++)
                    kg_eval_for_shape(w->tensors[i].dims[d], shape, w->name, "dim", &v, &err);
            kg_eval_for_shape(w->flops, shape, w->name, "flops", &v, &err);
            kg_eval_for_shape(w->bytes, shape, w->name, "bytes", &v, &err);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char folder_name[80] = "w";
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
    if (cJSON_IsString(name) && plain_folder_name(name->valuestring))
        snprintf(folder_name, sizeof folder_name, "%s", name->valuestring);
    cJSON_Delete(doc);

    char dir[PATH_MAX], file[PATH_MAX + 32];
    kg_fuzz_make_folder(folder_name, dir, sizeof dir);
    snprintf(file, sizeof file, "%s/workload.json", dir);
    kg_fuzz_write(file, data, size);

    kg_workload *w = NULL;
    kg_error err;
    err.message[0] = '\0';
    int rc = kg_workload_load(dir, &w, &err);
    kg_fuzz_report(folder_name, rc, err.message);
    if (rc == KG_OK) {
        exercise(w);
        kg_workload_free(w);
    } else if (w != NULL || err.message[0] == '\0') {
        kg_fuzz_die("failed load without a message or with a workload", dir);
    }
    unlink(file);
    rmdir(dir);
    return 0;
}
