/* The workload.json and kernels.json parsers: a valid pair loads with the
 * right values, and each bad input in the tables below fails with the error
 * a user needs (file, field, what was expected). Fixtures are written to a
 * fresh temporary folder named like the real softmax workload, so the real
 * compiled-in softmax reference binds to them. */
#include "kernelset.h"
#include "kg_test.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static char wdir[300];

#define VALID_WORKLOAD                                                                             \
    "{\n"                                                                                          \
    "  \"kgrade_workload\": 1,\n"                                                                  \
    "  \"name\": \"softmax\",\n"                                                                   \
    "  \"symbols\": [\"rows\", \"cols\"],\n"                                                       \
    "  \"params\": {\"eps\": 0.5},\n"                                                              \
    "  \"tensors\": [\n"                                                                           \
    "    {\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"rows\", "        \
    "\"cols\"],\n"                                                                                 \
    "     \"init\": {\"dist\": \"normal\", \"mean\": 0, \"std\": 1}},\n"                           \
    "    {\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"rows\", "       \
    "\"cols\"]}\n"                                                                                 \
    "  ],\n"                                                                                       \
    "  \"shapes\": {\"smoke\": [{\"rows\": 3, \"cols\": 5}], \"small\": [{\"name\": \"s\", "       \
    "\"rows\": 8, \"cols\": 16}],\n"                                                               \
    "             \"full\": [{\"rows\": 64, \"cols\": 64}]},\n"                                    \
    "  \"tolerance\": {\"f32\": {\"atol\": 1e-6, \"rtol\": 1e-5}},\n"                              \
    "  \"flops\": \"5*rows*cols\",\n"                                                              \
    "  \"bytes\": \"8*rows*cols\"\n"                                                               \
    "}\n"

/* Replaces the first occurrence of `from` in VALID_WORKLOAD with `to`. */
static char *variant(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    if (!at) {
        fprintf(stderr, "fixture error: '%s' not in base\n", from);
        exit(1);
    }
    size_t len = strlen(base) - strlen(from) + strlen(to) + 1;
    char *out = malloc(len);
    snprintf(out, len, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    return out;
}

static void test_valid_workload(void)
{
    kg_test_write_file(wdir, "workload.json", VALID_WORKLOAD);
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_workload_load(wdir, &w, &err), KG_OK);
    if (!w) {
        fprintf(stderr, "error: %s\n", err.message);
        return;
    }
    KG_CHECK(strcmp(w->name, "softmax") == 0);
    KG_CHECK_INT(w->symbol_count, 2);
    KG_CHECK_INT(w->tensor_count, 2);
    KG_CHECK_INT(w->output_count, 1);
    KG_CHECK_INT(w->outputs[0], 1);
    KG_CHECK_INT(w->shape_count[KG_SIZE_SMOKE], 1);
    KG_CHECK(strcmp(w->shapes[KG_SIZE_SMOKE][0].name, "rows=3,cols=5") == 0);
    KG_CHECK(strcmp(w->shapes[KG_SIZE_SMALL][0].name, "s") == 0);
    KG_CHECK_NEAR(w->params[0].value, 0.5, 0);
    KG_CHECK_NEAR(w->tolerance[KG_DTYPE_F32].rtol, 1e-5, 0);
    int64_t v;
    KG_CHECK_INT(kg_expr_eval(w->flops, &w->shapes[KG_SIZE_FULL][0].symbols, &v, NULL), 0);
    KG_CHECK_INT(v, 5 * 64 * 64);
    KG_CHECK(w->reference != NULL);
    KG_CHECK_INT(w->shape_count[KG_SIZE_CLAIM], 0); /* optional */
    kg_workload_free(w);
}

/* A shape may set a parameter for itself and leave out a symbol that has
 * a default; the optional claim class loads like the others. */
static void test_shape_values(void)
{
    char *a =
        variant(VALID_WORKLOAD, "\"params\"", "\"symbol_defaults\": {\"cols\": 7},\n  \"params\"");
    char *b = variant(a, "{\"rows\": 3, \"cols\": 5}", "{\"rows\": 3, \"eps\": 0.25}");
    char *c = variant(b, "\"full\": [{\"rows\": 64, \"cols\": 64}]",
                      "\"full\": [{\"rows\": 64, \"cols\": 64}], \"claim\": [{\"rows\": 9}]");
    kg_test_write_file(wdir, "workload.json", c);
    free(a);
    free(b);
    free(c);
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(wdir, &w, &err) == KG_OK, "%s", err.message);
    if (!w)
        return;
    const kg_shape *smoke = &w->shapes[KG_SIZE_SMOKE][0];
    int64_t cols = 0;
    KG_CHECK(kg_symtab_get(&smoke->symbols, "cols", &cols) && cols == 7);
    KG_CHECK_NEAR(kg_shape_params(w, smoke)[0].value, 0.25, 0);
    KG_CHECK_NEAR(kg_shape_params(w, &w->shapes[KG_SIZE_SMALL][0])[0].value, 0.5, 0);
    KG_CHECK_NEAR(w->params[0].value, 0.5, 0); /* the workload's own value stays */
    KG_CHECK(strcmp(smoke->name, "rows=3,eps=0.25") == 0);
    KG_CHECK_INT(w->shape_count[KG_SIZE_CLAIM], 1);
    KG_CHECK_INT(kg_size_class_parse("claim"), KG_SIZE_CLAIM);
    kg_workload_free(w);
}

typedef struct bad_case {
    const char *from, *to; /* edit of the valid file; from = NULL: whole text `to` */
    const char *expect;    /* substring of the error message */
} bad_case;

static const bad_case bad_workloads[] = {
    {NULL, "{\n  \"kgrade_workload\": 1,\n  \"name\": \"softmax\",\n}",
     "workload.json:4:2: invalid JSON in line '}'"},
    {NULL, "", "empty file"},
    {NULL, "[1, 2]", "expected a JSON object at the top level"},
    {"\"kgrade_workload\": 1", "\"kgrade_workload\": 2", "this kgrade reads version 1"},
    {"\"name\": \"softmax\"", "\"name\": \"other\"", "differs from its folder"},
    {"\"symbols\"", "\"symbolz\"", "unknown field 'symbolz'"},
    {"[\"rows\", \"cols\"],\n  \"params\"", "[\"rows\", \"rows\"],\n  \"params\"",
     "symbol 'rows' listed twice"},
    {"\"shape\": [\"rows\", \"cols\"],\n     \"init\"",
     "\"shape\": [\"rowz\", \"cols\"],\n     \"init\"",
     "tensors[0].shape[0]: unknown symbol 'rowz' at position 0"},
    {"\"shape\": [\"rows\", \"cols\"],\n     \"init\"",
     "\"shape\": [\"rows *\", \"cols\"],\n     \"init\"", "tensors[0].shape[0]: bad expression"},
    {"\"dtype\": \"f32\"", "\"dtype\": \"f33\"", "unknown dtype 'f33'"},
    {"\"role\": \"output\"", "\"role\": \"outptu\"", "expected \"input\", \"output\" or \"inout\""},
    {"\"role\": \"output\"", "\"role\": \"input\"", "tensors[1].init: missing required field"},
    {"\"role\": \"output\"", "\"role\": \"inout\"", "tensors[1].init: missing required field"},
    {"\"role\": \"input\", \"dtype\": \"f32\"",
     "\"role\": \"input\", \"tolerance\": {\"atol\": 0, \"rtol\": 0}, \"dtype\": \"f32\"",
     "tensors[0].tolerance: only a tensor the kernel writes has a tolerance"},
    {"\"role\": \"output\", \"dtype\": \"f32\"",
     "\"role\": \"output\", \"tolerance\": {\"atol\": -1, \"rtol\": 0}, \"dtype\": \"f32\"",
     "tensors[1].tolerance: atol and rtol must be >= 0"},
    {"\"role\": \"output\"",
     "\"role\": \"input\", \"init\": {\"dist\": \"normal\", "
     "\"mean\": 0, \"std\": 1}",
     "expected at least one tensor with role \"output\" or \"inout\""},
    {"\"dtype\": \"f32\"", "\"dtype\": \"fp8\"",
     "unknown dtype 'fp8' (expected f32, f16, bf16, i32, i64, u8, f8e4m3, f8e5m2, i8)"},
    {"\"role\": \"input\"", "\"role\": \"inout\"",
     "the CPU reference writes 'y' but the workload's outputs are 'x, y'"},
    {"\"dist\": \"normal\"", "\"dist\": \"cauchy\"", "unknown distribution 'cauchy'"},
    {"\"std\": 1", "\"std\": 0", "std must be > 0"},
    {"{\"rows\": 3, \"cols\": 5}", "{\"rows\": 3}", "smoke[0]: symbol 'cols' is not given"},
    {"{\"rows\": 3, \"cols\": 5}", "{\"rows\": 3, \"cols\": -5}",
     "expected a non-negative integer"},
    {"{\"rows\": 3, \"cols\": 5}", "{\"rows\": 3, \"cols\": 5, \"d\": 1}", "unknown symbol 'd'"},
    {"\"full\": [{\"rows\": 64, \"cols\": 64}]", "\"full\": []",
     "shapes.full: expected at least one shape"},
    {"\"f32\": {\"atol\"", "\"f16\": {\"atol\"",
     "no tolerance for output y: none of its own, none for its dtype 'f32'"},
    {"\"flops\": \"5*rows*cols\"", "\"flops\": \"5*rows*(cols\"", "flops: bad expression"},
    {"\"bytes\": \"8*rows*cols\"", "\"bytes\": 8.5", "bytes: expected an integer or an expression"},
    {"\"name\": \"y\"", "\"name\": \"yy\"",
     "the CPU reference writes 'y' but the workload's outputs are 'yy'"},
    {"\"name\": \"x\"", "\"name\": \"xx\"", "the CPU reference reads 'x'"},
    {"\"params\"", "\"public_symbols\": [\"rowz\"],\n  \"params\"",
     "public_symbols[0]: expected the name of one of the workload's symbols"},
    {"\"params\"", "\"symbol_defaults\": {\"colz\": 1},\n  \"params\"",
     "symbol_defaults.colz: 'colz' is not one of the workload's \"symbols\""},
    {"\"params\"", "\"symbol_defaults\": {\"cols\": 1.5},\n  \"params\"",
     "symbol_defaults.cols: expected a non-negative integer"},
    {"{\"rows\": 3, \"cols\": 5}", "{\"rows\": 3, \"cols\": 5, \"eps\": \"big\"}",
     "smoke[0].eps: expected a number (parameter 'eps')"},
    {"\"full\": [{\"rows\": 64, \"cols\": 64}]",
     "\"full\": [{\"rows\": 64, \"cols\": 64}], \"clam\": []", "unknown field 'clam'"},
};

/* An output's own tolerance wins over its dtype's; without one, the
 * dtype's applies. */
static void test_output_tolerance(void)
{
    char *text = variant(VALID_WORKLOAD, "\"role\": \"output\", \"dtype\": \"f32\"",
                         "\"role\": \"output\", \"tolerance\": {\"atol\": 0.25, \"rtol\": 0.5}, "
                         "\"dtype\": \"f32\"");
    kg_test_write_file(wdir, "workload.json", text);
    free(text);
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(wdir, &w, &err) == KG_OK, "%s", err.message);
    if (w) {
        KG_CHECK_NEAR(kg_workload_tolerance(w, 1)->atol, 0.25, 0);
        KG_CHECK_NEAR(kg_workload_tolerance(w, 1)->rtol, 0.5, 0);
        KG_CHECK(strcmp(kg_tensor_role_name(&w->tensors[1]), "output") == 0);
        KG_CHECK(strcmp(kg_tensor_role_name(&w->tensors[0]), "input") == 0);
    }
    kg_workload_free(w);
    kg_test_write_file(wdir, "workload.json", VALID_WORKLOAD);
    KG_CHECK_INT(kg_workload_load(wdir, &w, &err), KG_OK);
    if (w)
        KG_CHECK_NEAR(kg_workload_tolerance(w, 1)->rtol, 1e-5, 0);
    kg_workload_free(w);
}

static void test_bad_workloads(void)
{
    for (size_t i = 0; i < sizeof bad_workloads / sizeof bad_workloads[0]; i++) {
        const bad_case *c = &bad_workloads[i];
        char *text = c->from ? variant(VALID_WORKLOAD, c->from, c->to) : strdup(c->to);
        kg_test_write_file(wdir, "workload.json", text);
        free(text);
        kg_workload *w = NULL;
        kg_error err = {0};
        int rc = kg_workload_load(wdir, &w, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID && w == NULL, "case %zu loaded (rc %d)", i, rc);
        KG_CHECK_CONTAINS(err.message, c->expect);
        KG_CHECK_CONTAINS(err.message, "workload.json");
        kg_workload_free(w);
    }
}

#define VALID_KERNELS                                                                              \
    "{\n"                                                                                          \
    "  \"kgrade_kernels\": 1,\n"                                                                   \
    "  \"tiers\": {\n"                                                                             \
    "    \"naive\": {\n"                                                                           \
    "      \"source\": \"k.kc\", \"language\": \"portable\",\n"                                    \
    "      \"defines\": {\"BLOCK\": \"min(256, cols)\", \"HALF\": \"BLOCK / 2 + 0 * cuda_cc * "    \
    "is_gpu\"},\n"                                                                                 \
    "      \"scratch\": [{\"name\": \"tmp\", \"dtype\": \"f32\", \"count\": \"rows\"}],\n"         \
    "      \"launches\": [{\"entry\": \"k\", \"grid\": [\"cdiv(rows, 4)\", 2], \"block\": "        \
    "[\"4\"],\n"                                                                                   \
    "                    \"local_mem\": \"4 * HALF\",\n"                                           \
    "                    \"args\": [\"x\", \"y\", \"tmp\", \"eps\", \"rows\", \"i64:rows*cols\", " \
    "3]}]\n"                                                                                       \
    "    }\n"                                                                                      \
    "  }\n"                                                                                        \
    "}\n"

static kg_workload *load_valid_workload(void)
{
    kg_test_write_file(wdir, "workload.json", VALID_WORKLOAD);
    kg_test_write_file(wdir, "k.kc", "KG_KERNEL void k(void) {}\n");
    kg_workload *w = NULL;
    kg_error err = {0};
    if (kg_workload_load(wdir, &w, &err) != KG_OK)
        fprintf(stderr, "valid workload failed: %s\n", err.message);
    return w;
}

static void test_valid_kernels(kg_workload *w)
{
    kg_test_write_file(wdir, "kernels.json", VALID_KERNELS);
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_kernel_entry_load(w, "naive", &e, &err), KG_OK);
    if (!e) {
        fprintf(stderr, "error: %s\n", err.message);
        return;
    }
    KG_CHECK_INT(e->language, KG_LANG_PORTABLE);
    KG_CHECK_INT(e->define_count, 2); /* HALF uses BLOCK; local_mem uses HALF */
    KG_CHECK_INT(e->scratch_count, 1);
    KG_CHECK_INT(e->launch_count, 1);
    const kg_launch_spec *l = &e->launches[0];
    KG_CHECK_INT(l->grid_dims, 2);
    KG_CHECK_INT(l->block_dims, 1);
    KG_CHECK_INT(l->arg_count, 7);
    KG_CHECK_INT(l->args[0].source, KG_ARGSRC_TENSOR);
    KG_CHECK_INT(l->args[1].index, 1);
    KG_CHECK_INT(l->args[2].source, KG_ARGSRC_SCRATCH);
    KG_CHECK_INT(l->args[3].source, KG_ARGSRC_PARAM);
    KG_CHECK_INT(l->args[4].source, KG_ARGSRC_I32);
    KG_CHECK_INT(l->args[5].source, KG_ARGSRC_I64);
    KG_CHECK_INT(l->args[6].source, KG_ARGSRC_I32);
    int64_t v;
    KG_CHECK_INT(kg_expr_eval(l->grid[0], &w->shapes[KG_SIZE_SMOKE][0].symbols, &v, NULL), 0);
    KG_CHECK_INT(v, 1);
    KG_CHECK(strstr(e->source_path, "k.kc") != NULL);
    KG_CHECK(e->options && e->options[0] == '\0'); /* no "options": "", never NULL */
    kg_kernel_entry_free(e);

    kg_kernel_entry *missing = NULL;
    KG_CHECK_INT(kg_kernel_entry_load(w, "tuned", &missing, &err), KG_ERR_NOT_FOUND);
    KG_CHECK_CONTAINS(err.message, "no tier 'tuned'");
}

static const bad_case bad_kernels[] = {
    {NULL, "{\"kgrade_kernels\": 1, \"tiers\": {\"naive\": {}", "kernels.json:1:"},
    {"\"kgrade_kernels\": 1", "\"kgrade_kernels\": 7", "reads version 1"},
    {"\"source\": \"k.kc\"", "\"source\": \"missing.kc\"", "source file 'missing.kc' not found"},
    {"\"source\": \"k.kc\"", "\"source\": \"../k.kc\"",
     "tiers.naive.source: source '../k.kc' has a '..' component"},
    {"\"source\": \"k.kc\"", "\"source\": \"/etc/passwd\"",
     "tiers.naive.source: source '/etc/passwd' is an absolute path"},
    {"\"language\": \"portable\"", "\"language\": \"fortran\"", "unknown language 'fortran'"},
    {"\"launches\"", "\"lauches\"", "unknown field 'lauches'"},
    {"\"grid\": [\"cdiv(rows, 4)\", 2]", "\"grid\": [\"cdiv(rowz, 4)\", 2]",
     "tiers.naive.launches[0].grid[0]: unknown symbol 'rowz'"},
    {"\"grid\": [\"cdiv(rows, 4)\", 2]", "\"grid\": []",
     "launches[0].grid: expected an array of 1 to 3"},
    {"\"grid\": [\"cdiv(rows, 4)\", 2]", "\"grid\": [1, 1, 1, 1]", "expected an array of 1 to 3"},
    {"\"block\": [\"4\"]", "\"block\": [\"4 4\"]", "launches[0].block[0]: bad expression"},
    {"\"local_mem\": \"4 * HALF\"", "\"local_mem\": \"16/\"",
     "launches[0].local_mem: bad expression"},
    {"\"local_mem\": \"4 * HALF\"", "\"local_mem\": \"4 * HALVE\"", "unknown symbol 'HALVE'"},
    {"\"x\", \"y\"", "\"x\", \"q\"", "launches[0].args[1]: 'q' is not a tensor (x, y)"},
    {"\"x\", \"y\"", "\"x\", true", "args[1]: expected a tensor, scratch or parameter name"},
    {"\"entry\": \"k\", ", "", "launches[0].entry: missing required field"},
    {"\"dtype\": \"f32\", \"count\"", "\"dtype\": \"f64\", \"count\"", "unknown dtype 'f64'"},
    {"\"name\": \"tmp\"", "\"name\": \"x\"", "scratch name 'x' is already used"},
    {"\"BLOCK\": \"min(256, cols)\"", "\"BLOCK\": \"min(256)\"", "defines.BLOCK: bad expression"},
    {"\"BLOCK\": \"min", "\"BL-OCK\": \"min", "a define name must be a C identifier"},
    {"\"BLOCK\": \"min(256, cols)\"", "\"BLOCK\": \"HALF * 2\"",
     "defines.BLOCK: unknown symbol 'HALF'"},
    {"\"BLOCK\": \"min", "\"rows\": \"min", "define 'rows' has the name of a shape symbol"},
    {"\"BLOCK\": \"min", "\"cuda_cc\": \"min", "define 'cuda_cc' has the name of a device symbol"},
    {"\"launches\"", "\"refuses\": [{\"when\": \"is_gpu\", \"why\": \"x\"}], \"launches\"",
     "refuses[0].when: unknown symbol 'is_gpu'"},
    {"\"launches\"", "\"refuses\": [{\"when\": \"rows\"}], \"launches\"",
     "refuses[0].why: missing required field"},
    {"\"launches\"",
     "\"unsupported_devices\": [{\"when\": \"gt(rows, 4)\", \"why\": \"x\"}], \"launches\"",
     "unsupported_devices[0].when: reads the shape symbol 'rows'"},
    {"\"launches\"", "\"unsupported_devices\": [{\"when\": \"is_gpu\"}], \"launches\"",
     "unsupported_devices[0].why: missing required field"},
    /* Found by fuzzing (docs/fuzzing.md): a 130-character name passed the
     * identifier check, whose length test measured from the terminator. */
    {"\"BLOCK\": \"min",
     "\"B123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "89012345678901234567890123456789\": \"min",
     "a define name must be a C identifier"},
};

static void test_bad_kernels(kg_workload *w)
{
    for (size_t i = 0; i < sizeof bad_kernels / sizeof bad_kernels[0]; i++) {
        const bad_case *c = &bad_kernels[i];
        char *text = c->from ? variant(VALID_KERNELS, c->from, c->to) : strdup(c->to);
        kg_test_write_file(wdir, "kernels.json", text);
        free(text);
        kg_kernel_entry *e = NULL;
        kg_error err = {0};
        int rc = kg_kernel_entry_load(w, "naive", &e, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID && e == NULL, "case %zu loaded (rc %d)", i, rc);
        KG_CHECK_CONTAINS(err.message, c->expect);
        KG_CHECK_CONTAINS(err.message, "kernels.json");
        kg_kernel_entry_free(e);
    }
}

/* VALID_KERNELS with `launches_prefix` inserted before "launches", written
 * and loaded as the tier naive; NULL (the check failed) when it does not load. */
static kg_kernel_entry *load_with(kg_workload *w, const char *launches_prefix)
{
    char *text = variant(VALID_KERNELS, "\"launches\"", launches_prefix);
    kg_test_write_file(wdir, "kernels.json", text);
    free(text);
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_kernel_entry_load(w, "naive", &e, &err) == KG_OK, "%s", err.message);
    return e;
}

/* "refuses": a shape the set says it does not support is named, with the
 * set's reason; the others are taken. */
static void test_refusals(kg_workload *w)
{
    kg_kernel_entry *e = load_with(w, "\"refuses\": [{\"when\": \"gt(cols, 8)\", \"why\": "
                                      "\"at most 8 columns\"}], \"launches\"");
    if (!e)
        return;
    char buf[128];
    KG_CHECK(kg_kernel_entry_refusal(e, &w->shapes[KG_SIZE_SMOKE][0], buf, sizeof buf) == NULL);
    const char *why = kg_kernel_entry_refusal(e, &w->shapes[KG_SIZE_SMALL][0], buf, sizeof buf);
    KG_CHECK(why && strcmp(why, "at most 8 columns") == 0);
    kg_kernel_entry_free(e);
}

/* "unsupported_devices": a device where a condition holds is named with
 * the set's reason; the others are not. */
static void test_device_refusals(kg_workload *w)
{
    kg_kernel_entry *e = load_with(w, "\"unsupported_devices\": [{\"when\": \"is_hip\", "
                                      "\"why\": \"not on AMD\"}, {\"when\": \"lt(cuda_cc, 89)\", "
                                      "\"why\": \"needs sm_89\"}], \"launches\"");
    if (!e)
        return;
    char buf[128];
    kg_device_info info = {.type = KG_DEVICE_GPU, .subgroup_width = 32};
    snprintf(info.backend, sizeof info.backend, "cuda");
    snprintf(info.arch, sizeof info.arch, "sm_90");
    KG_CHECK(kg_kernel_entry_device_refusal(e, &info, buf, sizeof buf) == NULL);
    snprintf(info.arch, sizeof info.arch, "sm_80");
    const char *why = kg_kernel_entry_device_refusal(e, &info, buf, sizeof buf);
    KG_CHECK(why && strcmp(why, "needs sm_89") == 0);
    snprintf(info.backend, sizeof info.backend, "hip");
    snprintf(info.arch, sizeof info.arch, "gfx942");
    why = kg_kernel_entry_device_refusal(e, &info, buf, sizeof buf);
    KG_CHECK(why && strcmp(why, "not on AMD") == 0);
    kg_kernel_entry_free(e);
}

/* A symbol the workload does not list in "public_symbols" cannot reach a
 * kernel: not through a define, a launch dimension or an argument. */
static void test_private_symbols(void)
{
    char *text =
        variant(VALID_WORKLOAD, "\"params\"", "\"public_symbols\": [\"rows\"],\n  \"params\"");
    kg_test_write_file(wdir, "workload.json", text);
    free(text);
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_workload_load(wdir, &w, &err), KG_OK);
    if (!w)
        return;
    KG_CHECK(kg_workload_symbol_is_public(w, "rows"));
    KG_CHECK(!kg_workload_symbol_is_public(w, "cols"));
    kg_test_write_file(wdir, "kernels.json", VALID_KERNELS); /* BLOCK reads cols */
    kg_kernel_entry *e = NULL;
    KG_CHECK_INT(kg_kernel_entry_load(w, "naive", &e, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "tiers.naive.defines.BLOCK: symbol 'cols'");
    KG_CHECK_CONTAINS(err.message, "is private to workload softmax");
    kg_kernel_entry_free(e);
    kg_workload_free(w);
}

/* A bare word is a tier even where a folder of that name exists: a
 * submission cannot ship its own slow "naive" and have it graded as ours. */
static void test_tier_names_reserved(kg_workload *w)
{
    kg_test_write_file(wdir, "kernels.json", VALID_KERNELS);
    char cwd[4096];
    KG_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    KG_CHECK_INT(chdir(root), 0);
    mkdir("naive", 0700);
    mkdir("tuned", 0700);
    kg_test_write_file("naive", "kernels.json", "{\"kgrade_kernels\": 1, \"workloads\": {}}");
    KG_CHECK(!kg_set_is_submission("naive"));
    KG_CHECK(kg_set_is_submission("./naive"));
    kg_kernel_entry *e = NULL;
    kg_error err = {0};
    KG_CHECK_INT(kg_kernel_entry_load(w, "naive", &e, &err), KG_OK);
    KG_CHECK(e && strstr(e->manifest, wdir) == e->manifest); /* the tier's manifest */
    kg_kernel_entry_free(e);
    e = NULL;
    KG_CHECK_INT(kg_kernel_entry_load(w, "tuned", &e, &err), KG_ERR_NOT_FOUND);
    KG_CHECK_CONTAINS(err.message, "a submission is given as a path, e.g. ./tuned");
    KG_CHECK_INT(chdir(cwd), 0);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/kgrade-test-manifests-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(wdir, sizeof wdir, "%s/softmax", root);
    mkdir(wdir, 0700);
    test_valid_workload();
    test_output_tolerance();
    test_bad_workloads();
    test_shape_values();
    kg_workload *w = load_valid_workload();
    KG_CHECK(w != NULL);
    if (w) {
        test_valid_kernels(w);
        test_bad_kernels(w);
        test_tier_names_reserved(w);
        test_refusals(w);
        test_device_refusals(w);
    }
    kg_workload_free(w);
    test_private_symbols();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return kg_test_finish("test_manifests");
}
