/*
 * Shared by the fuzz targets: a scratch folder per process for the files the
 * loaders read (they take paths, not strings). Under /dev/shm when it
 * exists, so that writing the input costs no disk I/O; else $TMPDIR, else
 * /tmp. It is removed when the process exits normally; a crash (which is
 * what a fuzzer is for) leaves it, so its name holds the process id and the
 * next run removes the folders of processes that no longer exist.
 */
#ifndef KG_FUZZ_COMMON_H
#define KG_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char kg_fuzz_root_path[PATH_MAX];

static inline int kg_fuzz_remove_entry(const char *path, const struct stat *st, int type,
                                       struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void kg_fuzz_remove_root(void)
{
    if (kg_fuzz_root_path[0])
        nftw(kg_fuzz_root_path, kg_fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A harness that cannot set itself up must stop loudly: a silent failure
 * would fuzz nothing and still pass. */
static inline void kg_fuzz_die(const char *what, const char *path)
{
    fprintf(stderr, "fuzz harness: %s: %s\n", what, path);
    abort();
}

/* Removes <base>/kgrade-fuzz-<pid>-* left by processes that have ended. */
static inline void kg_fuzz_remove_stale(const char *base)
{
    DIR *d = opendir(base);
    if (d == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        long pid;
        char rest;
        if (sscanf(entry->d_name, "kgrade-fuzz-%ld-%c", &pid, &rest) != 2 || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", base, entry->d_name);
        nftw(path, kg_fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
}

/* The process's scratch folder, created on first use. */
static inline const char *kg_fuzz_root(void)
{
    if (kg_fuzz_root_path[0])
        return kg_fuzz_root_path;
    struct stat st;
    const char *base = getenv("TMPDIR");
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    else if (base == NULL || base[0] == '\0')
        base = "/tmp";
    kg_fuzz_remove_stale(base);
    snprintf(kg_fuzz_root_path, sizeof kg_fuzz_root_path, "%s/kgrade-fuzz-%ld-XXXXXX", base,
             (long)getpid());
    if (mkdtemp(kg_fuzz_root_path) == NULL)
        kg_fuzz_die("cannot create a scratch folder", kg_fuzz_root_path);
    atexit(kg_fuzz_remove_root);
    return kg_fuzz_root_path;
}

/* <root>/<name> as a folder (it may exist already); returns its path in
 * `out`. */
static inline void kg_fuzz_make_folder(const char *name, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", kg_fuzz_root(), name);
    if (mkdir(out, 0700) != 0) {
        struct stat st;
        if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
            kg_fuzz_die("cannot create a folder", out);
    }
}

static inline void kg_fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        kg_fuzz_die("cannot write", path);
}

/* With KG_FUZZ_VERBOSE set, the targets say what each input came to
 * (replaying one file: why it is rejected, or that it loads). */
static inline void kg_fuzz_report(const char *what, int rc, const char *message)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("KG_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "%s: %s\n", what, rc == 0 ? "loaded" : message);
}

/* The input as a NUL-terminated string (a fuzz input has no terminator and
 * may hold NULs; the parsers see the text up to the first). Caller frees. */
static inline char *kg_fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        kg_fuzz_die("out of memory", "input copy");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
