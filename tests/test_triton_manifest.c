/* kernels.json with "language": "triton" (docs/triton.md), loaded as a
 * submission for the real softmax workload (x and y are f32) from files
 * made in a temporary folder: a good entry parses into its signature,
 * constexprs (null: None), warps and stages; every malformed one is refused
 * naming the field and the problem; "upstream" is for baseline tiers only. */
#include "kernelset.h"
#include "kg_test.h"
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[256];

/* One softmax entry: `launch_extra` goes inside the launch object, after
 * "args"; `entry_extra` inside the entry. */
static void write_set(const char *args, const char *launch_extra, const char *entry_extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"kgrade_kernels\": 1, \"workloads\": {\"softmax\": {\n"
             "  \"source\": \"softmax.py\", \"language\": \"triton\",%s\n"
             "  \"launches\": [{\"entry\": \"softmax_kernel\", \"grid\": [\"rows\"],\n"
             "                \"args\": %s%s}]}}}\n",
             entry_extra, args, launch_extra);
    kg_test_write_file(root, "kernels.json", text);
}

static int load(const kg_workload *w, kg_kernel_entry **e, kg_error *err)
{
    memset(err, 0, sizeof *err);
    return kg_kernel_entry_load(w, root, e, err);
}

#define GOOD_SIG                                                                                   \
    ", \"signature\": {\"x_ptr\": \"*fp32\", \"y_ptr\": \"*fp32\", \"n_cols\": \"i32\", "          \
    "\"scale\": \"fp32\"}"
#define GOOD_ARGS "[\"x\", \"y\", \"cols\", \"f32:rsqrt(cols)\"]"
#define COUNTS    ", \"num_warps\": \"if(le(cols, 2048), 4, 8)\", \"num_stages\": \"1\""

static void test_good(const kg_workload *w)
{
    write_set(GOOD_ARGS,
              GOOD_SIG ", \"constexprs\": {\"BLOCK\": \"pow2ceil(cols)\", \"mask\": null, "
                       "\"compute_type\": \"dtype:bf16\"}" COUNTS
                       ", \"hip_options\": {\"waves_per_eu\": 1, \"kpack\": 2}",
              "");
    kg_kernel_entry *e = NULL;
    kg_error err;
    KG_CHECK_MSG(load(w, &e, &err) == KG_OK, "%s", err.message);
    if (!e)
        return;
    KG_CHECK_INT(e->language, KG_LANG_TRITON);
    const kg_launch_spec *l = &e->launches[0];
    KG_CHECK(l->triton != NULL);
    KG_CHECK_INT(l->block_dims, 0);
    KG_CHECK_INT(l->triton->param_count, 4);
    KG_CHECK(strcmp(l->triton->params[0].name, "x_ptr") == 0);
    KG_CHECK(strcmp(l->triton->params[3].type, "fp32") == 0);
    KG_CHECK_INT(l->triton->constexpr_count, 3);
    KG_CHECK(strcmp(l->triton->constexprs[0].name, "BLOCK") == 0);
    KG_CHECK(l->triton->constexprs[0].value != NULL);
    KG_CHECK(l->triton->constexprs[1].value == NULL); /* null: None */
    KG_CHECK(l->triton->constexprs[1].dtype == NULL);
    KG_CHECK(l->triton->constexprs[2].value == NULL); /* "dtype:bf16": tl.bfloat16 */
    KG_CHECK(l->triton->constexprs[2].dtype && strcmp(l->triton->constexprs[2].dtype, "bf16") == 0);
    KG_CHECK_INT(l->args[3].source, KG_ARGSRC_F32);
    KG_CHECK_INT(l->args[3].rsqrt, 1);
    KG_CHECK_INT(l->triton->hip_option_count, 2);
    KG_CHECK(strcmp(l->triton->hip_option_names[1], "kpack") == 0);
    KG_CHECK_INT(l->triton->hip_option_values[1], 2);
    /* The expressions evaluate for a shape. */
    kg_shape shape = w->shapes[KG_SIZE_SMALL][0];
    kg_symtab_set(&shape.symbols, "cuda_cc", 90);
    kg_symtab_set(&shape.symbols, "is_gpu", 1);
    kg_symtab_set(&shape.symbols, "warp_size", 32);
    int64_t v = 0;
    KG_CHECK_INT(
        kg_eval_for_shape(l->triton->constexprs[0].value, &shape, w->name, "BLOCK", &v, &err),
        KG_OK);
    int64_t cols = 0;
    kg_symtab_get(&shape.symbols, "cols", &cols);
    int64_t want = 1;
    while (want < cols)
        want *= 2;
    KG_CHECK_INT(v, want);
    KG_CHECK_INT(kg_eval_for_shape(l->triton->num_warps, &shape, w->name, "warps", &v, &err),
                 KG_OK);
    KG_CHECK_INT(v, cols <= 2048 ? 4 : 8);
    kg_kernel_entry_free(e);
}

static void test_refusals(const kg_workload *w)
{
    static const struct {
        const char *args, *launch_extra, *entry_extra, *expect;
    } cases[] = {
        {"[\"x\", \"y\", \"cols\"]", GOOD_SIG COUNTS, "",
         "4 parameters in the signature but 3 args"},
        {GOOD_ARGS,
         ", \"signature\": {\"x_ptr\": \"*bf16\", \"y_ptr\": \"*fp32\", \"n_cols\": \"i32\", "
         "\"scale\": \"fp32\"}" COUNTS,
         "", "parameter x_ptr (args[0]): the argument is a f32 buffer, so the type must be *fp32"},
        {GOOD_ARGS,
         ", \"signature\": {\"x_ptr\": \"*fp32\", \"y_ptr\": \"*fp32\", \"n_cols\": \"i64\", "
         "\"scale\": \"fp32\"}" COUNTS,
         "", "so the type must be i32, not i64"},
        {GOOD_ARGS,
         ", \"signature\": {\"x_ptr\": \"*fp32\", \"y_ptr\": \"*float\", \"n_cols\": \"i32\", "
         "\"scale\": \"fp32\"}" COUNTS,
         "", "unknown Triton type '*float'"},
        {GOOD_ARGS, GOOD_SIG ", \"block\": [128]" COUNTS, "", "unknown field 'block'"},
        {GOOD_ARGS, GOOD_SIG ", \"num_stages\": \"1\"", "", "missing \"num_warps\""},
        {GOOD_ARGS, GOOD_SIG COUNTS ", \"hip_options\": {\"waves\": 1}", "",
         "unknown option (expected waves_per_eu, matrix_instr_nonkdim or kpack)"},
        {GOOD_ARGS, GOOD_SIG COUNTS ", \"hip_options\": {\"kpack\": 1.5}", "",
         "expected an integer from 0 to 1024"},
        {GOOD_ARGS, GOOD_SIG ", \"constexprs\": {\"n_cols\": 4}" COUNTS, "",
         "n_cols is in the signature too"},
        {GOOD_ARGS, GOOD_SIG ", \"constexprs\": {\"BLOCK\": \"nope * 2\"}" COUNTS, "", "nope"},
        {GOOD_ARGS, GOOD_SIG ", \"constexprs\": {\"BLOCK\": \"dtype:bfloat16\"}" COUNTS, "",
         "unknown Triton dtype 'bfloat16'"},
        {GOOD_ARGS, GOOD_SIG COUNTS,
         " \"upstream\": {\"package\": \"sglang\", \"version\": \"0.5.12\", \"path\": \"x.py\"},",
         "give \"source\" or \"upstream\", not both"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_set(cases[i].args, cases[i].launch_extra, cases[i].entry_extra);
        kg_kernel_entry *e = NULL;
        kg_error err;
        int rc = load(w, &e, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID, "case %zu: rc %d (%s)", i, rc, err.message);
        KG_CHECK_MSG(strstr(err.message, cases[i].expect) != NULL, "case %zu: '%s' lacks '%s'", i,
                     err.message, cases[i].expect);
        KG_CHECK_MSG(strstr(err.message, "kernels.json") != NULL, "case %zu: no file in '%s'", i,
                     err.message);
        kg_kernel_entry_free(e);
    }
}

/* A submission may not take its source from a package: only a tier may. */
static void test_upstream_refused_in_submission(const kg_workload *w)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"kgrade_kernels\": 1, \"workloads\": {\"softmax\": {\n"
             "  \"upstream\": {\"package\": \"sglang\", \"version\": \"0.5.12\", "
             "\"path\": \"x.py\"}, \"language\": \"triton\",\n"
             "  \"launches\": [{\"entry\": \"k\", \"grid\": [\"rows\"], \"args\": [\"x\"],\n"
             "    \"signature\": {\"x\": \"*fp32\"}, \"num_warps\": 4, \"num_stages\": 1}]}}}\n");
    kg_test_write_file(root, "kernels.json", text);
    kg_kernel_entry *e = NULL;
    kg_error err;
    KG_CHECK_INT(load(w, &e, &err), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "only a baseline tier may take its source from a package");
    kg_kernel_entry_free(e);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/kgrade-test-triton-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    kg_test_write_file(root, "softmax.py", "import triton\n");
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err) == KG_OK, "%s",
                 err.message);
    if (w) {
        test_good(w);
        test_refusals(w);
        test_upstream_refused_in_submission(w);
    }
    kg_workload_free(w);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return kg_test_finish("test_triton_manifest");
}
