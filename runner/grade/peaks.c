/* The device's peak bandwidth and compute, from its profile or measured. */
#include "peaks.h"
#include "profiles.h"
#include "record_keys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernels' source: kernels/peak_probes.kc, embedded at build time. */
extern const char kg_peak_probes_kc[];

const char *kg_peaks_probe_source(void)
{
    return kg_peak_probes_kc;
}

#define PROBE_FLOPS_PER_ITERATION (8 * 4 * 2) /* chains x lanes x (mul + add) */
#define PROBE_REPS                5

/* Best of PROBE_REPS timed runs of one launch, each after a cache flush so
 * that the bandwidth probe reads DRAM, not a cache the fill left warm. */
static int time_launch(kg_device *dev, kg_kernel *k, const kg_launch *l, double *best,
                       kg_error *err)
{
    *best = INFINITY;
    int rc = kg_dev_launch(dev, k, l, err); /* warm-up: JIT, first touch */
    if (!rc)
        rc = kg_dev_synchronize(dev, err);
    for (int r = 0; r < PROBE_REPS && !rc; r++) {
        double t = 0;
        if ((rc = kg_dev_flush_cache(dev, err)) || (rc = kg_dev_timer_start(dev, err)))
            break;
        if ((rc = kg_dev_launch(dev, k, l, err))) {
            kg_dev_timer_stop(dev, &t, NULL);
            break;
        }
        if ((rc = kg_dev_timer_stop(dev, &t, err)))
            break;
        if (t > 0 && t < *best)
            *best = t;
    }
    return rc;
}

static int measure(kg_device *dev, kg_peaks *out, kg_error *err)
{
    const kg_device_info *info = kg_dev_info(dev);
    kg_build_request req = {.language = KG_LANG_PORTABLE,
                            .source = kg_peak_probes_kc,
                            .source_name = "kgrade-peak-probes.kc"};
    kg_program *prog = NULL;
    kg_kernel *stream = NULL, *fma = NULL;
    kg_buffer *x = NULL, *partial = NULL;
    int rc = kg_dev_program_build(dev, &req, &prog, NULL, err);
    if (!rc)
        rc = kg_dev_kernel_create(prog, "stream_read", &stream, err);
    if (!rc)
        rc = kg_dev_kernel_create(prog, "fma_chains", &fma, err);

    /* Bandwidth: read 256 MiB (or what one allocation allows), far more
     * than any last-level cache a profile-less device reports sensibly. */
    size_t bytes = (size_t)256 << 20;
    if (info->max_alloc_bytes && bytes > info->max_alloc_bytes / 2)
        bytes = (size_t)(info->max_alloc_bytes / 2);
    bytes -= bytes % 16;
    uint32_t group = info->max_group_size >= 256 ? 256 : info->max_group_size;
    /* A GPU needs many groups in flight; a CPU runs them a few at a time. */
    uint64_t groups = info->type == KG_DEVICE_GPU ? 4096 : 256;
    size_t items = (size_t)(groups * group);
    if (!rc)
        rc = kg_dev_buffer_alloc(dev, bytes, &x, err);
    if (!rc)
        rc = kg_dev_buffer_alloc(dev, items * sizeof(float), &partial, err);
    if (!rc) {
        float one = 1.0f;
        rc = kg_dev_buffer_fill(dev, x, 0, &one, sizeof one, bytes, err);
    }
    double t_read = INFINITY, t_fma = INFINITY;
    int n4 = (int)(bytes / 16);
    int per_item = (int)((bytes / 16 + items - 1) / items);
    if (!rc) {
        /* GPU threads read in grid-stride order (coalesced); a CPU's work-
         * items each stream their own contiguous chunk (prefetcher-friendly). */
        kg_arg args[] = {kg_arg_buffer(x), kg_arg_buffer(partial), kg_arg_i32(n4),
                         kg_arg_i32(per_item), kg_arg_i32(info->type != KG_DEVICE_GPU)};
        kg_launch l = {
            .grid = {groups, 1, 1}, .block = {group, 1, 1}, .args = args, .arg_count = 5};
        rc = time_launch(dev, stream, &l, &t_read, err);
    }
    /* Compute: enough work for the timer to be exact (about 10^10 FLOP on a
     * GPU, scaled down by compute units for a CPU). */
    int iterations = info->type == KG_DEVICE_GPU ? 4096 : 256;
    if (!rc) {
        kg_arg args[] = {kg_arg_buffer(partial), kg_arg_i32(iterations), kg_arg_f32(0.999f),
                         kg_arg_f32(0.001f)};
        kg_launch l = {
            .grid = {groups, 1, 1}, .block = {group, 1, 1}, .args = args, .arg_count = 4};
        rc = time_launch(dev, fma, &l, &t_fma, err);
    }
    if (!rc) {
        out->dram_gbs = (double)bytes / t_read * 1e-9;
        double flops = (double)PROBE_FLOPS_PER_ITERATION * iterations * (double)items;
        out->compute_tflops_f32 = flops / t_fma * 1e-12;
        /* Without a profile there is no tensor-core figure: every dtype is
         * held to the measured FMA rate. */
        out->compute_tflops_f16 = out->compute_tflops_f32;
        out->compute_tflops_bf16 = out->compute_tflops_f32;
    }
    if (stream)
        kg_dev_kernel_free(stream);
    if (fma)
        kg_dev_kernel_free(fma);
    if (prog)
        kg_dev_program_free(prog);
    if (x)
        kg_dev_buffer_free(x);
    if (partial)
        kg_dev_buffer_free(partial);
    return rc;
}

int kg_peaks_find(kg_device *dev, const cJSON *profile, kg_peaks *out, kg_error *err)
{
    memset(out, 0, sizeof *out);
    if (profile) {
        const cJSON *dram = cJSON_GetObjectItemCaseSensitive(profile, KG_KEY_PROFILE_DRAM_GBS);
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(profile, KG_KEY_PROFILE_FILE);
        out->dram_gbs = cJSON_IsNumber(dram) ? dram->valuedouble : NAN;
        out->compute_tflops_f32 = kg_profile_compute_peak(profile, "f32");
        out->compute_tflops_f16 = kg_profile_compute_peak(profile, "f16");
        out->compute_tflops_bf16 = kg_profile_compute_peak(profile, "bf16");
        snprintf(out->source, sizeof out->source, "datasheet (hardware/profiles/%s)",
                 cJSON_IsString(file) ? file->valuestring : "?");
        out->measured = 0;
        return KG_OK;
    }
    int rc = measure(dev, out, err);
    if (rc)
        return rc;
    snprintf(out->source, sizeof out->source,
             "measured by kgrade's probe kernels (no profile for this device)");
    out->measured = 1;
    return KG_OK;
}

double kg_peaks_compute_tflops(const kg_peaks *p, const char *dtype)
{
    if (strcmp(dtype, "bf16") == 0)
        return p->compute_tflops_bf16;
    if (strcmp(dtype, "f16") == 0)
        return p->compute_tflops_f16;
    return p->compute_tflops_f32;
}

double kg_peaks_speed_of_light(const kg_peaks *p, double flops, double bytes, const char *dtype)
{
    double tflops = kg_peaks_compute_tflops(p, dtype);
    double t_compute = tflops > 0 ? flops / (tflops * 1e12) : 0;
    double t_memory = p->dram_gbs > 0 ? bytes / (p->dram_gbs * 1e9) : 0;
    double t = t_compute > t_memory ? t_compute : t_memory;
    return t > 0 && isfinite(t) ? t : NAN;
}

cJSON *kg_peaks_json(const kg_peaks *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_PEAKS_SOURCE, p->source);
    cJSON_AddBoolToObject(o, KG_KEY_PEAKS_MEASURED, p->measured);
    cJSON_AddNumberToObject(o, KG_KEY_PEAKS_DRAM_GBS, p->dram_gbs);
    cJSON *c = cJSON_AddObjectToObject(o, KG_KEY_PEAKS_COMPUTE_TFLOPS);
    cJSON_AddNumberToObject(c, KG_KEY_PEAKS_F32, p->compute_tflops_f32);
    cJSON_AddNumberToObject(c, KG_KEY_PEAKS_F16, p->compute_tflops_f16);
    cJSON_AddNumberToObject(c, KG_KEY_PEAKS_BF16, p->compute_tflops_bf16);
    return o;
}

int kg_peaks_from_json(const cJSON *o, kg_peaks *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_PEAKS_SOURCE);
    const cJSON *dram = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_PEAKS_DRAM_GBS);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, KG_KEY_PEAKS_COMPUTE_TFLOPS);
    if (!cJSON_IsString(source) || !cJSON_IsNumber(dram) || !cJSON_IsObject(c))
        return KG_ERR_INVALID;
    snprintf(out->source, sizeof out->source, "%s", source->valuestring);
    out->measured = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, KG_KEY_PEAKS_MEASURED));
    out->dram_gbs = dram->valuedouble;
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_PEAKS_F32)))
        out->compute_tflops_f32 = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_PEAKS_F16)))
        out->compute_tflops_f16 = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(c, KG_KEY_PEAKS_BF16)))
        out->compute_tflops_bf16 = v->valuedouble;
    return KG_OK;
}
