# libFuzzer targets for the manifest parsers, the expression evaluator and
# the readers of results files and shards (docs/fuzzing.md): fuzz_workload,
# fuzz_kernels, fuzz_expr, fuzz_results, fuzz_shards, each a CTest
# test labelled "fuzz" that runs for KG_FUZZ_SECONDS. Included from
# CMakeLists.txt; does nothing unless KG_FUZZ=ON. `make fuzz` configures
# build-fuzz/ with clang and runs them.
if(NOT KG_FUZZ)
  return()
endif()
if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "KG_FUZZ=ON needs clang with libFuzzer, but the C compiler is "
                      "${CMAKE_C_COMPILER_ID} (${CMAKE_C_COMPILER}). Configure a fresh build "
                      "folder with CC=clang (apt-get install clang libclang-rt-14-dev), or run "
                      "`make fuzz`.")
endif()
set(KG_FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzz test runs (libFuzzer -max_total_time)")

# UBSan must stop at its first report, or libFuzzer never sees a crash.
set(KG_FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                       -fno-omit-frame-pointer)

# The parsers and what they call, instrumented for coverage (fuzzer-no-link:
# no main here). No backend: nothing the parsers reach needs a device.
# hardware/registry.c only for the language names: with no KG_HAVE_*
# defined it registers no backend.
add_library(kg_fuzz_core STATIC
  runner/common/error.c runner/common/rng.c runner/common/json_file.c runner/common/sha256.c
  runner/common/str.c runner/common/dir_list.c runner/common/python_env.c
  runner/common/id_list.c
  runner/formats/dtype.c runner/formats/expr.c runner/formats/workload.c
  runner/formats/kernelset.c runner/formats/triton_manifest.c runner/formats/library_call.c
  runner/formats/reference.c runner/formats/moe_routing.c
  runner/formats/source_text.c runner/formats/profiles.c runner/common/record_keys.c
  runner/results/results.c runner/results/shards.c runner/stats/stats.c runner/stats/summary.c
  reports/markdown.c reports/claims.c reports/compare.c reports/export.c
  reports/export_html.c
  hardware/registry.c
  ${KG_REFERENCE_FILES} ${CMAKE_BINARY_DIR}/generated/reference_registry.c)
target_include_directories(kg_fuzz_core PUBLIC runner/common runner/formats runner/results
                           runner/stats reports hardware hardware/core ${CJSON_INCLUDE_DIR})
target_link_libraries(kg_fuzz_core PUBLIC ${CJSON_LIBRARY} m)
target_compile_definitions(kg_fuzz_core PUBLIC KG_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                           KG_BACKENDS_BUILT="" KG_PYTHON_DEFAULT="${KG_PYTHON}"
                           KG_UPSTREAM_DIR_DEFAULT="${KG_UPSTREAM_DIR}")
target_compile_options(kg_fuzz_core PUBLIC ${KG_FUZZ_SANITIZERS})
target_compile_options(kg_fuzz_core PRIVATE -fsanitize=fuzzer-no-link)

foreach(target fuzz_workload fuzz_kernels fuzz_expr fuzz_results fuzz_shards)
  add_executable(${target} tests/fuzz/${target}.c)
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${target} PRIVATE kg_fuzz_core)

  # New inputs go to the first corpus folder, in the build tree; the seeds
  # in the source tree are only read.
  set(dict ${CMAKE_SOURCE_DIR}/tests/fuzz/${target}.dict)
  if(NOT EXISTS ${dict})
    set(dict "")
  endif()
  add_test(NAME ${target}
           COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:${target}>
                   -DCORPUS=${CMAKE_BINARY_DIR}/fuzz-corpus/${target}
                   -DSEEDS=${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${target}
                   -DARTIFACTS=${CMAKE_BINARY_DIR}/fuzz-artifacts/${target}
                   -DDICT=${dict} -DSECONDS=${KG_FUZZ_SECONDS}
                   -P ${CMAKE_SOURCE_DIR}/tests/fuzz/run_fuzz.cmake)
  math(EXPR limit "${KG_FUZZ_SECONDS} + 120")
  set_tests_properties(${target} PROPERTIES LABELS fuzz TIMEOUT ${limit}
                       ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1")
endforeach()
