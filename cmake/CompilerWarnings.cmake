# Warnings for our own targets only; Torch's headers come in as system headers and stay quiet.
add_library(lstmlab_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lstmlab_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough)
elseif(MSVC)
  target_compile_options(lstmlab_warnings INTERFACE /W4 /permissive-)
endif()
