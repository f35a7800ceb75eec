# kg_hardware: the device API (device.h, the only public header), the
# private backend interface and shared parts (core/), and every backend whose
# headers are found, each listed in its own folder's CMake file. Vendor
# headers, core/ and definitions stay private to this library; tests that
# open a backend's internals, or bring their own backend, link
# kg_hardware_vendor for them.
set(KG_BACKENDS_BUILT "")
set(KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry.c ${CMAKE_CURRENT_LIST_DIR}/device.c
    ${CMAKE_CURRENT_LIST_DIR}/core/build_text.c ${CMAKE_CURRENT_LIST_DIR}/core/dynlink.c)
set(KG_BACKEND_INCLUDES "")
set(KG_BACKEND_LIBS "")
set(KG_BACKEND_DEFS "")

include(${CMAKE_CURRENT_LIST_DIR}/opencl/opencl.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/cuda/cuda.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/hip/hip.cmake)

# The GPU core and runtime-compiler driver are always built: the host test
# backend (tests/host_backend) runs on the core where no GPU backend is.
list(APPEND KG_BACKEND_SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/gpu_core.c
     ${CMAKE_CURRENT_LIST_DIR}/core/rtc_compile.c
     ${CMAKE_CURRENT_LIST_DIR}/core/rtc_cache.c)

# The GPU prelude of the portable dialect, shared by CUDA and HIP.
if("cuda" IN_LIST KG_BACKENDS_BUILT OR "hip" IN_LIST KG_BACKENDS_BUILT)
  kg_embed_text(${CMAKE_CURRENT_LIST_DIR}/cuda/prelude.cuh kg_cuda_prelude
                ${CMAKE_BINARY_DIR}/generated/cuda_prelude.c)
  list(APPEND KG_BACKEND_SOURCES ${CMAKE_BINARY_DIR}/generated/cuda_prelude.c)
endif()

if(KG_BACKENDS_BUILT STREQUAL "")
  message(WARNING "kgrade: no backend compiled; kgrade will find no device")
endif()
string(REPLACE ";" ", " KG_BACKENDS_LIST "${KG_BACKENDS_BUILT}")
message(STATUS "kgrade: backends compiled: ${KG_BACKENDS_LIST}")

add_library(kg_hardware STATIC ${KG_BACKEND_SOURCES})
target_include_directories(kg_hardware PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_include_directories(kg_hardware PRIVATE ${CMAKE_CURRENT_LIST_DIR}/core)
target_include_directories(kg_hardware SYSTEM PRIVATE ${KG_BACKEND_INCLUDES})
target_compile_definitions(kg_hardware PRIVATE ${KG_BACKEND_DEFS}
                           KG_BACKENDS_BUILT="${KG_BACKENDS_LIST}")
target_link_libraries(kg_hardware PUBLIC kg_common PRIVATE ${KG_BACKEND_LIBS})

add_library(kg_hardware_vendor INTERFACE)
target_include_directories(kg_hardware_vendor SYSTEM INTERFACE ${KG_BACKEND_INCLUDES})
target_include_directories(kg_hardware_vendor INTERFACE ${CMAKE_CURRENT_LIST_DIR}/core
                           ${CMAKE_CURRENT_LIST_DIR}/cuda
                           ${CMAKE_CURRENT_LIST_DIR}/hip ${CMAKE_CURRENT_LIST_DIR}/opencl)
target_compile_definitions(kg_hardware_vendor INTERFACE ${KG_BACKEND_DEFS})
