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
if(LSTMLAB_BUILD_TESTS)
  find_package(GTest 1.10 REQUIRED)
endif()
message(STATUS "lstm-lab: Torch ${Torch_VERSION}, fmt ${fmt_VERSION}, cxxopts ${cxxopts_VERSION}, "
               "ICU ${ICU_VERSION}, gumbo ${GUMBO_VERSION}")
