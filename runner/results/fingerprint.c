/* Version, host and device descriptions for results files. */
#include "fingerprint.h"
#include "record_keys.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

cJSON *kg_fingerprint_kgrade(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_KGRADE_VERSION, kg_version());
    cJSON_AddStringToObject(o, KG_KEY_KGRADE_GIT_COMMIT, kg_git_commit);
    cJSON_AddStringToObject(o, KG_KEY_KGRADE_BACKENDS_COMPILED, kg_backends_compiled());
    cJSON_AddStringToObject(o, KG_KEY_KGRADE_COMPILER, __VERSION__);
    return o;
}

/* The first "key : value" line of a /proc file whose key matches. */
static void proc_field(const char *file, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(out, size, "%s", v);
        break;
    }
    fclose(f);
}

cJSON *kg_fingerprint_host(void)
{
    cJSON *o = cJSON_CreateObject();
    struct utsname u;
    if (uname(&u) == 0) {
        cJSON_AddStringToObject(o, KG_KEY_HOST_OS, u.sysname);
        cJSON_AddStringToObject(o, KG_KEY_HOST_KERNEL, u.release);
        cJSON_AddStringToObject(o, KG_KEY_HOST_MACHINE, u.machine);
        cJSON_AddStringToObject(o, KG_KEY_HOST_HOSTNAME, u.nodename);
    }
    char buf[256];
    proc_field("/proc/cpuinfo", "model name", buf, sizeof buf);
    cJSON_AddStringToObject(o, KG_KEY_HOST_CPU, buf);
    cJSON_AddNumberToObject(o, KG_KEY_HOST_CPUS_ONLINE, (double)sysconf(_SC_NPROCESSORS_ONLN));
    proc_field("/proc/meminfo", "MemTotal", buf, sizeof buf);
    cJSON_AddStringToObject(o, KG_KEY_HOST_MEMORY, buf);
    FILE *f = fopen("/etc/os-release", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
                line[strcspn(line, "\n")] = '\0';
                char *v = line + 12;
                if (*v == '"') {
                    v++;
                    v[strcspn(v, "\"")] = '\0';
                }
                cJSON_AddStringToObject(o, KG_KEY_HOST_DISTRIBUTION, v);
            }
        fclose(f);
    }
    return o;
}

cJSON *kg_fingerprint_device(const kg_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_BACKEND, d->backend);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_INDEX, d->index);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_NAME, d->name);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_VENDOR, d->vendor);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_TYPE, kg_device_type_name(d->type));
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_DRIVER_VERSION, d->driver_version);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_API_VERSION, d->api_version);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_PLATFORM, d->platform);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_ARCH, d->arch);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_COMPUTE_UNITS, d->compute_units);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_CLOCK_MHZ, d->clock_mhz);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_GLOBAL_MEM_BYTES, (double)d->global_mem_bytes);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_LOCAL_MEM_BYTES, (double)d->local_mem_bytes);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_CACHE_BYTES, (double)d->cache_bytes);
    cJSON_AddStringToObject(o, KG_KEY_DEVICE_CACHE_SOURCE, d->cache_source);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_CACHE_LINE_BYTES, d->cache_line_bytes);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_MAX_GROUP_SIZE, d->max_group_size);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_SUBGROUP_WIDTH, d->subgroup_width);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_MAX_ALLOC_BYTES, (double)d->max_alloc_bytes);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_MEMORY_CLOCK_MHZ, d->memory_clock_mhz);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_MEMORY_BUS_BITS, d->memory_bus_bits);
    cJSON_AddNumberToObject(o, KG_KEY_DEVICE_PEAK_DRAM_GBS, d->peak_dram_gbs);
    return o;
}

void kg_utc_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *kg_version(void)
{
    return KG_VERSION;
}
