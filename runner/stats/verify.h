/*
 * Grading a published claim against measured results (`kgrade verify`).
 *
 * A claim (a JSON file of reports/claims/) names a workload, a factor, a
 * statistic and a baseline; kgrade-specific fields say which kgrade sets
 * stand for its baseline and candidate (`kgrade_baseline`, `kgrade_candidate`) and which
 * size class its shapes are (`kgrade_size_class`). The verdicts:
 *   reproduced      the measured geomean's 95% lower bound >= the claim, and
 *                   every shape of the claim compared cleanly (a candidate
 *                   that failed a shape, or a shape the baseline failed,
 *                   makes it inconclusive at best)
 *   refuted         the upper bound < the claim
 *   inconclusive    otherwise
 *   impossible      the claim exceeds the speed-of-light bound over the
 *                   baseline on the measured device (decided even without
 *                   the claimed kernel)
 * A claim whose baseline names Triton ("the reference Triton
 * implementation") is reproduced or refuted only when the measured
 * baseline is a Triton set (language "triton" in every shape record);
 * against a port it is inconclusive, the reason saying so.
 * A claim that does not match the results (workload, baseline, size class,
 * statistic) is refused with the reason; one whose kernel is not in the
 * results cannot be graded beyond the speed-of-light test.
 */
#ifndef KG_VERIFY_H
#define KG_VERIFY_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum kg_verdict {
    KG_VERDICT_REFUSED = 0, /* the claim does not match these results */
    KG_VERDICT_UNGRADED,    /* matched, but the claimed kernel is not in the results */
    KG_VERDICT_REPRODUCED,
    KG_VERDICT_REFUTED,
    KG_VERDICT_INCONCLUSIVE,
    KG_VERDICT_IMPOSSIBLE,
} kg_verdict;

typedef struct kg_claim_grade {
    kg_verdict verdict;
    char reason[512]; /* why refused / ungraded, or what was compared */
    double claimed;
    double geomean, lo, hi; /* measured (NAN when not measured) */
    char interval[32];      /* which interval lo..hi is: "measurement" (shapes fixed) */
    double bound;           /* speed-of-light geomean bound over the baseline (NAN if none) */
    size_t shapes;          /* the workload's shapes against the baseline in the matched run */
    size_t failed_shapes;   /* of them, not a clean comparison: a failed candidate or baseline */
    char device[256];
} kg_claim_grade;

/* "reproduced", "refuted", ... */
const char *kg_verdict_name(kg_verdict v);

/* Grades `claim` against the records of a results file (every run in it). */
void kg_verify_claim(const cJSON *claim, const cJSON *records, kg_claim_grade *out);

#endif
