# LSTMLAB_SANITIZE=address,undefined (any list -fsanitize= takes) instruments our own targets, in a
# build folder of its own; LibTorch itself stays uninstrumented. Empty: no sanitizers.
set(LSTMLAB_SANITIZE "" CACHE STRING "Sanitizers for lstm-lab's own code, e.g. address,undefined")
# A fuzzing build instruments our code for libFuzzer's coverage and, unless told otherwise, for
# ASan and UBSan too: a fuzzer without sanitizers finds only the crashes that happen to segfault.
if(LSTMLAB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LSTMLAB_FUZZ needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT LSTMLAB_SANITIZE)
    set(LSTMLAB_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
endif()

# lstmlab_sanitizers instruments the target that links it (our libraries, lstm-lab, the fuzz
# targets); lstmlab_sanitizer_runtime is what a program of instrumented code links with (the
# libraries pass it on). The test suite's own files are not instrumented: the code under test is,
# and each of them compiles in half the time without (a third of the sanitizer build).
add_library(lstmlab_sanitizers INTERFACE)
add_library(lstmlab_sanitizer_runtime INTERFACE)
target_link_libraries(lstmlab_sanitizers INTERFACE lstmlab_sanitizer_runtime)
if(LSTMLAB_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "LSTMLAB_SANITIZE needs GCC or Clang, not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # A report stops the test that hit it: recovering would let a defect pass as a green test.
  target_compile_options(lstmlab_sanitizers INTERFACE
    -fsanitize=${LSTMLAB_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer
    # GCC 12 sees uninitialized members in libstdc++'s <regex> once instrumented: noise, not ours.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_link_options(lstmlab_sanitizer_runtime INTERFACE -fsanitize=${LSTMLAB_SANITIZE})
  target_compile_definitions(lstmlab_sanitizer_runtime INTERFACE LSTMLAB_SANITIZED=1)
  message(STATUS "lstm-lab: sanitizers ${LSTMLAB_SANITIZE}")
endif()
if(LSTMLAB_FUZZ)
  target_compile_options(lstmlab_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
