# Every third-party library the project uses, found once, linked as imported targets.
# Torch: Debian's libtorch-dev (1.13, CPU) by default; a CUDA LibTorch 2.x through CMAKE_PREFIX_PATH.
find_package(Torch REQUIRED)
find_package(fmt 8 REQUIRED)
find_package(cxxopts 2.2 REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
# The text corpus: Gumbo parses HTML as a browser does; ICU knows which code points are emoji.
find_package(ICU 62 COMPONENTS uc REQUIRED)  # 62: the Extended_Pictographic property
find_package(PkgConfig REQUIRED)
pkg_check_modules(GUMBO REQUIRED IMPORTED_TARGET gumbo>=0.10)
# libcsv (Debian libcsv-dev) ships neither a CMake package nor a pkg-config file: found by hand.
find_path(CSV_INCLUDE_DIR csv.h REQUIRED)
find_library(CSV_LIBRARY csv REQUIRED)
add_library(csv::csv UNKNOWN IMPORTED)
set_target_properties(csv::csv PROPERTIES IMPORTED_LOCATION ${CSV_LIBRARY}
                                          INTERFACE_INCLUDE_DIRECTORIES ${CSV_INCLUDE_DIR})
if(LSTMLAB_BUILD_TESTS)
  find_package(GTest 1.10 REQUIRED)
endif()
message(STATUS "lstm-lab: Torch ${Torch_VERSION}, fmt ${fmt_VERSION}, cxxopts ${cxxopts_VERSION}, "
               "ICU ${ICU_VERSION}, gumbo ${GUMBO_VERSION}")
