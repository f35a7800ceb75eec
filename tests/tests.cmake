# Unit tests: one executable per module, label "unit" (also run under ASan/UBSan).
function(kg_unit_test name)
  add_executable(${name} tests/${name}.c)
  target_include_directories(${name} PRIVATE tests)
  target_link_libraries(${name} PRIVATE kgrade_core)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit SKIP_RETURN_CODE 77 TIMEOUT 120)
endfunction()

# The host test backend (tests/host_backend): the GPU core over host memory
# with C kernels, so the device API, the core and the runner's logic are
# tested without a device. kgrade_host is kgrade with it registered.
add_library(kg_host_backend STATIC tests/host_backend/host_backend.c
            tests/host_backend/host_kernels.c)
target_include_directories(kg_host_backend PUBLIC tests/host_backend)
target_link_libraries(kg_host_backend PUBLIC kgrade_core kg_hardware_vendor)
add_executable(kgrade_host tests/host_backend/kgrade_host.c)
target_link_libraries(kgrade_host PRIVATE kg_host_backend)

kg_unit_test(test_device_api)
target_link_libraries(test_device_api PRIVATE kg_host_backend)
# The runner's logic end to end on the host backend (tests/host_runs.sh):
# exact speedups and samples, stopping rules, uncapped timed read-backs,
# sweeps, worker failures and time-outs, resume. No device needed.
foreach(case pipeline stopping readbacks sweep failures resume)
  add_test(NAME host_${case} COMMAND ${CMAKE_SOURCE_DIR}/tests/host_runs.sh ${case})
  set_tests_properties(host_${case} PROPERTIES LABELS "unit;host" TIMEOUT 300
                       ENVIRONMENT "KGRADE_HOST=$<TARGET_FILE:kgrade_host>;SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
kg_unit_test(test_expr)
kg_unit_test(test_stats)
kg_unit_test(test_stats_coverage)
# Thousands of simulated runs of pure arithmetic: minutes under the
# sanitizers, which `make asan` leaves out (-LE simulation); test_stats
# covers the same code there.
set_tests_properties(test_stats_coverage PROPERTIES LABELS "unit;simulation")
kg_unit_test(test_summary)
kg_unit_test(test_verify)
kg_unit_test(test_record_keys)
kg_unit_test(test_manifests)
kg_unit_test(test_hostile_manifests)
kg_unit_test(test_triton_manifest)
kg_unit_test(test_triton_build)
set_tests_properties(test_triton_build PROPERTIES LABELS "unit;triton" TIMEOUT 300)
kg_unit_test(test_check)
# Each workload's CPU reference against cases computed by hand:
# tests/reference/<workload>.c, one executable each.
file(GLOB KG_REFERENCE_TESTS ${CMAKE_SOURCE_DIR}/tests/reference/*.c)
foreach(source ${KG_REFERENCE_TESTS})
  get_filename_component(workload ${source} NAME_WE)
  add_executable(test_reference_${workload} ${source})
  target_include_directories(test_reference_${workload} PRIVATE tests)
  target_link_libraries(test_reference_${workload} PRIVATE kgrade_core)
  add_test(NAME test_reference_${workload} COMMAND test_reference_${workload})
  set_tests_properties(test_reference_${workload} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()
kg_unit_test(test_source_text)
kg_unit_test(test_measure)
kg_unit_test(test_sol_check)
kg_unit_test(test_cli)
kg_unit_test(test_dtype)
kg_unit_test(test_id_list)
kg_unit_test(test_profiles)
kg_unit_test(test_data_dirs)
kg_unit_test(test_python_env)
target_compile_definitions(test_python_env PRIVATE KG_PYTHON_DEFAULT="${KG_PYTHON}"
                           KG_UPSTREAM_DIR_DEFAULT="${KG_UPSTREAM_DIR}")
# The venv and the upstream files of scripts/python-env.sh, where they are
# (skipped, 77, without the venv).
add_test(NAME python_env COMMAND ${CMAKE_SOURCE_DIR}/tests/python_env.sh ${KG_PYTHON}
         ${KG_UPSTREAM_DIR} ${CMAKE_SOURCE_DIR}/scripts/python-requirements.txt)
set_tests_properties(python_env PROPERTIES LABELS unit SKIP_RETURN_CODE 77 TIMEOUT 120)
kg_unit_test(test_extend_attention_ref)
if("opencl" IN_LIST KG_BACKENDS_BUILT)
  kg_unit_test(test_opencl_backend)
  kg_unit_test(test_evaluate)
endif()
if("cuda" IN_LIST KG_BACKENDS_BUILT)
  # NVRTC compiles of every kernel: no GPU needed, so always run where the
  # toolkit is; a few seconds per compile, hence the longer limit.
  kg_unit_test(test_nvrtc_compile)
  target_link_libraries(test_nvrtc_compile PRIVATE kg_hardware_vendor)
  set_tests_properties(test_nvrtc_compile PROPERTIES TIMEOUT 900)
  # Needs an NVIDIA GPU: skips (77) elsewhere.
  kg_unit_test(test_cuda_backend)
  target_link_libraries(test_cuda_backend PRIVATE kg_hardware_vendor)
  set_tests_properties(test_cuda_backend PROPERTIES LABELS "unit;gpu")
endif()

if("hip" IN_LIST KG_BACKENDS_BUILT)
  # hiprtc compiles of every kernel for gfx908, gfx90a and gfx1030: no GPU
  # needed, only the ROCm compiler libraries.
  kg_unit_test(test_hiprtc_compile)
  target_link_libraries(test_hiprtc_compile PRIVATE kg_hardware_vendor)
  set_tests_properties(test_hiprtc_compile PROPERTIES TIMEOUT 900)
endif()

# Integration tests: the real binary on the real OpenCL device (PoCL on a
# machine without a GPU). tests/expect_run.sh checks the exit code and
# patterns in stdout and in the results file.
set(KG_EXPECT ${CMAKE_SOURCE_DIR}/tests/expect_run.sh)
set(KG_BIN $<TARGET_FILE:kgrade>)
set(KG_RESULTS_DIR ${CMAKE_BINARY_DIR}/test-results)

function(kg_integration_test name)
  add_test(NAME ${name} COMMAND ${KG_EXPECT} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 600
                       ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR}")
endfunction()

# The same on a GPU backend: skipped (77) where it has no device.
function(kg_gpu_test backend name)
  kg_integration_test(${name} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "integration;gpu"
                       ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};NEEDS_BACKEND=${backend}")
endfunction()

kg_integration_test(cli_help 0 "kgrade run \\[options\\]" -- run --help)
kg_integration_test(cli_unknown_option 2 "unknown option '--frobnicate'" -- run --frobnicate)
kg_integration_test(cli_bad_size_class 2 "expected smoke, small, full, claim or dev, got .huge." -- run --size-class huge)
# A workload without claim shapes is skipped at --size-class claim, said so.
kg_integration_test(claim_class_skips_workloads_without 0
  "Not graded.*softmax.*the workload has no claim shapes"
  -- run --workload softmax --size-class claim --out ${KG_RESULTS_DIR}/claim_class_skips.jsonl)
set_tests_properties(claim_class_skips_workloads_without PROPERTIES
  ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};EXPECT_SKIPPED=1")
kg_integration_test(cli_unknown_workload 2 "no workload 'nope'" -- run --workload nope)
kg_integration_test(cli_unknown_device 2 "matches no device name" -- run --device no-such-gpu)
kg_integration_test(devices_table 0 "compute units" -- devices)
kg_integration_test(devices_json 0 "\"devices\"" -- devices --json)

# Every workload x tier at smoke size, each tier against naive (so both
# build, pass their checks, get re-checked and timed). The tiers are read
# from each workload's kernels.json at configure time.
foreach(workload ${KG_WORKLOAD_NAMES})
  set(manifest ${CMAKE_SOURCE_DIR}/baselines/${workload}/kernels.json)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${manifest})
  file(READ ${manifest} manifest_text)
  string(JSON tier_count LENGTH "${manifest_text}" tiers)
  math(EXPR last "${tier_count} - 1")
  foreach(i RANGE ${last})
    string(JSON tier MEMBER "${manifest_text}" tiers ${i})
    if(NOT tier STREQUAL "naive")
      list(APPEND KG_WORKLOAD_TIERS "${workload}:${tier}")
      # A swept tier must also say which configuration its sweep chose.
      set(expect "geomean speedup [0-9][0-9.e+-]*x")
      string(JSON sweep ERROR_VARIABLE no_sweep GET "${manifest_text}" tiers ${tier} sweep)
      if(NOT no_sweep)
        set(expect "the sweep chose [A-Z_]+=[0-9]+")
      endif()
      # Triton tiers cannot run on the OpenCL device these tests use: naming
      # one there is a usage error that says why (docs/triton.md).
      string(JSON language GET "${manifest_text}" tiers ${tier} language)
      # Tiers that refuse some shapes, or are not graded on some devices
      # (kg_gpu_workload_tests accepts exactly that there).
      string(JSON refuses ERROR_VARIABLE no_refuses GET "${manifest_text}" tiers ${tier} refuses)
      if(NOT no_refuses)
        list(APPEND KG_REFUSING_TIERS "${workload}:${tier}")
      endif()
      string(JSON unsupported ERROR_VARIABLE no_unsupported GET "${manifest_text}" tiers ${tier}
             unsupported_devices)
      if(NOT no_unsupported)
        list(APPEND KG_DEVICE_LIMITED_TIERS "${workload}:${tier}")
      endif()
      if(language STREQUAL "triton")
        kg_integration_test(smoke_${workload}_${tier} 2
          "--candidate ${tier}: triton unavailable \\(opencl device"
          -- run --workload ${workload} --size-class smoke --quiet --baseline naive
             --candidate ${tier})
        continue()
      endif()
      # A library tier needs a vendor library that may be absent: graded
      # by tests/library_tier.sh (below), which skips without it.
      if(language STREQUAL "library")
        list(APPEND KG_LIBRARY_TIERS "${workload}:${tier}")
        continue()
      endif()
      kg_integration_test(smoke_${workload}_${tier} 0 "${expect}"
        -- run --workload ${workload} --size-class smoke --max-time 0.5 --quiet
           --baseline naive --candidate ${tier}
           --out ${KG_RESULTS_DIR}/smoke_${workload}_${tier}.jsonl)
      # Under the sanitizers (make asan, -LE workload) the runner's code is
      # what is watched, so the workloads whose runs reach each of its paths
      # run there: one output, inouts, index tensors with scratch and two
      # launches, sweeps, a matmul; the others' C (their references) is
      # covered by their unit tests there.
      if(NOT workload MATCHES "^(softmax|rmsnorm|gemm|extend_attention|fused_add_rmsnorm|decode_attention)$")
        set_tests_properties(smoke_${workload}_${tier} PROPERTIES LABELS "integration;workload")
      endif()
    endif()
  endforeach()
endforeach()
# Extend attention's report sets the published claims (reports/claims/)
# against the speed-of-light bound over its reference tier.
kg_integration_test(smoke_extend_attention_claims 0
  "Qwen3.7-Max: 10x .*is (within|beyond) what is possible on this device"
  -- run --workload extend_attention --size-class smoke --max-time 0.3 --quiet
     --baseline naive --candidate reference --out ${KG_RESULTS_DIR}/smoke_claims.jsonl)
# The default run (tuned against naive, every workload) skips, and reports,
# a workload without a tuned tier instead of failing. Every workload's
# reference and fill on real shapes, under the sanitizers too (its timing
# is kept short: what it checks is that every evaluation completes).
kg_integration_test(smoke_default_run 0 "geomean speedup [0-9][0-9.e+-]*x"
  -- run --size-class smoke --max-time 0.05 --quiet --out ${KG_RESULTS_DIR}/smoke_default.jsonl)

# A Triton submission on the OpenCL device: not graded, with the reason.
add_test(NAME example_triton_unavailable_on_opencl
         COMMAND ${CMAKE_SOURCE_DIR}/tests/triton_unavailable.sh ${CMAKE_SOURCE_DIR} ${KG_RESULTS_DIR})
set_tests_properties(example_triton_unavailable_on_opencl PROPERTIES LABELS integration
                     TIMEOUT 300 ENVIRONMENT "KGRADE=${KG_BIN}")
kg_integration_test(example_opencl_softmax 0 "geomean speedup [0-9][0-9.e+-]*x"
  -- run --workload softmax --size-class smoke --max-time 2 --quiet
     --candidate ${CMAKE_SOURCE_DIR}/kernels/examples/opencl-softmax
     --out ${KG_RESULTS_DIR}/example_opencl_softmax.jsonl)
kg_integration_test(example_wrong_softmax_fails 1 "check_failed"
  -- run --workload softmax --size-class smoke --max-time 2 --quiet
     --candidate ${CMAKE_SOURCE_DIR}/kernels/examples/wrong-softmax
     --out ${KG_RESULTS_DIR}/example_wrong_softmax.jsonl)

# Broken submissions (tests/data/README.md): a clear message naming the file
# and the field, never a crash.
set(KG_BAD ${CMAKE_SOURCE_DIR}/tests/data)
kg_integration_test(bad_submission_json 2 "bad-json/kernels.json:4:37: invalid JSON"
  -- run --workload softmax --size-class smoke --candidate ${KG_BAD}/bad-json)
kg_integration_test(bad_submission_missing_source 2 "source file 'missing.kc' not found"
  -- run --workload softmax --size-class smoke --candidate ${KG_BAD}/bad-missing-source)
kg_integration_test(bad_submission_unknown_tensor 2
  "launches\\[0\\]\\.args\\[1\\]: 'z' is not a tensor \\(x, y\\)"
  -- run --workload softmax --size-class smoke --candidate ${KG_BAD}/bad-tensor)
kg_integration_test(bad_submission_build_fails 1 "broken.kc:3:[0-9]+: .*undeclared identifier"
  -- run --workload softmax --size-class smoke --max-time 0.5 --quiet
     --candidate ${KG_BAD}/bad-build --out ${KG_RESULTS_DIR}/bad_build.jsonl)
kg_integration_test(bad_submission_covers_nothing 2 "no selected workload has both kernel sets"
  -- run --workload gemm --size-class smoke --candidate ${KG_BAD}/bad-tensor)
# A tier that refuses shapes fails them (exit 1); the GPU smoke tests of
# tiers that refuse some shapes (ALLOW_REFUSED, tests/expect_run.sh) count
# that as a pass only where every other shape passed. A tier whose manifest
# says it is not graded on this device is skipped with the reason, and the
# run goes on, even when named on the command line (tests/data/README.md).
set(KG_FIXTURES --baselines ${KG_BAD}/fixture-baselines --workload softmax --size-class smoke
    --max-time 0.2 --quiet)
kg_integration_test(refused_shapes_fail 1 "failed 2 of 4 shapes\\*\\* \\(refused 2\\)"
  -- run ${KG_FIXTURES} --candidate refusing --out ${KG_RESULTS_DIR}/refused_shapes_fail.jsonl)
kg_integration_test(refused_shapes_allowed 0 "excluding failures: [0-9][0-9.e+-]*x"
  -- run ${KG_FIXTURES} --candidate refusing --out ${KG_RESULTS_DIR}/refused_shapes_allowed.jsonl)
set_tests_properties(refused_shapes_allowed PROPERTIES
  ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};ALLOW_REFUSED=1")
kg_integration_test(refused_shapes_do_not_hide_failures 1 "check_failed"
  -- run --workload softmax --size-class smoke --max-time 0.2 --quiet
     --candidate ${CMAKE_SOURCE_DIR}/kernels/examples/wrong-softmax
     --out ${KG_RESULTS_DIR}/refused_shapes_do_not_hide.jsonl)
set_tests_properties(refused_shapes_do_not_hide_failures PROPERTIES
  ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};ALLOW_REFUSED=1")
kg_integration_test(unsupported_device_not_graded 0
  "Not graded.*softmax.*unsupported device \\(this fixture grades on GPUs only\\)"
  -- run ${KG_FIXTURES} --candidate gpu-only --out ${KG_RESULTS_DIR}/unsupported_device.jsonl)
set_tests_properties(unsupported_device_not_graded PROPERTIES
  ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};EXPECT_SKIPPED=1")
# A submission's own unsupported_devices does not opt it out of a workload
# that --workload names: its shapes fail as missing; unnamed, it is listed
# as not graded, as a left-out workload is.
set(KG_GPU_ONLY_SUBMISSION ${KG_BAD}/fixture-gpu-only-submission)
kg_integration_test(unsupported_device_submission_fails 1
  "failed 4 of 4 shapes\\*\\* \\(missing 4\\)"
  -- run ${KG_FIXTURES} --candidate ${KG_GPU_ONLY_SUBMISSION}
     --out ${KG_RESULTS_DIR}/unsupported_device_submission.jsonl)
kg_integration_test(unsupported_device_submission_unnamed 0
  "Not graded.*softmax.*unsupported device \\(this submission grades on GPUs only\\)"
  -- run --baselines ${KG_BAD}/fixture-baselines --size-class smoke --max-time 0.2 --quiet
     --candidate ${KG_GPU_ONLY_SUBMISSION}
     --out ${KG_RESULTS_DIR}/unsupported_device_submission_unnamed.jsonl)
set_tests_properties(unsupported_device_submission_unnamed PROPERTIES
  ENVIRONMENT "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};EXPECT_SKIPPED=1")

# On a GPU backend's first device: every workload x tier at smoke size, and
# the wrong example rejected. Skipped (77) where the backend has no device.
function(kg_gpu_workload_tests backend)
  foreach(pair ${KG_WORKLOAD_TIERS})
    string(REPLACE ":" ";" parts ${pair})
    list(GET parts 0 workload)
    list(GET parts 1 tier)
    kg_gpu_test(${backend} ${backend}_smoke_${workload}_${tier} 0
      "geomean speedup [0-9][0-9.e+-]*x|excluding failures: [0-9][0-9.e+-]*x"
      -- run --device ${backend}:0 --workload ${workload} --size-class smoke --max-time 2 --quiet
         --baseline naive --candidate ${tier}
         --out ${KG_RESULTS_DIR}/${backend}_smoke_${workload}_${tier}.jsonl)
    # A tier that refuses some smoke shapes passes where the others pass
    # (fused_moe's Triton tier takes only the block sizes SGLang's config
    # picks); one not graded on this device is skipped there (the FP8
    # Triton tier before sm_89 and on HIP).
    set(kg_env "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};NEEDS_BACKEND=${backend}")
    if("${pair}" IN_LIST KG_REFUSING_TIERS)
      list(APPEND kg_env "ALLOW_REFUSED=1")
    endif()
    if("${pair}" IN_LIST KG_DEVICE_LIMITED_TIERS)
      list(APPEND kg_env "ALLOW_UNSUPPORTED=1")
    endif()
    set_tests_properties(${backend}_smoke_${workload}_${tier} PROPERTIES ENVIRONMENT "${kg_env}")
    # rocBLAS, HIP's library, is not on every ROCm machine: HIP's library
    # tiers are skipped (77) where the device has none (tests/expect_run.sh).
    if(backend STREQUAL "hip" AND "${pair}" IN_LIST KG_LIBRARY_TIERS)
      set_tests_properties(${backend}_smoke_${workload}_${tier} PROPERTIES ENVIRONMENT
        "${kg_env};NEEDS_LIBRARY=rocBLAS")
    endif()
  endforeach()
  kg_gpu_test(${backend} ${backend}_wrong_softmax_fails 1 "check_failed"
    -- run --device ${backend}:0 --workload softmax --size-class smoke --max-time 2 --quiet
       --candidate ${CMAKE_SOURCE_DIR}/kernels/examples/wrong-softmax
       --out ${KG_RESULTS_DIR}/${backend}_wrong_softmax.jsonl)
endfunction()

# CUDA: the no-driver path everywhere (forced with KGRADE_CUDA_DRIVER, so it
# also runs on GPU machines); the workloads on the GPU where there is one.
if("cuda" IN_LIST KG_BACKENDS_BUILT)
  kg_integration_test(cuda_no_driver 0 "cuda: driver not found \\(/nonexistent/libcuda.so.1\\)" -- devices)
  set_tests_properties(cuda_no_driver PROPERTIES ENVIRONMENT
    "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};KGRADE_CUDA_DRIVER=/nonexistent/libcuda.so.1")
  kg_gpu_test(cuda cuda_devices 0 "cuda:0  NVIDIA" -- devices)
  kg_gpu_workload_tests(cuda)
  kg_gpu_test(cuda cuda_bad_build 1 "broken.kc\\(3\\): error"
    -- run --device cuda:0 --workload softmax --size-class smoke --max-time 0.5 --quiet
       --candidate ${KG_BAD}/bad-build --out ${KG_RESULTS_DIR}/cuda_bad_build.jsonl)
endif()

# HIP: the no-runtime path everywhere (forced with KGRADE_HIP_RUNTIME); the
# ROCm runtime without a GPU says so (or lists the GPUs where there are);
# the workloads on an AMD GPU where there is one.
if("hip" IN_LIST KG_BACKENDS_BUILT)
  kg_integration_test(hip_no_runtime 0 "hip: runtime not found \\(/nonexistent/libamdhip64.so\\)" -- devices)
  set_tests_properties(hip_no_runtime PROPERTIES ENVIRONMENT
    "KGRADE=${KG_BIN};RESULTS_DIR=${KG_RESULTS_DIR};KGRADE_HIP_RUNTIME=/nonexistent/libamdhip64.so")
  kg_integration_test(hip_devices_or_none 0 "hip: no AMD GPU|hip: runtime not found|hip:0  " -- devices)
  kg_gpu_workload_tests(hip)
endif()

# `kgrade report` prints, from the file, exactly what the run printed.
add_test(NAME report_matches_run COMMAND ${CMAKE_SOURCE_DIR}/tests/report_matches_run.sh
         ${KG_RESULTS_DIR}/report_matches_run.jsonl --workload softmax,rmsnorm --size-class smoke
         --max-time 0.3 --quiet)
set_tests_properties(report_matches_run PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "KGRADE=${KG_BIN}")
# Installed: `cmake --install` into a temporary prefix, then the installed
# kgrade from an unrelated folder, its data found beside it or where a
# variable or an option says (tests/install.sh).
add_test(NAME install_and_run COMMAND ${CMAKE_SOURCE_DIR}/tests/install.sh ${CMAKE_COMMAND}
         ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/tests/data/smoke-extend-attention.jsonl)
set_tests_properties(install_and_run PROPERTIES LABELS integration TIMEOUT 300)
kg_integration_test(report_bad_file 2 "README.md:1: not a JSON object"
  -- report ${CMAKE_SOURCE_DIR}/README.md)
# verify: the shipped claims against a results file; they are refused (the
# smoke run is not their size class): exit 1 with the reason.
kg_integration_test(verify_refuses_mismatch 1 "refused\\*\\*: no run of these results matches the claim"
  -- verify ${CMAKE_SOURCE_DIR}/tests/data/smoke-extend-attention.jsonl
     ${CMAKE_SOURCE_DIR}/reports/claims/qwen3.7-max.json)
kg_integration_test(verify_bad_input 2 "expected a results file and at least one claim"
  -- verify ${CMAKE_SOURCE_DIR}/README.md)

# Several baselines in one run: the candidate against each, side by side.
kg_integration_test(several_baselines 0 "Overall, against each baseline"
  -- run --workload softmax --size-class smoke --max-time 0.3 --quiet
     --baseline naive,tuned --candidate tuned --out ${KG_RESULTS_DIR}/several_baselines.jsonl)

# docs/workloads.md lists every workload folder.
add_test(NAME workloads_documented
         COMMAND sh -c "for d in ${CMAKE_SOURCE_DIR}/baselines/*/; do n=$(basename $d); grep -q \"^| \\`$n\\` |\" ${CMAKE_SOURCE_DIR}/docs/workloads.md || { echo \"$n is not in docs/workloads.md\"; exit 1; }; done; echo every workload documented")
set_tests_properties(workloads_documented PROPERTIES LABELS unit)

# Three classes of cheat generated for every workload from its naive tier
# (all zeros, half the work skipped, an input used as scratch), each caught
# on every workload (tests/adversarial_matrix.py; docs/integrity.md). In the
# plain build only (label workload): the runner code it reaches is the
# integrity examples' below.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME integrity_every_workload
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/adversarial_matrix.py
                   ${KG_BIN} ${CMAKE_SOURCE_DIR} ${KG_RESULTS_DIR}/adversarial-matrix)
  set_tests_properties(integrity_every_workload PROPERTIES
                       LABELS "integration;integrity;workload" TIMEOUT 600)
endif()

# Integrity (docs/integrity.md): every adversarial example must be caught
# for its own reason, and the correct example must raise no flag.
add_executable(check_expectations tests/check_expectations.c)
target_link_libraries(check_expectations PRIVATE kgrade_core)
file(GLOB KG_ADVERSARIAL LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/kernels/examples/adversarial/*)
foreach(dir ${KG_ADVERSARIAL} ${CMAKE_SOURCE_DIR}/kernels/examples/opencl-softmax)
  if(EXISTS ${dir}/expect.json)
    get_filename_component(name ${dir} NAME)
    add_test(NAME integrity_${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/adversarial.sh ${dir}
             ${KG_RESULTS_DIR}/integrity_${name}.jsonl)
    set_tests_properties(integrity_${name} PROPERTIES LABELS "integration;integrity" TIMEOUT 300
      ENVIRONMENT "KGRADE=${KG_BIN};CHECK_EXPECTATIONS=$<TARGET_FILE:check_expectations>")
  endif()
endforeach()
add_test(NAME resume_after_kill COMMAND ${CMAKE_SOURCE_DIR}/tests/resume.sh
         ${KG_RESULTS_DIR}/resume_after_kill.jsonl)
set_tests_properties(resume_after_kill PROPERTIES LABELS "integration;integrity" TIMEOUT 600
                     ENVIRONMENT "KGRADE=${KG_BIN}")

# The stages' order (docs/architecture.md): no file includes a header of a
# higher stage; and the check itself fails on a tree where one does.
add_test(NAME layering COMMAND ${CMAKE_SOURCE_DIR}/tests/layering.sh ${CMAKE_SOURCE_DIR})
add_test(NAME layering_catches_upward_include COMMAND sh -c
  "d=$(mktemp -d) && mkdir -p $d/runner/common $d/hardware $d/runner/formats $d/runner/stats $d/runner/grade $d/runner/results $d/reports $d/runner/cli && printf '#include \"cmd.h\"\\n' > $d/runner/common/low.c && touch $d/runner/cli/cmd.h && ${CMAKE_SOURCE_DIR}/tests/layering.sh $d; rc=$?; rm -rf $d; test $rc -eq 1")
set_tests_properties(layering layering_catches_upward_include PROPERTIES LABELS unit)
# No function over 100 lines in runner/, hardware/ or reports/; the second
# test shows the check fails on a 101-line function.
add_test(NAME function_length COMMAND ${CMAKE_SOURCE_DIR}/tests/function_length.sh ${CMAKE_SOURCE_DIR})
add_test(NAME function_length_catches_long COMMAND sh -c
  "d=$(mktemp -d) && mkdir -p $d/runner $d/hardware $d/reports && { echo 'int long_one(void)'; echo '{'; i=0; while [ $i -lt 98 ]; do echo '    ;'; i=$((i+1)); done; echo '}'; } > $d/runner/long.c && ${CMAKE_SOURCE_DIR}/tests/function_length.sh $d; rc=$?; rm -rf $d; test $rc -eq 1")
set_tests_properties(function_length function_length_catches_long PROPERTIES LABELS unit)

# Triton's compile helper (hardware/triton/kgrade_triton.py), label triton:
# cold compiles of a small kernel and of SGLang's extend-attention kernels
# (the upstream files extracted by the Python setup; skipped without them),
# the same requests served warm from the cache, and each bad input's error.
# Run with KG_PYTHON, else $KGRADE_PYTHON, else skipped (tests/triton/run.sh).
# No GPU needed: Triton compiles for a named target.
if(NOT DEFINED KG_PYTHON)
  set(KG_PYTHON ${CMAKE_BINARY_DIR}/python/bin/python3 CACHE FILEPATH
      "Python with triton, for the Triton helper")
endif()
if(NOT DEFINED KG_UPSTREAM_DIR)
  set(KG_UPSTREAM_DIR ${CMAKE_BINARY_DIR}/upstream CACHE PATH
      "Extracted upstream kernel sources (upstream.json)")
endif()
set(KG_TRITON_CACHE ${CMAKE_BINARY_DIR}/test-triton-cache)
function(kg_triton_test name script)
  add_test(NAME ${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/triton/run.sh ${KG_PYTHON}
           ${CMAKE_SOURCE_DIR}/tests/triton/${script}
           --helper ${CMAKE_SOURCE_DIR}/hardware/triton/kgrade_triton.py ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "triton;python" SKIP_RETURN_CODE 77 TIMEOUT 300)
endfunction()
kg_triton_test(triton_compile_small compile_small.py --cache ${KG_TRITON_CACHE}/small)
kg_triton_test(triton_compile_upstream compile_upstream.py --cache ${KG_TRITON_CACHE}/upstream
               --upstream ${KG_UPSTREAM_DIR})
kg_triton_test(triton_cache_warm cache_warm.py --cache ${KG_TRITON_CACHE}
               --upstream ${KG_UPSTREAM_DIR})
kg_triton_test(triton_errors errors.py --cache ${KG_TRITON_CACHE}/errors)
# Hostile sources run none of their own Python; Landlock confines the compile.
kg_triton_test(triton_sandbox sandbox.py --cache ${KG_TRITON_CACHE}/sandbox)
# The warm test reads the caches the cold ones filled.
set_tests_properties(triton_compile_small PROPERTIES FIXTURES_SETUP triton_small_cache)
set_tests_properties(triton_compile_upstream PROPERTIES FIXTURES_SETUP triton_upstream_cache)
set_tests_properties(triton_cache_warm PROPERTIES
                     FIXTURES_REQUIRED "triton_small_cache;triton_upstream_cache")
# kgrade compare on real results files (tests/compare.sh).
add_test(NAME compare_runs COMMAND ${CMAKE_SOURCE_DIR}/tests/compare.sh ${KG_RESULTS_DIR}/compare)
set_tests_properties(compare_runs PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "KGRADE=${KG_BIN}")

# kgrade export on real results files (tests/export.sh).
add_test(NAME export_formats COMMAND ${CMAKE_SOURCE_DIR}/tests/export.sh ${KG_RESULTS_DIR}/export)
set_tests_properties(export_formats PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "KGRADE=${KG_BIN}")

# kgrade replicate on a real results file and edited copies (tests/replicate.sh).
add_test(NAME replicate_run COMMAND ${CMAKE_SOURCE_DIR}/tests/replicate.sh
         ${KG_RESULTS_DIR}/replicate)
set_tests_properties(replicate_run PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "KGRADE=${KG_BIN}")

# kgrade export --format html in a real headless Chromium (tests/html_export.sh;
# the screenshot stays in <build>/test-results/html/page.png).
add_test(NAME export_html_in_chromium COMMAND ${CMAKE_SOURCE_DIR}/tests/html_export.sh
         ${KG_RESULTS_DIR}/html)
set_tests_properties(export_html_in_chromium PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77 ENVIRONMENT "KGRADE=${KG_BIN}")

# kgrade run --list and --only: shards of one run (tests/shards.sh).
add_test(NAME run_shards COMMAND ${CMAKE_SOURCE_DIR}/tests/shards.sh ${KG_RESULTS_DIR}/shards)
set_tests_properties(run_shards PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "KGRADE=${KG_BIN}")

# kgrade check, its ledger and the example agent loop on PoCL
# (tests/agent_check.sh, docs/agents.md). Alone (RUN_SERIAL): it holds a
# check of softmax's dev shapes to 5 s of wall time (30 s under ASan).
if(KG_SANITIZE)
  set(kg_check_max_s 30)
else()
  set(kg_check_max_s 5)
endif()
add_test(NAME agent_check COMMAND ${CMAKE_SOURCE_DIR}/tests/agent_check.sh ${KG_RESULTS_DIR}/agent)
set_tests_properties(agent_check PROPERTIES LABELS integration TIMEOUT 600 RUN_SERIAL TRUE
                     ENVIRONMENT "KGRADE=${KG_BIN};KGRADE_CHECK_MAX_S=${kg_check_max_s}")

# kgrade slurm and merge against a real Slurm started on localhost
# (tests/slurm.sh, docs/slurm.md): needs root and slurm-wlm + munge, else
# skipped with the reason. Label slurm: not repeated in the ASan build
# (the merge code runs there in run_shards and test_shards).
add_test(NAME slurm_array COMMAND ${CMAKE_SOURCE_DIR}/tests/slurm.sh ${KG_RESULTS_DIR}/slurm)
set_tests_properties(slurm_array PROPERTIES LABELS "integration;slurm" SKIP_RETURN_CODE 77
                     TIMEOUT 900 ENVIRONMENT "KGRADE=${KG_BIN}")

# The prepared GPU check (scripts/gpu-check.sh, docs/cuda.md) as a dry run
# on this build and device: it cannot rot between GPU visits.
add_test(NAME gpu_check_dry_run COMMAND ${CMAKE_SOURCE_DIR}/tests/gpu_check_dry_run.sh
         ${CMAKE_BINARY_DIR} ${KG_RESULTS_DIR}/gpu-check-dry)
set_tests_properties(gpu_check_dry_run PROPERTIES LABELS integration SKIP_RETURN_CODE 77
                     TIMEOUT 300)

# Triton (docs/triton.md): run with the build's Python (part of `make test`'s
# set-up, scripts/python-requirements.txt) and the SGLang files extracted
# from the pinned wheels into <build>/upstream; skipped (77) when either is
# missing. No GPU needed.
#  - triton_upstream_drift (extend attention), triton_upstream_drift_decode
#    (decode attention, by running upstream's launcher): the Triton tiers
#    launch SGLang's kernels as
#    each release does (parameters, block-size table by capability, stages,
#    grid), and the portable ports take 0.5.12's block sizes on every
#    capability, HIP and OpenCL; triton_upstream_drift_catches shows it
#    fails on edited copies;
#  - triton_compile_examples: every Triton entry compiled for sm_80 and
#    sm_90 with each shape's constexprs (cold cache);
#  - triton_interpret_examples: every Triton entry run in Triton's
#    interpreter against a numpy reference of its workload.
set(KG_TRITON_TIERS ${CMAKE_SOURCE_DIR}/baselines/extend_attention/kernels.json)
set(KG_EA_WORKLOAD ${CMAKE_SOURCE_DIR}/baselines/extend_attention/workload.json)
function(kg_triton_py_test name timeout script)
  add_test(NAME ${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/triton/with_python.sh ${KG_PYTHON}
           ${CMAKE_SOURCE_DIR}/tests/triton/${script} ${KG_UPSTREAM_DIR} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "triton;python" SKIP_RETURN_CODE 77 TIMEOUT ${timeout})
endfunction()
kg_triton_py_test(triton_upstream_drift 60 upstream_drift.py ${KG_TRITON_TIERS} ${KG_EA_WORKLOAD}
               reference,reference-early-exit,reference-tuned:triton-reference)
kg_triton_py_test(triton_upstream_drift_catches 120 upstream_drift_catches.py ${KG_TRITON_TIERS}
               ${KG_EA_WORKLOAD} reference,reference-early-exit,reference-tuned:triton-reference)
# Decode and prefill attention's Triton tiers against SGLang's own
# launchers (decode_attention_fwd, context_attention_fwd run with stand-in
# tensors and kernels: grids, arguments, constexprs, warps, stages, AMD
# options), and the edits that check must catch.
# Per-token-group FP8 quantisation's, the gated activations', RMS norm's
# and fused MoE's Triton tiers against SGLang's
# _per_token_group_quant_8bit_raw, silu_and_mul_triton, gelu_and_mul_triton,
# fused_rmsnorm and invoke_fused_moe_kernel (with get_default_config's
# block sizes), the same way.
foreach(kg_wl decode_attention prefill_attention per_token_group_quant_fp8 silu_and_mul
        gelu_and_mul rmsnorm fused_moe)
  set(kg_dir ${CMAKE_SOURCE_DIR}/baselines/${kg_wl})
  string(REPLACE "_attention" "" kg_short ${kg_wl})
  kg_triton_py_test(triton_upstream_drift_${kg_short} 60 upstream_drift_launch.py
                    ${kg_dir}/kernels.json ${kg_dir}/workload.json)
  kg_triton_py_test(triton_upstream_drift_${kg_short}_catches 120 upstream_drift_catches.py
                    ${kg_dir}/kernels.json ${kg_dir}/workload.json --launch)
endforeach()
kg_triton_py_test(triton_compile_examples 600 compile_examples.py)
kg_triton_py_test(triton_interpret_examples 300 interpret_examples.py)

# Library tiers (language library, docs/formats.md): the manifest's call
# and the device API's checks, and CLBlast called on the OpenCL device
# against a CPU GEMM where both are present.
kg_unit_test(test_library_tier)
target_link_libraries(test_library_tier PRIVATE kg_host_backend)
# gemm's library tier on the OpenCL device with CLBlast, and without it
# (tests/library_tier.sh); skipped (77) without an OpenCL device or CLBlast.
add_test(NAME library_tier_gemm COMMAND ${CMAKE_SOURCE_DIR}/tests/library_tier.sh ${KG_RESULTS_DIR})
set_tests_properties(library_tier_gemm PROPERTIES LABELS integration SKIP_RETURN_CODE 77
                     TIMEOUT 300 ENVIRONMENT "KGRADE=${KG_BIN}")
# The same on the first HIP device with rocBLAS; skipped (77) without an
# AMD GPU or rocBLAS.
if("hip" IN_LIST KG_BACKENDS_BUILT)
  add_test(NAME library_tier_gemm_hip
           COMMAND ${CMAKE_SOURCE_DIR}/tests/library_tier.sh ${KG_RESULTS_DIR} hip)
  set_tests_properties(library_tier_gemm_hip PROPERTIES LABELS "integration;gpu"
                       SKIP_RETURN_CODE 77 TIMEOUT 300 ENVIRONMENT "KGRADE=${KG_BIN}")
endif()
# cuBLAS for the CUDA library tiers: found and every symbol the CUDA path
# calls resolved, without a GPU; skips (77) without libcublas.
if("cuda" IN_LIST KG_BACKENDS_BUILT)
  kg_unit_test(test_cublas_symbols)
  target_link_libraries(test_cublas_symbols PRIVATE kg_hardware_vendor)
endif()
# rocBLAS for the HIP library tiers: the row-major GEMM's mapping onto
# rocBLAS's column-major call, and loading refused with the files tried or
# the missing symbol; needs no GPU and no rocBLAS (described where found).
if("hip" IN_LIST KG_BACKENDS_BUILT)
  kg_unit_test(test_rocblas_loader)
  target_link_libraries(test_rocblas_loader PRIVATE kg_hardware_vendor)
endif()
