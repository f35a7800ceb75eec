/* The compiled-code cache (rtc_cache.h). */
#include "rtc_cache.h"
#include "json_file.h"
#include "sha256.h"
#include "str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The cache folder, or NULL: unset, or not safe (another owner, writable
 * by group or others). */
static const char *cache_dir(void)
{
    const char *dir = getenv("KGRADE_BUILD_CACHE");
    if (!dir || !dir[0])
        return NULL;
    mkdir(dir, 0700);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)))
        return NULL;
    return dir;
}

void kg_rtc_cache_key(const char *compiler, const char *arch, const char *const *options, int count,
                      const char *source, size_t size, char hex[65])
{
    kg_text t = {0};
    kg_text_add(&t, compiler);
    kg_text_append(&t, "\n", 1);
    kg_text_add(&t, arch);
    for (int i = 0; i < count; i++) {
        kg_text_append(&t, "\n", 1);
        kg_text_add(&t, options[i]);
    }
    kg_text_append(&t, "\n\n", 2);
    kg_text_append(&t, source, size);
    kg_sha256_hex(t.failed ? "" : t.data, t.failed ? 0 : t.len, hex);
    if (t.failed) /* no key: a key no build has */
        memset(hex, '-', 64);
    free(t.data);
}

int kg_rtc_cache_get(const char *hex, void **image, size_t *size, char **log)
{
    const char *dir = cache_dir();
    if (!dir || hex[0] == '-')
        return 0;
    char path[4200];
    char *text = NULL, *code = NULL;
    kg_error err = {0};
    snprintf(path, sizeof path, "%s/%s.log", dir, hex);
    if (kg_read_file(path, &text, NULL, &err) == KG_OK) {
        snprintf(path, sizeof path, "%s/%s.bin", dir, hex);
        kg_read_file(path, &code, size, &err);
    }
    if (!code || *size == 0) {
        free(text);
        free(code);
        return 0;
    }
    *image = code;
    *log = text;
    return 1;
}

void kg_rtc_cache_put(const char *hex, const void *image, size_t size, const char *log)
{
    const char *dir = cache_dir();
    if (!dir || hex[0] == '-')
        return;
    char path[4200];
    /* The code first: an entry is whole once its log exists. */
    kg_error ignored = {0};
    snprintf(path, sizeof path, "%s/%s.bin", dir, hex);
    if (kg_write_file_atomic(path, image, size, &ignored) != KG_OK)
        return;
    snprintf(path, sizeof path, "%s/%s.log", dir, hex);
    kg_write_file_atomic(path, log ? log : "", log ? strlen(log) : 0, &ignored);
}
