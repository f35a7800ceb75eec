/* Finding the data folders (data_dirs.h). */
#include "data_dirs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Both come from CMakeLists.txt: the source tree, for a kgrade run from
 * its build tree, and the data root relative to an installed kgrade's
 * folder ("../share/kgrade" under GNUInstallDirs' defaults). */
#ifndef KG_SOURCE_DIR
#error "KG_SOURCE_DIR must name the source tree"
#endif
#ifndef KG_DATA_FROM_BIN
#error "KG_DATA_FROM_BIN must give the data root relative to the executable's folder"
#endif

static const struct {
    const char *subpath;
    const char *variable;
} data_dirs[] = {
    [KG_DATA_BASELINES] = {"baselines", "KGRADE_BASELINES_DIR"},
    [KG_DATA_PROFILES] = {"hardware/profiles", "KGRADE_PROFILES_DIR"},
    [KG_DATA_TRITON] = {"hardware/triton", "KGRADE_TRITON_DIR"},
    [KG_DATA_CLAIMS] = {"reports/claims", "KGRADE_CLAIMS_DIR"},
};

const char *kg_data_dir_subpath(kg_data_dir which)
{
    return data_dirs[which].subpath;
}

const char *kg_data_dir_variable(kg_data_dir which)
{
    return data_dirs[which].variable;
}

static int copy_path(const char *path, char *out, size_t size, kg_error *err)
{
    if ((size_t)snprintf(out, size, "%s", path) >= size)
        return kg_error_set(err, KG_ERR_INVALID, "%.200s...: path too long", path);
    return KG_OK;
}

/* A folder the user named (`how` says how: "--baselines /x",
 * "KGRADE_DATA_DIR=/r: /r/baselines"): it must be there, since falling
 * back elsewhere would grade against data the user did not choose. */
static int named(const char *path, const char *how, char *out, size_t size, kg_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return kg_error_set(err, KG_ERR_INVALID, "%s: %s", how,
                            errno == ENOENT ? "no such folder" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return kg_error_set(err, KG_ERR_INVALID, "%s: not a folder", how);
    return copy_path(path, out, size, err);
}

/* <the executable's folder>/KG_DATA_FROM_BIN/<subpath>, canonical, when
 * it is a folder: the data that `cmake --install` put beside kgrade. */
static int installed(const char *subpath, char *out, size_t size, char *looked, size_t looked_size)
{
    char exe[PATH_MAX], path[PATH_MAX + 256], real[PATH_MAX];
    looked[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    snprintf(path, sizeof path, "%s/%s/%s", exe, KG_DATA_FROM_BIN, subpath);
    snprintf(looked, looked_size, "%s", path);
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    return copy_path(real, out, size, NULL) == KG_OK;
}

int kg_data_dir_find(kg_data_dir which, const char *given, const char *given_as, char *out,
                     size_t size, kg_data_origin *origin, kg_error *err)
{
    const char *subpath = data_dirs[which].subpath, *variable = data_dirs[which].variable;
    char how[2 * PATH_MAX + 128], path[PATH_MAX + 64];
    kg_data_origin from = KG_DATA_FROM_OPTION;
    if (origin)
        *origin = from;
    if (given) {
        snprintf(how, sizeof how, "%s %s", given_as ? given_as : "the folder", given);
        return named(given, how, out, size, err);
    }
    const char *value = getenv(variable);
    if (value && value[0]) {
        if (origin)
            *origin = KG_DATA_FROM_VARIABLE;
        snprintf(how, sizeof how, "%s=%s", variable, value);
        return named(value, how, out, size, err);
    }
    value = getenv(KG_DATA_ROOT_VARIABLE);
    if (value && value[0]) {
        if (origin)
            *origin = KG_DATA_FROM_DATA_ROOT;
        snprintf(path, sizeof path, "%s/%s", value, subpath);
        snprintf(how, sizeof how, "%s=%s: %s", KG_DATA_ROOT_VARIABLE, value, path);
        return named(path, how, out, size, err);
    }
    char looked[PATH_MAX + 256];
    if (installed(subpath, out, size, looked, sizeof looked)) {
        if (origin)
            *origin = KG_DATA_FROM_INSTALL;
        return KG_OK;
    }
    snprintf(path, sizeof path, "%s/%s", KG_SOURCE_DIR, subpath);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (origin)
            *origin = KG_DATA_FROM_SOURCE;
        return copy_path(path, out, size, err);
    }
    return kg_error_set(err, KG_ERR_NOT_FOUND,
                        "no %s folder: not installed beside kgrade (%s) nor in the source tree "
                        "it was built from (%s); name one with %s%s%s or %s",
                        subpath, looked[0] ? looked : "its path is unknown", path,
                        given_as ? given_as : "", given_as ? " DIR, " : "", variable,
                        KG_DATA_ROOT_VARIABLE);
}
