/*
 * GPU profile matching against the real files in hardware/profiles/, and
 * the errors a malformed profile gives. No GPU needed: devices are described
 * the way the CUDA backend would report them.
 */
#include "kg_test.h"
#include "peaks.h"
#include "profiles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir = KG_SOURCE_DIR "/hardware/profiles";

static kg_device_info gpu(const char *name, const char *arch, double gib)
{
    kg_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.arch, sizeof d.arch, "%s", arch);
    d.global_mem_bytes = (uint64_t)(gib * 1024 * 1024 * 1024);
    return d;
}

/* The profile file chosen for a device, or "" for none. */
static void expect_profile(const char *name, const char *arch, double gib, const char *file)
{
    kg_device_info d = gpu(name, arch, gib);
    kg_error err = {0};
    cJSON *p = kg_profile_find(dir, &d, &err);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "file");
    const char *got = cJSON_IsString(f) ? f->valuestring : "";
    KG_CHECK_MSG(strcmp(got, file) == 0, "%s (%s, %.1f GiB): got '%s', want '%s' %s", name, arch,
                 gib, got, file, err.message);
    KG_CHECK(err.message[0] == '\0');
    cJSON_Delete(p);
}

static void write_profile(const char *tmp, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", tmp);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    /* Names as cuDeviceGetName reports them; memory as cuDeviceTotalMem. */
    expect_profile("NVIDIA H100 80GB HBM3", "sm_90", 79.1, "h100-sxm.json");
    expect_profile("NVIDIA H100 PCIe", "sm_90", 79.1, "h100-pcie.json");
    expect_profile("NVIDIA H200", "sm_90", 139.8, "h200-sxm.json");
    expect_profile("NVIDIA H200 NVL", "sm_90", 139.8, "h200-nvl.json");
    expect_profile("NVIDIA A100-SXM4-40GB", "sm_80", 39.4, "a100-sxm4-40gb.json");
    expect_profile("NVIDIA A100-SXM4-80GB", "sm_80", 79.2, "a100-sxm4-80gb.json");
    expect_profile("NVIDIA L40S", "sm_89", 44.4, "l40s.json");
    /* A MIG slice has a share of the GPU: no whole-GPU peaks for it. */
    expect_profile("NVIDIA H100 80GB HBM3 MIG 3g.40gb", "sm_90", 39.5, "");
    expect_profile("NVIDIA GH200 144G HBM3e", "sm_90", 139.8, "");
    expect_profile("pthread-skylake-avx512-AMD EPYC", "", 4.5, "");

    kg_device_info h100 = gpu("NVIDIA H100 80GB HBM3", "sm_90", 79.1);
    kg_error err = {0};
    cJSON *p = kg_profile_find(dir, &h100, &err);
    KG_CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(p, "dram_gbs")->valuedouble, 3350, 0);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "f32"), 67, 0);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "bf16"), 989.4, 0);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "f16"), 989.4, 0);
    cJSON_Delete(p);

    /* Speed of light from the H100 profile: 1 TFLOP of bf16 at 989.4 TFLOPS
     * is compute-bound (1.01 ms); 33.5 GB at 3350 GB/s is memory-bound
     * (10 ms). */
    p = kg_profile_find(dir, &h100, &err);
    kg_peaks peaks;
    KG_CHECK_INT(kg_peaks_find(NULL, NULL, &h100, p, &peaks, &err), KG_OK);
    KG_CHECK(!peaks.measured);
    KG_CHECK_CONTAINS(peaks.source, "h100-sxm.json");
    KG_CHECK_NEAR(kg_peaks_speed_of_light(&peaks, 1e12, 1e6, "bf16"), 1e12 / 989.4e12, 1e-15);
    KG_CHECK_NEAR(kg_peaks_speed_of_light(&peaks, 1e6, 33.5e9, "bf16"), 0.01, 1e-12);
    KG_CHECK_NEAR(kg_peaks_speed_of_light(&peaks, 67e12, 0, "f32"), 1.0, 1e-12);
    cJSON_Delete(p);

    /* Malformed profiles name the file and the field. */
    char tmp[] = "/tmp/kgrade-test-profiles-XXXXXX";
    KG_CHECK(mkdtemp(tmp) != NULL);
    const char *valid_match = "\"match\": {\"name_contains\": [\"NVIDIA H100 80GB HBM3\"]}";
    char text[1024];
    snprintf(text, sizeof text,
             "{\"kgrade_profile\": 1, \"name\": \"x\", %s, \"dram_bandwidth_gbs\": "
             "{\"value\": 1}, \"peak_tflops\": {}}",
             valid_match);
    write_profile(tmp, text);
    p = kg_profile_find(tmp, &h100, &err);
    KG_CHECK(p == NULL);
    KG_CHECK_CONTAINS(err.message, "bad.json: dram_bandwidth_gbs.source: missing required field");

    memset(&err, 0, sizeof err);
    write_profile(tmp, "{\"kgrade_profile\": 1, \"match\": {\"compute_capability\": \"nine\"}}");
    p = kg_profile_find(tmp, &h100, &err);
    KG_CHECK(p == NULL);
    KG_CHECK_CONTAINS(err.message, "match.compute_capability: expected \"major.minor\"");

    memset(&err, 0, sizeof err);
    write_profile(tmp, "{\"kgrade_profile\": 1,\n \"match\": {]}");
    p = kg_profile_find(tmp, &h100, &err);
    KG_CHECK(p == NULL);
    KG_CHECK_CONTAINS(err.message, "bad.json:2:");

    /* A missing folder is "no profile", not an error. */
    memset(&err, 0, sizeof err);
    KG_CHECK(kg_profile_find("/nonexistent", &h100, &err) == NULL);
    KG_CHECK(err.message[0] == '\0');

    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", tmp);
    unlink(path);
    rmdir(tmp);
    return kg_test_finish("test_profiles");
}
