#include "app/platform/memory_policy.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lstmlab {
namespace {
bool kept = false;
}  // namespace

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // Trimming frees the top of the heap once this much is free there: never, in practice.
  constexpr int kNeverTrim = 0x7fffffff;
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, kNeverTrim) == 1;
  kept = no_mmap && no_trim;
  return kept;
#else
  return false;
#endif
}

bool freed_memory_kept() { return kept; }

}  // namespace lstmlab
