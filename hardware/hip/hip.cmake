# The HIP backend (included by hardware/hardware.cmake): built against the
# HIP headers (Debian: libamdhip64-dev, or a ROCm install's include folder);
# libamdhip64, hiprtc, comgr and rocBLAS (library tiers; declared in
# rocblas_loader.h, so its headers are not needed) are dlopen'ed at run time.
if(NOT KG_HIP STREQUAL "OFF")
  find_path(KG_HIP_INCLUDE_DIR hip/hip_runtime_api.h PATHS /opt/rocm/include)
  if(KG_HIP_INCLUDE_DIR AND EXISTS ${KG_HIP_INCLUDE_DIR}/hip/hiprtc.h)
    list(APPEND KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/hip_backend.c
         ${CMAKE_CURRENT_LIST_DIR}/hip_dynlink.c ${CMAKE_CURRENT_LIST_DIR}/hiprtc_compile.c
         ${CMAKE_CURRENT_LIST_DIR}/rocblas_loader.c)
    list(APPEND KG_BACKEND_INCLUDES ${KG_HIP_INCLUDE_DIR})
    list(APPEND KG_BACKEND_LIBS ${CMAKE_DL_LIBS})
    list(APPEND KG_BACKEND_DEFS KG_HAVE_HIP __HIP_PLATFORM_AMD__)
    list(APPEND KG_BACKENDS_BUILT hip)
    message(STATUS "kgrade: HIP backend against the headers in ${KG_HIP_INCLUDE_DIR}; the "
                   "runtime and hiprtc are loaded at run time")
  elseif(KG_HIP STREQUAL "ON")
    message(FATAL_ERROR "KG_HIP=ON but hip/hip_runtime_api.h and hip/hiprtc.h were not found "
                        "(apt-get install libamdhip64-dev, or set KG_HIP_INCLUDE_DIR)")
  else()
    message(STATUS "kgrade: HIP backend left out (hip/hip_runtime_api.h not found)")
  endif()
endif()
