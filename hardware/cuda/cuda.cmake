# The CUDA backend (included by hardware/hardware.cmake): built against the
# toolkit's headers only. libcuda, NVRTC, NVML and cuBLAS (library tiers)
# are dlopen'ed at run time, so the binary runs on machines without them.
if(NOT KG_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    list(APPEND KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_backend.c
         ${CMAKE_CURRENT_LIST_DIR}/cuda_dynlink.c ${CMAKE_CURRENT_LIST_DIR}/nvrtc_compile.c
         ${CMAKE_CURRENT_LIST_DIR}/cublas_loader.c)
    list(APPEND KG_BACKEND_INCLUDES ${CUDAToolkit_INCLUDE_DIRS})
    list(APPEND KG_BACKEND_LIBS ${CMAKE_DL_LIBS})
    list(APPEND KG_BACKEND_DEFS KG_HAVE_CUDA KG_CUDA_TOOLKIT_LIBDIR="${CUDAToolkit_LIBRARY_DIR}")
    list(APPEND KG_BACKENDS_BUILT cuda)
    message(STATUS "kgrade: CUDA backend against toolkit ${CUDAToolkit_VERSION} headers "
                   "(${CUDAToolkit_INCLUDE_DIRS}); driver and NVRTC are loaded at run time")
  elseif(KG_CUDA STREQUAL "ON")
    message(FATAL_ERROR "KG_CUDA=ON but CMake's FindCUDAToolkit found no CUDA toolkit "
                        "(set CUDAToolkit_ROOT to its folder)")
  else()
    message(STATUS "kgrade: CUDA backend left out (FindCUDAToolkit found no CUDA toolkit)")
  endif()
endif()
