// Data-parallel training equals one process: a run on 2 ranks (lstm-lab train --nproc 2, and ranks
// started by hand with torchrun's variables) reaches the final weights and every epoch's losses
// and metrics of a 1-rank run with the same global batch, to 1e-12 relative in float64 (float32:
// 1e-5), for the sine, csv and text tasks and both layers. Odd batches give the ranks unequal
// shards; the text task's sequential windows carry each rank's own streams.

#include "app/platform/device.h"
#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"
#include "tests/app/dist/dist_helpers.h"
#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using lstmlab::test::lstm_lab;
using lstmlab::test::slurp;

const std::string kPollution =
    (fs::path(__FILE__).parent_path().parent_path().parent_path() / "data/fixtures/pollution_head300.csv")
        .string();

std::vector<std::vector<double>> read_metrics(const std::string& dir, std::vector<std::string>* names) {
  std::ifstream in(dir + "/metrics.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream h(line);
    for (std::string c; std::getline(h, c, ',');) header.push_back(c);
  }
  if (names) *names = header;
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream r(line);
    std::vector<double> row;
    for (std::string c; std::getline(r, c, ',');) row.push_back(std::stod(c));
    rows.push_back(row);
  }
  return rows;
}

// Every epoch's losses and metrics, and every final weight, within `tolerance` relative.
void expect_same_run(const std::string& one, const std::string& two, double tolerance) {
  std::vector<std::string> names;
  const auto a = read_metrics(one, &names);
  const auto b = read_metrics(two, nullptr);
  ASSERT_EQ(a.size(), b.size()) << "epochs in " << one << " and " << two;
  ASSERT_FALSE(a.empty());
  double worst_metric = 0;
  for (size_t e = 0; e < a.size(); ++e) {
    for (size_t c = 0; c < names.size(); ++c) {
      const auto& name = names[c];
      const bool compared = name == "train_loss" || name.rfind("val_", 0) == 0;
      if (!compared || std::isnan(a[e][c])) continue;
      const double rel = std::abs(a[e][c] - b[e][c]) / std::max(std::abs(a[e][c]), 1e-300);
      worst_metric = std::max(worst_metric, rel);
      EXPECT_LE(rel, tolerance) << name << " in epoch " << e + 1 << ": " << a[e][c] << " vs " << b[e][c];
    }
  }
  const auto wa = lstmlab::test::run_weights(one), wb = lstmlab::test::run_weights(two);
  ASSERT_EQ(wa.size(), wb.size());
  double worst_weight = 0;
  for (size_t i = 0; i < wa.size(); ++i) {
    const double scale = std::max(wa[i].abs().max().item<double>(), 1e-300);
    const double rel = (wa[i] - wb[i]).abs().max().item<double>() / scale;
    worst_weight = std::max(worst_weight, rel);
    EXPECT_LE(rel, tolerance) << "parameter " << i;
  }
  std::cout << "largest relative difference: losses and metrics " << worst_metric << ", weights "
            << worst_weight << " (tolerance " << tolerance << ")\n";
}

struct Case {
  std::string name;
  std::string flags;  ///< {text} stands for the test's text file
  double tolerance;
};

// The case's name in test listings, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class DistParity : public ::testing::TestWithParam<Case> {
 protected:
  std::string flags() {
    auto f = GetParam().flags;
    const auto at = f.find("{text}");
    if (at != std::string::npos) {
      const auto text = paths_.path("corpus.txt");
      std::ofstream out(text);
      for (int i = 0; i < 12; ++i) out << "the time traveller smiled at us, and the fire burned. ";
      f.replace(at, 6, text);
    }
    return f + " --threads 1 --quiet --no-plots";
  }
  lstmlab::test::TempPaths paths_;
};

TEST_P(DistParity, TwoRanksEqualOneRankWithTheSameGlobalBatch) {
  lstmlab::test::start_quickly();
  const auto f = flags();
  const auto one = paths_.path("one"), two = paths_.path("two");
  auto o = lstm_lab("train " + f + " --out '" + one + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  o = lstm_lab("train " + f + " --nproc 2 --out '" + two + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  expect_same_run(one, two, GetParam().tolerance);
  const auto config = nlohmann::json::parse(slurp(two + "/config.json"));
  EXPECT_EQ(config["distributed"]["world_size"], 2);
  EXPECT_EQ(config["distributed"]["backend"], "gloo");
  EXPECT_TRUE(fs::exists(two + "/summary.json"));
}

const std::string kSine = "--task sine --points 120 --seq-len 8 --hidden 5 --epochs 3 --lr 0.02 ";
const std::string kCsv = "--task csv --csv " + kPollution +
                         " --target pollution --ignore date --categorical wnd_dir --train-rows 120 "
                         "--hidden 6 --epochs 2 --lr 0.01 ";
const std::string kText = "--task text --text {text} --seq-len 7 --hidden 8 --epochs 2 --lr 0.05 ";

INSTANTIATE_TEST_SUITE_P(
    Tasks, DistParity,
    ::testing::Values(
        Case{"sine_scratch", kSine + "--model scratch --batch-size 15 --shuffle --dtype float64", 1e-12},
        Case{"sine_builtin", kSine + "--model builtin --batch-size 15 --shuffle --dtype float64", 1e-12},
        Case{"sine_scratch_float32", kSine + "--model scratch --batch-size 15 --shuffle", 1e-5},
        Case{"csv_scratch", kCsv + "--model scratch --batch-size 25 --dtype float64", 1e-12},
        Case{"csv_builtin", kCsv + "--model builtin --batch-size 25 --shuffle --dtype float64", 1e-12},
        Case{"text_scratch_sequential",
             kText + "--model scratch --windows sequential --batch-size 5 --dtype float64", 1e-12},
        Case{"text_builtin_sequential",
             kText + "--model builtin --windows sequential --batch-size 5 --dtype float64", 1e-12},
        Case{"text_scratch_random",
             kText + "--model scratch --windows random --train-windows 90 --val-windows 30 "
                     "--batch-size 13 --shuffle --dtype float64",
             1e-12}),
    [](const ::testing::TestParamInfo<Case>& c) { return c.param.name; });

// torchrun's contract, as torchrun --nproc-per-node 2 --no-python would start the ranks.
TEST(DistRanksByHand, TorchrunVariablesGiveTheSameRunAsOneRank) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto f = kSine + "--model scratch --batch-size 15 --shuffle --dtype float64 --threads 1 "
                         "--quiet --no-plots";
  const auto one = paths.path("one"), two = paths.path("two");
  ASSERT_EQ(lstm_lab("train " + f + " --out '" + one + "'").status, 0);
  const auto port = lstmlab::free_local_port();
  lstmlab::test::Child r0("train " + f + " --out " + two, lstmlab::test::rank_env(0, 2, port),
                          paths.path("r0.err"));
  lstmlab::test::Child r1("train " + f + " --out " + two, lstmlab::test::rank_env(1, 2, port),
                          paths.path("r1.err"));
  ASSERT_EQ(r0.wait_for(std::chrono::seconds(60)), 0) << r0.err();
  ASSERT_EQ(r1.wait_for(std::chrono::seconds(60)), 0) << r1.err();
  expect_same_run(one, two, 1e-12);
}

}  // namespace
