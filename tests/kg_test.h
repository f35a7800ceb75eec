/* The one assertion helper of the test suite. A test is a plain executable:
 * it returns 0 when every check passed, 1 otherwise, 77 when skipped (CTest's
 * SKIP_RETURN_CODE). Checks print file:line and what differed. */
#ifndef KG_TEST_H
#define KG_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kg_test_failures;
static int kg_test_checks;

#define KG_CHECK(cond)                                                                             \
    do {                                                                                           \
        kg_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            kg_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define KG_CHECK_MSG(cond, ...)                                                                    \
    do {                                                                                           \
        kg_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            kg_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define KG_CHECK_INT(got, want)                                                                    \
    do {                                                                                           \
        long long kg_g_ = (long long)(got), kg_w_ = (long long)(want);                             \
        KG_CHECK_MSG(kg_g_ == kg_w_, "got %lld, want %lld", kg_g_, kg_w_);                         \
    } while (0)

#define KG_CHECK_NEAR(got, want, tol)                                                              \
    do {                                                                                           \
        double kg_g_ = (double)(got), kg_w_ = (double)(want);                                      \
        KG_CHECK_MSG(fabs(kg_g_ - kg_w_) <= (tol), "got %.17g, want %.17g (tol %g)", kg_g_, kg_w_, \
                     (double)(tol));                                                               \
    } while (0)

/* Checks that `haystack` contains `needle` (error messages). */
#define KG_CHECK_CONTAINS(haystack, needle)                                                        \
    do {                                                                                           \
        const char *kg_h_ = (haystack), *kg_n_ = (needle);                                         \
        KG_CHECK_MSG(kg_h_ &&strstr(kg_h_, kg_n_), "\"%s\" does not contain \"%s\"",               \
                     kg_h_ ? kg_h_ : "(null)", kg_n_);                                             \
    } while (0)

/* Ends main(): prints a summary line and returns the exit status. */
static inline int kg_test_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, kg_test_checks, kg_test_failures);
    return kg_test_failures ? 1 : 0;
}

#define KG_TEST_SKIP 77

/* Writes `text` to <dir>/<name> (test fixtures); exits on failure. */
static inline void kg_test_write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

#endif
