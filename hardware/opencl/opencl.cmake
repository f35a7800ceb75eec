# The OpenCL backend (included by hardware/hardware.cmake): through the
# system's ICD loader, so any OpenCL driver works (PoCL on CPUs).
if(NOT KG_OPENCL STREQUAL "OFF")
  find_package(OpenCL QUIET)
  if(OpenCL_FOUND)
    kg_embed_text(${CMAKE_CURRENT_LIST_DIR}/prelude.cl kg_opencl_prelude
                  ${CMAKE_BINARY_DIR}/generated/opencl_prelude.c)
    list(APPEND KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/opencl_backend.c
         ${CMAKE_CURRENT_LIST_DIR}/cl_errors.c ${CMAKE_BINARY_DIR}/generated/opencl_prelude.c)
    list(APPEND KG_BACKEND_LIBS OpenCL::OpenCL)
    list(APPEND KG_BACKEND_DEFS KG_HAVE_OPENCL CL_TARGET_OPENCL_VERSION=120)
    list(APPEND KG_BACKENDS_BUILT opencl)
    # CLBlast, for `library` tiers: its header for the types and
    # prototypes; the library itself is dlopen'ed at run time.
    find_path(KG_CLBLAST_INCLUDE_DIR clblast_c.h)
    if(KG_CLBLAST_INCLUDE_DIR)
      list(APPEND KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/clblast_loader.c)
      list(APPEND KG_BACKEND_INCLUDES ${KG_CLBLAST_INCLUDE_DIR})
      list(APPEND KG_BACKEND_LIBS ${CMAKE_DL_LIBS})
      list(APPEND KG_BACKEND_DEFS KG_HAVE_CLBLAST)
      message(STATUS "kgrade: OpenCL library tier through CLBlast (${KG_CLBLAST_INCLUDE_DIR}/"
                     "clblast_c.h); libclblast is loaded at run time")
    else()
      message(STATUS "kgrade: OpenCL library tier left out (no clblast_c.h: apt-get install "
                     "libclblast-dev)")
    endif()
  elseif(KG_OPENCL STREQUAL "ON")
    message(FATAL_ERROR "KG_OPENCL=ON but OpenCL headers/loader were not found "
                        "(apt-get install ocl-icd-opencl-dev opencl-headers)")
  else()
    message(STATUS "kgrade: OpenCL backend left out (OpenCL headers/loader not found)")
  endif()
endif()
