/* Version, host and device descriptions for results files. */
#include "fingerprint.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

cJSON *kg_fingerprint_kgrade(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", kg_version());
    cJSON_AddStringToObject(o, "git_commit", kg_git_commit);
    cJSON_AddStringToObject(o, "backends_compiled", kg_backends_compiled());
    cJSON_AddStringToObject(o, "compiler", __VERSION__);
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
        cJSON_AddStringToObject(o, "os", u.sysname);
        cJSON_AddStringToObject(o, "kernel", u.release);
        cJSON_AddStringToObject(o, "machine", u.machine);
        cJSON_AddStringToObject(o, "hostname", u.nodename);
    }
    char buf[256];
    proc_field("/proc/cpuinfo", "model name", buf, sizeof buf);
    cJSON_AddStringToObject(o, "cpu", buf);
    cJSON_AddNumberToObject(o, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    proc_field("/proc/meminfo", "MemTotal", buf, sizeof buf);
    cJSON_AddStringToObject(o, "memory", buf);
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
                cJSON_AddStringToObject(o, "distribution", v);
            }
        fclose(f);
    }
    return o;
}

cJSON *kg_fingerprint_device(const kg_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", d->backend);
    cJSON_AddNumberToObject(o, "index", d->index);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddStringToObject(o, "type", kg_device_type_name(d->type));
    cJSON_AddStringToObject(o, "driver_version", d->driver_version);
    cJSON_AddStringToObject(o, "api_version", d->api_version);
    cJSON_AddStringToObject(o, "platform", d->platform);
    cJSON_AddStringToObject(o, "arch", d->arch);
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
    cJSON_AddNumberToObject(o, "clock_mhz", d->clock_mhz);
    cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem_bytes);
    cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem_bytes);
    cJSON_AddNumberToObject(o, "cache_bytes", (double)d->cache_bytes);
    cJSON_AddStringToObject(o, "cache_source", d->cache_source);
    cJSON_AddNumberToObject(o, "cache_line_bytes", d->cache_line_bytes);
    cJSON_AddNumberToObject(o, "max_group_size", d->max_group_size);
    cJSON_AddNumberToObject(o, "subgroup_width", d->subgroup_width);
    cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc_bytes);
    cJSON_AddNumberToObject(o, "memory_clock_mhz", d->memory_clock_mhz);
    cJSON_AddNumberToObject(o, "memory_bus_bits", d->memory_bus_bits);
    cJSON_AddNumberToObject(o, "peak_dram_gbs", d->peak_dram_gbs);
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
