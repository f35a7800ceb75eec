/*
 * Peak-performance profiles of known GPUs (the JSON files of hardware/profiles/, format
 * in hardware/profiles/README.md): the datasheet DRAM bandwidth and compute
 * peaks that reports divide achieved rates by.
 */
#ifndef KG_PROFILES_H
#define KG_PROFILES_H

#include "device.h"

#include <cjson/cJSON.h>

/* Finds the first profile in `dir` (file-name order) whose every match
 * condition holds for `info`. Returns a new cJSON object for the run
 * header: {"file", "name", "dram_gbs", "peak_tflops": {"fp32", ...}}, or
 * NULL when none matches (or `dir` is missing). A malformed profile is an
 * error: KG_ERR_INVALID with the file and field in err, and NULL. */
cJSON *kg_profile_find(const char *dir, const kg_device_info *info, kg_error *err);

/* The peak (TFLOPS) a workload whose output has dtype `dtype` ("f32",
 * "f16", "bf16") is measured against: the full-precision fp32 peak for f32
 * (CUDA cores on NVIDIA; on AMD the packed/matrix fp32 rate, which keeps
 * full precision; a TF32 result would fail an f32 tolerance), the
 * tensor/matrix-core peak of the type otherwise. NAN when the profile
 * lacks it. */
double kg_profile_compute_peak(const cJSON *profile, const char *dtype);

#endif
