// The trainer's loss shape guard: a target of shape [N] against predictions [N, 1] is refused in
// one line for every loss, never broadcast to [N, N] (LibTorch's l1_loss and mse_loss do it with a
// warning at most, and the model then learns the targets' mean).

#include "app/train/losses.h"
#include "app/train/trainer.h"
#include "tests/tensor_task.h"
#include "tests/temp_paths.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace {

using lstmlab::Split;
using lstmlab::check_loss_shapes;
using lstmlab::test::expect_contains;
using lstmlab::test::thrown_message;

TEST(LossShapes, BroadcastingIsRealAndTheGuardRefusesIt) {
  const auto prediction = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble).view({3, 1});
  const auto target = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble);
  // What the guard prevents: |p_i - y_j| over all 9 pairs is 8/9, where the right MAE is 0.
  {
    testing::internal::CaptureStderr();  // LibTorch warns about the broadcast
    EXPECT_NEAR(torch::l1_loss(prediction, target).item<double>(), 8.0 / 9.0, 1e-15);
    testing::internal::GetCapturedStderr();
  }
  EXPECT_EQ(torch::l1_loss(prediction, target.view({3, 1})).item<double>(), 0.0);

  const auto message =
      thrown_message<std::invalid_argument>([&] { check_loss_shapes(prediction, target); });
  expect_contains(message, {"[3, 1]", "[3]", "broadcast"});
  EXPECT_EQ(message.find('\n'), std::string::npos);
  // The transposed mistake too, and a wrong number of outputs.
  thrown_message<std::invalid_argument>([&] { check_loss_shapes(prediction, target.view({1, 3})); });
  thrown_message<std::invalid_argument>(
      [&] { check_loss_shapes(prediction, torch::zeros({3, 2}, torch::kDouble)); });
  EXPECT_NO_THROW(check_loss_shapes(prediction, target.view({3, 1})));
}

TEST(LossShapes, ClassTargetsMustBeTheLogitsShapeWithoutTheClasses) {
  const auto logits = torch::zeros({2, 5, 4});
  EXPECT_NO_THROW(check_loss_shapes(logits, torch::zeros({2, 5}, torch::kLong)));
  const auto message = thrown_message<std::invalid_argument>(
      [&] { check_loss_shapes(logits, torch::zeros({2, 4}, torch::kLong)); });
  expect_contains(message, {"[2, 5, 4]", "[2, 4]", "class"});
  thrown_message<std::invalid_argument>(
      [&] { check_loss_shapes(logits, torch::zeros({2, 5, 4}, torch::kLong)); });
}

// Through the trainer: a dataset whose targets are [N] is refused at the first batch, for MAE and
// MSE alike, before any step.
TEST(LossShapes, TrainerRefusesAFlatTargetForEveryLoss) {
  lstmlab::test::TempPaths paths;
  for (const std::string loss : {"mae", "mse"}) {
    SCOPED_TRACE(loss);
    const auto x = torch::randn({6, 2, 3}, torch::kDouble);
    const auto y = torch::randn({6}, torch::kDouble);  // should be [6, 1]
    lstmlab::test::TensorTask task({{Split::Train, {x, y}}}, loss);
    lstmlab::RunConfig config;
    config.train.loss = loss;
    config.train.epochs = 1;
    config.model.hidden = 4;
    auto model = std::make_shared<lstmlab::SequenceRegressorImpl>(
        lstmlab::make_recurrent_layer(config.model, 3), 1);
    const auto before = model->get_model_weights();
    std::ostringstream log;
    lstmlab::Trainer trainer(model, task, config, paths.path(loss), log, true);
    const auto message = thrown_message<std::invalid_argument>([&] { trainer.fit(); });
    expect_contains(message, {"[6, 1]", "[6]"});
    EXPECT_TRUE(torch::equal(model->get_model_weights().head_weight, before.head_weight))
        << "no step may be taken";
  }
}

}  // namespace
