/*
 * GPU profile matching against the real files in hardware/profiles/, and
 * the errors a malformed profile gives. No GPU needed: devices are described
 * the way the CUDA or HIP backend would report them.
 */
#include "dir_list.h"
#include "json_file.h"
#include "kg_test.h"
#include "peaks.h"
#include "profiles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir = KG_SOURCE_DIR "/hardware/profiles";

/* A device as a backend reports it: `units` is the SM count (CUDA) or the
 * compute-unit count (HIP); 0 where a test does not care. */
static kg_device_info gpu_units(const char *name, const char *arch, double gib, unsigned units)
{
    kg_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.arch, sizeof d.arch, "%s", arch);
    d.global_mem_bytes = (uint64_t)(gib * 1024 * 1024 * 1024);
    d.compute_units = units;
    return d;
}

static kg_device_info gpu(const char *name, const char *arch, double gib)
{
    return gpu_units(name, arch, gib, 0);
}

/* The profile file chosen for a device, or "" for none. */
static void expect_device(const kg_device_info *d, const char *file)
{
    kg_error err = {0};
    cJSON *p = kg_profile_find(dir, d, &err);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "file");
    const char *got = cJSON_IsString(f) ? f->valuestring : "";
    KG_CHECK_MSG(strcmp(got, file) == 0, "%s (%s, %.1f GiB, %u units): got '%s', want '%s' %s",
                 d->name, d->arch, (double)d->global_mem_bytes / (1024.0 * 1024 * 1024),
                 d->compute_units, got, file, err.message);
    KG_CHECK(err.message[0] == '\0');
    cJSON_Delete(p);
}

static void expect_profile(const char *name, const char *arch, double gib, const char *file)
{
    kg_device_info d = gpu(name, arch, gib);
    expect_device(&d, file);
}

/* The figures the profile matched for `d` holds. */
static void expect_peaks(const kg_device_info *d, double dram_gbs, double f32, double f16,
                         double bf16)
{
    kg_error err = {0};
    cJSON *p = kg_profile_find(dir, d, &err);
    KG_CHECK_MSG(p != NULL, "%s: no profile %s", d->name, err.message);
    if (!p)
        return;
    const cJSON *dram = cJSON_GetObjectItemCaseSensitive(p, "dram_gbs");
    KG_CHECK_NEAR(cJSON_IsNumber(dram) ? dram->valuedouble : NAN, dram_gbs, 1e-9);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "f32"), f32, 1e-9);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "f16"), f16, 1e-9);
    KG_CHECK_NEAR(kg_profile_compute_peak(p, "bf16"), bf16, 1e-9);
    cJSON_Delete(p);
}

/* How many profile files match `d` when each is the only file in a folder,
 * so that file-name order cannot hide a second match. */
static int count_matches(const char *tmp, char **files, size_t n, const kg_device_info *d)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char src[4096], dst[512];
        snprintf(src, sizeof src, "%s/%s", dir, files[i]);
        snprintf(dst, sizeof dst, "%s/only.json", tmp);
        char *text = NULL;
        kg_error err = {0};
        KG_CHECK_MSG(kg_read_file(src, &text, NULL, &err) == KG_OK, "%s", err.message);
        if (!text)
            continue;
        FILE *f = fopen(dst, "w");
        fputs(text, f);
        fclose(f);
        free(text);
        cJSON *p = kg_profile_find(tmp, d, &err);
        KG_CHECK_MSG(err.message[0] == '\0', "%s: %s", files[i], err.message);
        if (p)
            count++;
        cJSON_Delete(p);
        unlink(dst);
    }
    return count;
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

    /* AMD GPUs as the HIP backend reports them: hipDeviceGetName,
     * gcnArchName, hipDeviceTotalMem and the compute-unit count. Every case
     * is also checked against each profile file alone: at most one matches,
     * whatever the file order. */
    static const struct {
        const char *name, *arch;
        double gib;
        unsigned units;
        const char *file;
    } cases[] = {
        /* MI300X: one device is the whole GPU in SPX mode (304 CUs). */
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 191.7, 304, "mi300x.json"},
        {"AMD Instinct MI300X VF", "gfx942:sramecc+:xnack-", 191.7, 304, "mi300x.json"},
        /* Its partitions: CPX (38 CUs, with a share of the memory or, in
         * NPS1, possibly all of it), QPX (76), DPX (152): no whole-GPU
         * peaks. */
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 24.0, 38, ""},
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 47.9, 38, ""},
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 191.7, 38, ""},
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 47.9, 76, ""},
        {"AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 95.8, 152, ""},
        {"AMD Instinct MI300X HF", "gfx942:sramecc+:xnack-", 191.7, 304, ""},
        {"AMD Instinct MI300A", "gfx942:sramecc+:xnack-", 127.9, 228, ""},
        {"AMD Instinct MI325X", "gfx942:sramecc+:xnack-", 255.9, 304, ""},
        {"AMD Instinct MI308X", "gfx942:sramecc+:xnack-", 191.7, 80, ""},
        /* MI250X / MI250: one HIP device per GCD (half the package); the
         * shared name is told apart by the CU count. */
        {"AMD Instinct MI250X", "gfx90a:sramecc+:xnack-", 63.98, 110, "mi250x.json"},
        {"AMD Instinct MI250X / MI250", "gfx90a:sramecc+:xnack-", 63.98, 110, "mi250x.json"},
        {"AMD Instinct MI250X/MI250", "gfx90a:sramecc+:xnack-", 63.98, 110, "mi250x.json"},
        {"AMD Instinct MI250X / MI250", "gfx90a:sramecc+:xnack-", 63.98, 104, "mi250.json"},
        {"AMD Instinct MI250X/MI250", "gfx90a:sramecc+:xnack-", 63.98, 104, "mi250.json"},
        {"AMD Instinct MI250", "gfx90a:sramecc+:xnack-", 63.98, 104, "mi250.json"},
        {"AMD Instinct MI250X", "gfx90a:sramecc+:xnack-", 127.96, 220, ""},
        {"AMD Instinct MI210", "gfx90a:sramecc+:xnack-", 63.98, 104, "mi210.json"},
        {"AMD Instinct MI210", "gfx90a:sramecc+:xnack-", 63.98, 110, ""},
        {"AMD Instinct MI100", "gfx908:sramecc+:xnack-", 31.98, 120, ""},
        /* RDNA 3: Linux and Windows names; HIP may count WGPs (48). */
        {"Radeon RX 7900 XTX", "gfx1100", 23.98, 96, "rx7900xtx.json"},
        {"AMD Radeon RX 7900 XTX", "gfx1100", 23.98, 48, "rx7900xtx.json"},
        {"Radeon RX 7900 XT", "gfx1100", 19.98, 84, ""},
        {"AMD Radeon RX 7900 GRE", "gfx1100", 15.98, 80, ""},
        {"AMD Radeon Pro W7900", "gfx1100", 47.98, 48, "w7900.json"},
        {"AMD Radeon PRO W7900", "gfx1100", 47.98, 96, "w7900.json"},
        {"AMD Radeon Pro W7900 Dual Slot", "gfx1100", 47.98, 48, ""},
        {"AMD Radeon Pro W7900D", "gfx1100", 47.98, 48, ""},
        {"AMD Radeon Pro W7800 48GB", "gfx1100", 47.98, 35, ""},
        /* AMD names outside the HIP backend: an OpenCL GPU named by its
         * target, CPUs. */
        {"gfx942:sramecc+:xnack-", "gfx942", 191.7, 304, ""},
        {"AMD EPYC 9654 96-Core Processor", "x86-64", 1511.0, 192, ""},
        {"pthread-znver4-AMD EPYC 9654 96-Core Processor", "znver4", 1511.0, 192, ""},
        /* NVIDIA devices with their SM counts still get NVIDIA profiles. */
        {"NVIDIA H100 80GB HBM3", "sm_90", 79.1, 132, "h100-sxm.json"},
        {"NVIDIA H200", "sm_90", 139.8, 132, "h200-sxm.json"},
        {"NVIDIA A100-SXM4-80GB", "sm_80", 79.2, 108, "a100-sxm4-80gb.json"},
        {"NVIDIA L40S", "sm_89", 44.4, 142, "l40s.json"},
    };
    char **files = NULL;
    size_t nfiles = 0;
    KG_CHECK(kg_dir_list(dir, kg_dir_is_json, NULL, &files, &nfiles) == 0);
    KG_CHECK(nfiles >= 16);
    char only[] = "/tmp/kgrade-test-profiles-one-XXXXXX";
    KG_CHECK(mkdtemp(only) != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kg_device_info d = gpu_units(cases[i].name, cases[i].arch, cases[i].gib, cases[i].units);
        expect_device(&d, cases[i].file);
        int n = count_matches(only, files, nfiles, &d);
        KG_CHECK_MSG(n == (cases[i].file[0] ? 1 : 0), "%s (%u units): %d profiles match",
                     cases[i].name, cases[i].units, n);
    }
    rmdir(only);
    kg_dir_list_free(files, nfiles);

    /* The AMD figures: per device (one GCD of an MI250X / MI250), the f32
     * peak at the packed / matrix FP32 rate. */
    kg_device_info amd = gpu_units("AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 191.7, 304);
    expect_peaks(&amd, 5300, 163.4, 1307.4, 1307.4);
    amd = gpu_units("AMD Instinct MI250X / MI250", "gfx90a:sramecc+:xnack-", 63.98, 110);
    expect_peaks(&amd, 1638.4, 47.872, 191.488, 191.488);
    amd = gpu_units("AMD Instinct MI250X / MI250", "gfx90a:sramecc+:xnack-", 63.98, 104);
    expect_peaks(&amd, 1638.4, 45.2608, 181.0432, 181.0432);
    amd = gpu_units("AMD Instinct MI210", "gfx90a:sramecc+:xnack-", 63.98, 104);
    expect_peaks(&amd, 1638.4, 45.2608, 181.0432, 181.0432);
    amd = gpu_units("Radeon RX 7900 XTX", "gfx1100", 23.98, 48);
    expect_peaks(&amd, 960, 61.44, 122.88, 122.88);
    amd = gpu_units("AMD Radeon Pro W7900", "gfx1100", 47.98, 48);
    expect_peaks(&amd, 864, 61.3, 122.6, 122.6);

    /* TF32 only where AMD specifies it: MI300X yes, CDNA 2 and RDNA 3 no. */
    {
        kg_error e = {0};
        amd = gpu_units("AMD Instinct MI300X", "gfx942:sramecc+:xnack-", 191.7, 304);
        cJSON *mi300x = kg_profile_find(dir, &amd, &e);
        const cJSON *tf32 = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(mi300x, "peak_tflops"), "tf32_tensor");
        KG_CHECK(cJSON_IsNumber(tf32) && tf32->valuedouble == 653.7);
        cJSON_Delete(mi300x);
        amd = gpu_units("AMD Instinct MI250X", "gfx90a:sramecc+:xnack-", 63.98, 110);
        cJSON *mi250x = kg_profile_find(dir, &amd, &e);
        KG_CHECK(mi250x != NULL);
        KG_CHECK(!cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(mi250x, "peak_tflops"), "tf32_tensor"));
        cJSON_Delete(mi250x);
    }

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
    KG_CHECK_INT(kg_peaks_find(NULL, p, &peaks, &err), KG_OK);
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
    write_profile(tmp, "{\"kgrade_profile\": 1, \"match\": {\"compute_units\": \"304\"}}");
    p = kg_profile_find(tmp, &h100, &err);
    KG_CHECK(p == NULL);
    KG_CHECK_CONTAINS(err.message, "bad.json: match.compute_units: expected a number");

    memset(&err, 0, sizeof err);
    write_profile(tmp, "{\"kgrade_profile\": 1, \"match\": {\"compute_units\": 30.5}}");
    p = kg_profile_find(tmp, &h100, &err);
    KG_CHECK(p == NULL);
    KG_CHECK_CONTAINS(err.message, "match.compute_units: expected a positive whole number");

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
