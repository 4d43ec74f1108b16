// keep_freed_memory_for_reuse: a large block, once freed, stays in the heap for the next one
// instead of going back to the kernel (whose fresh pages then fault in on every step).

#include "app/platform/memory_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lstmlab {
namespace {

#if defined(__GLIBC__) && !defined(LSTMLAB_SANITIZED)
// 0 when the policy holds; otherwise which check failed.
int check_the_policy() {
  if (!keep_freed_memory_for_reuse() || !freed_memory_kept()) return 1;
  constexpr size_t kBytes = size_t{64} << 20;  // above the largest mmap threshold glibc uses
  const struct mallinfo2 before = mallinfo2();
  auto* block = static_cast<char*>(std::malloc(kBytes));
  if (!block) return 2;
  std::memset(block, 1, kBytes);
  const struct mallinfo2 during = mallinfo2();
  if (static_cast<volatile char*>(block)[kBytes - 1] != 1) return 3;
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  // With glibc's defaults the block is its own mapping (hblkhd) and is unmapped by free.
  if (during.hblkhd >= before.hblkhd + kBytes) return 4;  // the block was mapped on its own
  if (after.fordblks < during.fordblks + kBytes) return 5;  // the freed block left the heap
  return 0;
}
#endif

// In a child process: the policy lasts as long as the process, and the tests after this one must
// run under glibc's defaults as they found them.
TEST(MemoryPolicy, FreedLargeBlockStaysInTheHeap) {
#if defined(LSTMLAB_SANITIZED)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces malloc and ignores mallopt";
#elif defined(__GLIBC__)
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::_Exit(check_the_policy()), ::testing::ExitedWithCode(0), "")
      << "exit codes: 1 refused, 2 no memory, 4 mapped on its own, 5 left the heap";
#else
  GTEST_SKIP() << "the policy is glibc's mallopt";
#endif
}

}  // namespace
}  // namespace lstmlab
