# Runs one fuzz target for CTest (see fuzz.cmake): makes its writable corpus
# and artifact folders, runs libFuzzer for SECONDS on the writable corpus
# plus the seeds, and fails when libFuzzer reports a crash, leak, sanitizer
# error or timeout (any non-zero exit). The input that failed is left in
# ARTIFACTS (crash-*, leak-*, timeout-*); docs/fuzzing.md says how to replay it.
# -D FUZZER=... CORPUS=... SEEDS=... ARTIFACTS=... SECONDS=... [DICT=...]
foreach(var FUZZER CORPUS SEEDS ARTIFACTS SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz.cmake: -D${var}=... is required")
  endif()
endforeach()
file(MAKE_DIRECTORY ${CORPUS} ${ARTIFACTS})
set(args ${CORPUS} ${SEEDS} -max_total_time=${SECONDS} -print_final_stats=1 -detect_leaks=1
         -timeout=10 -artifact_prefix=${ARTIFACTS}/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); the failing input is in ${ARTIFACTS}/")
endif()
