/* Filling local memory with a pattern between runs. */
#include "scrub.h"

#include <stdlib.h>
#include <string.h>

/* The kernels' source: kernels/scrub_local.kc, embedded at build time. */
extern const char kg_scrub_local_kc[];

const char *kg_scrub_source(void)
{
    return kg_scrub_local_kc;
}

/* The whole per-group maximum is scrubbed (CUDA opts in above 48 KiB in its
 * launch); this only bounds a driver that reports something absurd. */
#define SCRUB_MAX_BYTES (64u * 1024u * 1024u)

struct kg_scrubber {
    kg_device *dev;
    kg_program *prog;
    kg_kernel *kernel;
    kg_buffer *sink;
    uint32_t group, words;
    uint64_t groups;
    int chunked;
    uint32_t units; /* compute units, for the rendezvous of a CPU device */
};

void kg_scrubber_free(kg_scrubber *s)
{
    if (!s)
        return;
    if (s->kernel)
        kg_dev_kernel_free(s->kernel);
    if (s->prog)
        kg_dev_program_free(s->prog);
    if (s->sink)
        kg_dev_buffer_free(s->sink);
    free(s);
}

int kg_scrubber_create(kg_device *dev, kg_scrubber **out, kg_error *err)
{
    const kg_device_info *info = kg_dev_info(dev);
    *out = NULL;
    kg_scrubber *s = calloc(1, sizeof *s);
    if (!s)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    s->dev = dev;
    uint64_t bytes = info->local_mem_bytes ? info->local_mem_bytes : 16384;
    if (bytes > SCRUB_MAX_BYTES)
        bytes = SCRUB_MAX_BYTES;
    s->words = (uint32_t)(bytes / 4);
    s->group =
        info->max_group_size >= 256 ? 256 : (info->max_group_size ? info->max_group_size : 1);
    /* Several groups per compute unit, so that every one runs some. */
    s->units = info->compute_units ? info->compute_units : 1;
    s->chunked = info->type == KG_DEVICE_CPU;
    s->groups = (s->chunked ? 2 : 16) * (uint64_t)s->units;
    kg_build_request req = {.language = KG_LANG_PORTABLE,
                            .source = kg_scrub_local_kc,
                            .source_size = strlen(kg_scrub_local_kc),
                            .source_name = "kgrade-scrub-local.kc"};
    int rc = kg_dev_program_build(dev, &req, &s->prog, NULL, err);
    if (!rc)
        rc = kg_dev_kernel_create(s->prog, "kg_scrub_local", &s->kernel, err);
    if (!rc)
        rc = kg_dev_buffer_alloc(dev, 16, &s->sink, err);
    if (rc) {
        kg_scrubber_free(s);
        return rc;
    }
    *out = s;
    return KG_OK;
}

uint64_t kg_scrubber_bytes(const kg_scrubber *s)
{
    return (uint64_t)s->words * 4;
}

int kg_scrubber_run(kg_scrubber *s, uint32_t pattern, kg_error *err)
{
    /* A positive base that differs run to run: the kernel's dead-store
     * guard relies on the pattern never being negative. */
    float base = 1.0f + (float)(pattern % 1000003u);
    kg_arg args[5] = {kg_arg_buffer(s->sink), kg_arg_i32((int32_t)s->words), kg_arg_f32(base),
                      kg_arg_i32(s->chunked), kg_arg_i32((int32_t)s->units)};
    kg_launch l = {.grid = {s->groups, 1, 1},
                   .block = {s->group, 1, 1},
                   .dynamic_local_bytes = (size_t)s->words * 4,
                   .args = args,
                   .arg_count = 5};
    static const int32_t zero = 0; /* the rendezvous counter */
    int rc = s->chunked ? kg_dev_buffer_fill(s->dev, s->sink, 4, &zero, 4, 4, err) : KG_OK;
    if (!rc)
        rc = kg_dev_launch(s->dev, s->kernel, &l, err);
    return rc ? rc : kg_dev_synchronize(s->dev, err);
}
