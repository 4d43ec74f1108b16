// Keras' Adam against a hand computation: three steps on a two-parameter problem,
//   L(w) = w1^2 + 1e-7 * w2,   g = (2 w1, 1e-7),
// where w2's gradient is so small that where epsilon sits decides how far it moves: Keras adds it
// to the uncorrected sqrt(v) (3.2e-9 at step 1, below epsilon), PyTorch to the corrected one
// (1e-7). Then: that torch::optim::Adam lands elsewhere, and that a saved and reloaded state goes
// on bit for bit.

#include "app/train/keras_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <vector>
#include <sstream>

namespace {

constexpr double kLr = 0.1;
constexpr double kW1 = 0.5;
constexpr double kTinyGradient = 1e-7;

torch::Tensor loss_of(const torch::Tensor& w) { return w[0] * w[0] + kTinyGradient * w[1]; }

// The update rules written out in double. Keras raises the betas in float32, and float32's 0.999
// is 0.999000013: 1 - beta2 differs from 0.001 by 1.3e-5 relative, so the Keras placement takes
// its bias corrections from float32 betas, as Keras does; PyTorch's are double.
std::vector<std::array<double, 2>> by_hand(double epsilon, bool epsilon_on_corrected) {
  double w[2] = {kW1, 0.0}, m[2] = {0, 0}, v[2] = {0, 0};
  std::vector<std::array<double, 2>> trajectory;
  for (int t = 1; t <= 3; ++t) {
    const double g[2] = {2 * w[0], kTinyGradient};
    for (int i = 0; i < 2; ++i) {
      m[i] += (g[i] - m[i]) * (1 - 0.9);
      v[i] += (g[i] * g[i] - v[i]) * (1 - 0.999);
      const double c1 = 1 - std::pow(0.9, t), c2 = 1 - std::pow(0.999, t);
      const double c1_f = 1 - static_cast<double>(std::pow(0.9f, static_cast<float>(t)));
      const double c2_f = 1 - static_cast<double>(std::pow(0.999f, static_cast<float>(t)));
      if (epsilon_on_corrected) {  // PyTorch: m_hat / (sqrt(v_hat) + eps)
        w[i] -= kLr * (m[i] / c1) / (std::sqrt(v[i] / c2) + epsilon);
      } else {  // Keras: alpha m / (sqrt(v) + eps)
        w[i] -= kLr * std::sqrt(c2_f) / c1_f * m[i] / (std::sqrt(v[i]) + epsilon);
      }
    }
    trajectory.push_back({w[0], w[1]});
  }
  return trajectory;
}

torch::Tensor fresh_parameters() {
  return torch::tensor({kW1, 0.0}, torch::kDouble).requires_grad_(true);
}

void step(torch::optim::Optimizer& optimizer, const torch::Tensor& w) {
  optimizer.zero_grad();
  loss_of(w).backward();
  optimizer.step();
}

TEST(KerasAdam, ThreeStepsMatchTheHandComputationWithEpsilonOnTheUncorrectedRoot) {
  for (double epsilon : {1e-7, 1e-8}) {
    SCOPED_TRACE("epsilon " + std::to_string(epsilon));
    const auto expected = by_hand(epsilon, false);
    auto w = fresh_parameters();
    lstmlab::KerasAdam adam({w}, lstmlab::KerasAdamOptions(kLr).epsilon(epsilon));
    double w_before[2] = {kW1, 0.0};
    for (int t = 0; t < 3; ++t) {
      step(adam, w);
      for (int i = 0; i < 2; ++i) {
        const double got = w[i].item<double>();
        const double moved = std::abs(expected[t][i] - (t == 0 ? w_before[i] : expected[t - 1][i]));
        EXPECT_NEAR(got, expected[t][i], 1e-6 * moved) << "step " << t + 1 << " w" << i + 1;
      }
    }
  }
  // The hand numbers themselves: at step 1 w2 moves lr * sqrt(1e-3)/0.1 * 1e-8 / (sqrt(1e-17) +
  // 1e-7) = 0.1 * 0.0307 (Keras), against 0.1 * 1e-7 / (1e-7 + 1e-7) = 0.05 (PyTorch's placement).
  EXPECT_NEAR(by_hand(1e-7, false)[0][1], -0.1 * 0.316227766 * 1e-8 / (3.16227766e-9 + 1e-7), 5e-8);  // float32 betas
  EXPECT_NEAR(by_hand(1e-7, true)[0][1], -0.05, 1e-9);
}

TEST(KerasAdam, DiffersFromTorchAdamWhereEpsilonMatters) {
  auto a = fresh_parameters();
  auto b = fresh_parameters();
  lstmlab::KerasAdam keras({a}, lstmlab::KerasAdamOptions(kLr).epsilon(1e-7));
  torch::optim::Adam torch_adam({b}, torch::optim::AdamOptions(kLr).eps(1e-7));
  for (int t = 0; t < 3; ++t) {
    step(keras, a);
    step(torch_adam, b);
  }
  const auto torch_expected = by_hand(1e-7, true)[2];
  EXPECT_NEAR(b[1].item<double>(), torch_expected[1], 1e-9) << "torch::optim::Adam is PyTorch's placement";
  // w2 after three steps: Keras moves it by 0.0125, PyTorch by 0.15.
  EXPECT_GT(std::abs(b[1].item<double>() - a[1].item<double>()), 0.1);
  // w1, whose gradient dwarfs epsilon, agrees but for Keras' float32 betas (1e-5 relative).
  EXPECT_NEAR(a[0].item<double>(), b[0].item<double>(), 1e-5 * std::abs(kW1 - b[0].item<double>()));
}

TEST(KerasAdam, AlphaIsComputedInFloat32AsKerasDoes) {
  // Step 1: 1e-3 * sqrt(1 - 0.999) / (1 - 0.9), each operation in float32.
  const float b1 = std::pow(0.9f, 1.0f), b2 = std::pow(0.999f, 1.0f);
  const float expected = 1e-3f * std::sqrt(1.0f - b2) / (1.0f - b1);
  EXPECT_EQ(lstmlab::keras_adam_alpha(1e-3, 0.9, 0.999, 1), expected);
  // Within float32's betas of the double figure (float32's 0.999 is 0.999000013)...
  EXPECT_NEAR(lstmlab::keras_adam_alpha(1e-3, 0.9, 0.999, 1), 1e-3 * std::sqrt(1e-3) / 0.1, 1e-5 * 3.2e-4);
  // ...but not equal to it: the figure is float32's.
  const double in_double = 1e-3 * std::sqrt(1 - std::pow(0.999, 1000)) / (1 - std::pow(0.9, 1000));
  EXPECT_NE(static_cast<double>(lstmlab::keras_adam_alpha(1e-3, 0.9, 0.999, 1000)), in_double);
}

TEST(KerasAdam, SavedStateResumesBitForBit) {
  auto straight = fresh_parameters();
  lstmlab::KerasAdam a({straight}, lstmlab::KerasAdamOptions(kLr));
  for (int t = 0; t < 3; ++t) step(a, straight);

  auto first = fresh_parameters();
  lstmlab::KerasAdam b({first}, lstmlab::KerasAdamOptions(kLr));
  step(b, first);
  step(b, first);
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    b.save(archive);
    archive.save_to(bytes);
  }
  auto resumed = first.detach().clone().requires_grad_(true);
  // LibTorch's optimizer load restores the state, not the options: the trainer rebuilds those from
  // config.json (and the schedule's lr from the checkpoint).
  lstmlab::KerasAdam c({resumed}, lstmlab::KerasAdamOptions(kLr));
  torch::serialize::InputArchive archive;
  archive.load_from(bytes);
  c.load(archive);
  step(c, resumed);
  EXPECT_TRUE(torch::equal(resumed, straight)) << resumed << " vs " << straight;
  const auto& state = static_cast<const lstmlab::KerasAdamParamState&>(
      *c.state().at(lstmlab::optimizer_state_key(resumed)));
  EXPECT_EQ(state.step(), 3);
}

}  // namespace
