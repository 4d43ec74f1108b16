// BatchLoader over a dataset whose every example says which one it is.

#include "data/batch_loader.h"
#include "data/sine_waves.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace lstmlab {
namespace {

// n examples; example i has input filled with i ([n, 3, 2]) and target i ([n, 1]), in train only.
class NumberedExamples : public Dataset {
 public:
  explicit NumberedExamples(int64_t n) : n_(n) {}
  std::string name() const override { return "numbered"; }
  int64_t size(Split split) const override { return split == Split::Train ? n_ : 0; }
  Batch examples(Split split, const torch::Tensor& indices) const override {
    check_indices(split, indices);
    ++calls;
    const torch::Tensor values = indices.to(torch::kDouble);
    return Batch{values.view({-1, 1, 1}).expand({-1, 3, 2}).contiguous(), values.view({-1, 1})};
  }
  int64_t input_size() const override { return 2; }
  int64_t target_size() const override { return 1; }
  std::string describe() const override { return "numbered"; }

  mutable int calls = 0;  ///< how many times the loader asked for examples

 private:
  int64_t n_;
};

LoaderOptions options_with(int64_t batch_size, bool shuffle = false, uint64_t seed = 0) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  o.seed = seed;
  return o;
}

// The sample numbers an epoch visits, in order, checking that input and target agree.
std::vector<int64_t> visited(const std::vector<Batch>& batches) {
  std::vector<int64_t> ids;
  for (const Batch& b : batches) {
    const torch::Tensor target = b.target.to(torch::kCPU, torch::kDouble);
    const torch::Tensor input = b.input.to(torch::kCPU, torch::kDouble);
    for (int64_t i = 0; i < target.size(0); ++i) {
      const double id = target[i][0].item<double>();
      EXPECT_TRUE(torch::all(input[i] == id).item<bool>()) << "input and target of " << id;
      ids.push_back(static_cast<int64_t>(id));
    }
  }
  return ids;
}

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[static_cast<size_t>(i)] = i;
  }
  return v;
}

TEST(BatchLoader, InOrderKeepsTheLastPartialBatch) {
  const NumberedExamples data(10);
  const BatchLoader loader(data, Split::Train, options_with(4));
  EXPECT_EQ(loader.num_batches(), 3);
  const std::vector<Batch> batches = loader.epoch(0);
  ASSERT_EQ(batches.size(), 3U);
  EXPECT_EQ(batches[0].input.sizes(), torch::IntArrayRef({4, 3, 2}));
  EXPECT_EQ(batches[1].input.sizes(), torch::IntArrayRef({4, 3, 2}));
  EXPECT_EQ(batches[2].input.sizes(), torch::IntArrayRef({2, 3, 2}));
  EXPECT_EQ(batches[2].target.sizes(), torch::IntArrayRef({2, 1}));
  EXPECT_EQ(visited(batches), iota(10));
  EXPECT_EQ(visited(loader.epoch(7)), iota(10)) << "unshuffled epochs are all in order";
}

TEST(BatchLoader, BatchSizeZeroIsTheWholeSplit) {
  const NumberedExamples data(10);
  const BatchLoader loader(data, Split::Train, options_with(0));
  EXPECT_EQ(loader.num_batches(), 1);
  const std::vector<Batch> batches = loader.epoch(0);
  ASSERT_EQ(batches.size(), 1U);
  EXPECT_EQ(batches[0].input.sizes(), torch::IntArrayRef({10, 3, 2}));
  EXPECT_EQ(visited(batches), iota(10));

  const BatchLoader larger(data, Split::Train, options_with(64));
  EXPECT_EQ(larger.num_batches(), 1);
  EXPECT_EQ(visited(larger.epoch(0)), iota(10));
}

TEST(BatchLoader, ShuffledEpochsArePermutationsFixedBySeedAndEpoch) {
  const NumberedExamples data(100);
  const BatchLoader loader(data, Split::Train, options_with(16, true, 42));
  EXPECT_EQ(loader.num_batches(), 7);

  const std::vector<int64_t> epoch0 = visited(loader.epoch(0));
  const std::vector<int64_t> epoch1 = visited(loader.epoch(1));
  EXPECT_EQ(sorted(epoch0), iota(100));
  EXPECT_EQ(sorted(epoch1), iota(100));
  EXPECT_NE(epoch0, iota(100)) << "a shuffled epoch should not be in order";
  EXPECT_NE(epoch0, epoch1) << "each epoch draws its own order";
  EXPECT_EQ(visited(loader.epoch(0)), epoch0) << "same seed and epoch, same order";

  // A resumed run: a new loader asked straight for epoch 1 sees epoch 1's order.
  const BatchLoader resumed(data, Split::Train, options_with(16, true, 42));
  EXPECT_EQ(visited(resumed.epoch(1)), epoch1);
  EXPECT_EQ(visited(resumed.epoch(0)), epoch0);

  const BatchLoader other_seed(data, Split::Train, options_with(16, true, 43));
  EXPECT_NE(visited(other_seed.epoch(0)), epoch0);

  EXPECT_TRUE(torch::equal(loader.order(3), resumed.order(3)));
}

TEST(BatchLoader, ShufflingLeavesTheGlobalGeneratorAlone) {
  const NumberedExamples data(50);
  const BatchLoader loader(data, Split::Train, options_with(8, true, 1));
  torch::manual_seed(11);
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(11);
  loader.epoch(0);
  loader.epoch(1);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));

  // ... and the global seed does not change the order.
  torch::manual_seed(999);
  const torch::Tensor a = loader.order(2);
  torch::manual_seed(0);
  EXPECT_TRUE(torch::equal(loader.order(2), a));
}

TEST(BatchLoader, HonoursTheDtypeAskedFor) {
  const NumberedExamples data(10);
  for (const torch::ScalarType dtype : {torch::kFloat32, torch::kFloat64}) {
    LoaderOptions o = options_with(3);
    o.dtype = dtype;
    o.device = torch::Device(torch::kCPU);
    const BatchLoader loader(data, Split::Train, o);
    for (const Batch& b : loader.epoch(0)) {
      EXPECT_EQ(b.input.scalar_type(), dtype);
      EXPECT_EQ(b.target.scalar_type(), dtype);
      EXPECT_TRUE(b.input.device().is_cpu());
      EXPECT_TRUE(b.target.device().is_cpu());
    }
    EXPECT_EQ(visited(loader.epoch(0)), iota(10));
  }
}

TEST(BatchLoader, MovesBatchesToTheDevice_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  const NumberedExamples data(10);
  LoaderOptions o = options_with(4, true, 3);
  o.device = torch::Device(torch::kCUDA, 0);
  const BatchLoader loader(data, Split::Train, o);
  for (const Batch& b : loader.epoch(0)) {
    EXPECT_TRUE(b.input.is_cuda());
    EXPECT_TRUE(b.target.is_cuda());
    EXPECT_EQ(b.input.scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(sorted(visited(loader.epoch(0))), iota(10));
}

TEST(BatchLoader, EmptySplitHasNoBatches) {
  const NumberedExamples data(10);
  const BatchLoader loader(data, Split::Validation, options_with(4, true, 0));
  EXPECT_EQ(loader.num_batches(), 0);
  EXPECT_TRUE(loader.epoch(0).empty());
  const BatchLoader whole(data, Split::Test, options_with(0));
  EXPECT_EQ(whole.num_batches(), 0);
  EXPECT_TRUE(whole.epoch(0).empty());

  SineOptions seed_task;
  seed_task.test_fraction = 0;
  const SineWaves sine(seed_task);
  EXPECT_TRUE(BatchLoader(sine, Split::Test, options_with(32)).epoch(0).empty());
}

TEST(BatchLoader, SineTrainSplitInSeedOrder) {
  const SineWaves sine;
  const BatchLoader loader(sine, Split::Train, options_with(100));
  EXPECT_EQ(loader.num_batches(), 8);
  const std::vector<Batch> batches = loader.epoch(0);
  ASSERT_EQ(batches.size(), 8U);
  EXPECT_EQ(batches.back().input.sizes(), torch::IntArrayRef({60, 50, 1}));
  // Batch 1's first window starts at series point 100; its target is point 150.
  EXPECT_FLOAT_EQ(batches[1].input[0][0][0].item<float>(),
                  static_cast<float>(sine.series()[100].item<double>()));
  EXPECT_FLOAT_EQ(batches[1].target[0][0].item<float>(),
                  static_cast<float>(sine.series()[150].item<double>()));
}

TEST(BatchLoader, NegativeBatchSizeNamesTheFlag) {
  const NumberedExamples data(10);
  try {
    BatchLoader loader(data, Split::Train, options_with(-1));
    FAIL() << "a negative batch size was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--batch-size"), std::string::npos) << e.what();
  }
  LoaderOptions integer = options_with(4);
  integer.dtype = torch::kLong;
  EXPECT_THROW(BatchLoader(data, Split::Train, integer), std::invalid_argument);
}

// Class indices (a tagger's targets, [n, T] int64) keep their dtype, in order and shuffled, while
// the float64 inputs take the dtype asked for.
TEST(BatchLoader, IntegerTargetsKeepTheirDtype) {
  class Classes : public Dataset {
   public:
    std::string name() const override { return "classes"; }
    int64_t size(Split split) const override { return split == Split::Train ? 6 : 0; }
    Batch examples(Split split, const torch::Tensor& indices) const override {
      check_indices(split, indices);
      const torch::Tensor rows = indices.view({-1, 1}).expand({-1, 3}).contiguous();
      return Batch{rows.to(torch::kDouble).unsqueeze(-1), rows};
    }
    int64_t input_size() const override { return 1; }
    int64_t target_size() const override { return 3; }
    std::string describe() const override { return "classes"; }
  };
  const Classes data;
  for (const bool shuffle : {false, true}) {
    SCOPED_TRACE(shuffle ? "shuffled" : "in order");
    const BatchLoader loader(data, Split::Train, options_with(4, shuffle, 3));
    for (const Batch& b : loader.epoch(0)) {
      EXPECT_EQ(b.input.scalar_type(), torch::kFloat32);
      EXPECT_EQ(b.target.scalar_type(), torch::kLong);
      EXPECT_TRUE(torch::equal(b.target, b.input.squeeze(-1).to(torch::kLong)));
    }
  }
}

TEST(BatchLoader, EpochSeedsDifferAcrossSeedsAndEpochs) {
  EXPECT_EQ(epoch_seed(42, 3), epoch_seed(42, 3));
  EXPECT_NE(epoch_seed(42, 3), epoch_seed(42, 4));
  EXPECT_NE(epoch_seed(42, 3), epoch_seed(43, 3));
  EXPECT_NE(epoch_seed(0, 1), epoch_seed(1, 0));
}

TEST(BatchLoader, AsksTheDatasetOnceAndEpochsCopyNothingUnshuffled) {
  const NumberedExamples data(10);
  const BatchLoader in_order(data, Split::Train, options_with(4));
  EXPECT_EQ(data.calls, 1);
  const auto first = in_order.epoch(0);
  const auto second = in_order.epoch(1);
  EXPECT_EQ(data.calls, 1) << "an epoch went back to the dataset";
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].input.data_ptr(), second[0].input.data_ptr()) << "an epoch copied the split";
  EXPECT_EQ(visited(second), visited(first));

  const BatchLoader shuffled(data, Split::Train, options_with(4, true, 7));
  EXPECT_EQ(data.calls, 2);
  const auto a = shuffled.epoch(0);
  const auto b = shuffled.epoch(1);
  EXPECT_EQ(data.calls, 2);
  EXPECT_EQ(sorted(visited(a)), sorted(visited(b)));
  EXPECT_NE(visited(a), visited(b));
}

}  // namespace
}  // namespace lstmlab
