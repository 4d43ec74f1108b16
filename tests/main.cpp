// The test binary's entry point: LibTorch here starts with one thread; give it the machine.
#include "app/platform/device.h"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  lstmlab::set_thread_count(0);
  return RUN_ALL_TESTS();
}
