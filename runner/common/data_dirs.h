/*
 * Where kgrade finds the data it reads at run time: the workloads with
 * their baseline tiers, the GPU profiles and the published claims. One
 * binary works from its build tree, from an installed prefix and with
 * folders of the user's own, and says which it used.
 */
#ifndef KG_DATA_DIRS_H
#define KG_DATA_DIRS_H

#include "error.h"

#include <stddef.h>

typedef enum kg_data_dir {
    KG_DATA_BASELINES, /* baselines/: one folder per workload */
    KG_DATA_PROFILES,  /* hardware/profiles/: GPU peak figures */
    KG_DATA_CLAIMS,    /* reports/claims/: published claims */
    KG_DATA_TRITON,    /* hardware/triton/: the Triton compile helper */
} kg_data_dir;

/* Where a folder was found, first to last in the order it is looked for. */
typedef enum kg_data_origin {
    KG_DATA_FROM_OPTION,    /* the command line */
    KG_DATA_FROM_VARIABLE,  /* its own variable, KGRADE_BASELINES_DIR, ... */
    KG_DATA_FROM_DATA_ROOT, /* $KGRADE_DATA_DIR/<subpath> */
    KG_DATA_FROM_INSTALL,   /* <the executable's folder>/../share/kgrade/<subpath> */
    KG_DATA_FROM_SOURCE,    /* <the source tree kgrade was built from>/<subpath> */
} kg_data_origin;

/* The variable that names the root of all three folders, laid out as in
 * the source tree and under share/kgrade of an installed prefix. */
#define KG_DATA_ROOT_VARIABLE "KGRADE_DATA_DIR"

/* The folder's place under a data root ("baselines", "hardware/profiles",
 * "reports/claims") and its own variable ("KGRADE_BASELINES_DIR",
 * "KGRADE_PROFILES_DIR", "KGRADE_CLAIMS_DIR"). Static strings. */
const char *kg_data_dir_subpath(kg_data_dir which);
const char *kg_data_dir_variable(kg_data_dir which);

/* Finds the folder `which`, the first of: `given` (from the command line,
 * named `given_as` in messages, e.g. "--baselines") when not NULL; its
 * own variable; $KGRADE_DATA_DIR/<subpath>; the installed place beside
 * the running executable, when it exists; the source tree compiled in,
 * when it exists. Writes the path to `out` (`size` bytes): a named one as
 * given, an installed one made canonical. A folder named by the option or
 * a variable that is not a folder is KG_ERR_INVALID, naming it and the
 * path; none found is KG_ERR_NOT_FOUND, naming the places looked at.
 * `origin` (may be NULL) says where it was found. */
int kg_data_dir_find(kg_data_dir which, const char *given, const char *given_as, char *out,
                     size_t size, kg_data_origin *origin, kg_error *err);

#endif
