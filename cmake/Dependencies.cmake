# Every third-party library the project uses, found once, linked as imported targets.
# Torch: Debian's libtorch-dev (1.13, CPU) by default; a CUDA LibTorch 2.x through CMAKE_PREFIX_PATH.
# A CUDA LibTorch's CMake adds nvcc flags for TORCH_CUDA_ARCH_LIST, and without one for every arch
# its wheel was built for, sm_50 among them, which nvcc 13 refuses: ours are Ampere and Hopper.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
find_package(Torch REQUIRED)
# LibTorch 2.x ships fmt's headers (fmt 12 in 2.15) inside its include folder, which comes before
# Debian's on the include path: there fmt is used header-only from LibTorch's headers, as LibTorch
# itself does, since Debian's libfmt.so (fmt 9) holds another version's symbols.
# (Debian's LibTorch shares /usr/include with Debian's fmt, and links it.)
add_library(lstmlab_fmt INTERFACE)
get_filename_component(torch_include_dir "${TORCH_INSTALL_PREFIX}/include" REALPATH)
if(EXISTS "${torch_include_dir}/fmt/base.h" AND
   NOT torch_include_dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  target_compile_definitions(lstmlab_fmt INTERFACE FMT_HEADER_ONLY=1)
  file(STRINGS "${torch_include_dir}/fmt/base.h" fmt_version_line REGEX "define FMT_VERSION ")
  string(REGEX MATCH "[0-9]+" fmt_VERSION "${fmt_version_line}")
  set(fmt_VERSION "${fmt_VERSION} (LibTorch's headers, header-only)")
else()
  find_package(fmt 8 REQUIRED)
  target_link_libraries(lstmlab_fmt INTERFACE fmt::fmt)
endif()
find_package(cxxopts 2.2 REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
# The text corpus: Gumbo parses HTML as a browser does; ICU knows which code points are emoji.
find_package(ICU 62 COMPONENTS uc REQUIRED)  # 62: the Extended_Pictographic property
# Gumbo through pkg-config where its .pc file is found, else by hand (a machine given the Debian
# package unpacked under a prefix, as the GPU machine is: ../shared/device/).
find_package(PkgConfig)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(GUMBO IMPORTED_TARGET gumbo>=0.10)
endif()
add_library(gumbo::gumbo INTERFACE IMPORTED)
if(TARGET PkgConfig::GUMBO)
  target_link_libraries(gumbo::gumbo INTERFACE PkgConfig::GUMBO)
else()
  find_path(GUMBO_INCLUDE_DIR gumbo.h REQUIRED)
  find_library(GUMBO_LIBRARY gumbo REQUIRED)
  target_include_directories(gumbo::gumbo INTERFACE ${GUMBO_INCLUDE_DIR})
  target_link_libraries(gumbo::gumbo INTERFACE ${GUMBO_LIBRARY})
  set(GUMBO_VERSION "found at ${GUMBO_LIBRARY}")
endif()
# libcsv (Debian libcsv-dev) ships neither a CMake package nor a pkg-config file: found by hand.
find_path(CSV_INCLUDE_DIR csv.h REQUIRED)
find_library(CSV_LIBRARY csv REQUIRED)
add_library(csv::csv UNKNOWN IMPORTED)
set_target_properties(csv::csv PROPERTIES IMPORTED_LOCATION ${CSV_LIBRARY}
                                          INTERFACE_INCLUDE_DIRECTORIES ${CSV_INCLUDE_DIR})
# Data-parallel training (app/dist/) runs on LibTorch's own c10d. Its ProcessGroupGloo.hpp includes
# gloo's headers, which Debian ships apart (libgloo-dev); LibTorch's library has Gloo built in.
find_path(GLOO_INCLUDE_DIR gloo/config.h HINTS ${TORCH_INCLUDE_DIRS}
          DOC "gloo's headers (Debian: libgloo-dev), for c10d's ProcessGroupGloo")
if(NOT GLOO_INCLUDE_DIR)
  message(FATAL_ERROR "gloo's headers (gloo/config.h) are missing: install libgloo-dev "
                      "(cmake/install-deps.sh does); LibTorch's c10d needs them for ProcessGroupGloo")
endif()
# NCCL: only a CUDA LibTorch has ProcessGroupNCCL built in.
set(LSTMLAB_NCCL_DEFAULT OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(LSTMLAB_NCCL_DEFAULT ON)
endif()
option(LSTMLAB_NCCL "--dist-backend nccl (a CUDA LibTorch built with NCCL)" ${LSTMLAB_NCCL_DEFAULT})
# The scratch layers' CUDA kernels (models/kernels/cuda/), compiled with nvcc, only where the
# LibTorch found has CUDA; a CPU LibTorch builds exactly as before.
option(LSTMLAB_CUDA "the fused layers' CUDA kernels (a CUDA LibTorch)" ${LSTMLAB_NCCL_DEFAULT})
if(LSTMLAB_CUDA AND NOT LSTMLAB_NCCL_DEFAULT)
  message(FATAL_ERROR "-DLSTMLAB_CUDA=ON needs a CUDA LibTorch; Torch ${Torch_VERSION} at "
                      "${TORCH_INSTALL_PREFIX} has none (point CMAKE_PREFIX_PATH at one)")
endif()
# The LibTorch inside a PyTorch wheel loads the CUDA libraries (cudart, cuBLAS, cuDNN, NCCL) of the
# wheel's nvidia/ folder through its RPATH, newer than a CUDA toolkit's: the linker must resolve
# them there (the toolkit's older NCCL lacks symbols libtorch_cuda needs), and the programs load
# them from there first, so that the process holds one cudart, LibTorch's.
file(GLOB LSTMLAB_WHEEL_CUDA_LIBS "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
if(LSTMLAB_NCCL_DEFAULT AND LSTMLAB_WHEEL_CUDA_LIBS)
  string(JOIN ":" wheel_cuda_path ${LSTMLAB_WHEEL_CUDA_LIBS})
  add_link_options("LINKER:-rpath-link,${wheel_cuda_path}")
  list(PREPEND CMAKE_BUILD_RPATH ${LSTMLAB_WHEEL_CUDA_LIBS})
  message(STATUS "lstm-lab: CUDA libraries of the PyTorch wheel first: ${wheel_cuda_path}")
endif()
if(LSTMLAB_BUILD_TESTS)
  find_package(GTest 1.10 REQUIRED)
endif()
if(LSTMLAB_NCCL)
  message(STATUS "lstm-lab: c10d backends gloo, nccl")
else()
  message(STATUS "lstm-lab: c10d backend gloo (no NCCL in this LibTorch)")
endif()
message(STATUS "lstm-lab: Torch ${Torch_VERSION}, fmt ${fmt_VERSION}, cxxopts ${cxxopts_VERSION}, "
               "ICU ${ICU_VERSION}, gumbo ${GUMBO_VERSION}")
