// A data-parallel run resumes on another number of ranks, since its global batch is fixed by its
// config.json: 2 ranks then 1 reach a 1-rank run's weights (to rounding), and Ctrl-C on the
// launcher stops every rank at the same step, rank 0 saves every stream's carried state, and
// the run goes on to the weights an uninterrupted run reaches.

#include "tests/app/dist/dist_helpers.h"
#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include "app/platform/device.h"
#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

namespace {

using lstmlab::test::Child;
using lstmlab::test::lstm_lab;
using namespace std::chrono_literals;

double largest_relative_weight_difference(const std::string& a, const std::string& b) {
  const auto pa = lstmlab::test::run_weights(a), pb = lstmlab::test::run_weights(b);
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>() /
                                std::max(pa[i].abs().max().item<double>(), 1e-300));
  }
  return worst;
}

std::string corpus(lstmlab::test::TempPaths& paths) {
  const auto text = paths.path("corpus.txt");
  std::ofstream out(text);
  for (int i = 0; i < 12; ++i) out << "the time traveller smiled at us, and the fire burned. ";
  return text;
}

TEST(DistResume, TwoRanksThenOneReachTheWeightsOfOneRank) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const std::string f = "--task sine --points 120 --seq-len 8 --hidden 5 --lr 0.02 --batch-size 15 "
                        "--shuffle --dtype float64 --threads 1 --quiet --no-plots";
  const auto straight = paths.path("straight"), split = paths.path("split");
  ASSERT_EQ(lstm_lab("train " + f + " --epochs 4 --out '" + straight + "'").status, 0);
  auto o = lstm_lab("train " + f + " --epochs 2 --nproc 2 --out '" + split + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  o = lstm_lab("train --resume '" + split + "' --epochs 4 --quiet --no-plots", true);
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_NE(o.output.find("resuming a run of 2 rank(s) on 1: its global batch"), std::string::npos)
      << o.output;
  EXPECT_LE(largest_relative_weight_difference(straight, split), 1e-12);
}

TEST(DistResume, CtrlCOnTheLauncherStopsEveryRankAndTheRunGoesOn) {
  lstmlab::test::start_quickly();
  lstmlab::test::TempPaths paths;
  const auto text = corpus(paths);
  const std::string f = "train --task text --text " + text +
                        " --seq-len 7 --hidden 8 --epochs 60 --lr 0.01 --windows sequential "
                        "--batch-size 5 --dtype float64 --threads 1 --quiet --no-plots";
  const auto straight = paths.path("straight"), stopped = paths.path("stopped");
  ASSERT_EQ(lstm_lab(f + " --out '" + straight + "'").status, 0);
  Child launcher(f + " --nproc 2 --out " + stopped, {}, paths.path("launcher.err"));
  ASSERT_TRUE(lstmlab::test::wait_for_file(stopped + "/metrics.csv", 60s)) << launcher.err();
  launcher.signal(SIGINT);
  const auto status = launcher.wait_for(30s);
  ASSERT_TRUE(status.has_value());
  if (*status == 0) GTEST_SKIP() << "the run ended before Ctrl-C reached it";
  ASSERT_EQ(*status, 130) << launcher.err();
  EXPECT_NE(launcher.err().find("[rank 0] stopped: checkpoint saved"), std::string::npos)
      << launcher.err();
  // On one rank: the checkpoint holds both ranks' streams, gathered.
  const auto o = lstm_lab("train --resume '" + stopped + "' --quiet --no-plots");
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_LE(largest_relative_weight_difference(straight, stopped), 1e-10);
}

}  // namespace
