// The rows each rank takes of a global batch: contiguous, disjoint, covering the batch, unequal by
// at most one row (torch.tensor_split's rule), in rank order.

#include "app/dist/data_parallel.h"

#include <gtest/gtest.h>

namespace {

TEST(DataParallel, ShardsCoverTheBatchInRankOrder) {
  for (int world : {1, 2, 3, 5}) {
    for (int64_t rows : {0, 1, 2, 7, 15, 64}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const auto s = lstmlab::shard_rows(rows, r, world);
        EXPECT_EQ(s.begin, next) << rows << " rows, rank " << r << " of " << world;
        EXPECT_GE(s.size(), rows / world);
        EXPECT_LE(s.size(), rows / world + 1);
        next = s.end;
      }
      EXPECT_EQ(next, rows);
    }
  }
  EXPECT_EQ(lstmlab::shard_rows(15, 0, 2).size(), 8);
  EXPECT_EQ(lstmlab::shard_rows(15, 1, 2).size(), 7);
}

TEST(DataParallel, AStateIsShardedAlongItsBatchDimension) {
  const auto h = torch::arange(2 * 5 * 3, torch::kDouble).reshape({2, 5, 3});
  const auto part = lstmlab::shard(lstmlab::RecurrentState{h, {}}, lstmlab::shard_rows(5, 1, 2));
  EXPECT_TRUE(part.h.equal(h.narrow(1, 3, 2)));
  EXPECT_FALSE(part.c.defined());
}

}  // namespace
