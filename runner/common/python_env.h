/*
 * Where kgrade finds the Python it compiles Triton kernels with, and the
 * upstream sources it grades against: both made at set-up time by
 * scripts/python-env.sh in the build folder (build/python/, a venv with
 * the pins of scripts/python-requirements.txt; build/upstream/, files
 * taken from released wheels, listed in upstream.json). Nothing is
 * downloaded at run time.
 */
#ifndef KG_PYTHON_ENV_H
#define KG_PYTHON_ENV_H

/* The variables that override the compiled-in defaults. */
#define KG_PYTHON_VARIABLE       "KGRADE_PYTHON"
#define KG_UPSTREAM_DIR_VARIABLE "KGRADE_UPSTREAM_DIR"

/* The Python interpreter to run: $KGRADE_PYTHON when set and not empty,
 * else the one chosen at configure time (CMake's KG_PYTHON, by default
 * <build>/python/bin/python3). Not checked: it may not exist (no venv, or
 * PyPI was unreachable at set-up), which the caller reports. The string
 * is static, or the environment's own: not to be freed, valid until the
 * variable is changed. */
const char *kg_python_path(void);

/* The folder of upstream sources: $KGRADE_UPSTREAM_DIR when set and not
 * empty, else the one chosen at configure time (CMake's KG_UPSTREAM_DIR,
 * by default <build>/upstream). Holds upstream.json and
 * <package>-<version>/<path in the wheel>. Not checked; the string is as
 * for kg_python_path. */
const char *kg_upstream_dir(void);

#endif
