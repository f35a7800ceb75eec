/*
 * The Python interpreter and the upstream folder: the compiled-in
 * defaults (given to this test as to kg_common), each overridden by its
 * variable, an empty variable counting as unset.
 */
#include "python_env.h"
#include "kg_test.h"

#include <stdlib.h>
#include <string.h>

static void unset_all(void)
{
    unsetenv(KG_PYTHON_VARIABLE);
    unsetenv(KG_UPSTREAM_DIR_VARIABLE);
}

static void test_defaults(void)
{
    unset_all();
    KG_CHECK_MSG(strcmp(kg_python_path(), KG_PYTHON_DEFAULT) == 0, "%s", kg_python_path());
    KG_CHECK_MSG(strcmp(kg_upstream_dir(), KG_UPSTREAM_DIR_DEFAULT) == 0, "%s", kg_upstream_dir());
    setenv(KG_PYTHON_VARIABLE, "", 1);
    setenv(KG_UPSTREAM_DIR_VARIABLE, "", 1);
    KG_CHECK_MSG(strcmp(kg_python_path(), KG_PYTHON_DEFAULT) == 0, "%s", kg_python_path());
    KG_CHECK_MSG(strcmp(kg_upstream_dir(), KG_UPSTREAM_DIR_DEFAULT) == 0, "%s", kg_upstream_dir());
    unset_all();
}

/* Each variable changes its own path only. */
static void test_overrides(void)
{
    unset_all();
    setenv("KGRADE_PYTHON", "/opt/py/bin/python3", 1);
    KG_CHECK_MSG(strcmp(kg_python_path(), "/opt/py/bin/python3") == 0, "%s", kg_python_path());
    KG_CHECK_MSG(strcmp(kg_upstream_dir(), KG_UPSTREAM_DIR_DEFAULT) == 0, "%s", kg_upstream_dir());
    setenv("KGRADE_UPSTREAM_DIR", "/srv/upstream", 1);
    KG_CHECK_MSG(strcmp(kg_upstream_dir(), "/srv/upstream") == 0, "%s", kg_upstream_dir());
    KG_CHECK_MSG(strcmp(kg_python_path(), "/opt/py/bin/python3") == 0, "%s", kg_python_path());
    unsetenv("KGRADE_PYTHON");
    KG_CHECK_MSG(strcmp(kg_python_path(), KG_PYTHON_DEFAULT) == 0, "%s", kg_python_path());
    unset_all();
}

int main(void)
{
    test_defaults();
    test_overrides();
    return kg_test_finish("test_python_env");
}
