/*
 * Where the data folders are found: the option, then the folder's own
 * variable, then KGRADE_DATA_DIR, then (this test runs from the build
 * tree) the source tree; and the errors for a named folder that is not
 * there. The installed place is covered by tests/install.sh.
 */
#include "data_dirs.h"
#include "kg_test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out[PATH_MAX];
static kg_error err;
static kg_data_origin origin;

static int find(kg_data_dir which, const char *given)
{
    memset(&err, 0, sizeof err);
    out[0] = '\0';
    origin = (kg_data_origin)-1;
    return kg_data_dir_find(which, given, "--opt", out, sizeof out, &origin, &err);
}

static void unset_all(void)
{
    unsetenv("KGRADE_BASELINES_DIR");
    unsetenv("KGRADE_PROFILES_DIR");
    unsetenv("KGRADE_CLAIMS_DIR");
    unsetenv(KG_DATA_ROOT_VARIABLE);
}

/* With nothing named: the source tree, for each folder. */
static void test_source_tree(void)
{
    static const kg_data_dir all[] = {KG_DATA_BASELINES, KG_DATA_PROFILES, KG_DATA_CLAIMS};
    static const char *const want[] = {KG_SOURCE_DIR "/baselines",
                                       KG_SOURCE_DIR "/hardware/profiles",
                                       KG_SOURCE_DIR "/reports/claims"};
    unset_all();
    for (int i = 0; i < 3; i++) {
        KG_CHECK_INT(find(all[i], NULL), KG_OK);
        KG_CHECK_INT(origin, KG_DATA_FROM_SOURCE);
        KG_CHECK_MSG(strcmp(out, want[i]) == 0, "%s", out);
    }
    /* An empty variable counts as unset. */
    setenv("KGRADE_PROFILES_DIR", "", 1);
    KG_CHECK_INT(find(KG_DATA_PROFILES, NULL), KG_OK);
    KG_CHECK_INT(origin, KG_DATA_FROM_SOURCE);
    unset_all();
}

/* Option over variable over root, each taken as given. */
static void test_order(const char *tmp)
{
    unset_all();
    setenv(KG_DATA_ROOT_VARIABLE, KG_SOURCE_DIR, 1);
    KG_CHECK_INT(find(KG_DATA_CLAIMS, NULL), KG_OK);
    KG_CHECK_INT(origin, KG_DATA_FROM_DATA_ROOT);
    KG_CHECK_MSG(strcmp(out, KG_SOURCE_DIR "/reports/claims") == 0, "%s", out);

    setenv("KGRADE_CLAIMS_DIR", tmp, 1);
    KG_CHECK_INT(find(KG_DATA_CLAIMS, NULL), KG_OK);
    KG_CHECK_INT(origin, KG_DATA_FROM_VARIABLE);
    KG_CHECK_MSG(strcmp(out, tmp) == 0, "%s", out);
    /* Another folder's variable changes nothing here. */
    KG_CHECK_INT(find(KG_DATA_BASELINES, NULL), KG_OK);
    KG_CHECK_INT(origin, KG_DATA_FROM_DATA_ROOT);

    setenv("KGRADE_CLAIMS_DIR", "/nonexistent/claims", 1);
    KG_CHECK_INT(find(KG_DATA_CLAIMS, "."), KG_OK);
    KG_CHECK_INT(origin, KG_DATA_FROM_OPTION);
    KG_CHECK_MSG(strcmp(out, ".") == 0, "%s", out);
    unset_all();
}

/* A named folder that is not there is an error naming how it was named. */
static void test_errors(const char *tmp)
{
    unset_all();
    KG_CHECK_INT(find(KG_DATA_BASELINES, "/nonexistent/b"), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "--opt /nonexistent/b: no such folder");
    KG_CHECK_INT(find(KG_DATA_BASELINES, KG_SOURCE_DIR "/README.md"), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "README.md: not a folder");

    setenv("KGRADE_PROFILES_DIR", "/nonexistent/p", 1);
    KG_CHECK_INT(find(KG_DATA_PROFILES, NULL), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(err.message, "KGRADE_PROFILES_DIR=/nonexistent/p: no such folder");
    unset_all();

    /* A root without the folder: not a fallback to the source tree. */
    setenv(KG_DATA_ROOT_VARIABLE, tmp, 1);
    KG_CHECK_INT(find(KG_DATA_PROFILES, NULL), KG_ERR_INVALID);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "KGRADE_DATA_DIR=%s: %s/hardware/profiles: no such folder", tmp,
             tmp);
    KG_CHECK_CONTAINS(err.message, want);
    unset_all();
}

int main(void)
{
    char tmp[] = "/tmp/kgrade-data-dirs-XXXXXX";
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    KG_CHECK_INT(strcmp(kg_data_dir_subpath(KG_DATA_PROFILES), "hardware/profiles"), 0);
    KG_CHECK_INT(strcmp(kg_data_dir_variable(KG_DATA_CLAIMS), "KGRADE_CLAIMS_DIR"), 0);
    test_source_tree();
    test_order(tmp);
    test_errors(tmp);
    rmdir(tmp);
    return kg_test_finish("test_data_dirs");
}
