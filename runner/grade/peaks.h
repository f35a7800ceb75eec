/*
 * The device's peaks, for the speed-of-light bound of every shape:
 *   SOL time = max(FLOPs / peak compute for the output's dtype,
 *                  bytes / peak DRAM bandwidth).
 * No kernel can run faster than that, so baseline time / SOL time is the
 * largest speedup physically possible over that baseline on this device.
 *
 * With a GPU profile (hardware/profiles/), the peaks are datasheet figures.
 * Without one (a CPU, an unknown GPU), they are measured with two probe
 * kernels — a streaming read of 256 MiB and independent FMA chains — and
 * labelled as measured: a probe reaches less than the true peak, so a bound
 * from measured peaks is an estimate, not a guarantee.
 */
#ifndef KG_PEAKS_H
#define KG_PEAKS_H

#include "device.h"

#include <cjson/cJSON.h>

typedef struct kg_peaks {
    char source[160]; /* "datasheet (hardware/profiles/h100-sxm.json)" or "measured ..." */
    int measured;
    double dram_gbs;
    double compute_tflops_f32; /* CUDA cores / FMA units */
    double compute_tflops_f16; /* tensor cores where the profile has them */
    double compute_tflops_bf16;
} kg_peaks;

/* From `profile` (a kg_profile_find result) when not NULL, else measured
 * on `dev` (takes well under a second on a GPU, about one on a 2-core CPU). */
int kg_peaks_find(kg_device *dev, const cJSON *profile, kg_peaks *out, kg_error *err);

/* The compute peak for an output dtype ("f32", "f16", "bf16"), TFLOPS. */
double kg_peaks_compute_tflops(const kg_peaks *p, const char *dtype);

/* The speed-of-light time in seconds for `flops` and `bytes`; NAN when the
 * peaks are unknown. */
double kg_peaks_speed_of_light(const kg_peaks *p, double flops, double bytes, const char *dtype);

/* For the run header: {"source", "measured", "dram_gbs", "compute_tflops": {...}}. */
cJSON *kg_peaks_json(const kg_peaks *p);

/* The probe kernels' source, in the portable dialect (for compile tests). */
const char *kg_peaks_probe_source(void);

/* The reverse, for a resumed run: KG_ERR_INVALID when `o` is not one. */
int kg_peaks_from_json(const cJSON *o, kg_peaks *out);

#endif
