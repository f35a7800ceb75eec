/*
 * A workload: one kernel task with fixed semantics, read from
 * baselines/<name>/workload.json and bound to its compiled-in CPU reference.
 * See docs/formats.md for the file format.
 */
#ifndef KG_WORKLOAD_H
#define KG_WORKLOAD_H

#include "device.h"
#include "dtype.h"
#include "expr.h"
#include "json_file.h"
#include "reference.h"

#include <cjson/cJSON.h>

typedef enum kg_size_class {
    KG_SIZE_SMOKE = 0,
    KG_SIZE_SMALL = 1,
    KG_SIZE_FULL = 2,
    /* The shapes a published claim was measured on (optional: only the
     * workloads claims name have them). */
    KG_SIZE_CLAIM = 3,
    /* A few representative shapes that grade in seconds: what `kgrade
     * check` (an agent's tool call) grades on (optional). */
    KG_SIZE_DEV = 4,
    KG_SIZE_CLASS_COUNT
} kg_size_class;

/* "smoke", "small", "full", "claim", "dev"; parse returns -1 for an unknown name. */
const char *kg_size_class_name(kg_size_class c);
int kg_size_class_parse(const char *name);

typedef enum kg_distribution {
    KG_DIST_NONE = 0, /* outputs */
    KG_DIST_NORMAL,   /* a = mean, b = std */
    KG_DIST_UNIFORM,  /* a = low, b = high */
    KG_DIST_WORKLOAD, /* filled by the reference's `fill` (index tensors) */
} kg_distribution;

/* How an input is drawn. The last two fields exist for stress inputs
 * (workload.json "stress"): they distort a distribution where a workload's
 * numerics are fragile. */
typedef struct kg_init {
    kg_distribution dist;
    double a, b;                         /* normal: mean, std; uniform: low, high */
    double row_offset_lo, row_offset_hi; /* added per row (last dimension), uniform; 0, 0: none */
    double neg_inf_fraction;             /* elements set to -inf, never a row's first */
} kg_init;

typedef struct kg_tolerance {
    int present;
    double atol, rtol;
} kg_tolerance;

/* At most this many tensors a kernel writes (outputs and inouts). */
#define KG_MAX_OUTPUTS 4

/* A tensor's "role": "input" (drawn, read-only), "output" (written) or
 * "inout" (drawn, then updated in place by the kernel: an input that is
 * also an output). */
typedef struct kg_tensor_spec {
    char *name;
    int is_input;  /* drawn from `init`: role input or inout */
    int is_output; /* written by the kernel and checked: role output or inout */
    kg_dtype dtype;
    int rank;
    kg_expr *dims[KG_MAX_RANK];
    kg_init init;
    kg_tolerance tolerance; /* its own ("tolerance" in the tensor); else its dtype's */
} kg_tensor_spec;

/* One stress input of a workload: a recheck on inputs that matter for its
 * numerics (large row offsets, all-negative rows, masked -inf, huge and tiny
 * magnitudes), which every tier must pass. */
typedef struct kg_stress_case {
    char *name;
    char *why;
    kg_init *inits; /* per tensor; dist KG_DIST_NONE keeps the tensor's usual init */
} kg_stress_case;

typedef struct kg_shape {
    char *name; /* from the file, or generated "rows=7,cols=33" */
    kg_symtab symbols;
    /* The workload's parameters as this shape sets them (a shape may give
     * any parameter its own value, e.g. a softmax scale; the reference may
     * resolve defaults), param_count of the workload's, names owned by the
     * workload. NULL: the workload's own values (shapes built by hand). */
    kg_param_value *params;
} kg_shape;

typedef struct kg_workload {
    char *name;
    char *description;
    char *dir;      /* the folder, as given */
    char *file;     /* <dir>/workload.json */
    char **symbols; /* given by each shape, then the derived ones */
    size_t symbol_count;
    size_t given_symbol_count; /* symbols[given_symbol_count..] are derived */
    kg_symtab symbol_defaults; /* given symbols a shape may leave out ("symbol_defaults") */
    char **public_symbols;     /* what kernel manifests may read; NULL: every symbol */
    size_t public_count;
    kg_param_value *params; /* names owned by the workload */
    size_t param_count;
    kg_tensor_spec *tensors;
    size_t tensor_count;
    /* The tensors a kernel writes, in the file's order: indices into
     * tensors[] (outputs and inouts), output_count >= 1. */
    size_t outputs[KG_MAX_OUTPUTS];
    size_t output_count;
    kg_shape *shapes[KG_SIZE_CLASS_COUNT];
    size_t shape_count[KG_SIZE_CLASS_COUNT];
    kg_tolerance tolerance[KG_DTYPE_COUNT];
    kg_expr *flops;
    kg_expr *bytes;
    kg_stress_case *stress;
    size_t stress_count;
    const kg_reference *reference;
} kg_workload;

/* Loads <dir>/workload.json. On success *out is a new workload freed with
 * kg_workload_free. Every expression is parsed and its symbols checked, the
 * reference is looked up and the names it needs are checked, so that a bad
 * file fails here, with the file and field named, never during a run. */
int kg_workload_load(const char *dir, kg_workload **out, kg_error *err);

/* Frees a workload; NULL is allowed. */
void kg_workload_free(kg_workload *w);

/* The tolerance output tensor `tensor` (an index into tensors[]) is
 * checked with: its own, else its dtype's (the loader makes sure one is
 * present). */
const kg_tolerance *kg_workload_tolerance(const kg_workload *w, size_t tensor);
/* "input", "output" or "inout". */
const char *kg_tensor_role_name(const kg_tensor_spec *t);

/* Index of a tensor / parameter by name, or -1. */
int kg_workload_tensor_index(const kg_workload *w, const char *name);
int kg_workload_param_index(const kg_workload *w, const char *name);
/* The parameter values in force for `shape` (w->param_count of them). */
const kg_param_value *kg_shape_params(const kg_workload *w, const kg_shape *shape);
int kg_workload_has_symbol(const kg_workload *w, const char *name);
/* 1 when kernel manifests may read symbol `name` ("public_symbols"). */
int kg_workload_symbol_is_public(const kg_workload *w, const char *name);
/* 1 when `s` is a C identifier shorter than KG_SYMBOL_NAME_MAX: the rule for
 * symbols, tensors, parameters and defines, which become kernel arguments,
 * macros and expression symbols. */
int kg_is_identifier(const char *s);

/* Parses an expression from a JSON string or integer and checks that it
 * only uses the workload's symbols. *out is freed with kg_expr_free. Also
 * used by the kernel-manifest parser. */
int kg_workload_parse_expr(const kg_workload *w, const kg_json_where *where, const cJSON *item,
                           kg_expr **out, kg_error *err);

/* For kernel manifests: the same, also accepting the `extra_count` names in
 * `extra` (a kernel entry's defines, which its launch expressions may use),
 * and refusing symbols that are not public. */
int kg_workload_parse_expr_with(const kg_workload *w, const char *const *extra, size_t extra_count,
                                const kg_json_where *where, const cJSON *item, kg_expr **out,
                                kg_error *err);

/* Evaluates an expression for a shape, with the error naming `what`:
 * "softmax: shape rows=7,cols=33: launches[0].grid[0]: division by zero". */
int kg_eval_for_shape(const kg_expr *e, const kg_shape *shape, const char *workload,
                      const char *what, int64_t *value, kg_error *err);

#endif
