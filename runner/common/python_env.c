/* The Python and the upstream folder (python_env.h). */
#include "python_env.h"

#include <stdlib.h>

/* Both come from CMakeLists.txt (KG_PYTHON, KG_UPSTREAM_DIR). */
#ifndef KG_PYTHON_DEFAULT
#error "KG_PYTHON_DEFAULT must name the Python interpreter"
#endif
#ifndef KG_UPSTREAM_DIR_DEFAULT
#error "KG_UPSTREAM_DIR_DEFAULT must name the upstream sources' folder"
#endif

static const char *from_variable(const char *variable, const char *fallback)
{
    const char *value = getenv(variable);
    return value && value[0] ? value : fallback;
}

const char *kg_python_path(void)
{
    return from_variable(KG_PYTHON_VARIABLE, KG_PYTHON_DEFAULT);
}

const char *kg_upstream_dir(void)
{
    return from_variable(KG_UPSTREAM_DIR_VARIABLE, KG_UPSTREAM_DIR_DEFAULT);
}
