// SineWaves against the seed's construction, written out here independently of the library.

#include "data/sine_waves.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace lstmlab {
namespace {

// np.sin(np.linspace(start, end, n)), by hand.
std::vector<double> seed_series(double start, double end, int n) {
  std::vector<double> y(static_cast<size_t>(n));
  const double step = (end - start) / (n - 1);
  for (int i = 0; i < n; ++i) {
    const double x = i == n - 1 ? end : start + i * step;
    y[static_cast<size_t>(i)] = std::sin(x);
  }
  return y;
}

// All windows of a dataset in time order: train, then validation, then test.
Batch all_windows(const SineWaves& data) {
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> targets;
  for (Split split : {Split::Train, Split::Validation, Split::Test}) {
    const Batch b = data.examples(split, torch::arange(data.size(split), torch::kLong));
    inputs.push_back(b.input);
    targets.push_back(b.target);
  }
  return Batch{torch::cat(inputs), torch::cat(targets)};
}

std::string message_of(const SineOptions& options) {
  try {
    SineWaves data(options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument thrown)";
}

TEST(SineWaves, WindowsMatchTheSeedConstruction) {
  SineOptions o;
  o.points = 20;
  o.x_start = 0;
  o.x_end = 10;
  o.seq_len = 5;
  o.test_fraction = 0;
  const SineWaves data(o);
  const std::vector<double> y = seed_series(0, 10, 20);

  ASSERT_EQ(data.series().scalar_type(), torch::kDouble);
  ASSERT_EQ(data.series().sizes(), torch::IntArrayRef({20}));
  for (int i = 0; i < 20; ++i) {
    EXPECT_NEAR(data.series()[i].item<double>(), y[static_cast<size_t>(i)], 1e-15) << "point " << i;
  }
  EXPECT_EQ(data.series()[19].item<double>(), std::sin(10.0));  // the endpoint is exactly x_end

  ASSERT_EQ(data.num_windows(), 15);
  ASSERT_EQ(data.size(Split::Train), 15);
  const Batch b = all_windows(data);
  ASSERT_EQ(b.input.sizes(), torch::IntArrayRef({15, 5, 1}));
  ASSERT_EQ(b.target.sizes(), torch::IntArrayRef({15, 1}));
  ASSERT_EQ(b.input.scalar_type(), torch::kDouble);
  ASSERT_EQ(b.target.scalar_type(), torch::kDouble);
  for (int i = 0; i < 15; ++i) {
    for (int t = 0; t < 5; ++t) {
      EXPECT_NEAR(b.input[i][t][0].item<double>(), y[static_cast<size_t>(i + t)], 1e-15)
          << "window " << i << " step " << t;
    }
    EXPECT_NEAR(b.target[i][0].item<double>(), y[static_cast<size_t>(i + 5)], 1e-15)
        << "target of window " << i;
  }
}

TEST(SineWaves, DefaultsWithoutHoldOutAreTheSeedsNineHundredFiftyWindows) {
  SineOptions o;
  o.test_fraction = 0;
  const SineWaves data(o);
  EXPECT_EQ(data.size(Split::Train), 950);
  EXPECT_EQ(data.size(Split::Validation), 0);
  EXPECT_EQ(data.size(Split::Test), 0);
  EXPECT_EQ(data.seq_len(), 50);
  EXPECT_EQ(data.input_size(), 1);
  EXPECT_EQ(data.target_size(), 1);
  EXPECT_EQ(data.name(), "sine");

  // Seed: x = np.linspace(0, 100, 1000); x[1] = 100/999, x[999] = 100.
  EXPECT_EQ(data.series()[1].item<double>(), std::sin(100.0 / 999.0));
  EXPECT_EQ(data.series()[999].item<double>(), std::sin(100.0));
  const Batch last = data.examples(Split::Train, torch::tensor({949}, torch::kLong));
  EXPECT_EQ(last.target.item<double>(), std::sin(100.0));
  EXPECT_EQ(last.input[0][0][0].item<double>(), std::sin(949 * (100.0 / 999.0)));
}

TEST(SineWaves, DefaultHoldsOutTheLastFifthInTimeOrder) {
  const SineWaves data;
  EXPECT_EQ(data.size(Split::Train), 760);
  EXPECT_EQ(data.size(Split::Validation), 95);
  EXPECT_EQ(data.size(Split::Test), 95);

  // Validation's first window is window 760, test's first is 855: its target is y[855 + 50].
  const std::vector<double> y = seed_series(0, 100, 1000);
  const auto first = torch::tensor({0}, torch::kLong);
  EXPECT_NEAR(data.examples(Split::Validation, first).target.item<double>(), y[760 + 50], 1e-15);
  EXPECT_NEAR(data.examples(Split::Test, first).target.item<double>(), y[855 + 50], 1e-15);
  const auto last_test = torch::tensor({94}, torch::kLong);
  EXPECT_NEAR(data.examples(Split::Test, last_test).target.item<double>(), y[999], 1e-15);
}

TEST(SineWaves, OddHoldOutGivesValidationTheExtraWindow) {
  SineOptions o;
  o.points = 30;
  o.seq_len = 10;  // 20 windows
  o.test_fraction = 0.25;  // 5 held out
  const SineWaves data(o);
  EXPECT_EQ(data.size(Split::Train), 15);
  EXPECT_EQ(data.size(Split::Validation), 3);
  EXPECT_EQ(data.size(Split::Test), 2);
}

TEST(SineWaves, NoiseIsSeededAndZeroNoiseIsClean) {
  SineOptions clean_options;
  const SineWaves clean(clean_options);

  SineOptions o;
  o.noise = 0.1;
  o.noise_seed = 7;
  const SineWaves a(o);
  const SineWaves b(o);
  o.noise_seed = 8;
  const SineWaves c(o);

  EXPECT_TRUE(torch::equal(a.series(), b.series()));
  EXPECT_FALSE(torch::equal(a.series(), c.series()));
  EXPECT_FALSE(torch::equal(a.series(), clean.series()));
  const double spread = (a.series() - clean.series()).std().item<double>();
  EXPECT_NEAR(spread, 0.1, 0.01);

  SineOptions zero;
  zero.noise = 0;
  zero.noise_seed = 123;
  EXPECT_TRUE(torch::equal(SineWaves(zero).series(), clean.series()));
}

TEST(SineWaves, NoiseDoesNotTouchTheGlobalGenerator) {
  torch::manual_seed(5);
  const double expected = torch::rand({1}).item<double>();
  torch::manual_seed(5);
  SineOptions o;
  o.noise = 0.5;
  const SineWaves noisy(o);
  EXPECT_EQ(torch::rand({1}).item<double>(), expected);
}

TEST(SineWaves, BadOptionsNameTheirFlag) {
  struct Case {
    SineOptions options;
    std::string flag;
  };
  std::vector<Case> cases;
  auto add = [&cases](const std::string& flag, auto change) {
    SineOptions o;
    change(o);
    cases.push_back({o, flag});
  };
  add("--points", [](SineOptions& o) { o.points = 1; });
  add("--points", [](SineOptions& o) { o.points = -5; });
  add("--seq-len", [](SineOptions& o) { o.seq_len = 0; });
  add("--seq-len", [](SineOptions& o) { o.seq_len = 2000; });
  add("--seq-len", [](SineOptions& o) { o.seq_len = 1000; });
  add("--test-fraction", [](SineOptions& o) { o.test_fraction = 1; });
  add("--test-fraction", [](SineOptions& o) { o.test_fraction = -0.1; });
  add("--test-fraction", [](SineOptions& o) { o.test_fraction = std::nan(""); });
  add("--noise", [](SineOptions& o) { o.noise = -0.5; });
  add("--noise", [](SineOptions& o) { o.noise = std::nan(""); });
  add("--x-end", [](SineOptions& o) { o.x_end = 0; });
  add("--x-end", [](SineOptions& o) { o.x_start = 5; o.x_end = -5; });
  // 1 window, and rounding holds it out: no training window left.
  add("--test-fraction", [](SineOptions& o) { o.points = 51; o.test_fraction = 0.6; });

  for (const Case& c : cases) {
    const std::string message = message_of(c.options);
    EXPECT_NE(message.find(c.flag), std::string::npos) << "expected " << c.flag << " in: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
  }
  EXPECT_EQ(message_of([] { SineOptions o; o.seq_len = 2000; return o; }()),
            "--seq-len 2000 is longer than the series (--points 1000): it must be less than the "
            "number of points");
}

TEST(SineWaves, DescribeNamesEverySplitAndShape) {
  const std::string line = SineWaves().describe();
  EXPECT_EQ(line,
            "sine: 1000 points of sin(x), x in [0, 100]; windows of 50 -> next value; train 760, "
            "validation 95, test 95; input [n, 50, 1], target [n, 1]");
  SineOptions o;
  o.points = 30;
  o.seq_len = 10;
  o.test_fraction = 0.25;
  const std::string small = SineWaves(o).describe();
  EXPECT_NE(small.find("train 15"), std::string::npos) << small;
  EXPECT_NE(small.find("validation 3"), std::string::npos) << small;
  EXPECT_NE(small.find("test 2"), std::string::npos) << small;
  EXPECT_EQ(small.find('\n'), std::string::npos) << small;
}

TEST(SineWaves, ExamplesRefuseIndicesOutsideTheSplit) {
  const SineWaves data;
  EXPECT_THROW(data.examples(Split::Validation, torch::tensor({95}, torch::kLong)), c10::Error);
  EXPECT_THROW(data.examples(Split::Train, torch::tensor({-1}, torch::kLong)), c10::Error);
  EXPECT_THROW(data.examples(Split::Train, torch::tensor({0.0})), c10::Error);
  const Batch none = data.examples(Split::Test, torch::empty({0}, torch::kLong));
  EXPECT_EQ(none.input.sizes(), torch::IntArrayRef({0, 50, 1}));
}

TEST(SineWaves, OriginalScaleIsTheIdentity) {
  const SineWaves data;
  const auto t = torch::tensor({0.25, -0.5}, torch::kDouble);
  EXPECT_TRUE(torch::equal(data.to_original_scale(t), t));
}

}  // namespace
}  // namespace lstmlab
