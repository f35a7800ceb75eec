/* `kgrade verify`: published claims against measured results. */
#include "cli.h"
#include "commands.h"
#include "json_file.h"
#include "results.h"
#include "verify.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define KG_MAX_CLAIMS 64

static int run_verify(const kg_command *self, int argc, char **argv)
{
    /* Positional: the results file, then one or more claim files. */
    const char *pos[1 + KG_MAX_CLAIMS];
    size_t npos = 0;
    int rc = kg_cli_parse(self, NULL, argc, argv, pos, 1 + KG_MAX_CLAIMS, &npos);
    if (rc)
        return rc > 0 ? KG_EXIT_OK : KG_EXIT_USAGE;
    if (npos < 2) {
        fprintf(stderr, "kgrade verify: expected a results file and at least one claim file "
                        "(see `kgrade verify --help`)\n");
        return KG_EXIT_USAGE;
    }
    cJSON *records = NULL;
    kg_error err = {0};
    if (kg_results_read(pos[0], &records, &err) != KG_OK) {
        fprintf(stderr, "kgrade verify: %s\n", err.message);
        return KG_EXIT_USAGE;
    }
    int exit_code = KG_EXIT_OK;
    printf("# kgrade verify: %s\n\n", pos[0]);
    for (size_t i = 1; i < npos; i++) {
        cJSON *claim = NULL;
        if (kg_json_load(pos[i], &claim, &err) != KG_OK) {
            fprintf(stderr, "kgrade verify: %s\n", err.message);
            exit_code = KG_EXIT_USAGE;
            continue;
        }
        kg_claim_grade g;
        kg_verify_claim(claim, records, &g);
        const cJSON *subject = cJSON_GetObjectItemCaseSensitive(claim, "subject");
        printf("- **%s** (%s): claimed %.3gx — **%s**: %s\n", pos[i],
               cJSON_IsString(subject) ? subject->valuestring : "?", g.claimed,
               kg_verdict_name(g.verdict), g.reason);
        if ((g.verdict == KG_VERDICT_REFUSED || g.verdict == KG_VERDICT_UNGRADED) &&
            exit_code == KG_EXIT_OK)
            exit_code = KG_EXIT_FAILED;
        cJSON_Delete(claim);
    }
    cJSON_Delete(records);
    return exit_code;
}

const kg_command kg_command_verify = {
    .name = "verify",
    .summary = "Grade published speedup claims against a results file.",
    .usage = "kgrade verify RESULTS.jsonl CLAIM.json...",
    .description =
        "For each claim (the JSON files of reports/claims/), finds the run of RESULTS that "
        "measured the\n"
        "claim's workload against its baseline (kgrade_baseline; kgrade_size_class when given)\n"
        "and gives a verdict:\n"
        "  reproduced       the measured geomean's 95% measurement interval (the claim's shapes\n"
        "                   fixed, their samples resampled) is above the claim, lower bound "
        "included\n"
        "  refuted          its upper bound is below the claim\n"
        "  inconclusive     otherwise\n"
        "  physically impossible on this device\n"
        "                   the claim exceeds the speed-of-light bound over the baseline\n"
        "A claim over a Triton implementation (its baseline names Triton) is reproduced or\n"
        "refuted only against a Triton baseline (triton-reference); against kgrade's port it is\n"
        "inconclusive, with the figures. A claim that does not match the results is refused\n"
        "with the reason; one whose kernel (kgrade_candidate) was not measured is graded only\n"
        "against the speed of light.",
    .exit_status = "0 every claim got a verdict (whatever it is), 1 a claim could not be\n"
                   "graded, 2 bad usage or input",
    .options = NULL,
    .option_count = 0,
    .run = run_verify,
};
