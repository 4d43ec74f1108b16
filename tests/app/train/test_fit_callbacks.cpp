// Learning-rate schedules and early stopping: the counters against Keras' ReduceLROnPlateau and
// EarlyStopping rules worked by hand, the step and cosine formulas, and through the trainer: the lr
// column of metrics.csv, the best epoch's weights restored, and a stopped run that resumes to the
// very same weights, schedule and all.

#include "app/train/fit_callbacks.h"
#include "app/train/train_run.h"
#include "tests/run_helpers.h"
#include "tests/sine_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace {

using lstmlab::FitCallbacks;
using lstmlab::TrainConfig;

std::vector<torch::Tensor> no_parameters() { return {}; }

TEST(FitCallbacks, PlateauFollowsReduceLROnPlateauWithCooldown) {
  TrainConfig t;
  t.lr = 1.0;
  t.lr_schedule = "plateau";
  t.lr_factor = 0.5;
  t.lr_patience = 2;
  t.lr_min_delta = 0;
  t.lr_cooldown = 1;
  FitCallbacks callbacks(t);
  // By hand: best 1.0, 0.9; 0.95 and 0.92 do not improve (wait 1, 2: cut to 0.5, cooldown 1);
  // 0.93 spends the cooldown (wait 0) and then counts (wait 1); 0.8 improves; 0.85, 0.86: cut to
  // 0.25; 0.87 spends the cooldown and counts.
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87};
  const std::vector<double> next_lr = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25};
  EXPECT_EQ(callbacks.lr_for_epoch(0), 1.0);
  for (size_t e = 0; e < losses.size(); ++e) {
    EXPECT_FALSE(callbacks.end_epoch(static_cast<int64_t>(e), losses[e], no_parameters()));
    EXPECT_EQ(callbacks.lr_for_epoch(static_cast<int64_t>(e) + 1), next_lr[e]) << "after epoch " << e + 1;
  }
  // The floor: min_lr holds the rate where it is.
  t.lr_min = 0.4;
  t.lr_cooldown = 0;
  FitCallbacks floored(t);
  for (int64_t e = 0; e < 9; ++e) floored.end_epoch(e, 1.0, no_parameters());
  EXPECT_EQ(floored.lr_for_epoch(9), 0.4);
}

TEST(FitCallbacks, StepAndCosineFormulas) {
  TrainConfig t;
  t.lr = 1.0;
  t.lr_schedule = "step";
  t.lr_factor = 0.5;
  t.lr_step = 3;
  FitCallbacks step(t);
  const std::vector<double> expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
  for (size_t e = 0; e < expected.size(); ++e) EXPECT_EQ(step.lr_for_epoch(static_cast<int64_t>(e)), expected[e]);

  t.lr_schedule = "cosine";
  t.epochs = 4;
  t.lr_min = 0.0;
  FitCallbacks cosine(t);
  EXPECT_NEAR(cosine.lr_for_epoch(0), 1.0, 1e-15);
  EXPECT_NEAR(cosine.lr_for_epoch(1), (1 + std::sqrt(0.5)) / 2, 1e-15);
  EXPECT_NEAR(cosine.lr_for_epoch(2), 0.5, 1e-15);
  EXPECT_NEAR(cosine.lr_for_epoch(3), (1 - std::sqrt(0.5)) / 2, 1e-15);
}

TEST(FitCallbacks, EarlyStoppingCountsEpochsWithoutImprovementAndKeepsTheBest) {
  TrainConfig t;
  t.early_stopping = 2;
  t.restore_best = true;
  FitCallbacks callbacks(t);
  auto w = torch::zeros({2});
  const std::vector<double> losses = {1.0, 0.8, 0.85, 0.9};
  for (size_t e = 0; e < losses.size(); ++e) {
    w.fill_(static_cast<double>(e));
    const bool stop = callbacks.end_epoch(static_cast<int64_t>(e), losses[e], {w});
    EXPECT_EQ(stop, e == 3) << "epoch " << e + 1;
  }
  EXPECT_TRUE(callbacks.stopped_early());
  EXPECT_EQ(callbacks.best_epoch(), 2);
  ASSERT_EQ(callbacks.best_parameters().size(), 1u);
  EXPECT_TRUE(torch::equal(callbacks.best_parameters()[0], torch::full({2}, 1.0)));

  // The state round-trips.
  FitCallbacks again(t);
  again.load_state(callbacks.state(), callbacks.best_parameters());
  EXPECT_TRUE(again.stopped_early());
  EXPECT_EQ(again.best_epoch(), 2);
}

class FitCallbacksRun : public ::testing::Test {
 protected:
  void SetUp() override { lstmlab::clear_stop_request(); }
  void TearDown() override { lstmlab::clear_stop_request(); }
  lstmlab::test::TempPaths paths_;
};

// 120 sine points, windows of 10: 88 train windows, 11 validation.
lstmlab::RunConfig tiny() {
  lstmlab::RunConfig c;
  lstmlab::test::edit_sine(c, [](lstmlab::SineOptions& s) {
    s.points = 120;
    s.seq_len = 10;
    s.test_fraction = 0.2;
  });
  c.model.hidden = 6;
  c.train.dtype = "float64";
  c.train.optimizer = "keras-adam";
  c.train.lr = 0.05;
  c.train.batch_size = 16;
  c.train.epochs = 6;
  return c;
}

using lstmlab::test::quiet_run;

// min_delta so large that only the first epoch counts as an improvement: patience 2 stops the run
// after epoch 3, and the weights it ends with are epoch 1's, those a one-epoch run ends with.
TEST_F(FitCallbacksRun, EarlyStoppingEndsOnTheBestEpochsWeightsAndRecordsTheLr) {
  auto c = tiny();
  c.train.early_stopping = 2;
  c.train.early_stopping_min_delta = 1e9;
  c.train.restore_best = true;
  c.train.lr_schedule = "step";
  c.train.lr_step = 1;
  c.train.lr_factor = 0.5;
  const auto dir = paths_.path("stopped");
  const auto stopped = quiet_run(c, dir);
  ASSERT_EQ(stopped.history.size(), 3u);

  auto one = tiny();
  one.train.epochs = 1;
  const auto first = quiet_run(one, paths_.path("one"));
  const auto a = stopped.model->get_model_weights();
  const auto b = first.model->get_model_weights();
  EXPECT_TRUE(torch::equal(a.stack[0].W_x, b.stack[0].W_x));
  EXPECT_TRUE(torch::equal(a.head_weight, b.head_weight));

  std::ifstream csv(dir + "/metrics.csv");
  std::string header, row;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,train_loss,val_loss,val_rmse,val_mae,lr,train_seconds,samples_per_s");
  std::vector<double> lrs;
  while (std::getline(csv, row)) {
    std::stringstream cells(row);
    std::string cell;
    for (int i = 0; i < 6; ++i) std::getline(cells, cell, ',');
    lrs.push_back(std::stod(cell));
  }
  EXPECT_EQ(lrs, (std::vector<double>{0.05, 0.025, 0.0125}));
}

// Plateau (patience 1, so the rate changes) and early stopping, stopped mid-epoch 3 and resumed:
// the same weights, losses and learning rates as a straight run.
TEST_F(FitCallbacksRun, ScheduleAndEarlyStoppingResumeBitForBit) {
  auto c = tiny();
  c.train.lr_schedule = "plateau";
  c.train.lr_patience = 1;
  c.train.lr_min_delta = 1e9;  // no epoch improves: a cut after every one but the first
  c.train.early_stopping = 4;
  c.train.restore_best = true;
  const auto straight = quiet_run(c, paths_.path("a"));
  ASSERT_EQ(straight.history.size(), 6u);
  EXPECT_EQ(straight.history[1].lr, 0.05);
  EXPECT_EQ(straight.history[2].lr, 0.05 * 0.1);  // cut after epoch 2, the first without improvement

  const auto dir = paths_.path("b");
  lstmlab::TrainerHooks hooks;
  hooks.after_step = [](int64_t epoch, int64_t step) {
    if (epoch == 2 && step == 3) lstmlab::request_stop();
  };
  ASSERT_TRUE(quiet_run(c, dir, false, hooks).stopped);
  lstmlab::clear_stop_request();
  const auto resumed = quiet_run(c, dir, true);
  ASSERT_EQ(resumed.history.size(), 6u);
  for (size_t e = 0; e < 6; ++e) {
    EXPECT_EQ(resumed.history[e].train_loss, straight.history[e].train_loss) << e;
    EXPECT_EQ(resumed.history[e].lr, straight.history[e].lr) << e;
  }
  auto pa = straight.model->named_parameters();
  for (const auto& item : resumed.model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), pa[item.key()])) << item.key();
  }
}

TEST_F(FitCallbacksRun, WatchingAValidationLossThatIsNotThereIsRefused) {
  auto c = tiny();
  lstmlab::test::edit_sine(c, [](lstmlab::SineOptions& s) { s.test_fraction = 0; });
  c.train.early_stopping = 3;
  try {
    quiet_run(c, paths_.path("none"));
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("validation split"), std::string::npos) << e.what();
  }
}

}  // namespace
