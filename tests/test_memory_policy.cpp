// keep_freed_memory_for_reuse: a large block, once freed, stays in the heap for the next one
// instead of going back to the kernel (whose fresh pages then fault in on every step).

#include "app/memory_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lstmlab {
namespace {

TEST(MemoryPolicy, FreedLargeBlockStaysInTheHeap) {
#if defined(__GLIBC__)
  ASSERT_TRUE(keep_freed_memory_for_reuse());
  EXPECT_TRUE(freed_memory_kept());
  constexpr size_t kBytes = size_t{64} << 20;  // above the largest mmap threshold glibc uses
  const struct mallinfo2 before = mallinfo2();
  auto* block = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(static_cast<volatile char*>(block)[kBytes - 1], 1);
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  // With glibc's defaults the block is its own mapping (hblkhd) and is unmapped by free.
  EXPECT_LT(during.hblkhd, before.hblkhd + kBytes) << "the block was mapped on its own";
  EXPECT_GE(after.fordblks, before.fordblks + kBytes) << "the freed block left the heap";
#else
  GTEST_SKIP() << "the policy is glibc's mallopt";
#endif
}

}  // namespace
}  // namespace lstmlab
