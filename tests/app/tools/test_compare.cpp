// run_compare on a tiny sine config: the two layers start from the same weights, train on the
// same batches, and their per-epoch train losses agree within compare_tolerance; the output
// directory holds both runs and compare.csv.

#include "app/tools/compare.h"
#include "app/train/run_config.h"
#include "tests/sine_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using lstmlab::RunConfig;

class Compare : public ::testing::Test {
 protected:
  std::string out_dir() { return paths_.path("compare"); }

 private:
  lstmlab::test::TempPaths paths_;
};

RunConfig tiny_config(const std::string& dtype) {
  RunConfig c;
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 120; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.seq_len = 10; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.test_fraction = 0.2; });
  c.model.hidden = 8;
  c.train.epochs = 4;
  c.train.batch_size = 32;
  c.train.shuffle = true;
  c.train.lr = 0.01;
  c.train.dtype = dtype;
  return c;
}

size_t line_count(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

void check_compare(const std::string& dtype, const std::string& dir) {
  const auto config = tiny_config(dtype);
  std::ostringstream log;
  const auto r = lstmlab::run_compare(config, dir, true, false, log);

  // The tolerances the README states: the trajectories agree to 1e-9 in float64, 1e-3 in float32.
  const double stated = dtype == "float64" ? 1e-9 : 1e-3;
  EXPECT_EQ(r.tolerance, stated);
  EXPECT_LE(r.max_rel_diff, stated) << "worst epoch " << r.worst_epoch;
  EXPECT_TRUE(r.pass());
  EXPECT_FALSE(r.builtin.stopped);
  EXPECT_FALSE(r.scratch.stopped);
  ASSERT_EQ(r.builtin.history.size(), 4u);
  ASSERT_EQ(r.scratch.history.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(r.builtin.history[i].train_loss));
    const double rel = std::abs(r.scratch.history[i].train_loss - r.builtin.history[i].train_loss) /
                       std::abs(r.builtin.history[i].train_loss);
    EXPECT_LE(rel, r.max_rel_diff) << "max_rel_diff is not the largest; epoch " << i + 1;
    ASSERT_EQ(r.rel_diffs.size(), 4u);
    EXPECT_DOUBLE_EQ(r.rel_diffs[i], rel) << "epoch " << i + 1;
  }

  for (const char* run : {"builtin", "scratch"}) {
    SCOPED_TRACE(run);
    const auto run_dir = dir + "/" + run;
    EXPECT_TRUE(fs::is_directory(run_dir));
    EXPECT_TRUE(fs::exists(run_dir + "/config.json"));
    EXPECT_TRUE(fs::exists(run_dir + "/checkpoint.pt"));
    EXPECT_EQ(line_count(run_dir + "/metrics.csv"), 5u);
  }
  EXPECT_EQ(line_count(dir + "/compare.csv"), 4u + 1u) << "a header and one row per epoch";

  std::ostringstream table;
  lstmlab::print_compare(r, config, table);
  EXPECT_NE(table.str().find("agree"), std::string::npos) << table.str();
}

TEST_F(Compare, BothLayersAgreeWithinToleranceFloat64) { check_compare("float64", out_dir()); }
TEST_F(Compare, BothLayersAgreeWithinToleranceFloat32) { check_compare("float32", out_dir()); }

// The very first batch sees the same weights in both models, so the first epoch's losses (with
// one full batch per epoch) can differ only by float64 rounding.
TEST_F(Compare, InitialWeightsAreIdentical) {
  auto config = tiny_config("float64");
  config.train.batch_size = 0;
  config.train.epochs = 1;
  const auto dir = out_dir();
  std::ostringstream log;
  const auto r = lstmlab::run_compare(config, dir, true, false, log);
  ASSERT_EQ(r.builtin.history.size(), 1u);
  ASSERT_EQ(r.scratch.history.size(), 1u);
  const double b = r.builtin.history[0].train_loss;
  const double s = r.scratch.history[0].train_loss;
  EXPECT_LE(std::abs(s - b), 1e-12 * std::abs(b)) << "builtin " << b << ", scratch " << s;
}

}  // namespace

// A verdict that fails names where the trajectories parted, not only where they were furthest.
TEST(CompareVerdict, DivergedNamesTheFirstEpochOverTheTolerance) {
  lstmlab::CompareResult r;
  r.tolerance = 1e-3;
  r.max_rel_diff = 7.048e-3;
  r.worst_epoch = 47;
  r.first_epoch_over = 38;
  lstmlab::RunConfig config;
  config.train.dtype = "float32";
  EXPECT_EQ(lstmlab::compare_verdict(r, config),
            "largest per-epoch train-loss difference: 7.048e-03 relative (epoch 47); tolerance for "
            "float32 1e-03: DIVERGED from epoch 38 (within the tolerance before it)");
  r.max_rel_diff = 5.654e-6;
  r.worst_epoch = 59;
  r.first_epoch_over = 0;
  EXPECT_EQ(lstmlab::compare_verdict(r, config),
            "largest per-epoch train-loss difference: 5.654e-06 relative (epoch 59); tolerance for "
            "float32 1e-03: agree");
}
