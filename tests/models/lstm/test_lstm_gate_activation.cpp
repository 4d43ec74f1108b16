// recurrent_activation=hard_sigmoid on the scratch LSTM (Keras <= 2.2: clip(0.2 x + 0.5, 0, 1)):
// one layer against the equations by hand, including gates clipped at 0 and 1, gradients against
// finite differences, and the one-line refusals of the paths that cannot run it.

#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "models/gru/gru_scratch.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace {

using lstmlab::GateActivation;
using lstmlab::RecurrentOptions;
using lstmlab::ScratchBackward;
using lstmlab::test::expect_contains;
using lstmlab::test::thrown_message;

double hard_sigmoid(double z) { return std::clamp(0.2 * z + 0.5, 0.0, 1.0); }

TEST(HardSigmoidGates, LayerMatchesTheEquationsByHandWithClippedGates) {
  // I = 1, H = 2; pre-activations reach beyond +-2.5, where the gate clips to 1 or 0.
  const std::vector<double> Wx = {3.0, -0.4, -4.0, 0.5, 0.7, -0.2, 2.8, 0.1};
  const std::vector<double> Wh = {0.3, -0.5, 0.2, 0.4, -0.3, 0.6, 0.1, -0.7,
                                  0.5, 0.2, -0.6, 0.1, 0.4, -0.1, 0.3, 0.2};
  const std::vector<double> b = {0.1, 0.0, 0.2, -0.1, 0.0, 0.3, 0.1, 0.0};
  const std::vector<double> xs = {1.0, -0.8, 0.5};
  const int64_t H = 2;
  std::vector<double> h(H, 0.0), c(H, 0.0);
  std::vector<std::vector<double>> hs;
  bool clipped_high = false, clipped_low = false;
  for (double x : xs) {
    std::vector<double> z(4 * H);
    for (int64_t j = 0; j < 4 * H; ++j) {
      z[j] = b[j] + x * Wx[j];
      for (int64_t k = 0; k < H; ++k) z[j] += h[k] * Wh[k * 4 * H + j];
    }
    for (int64_t u = 0; u < H; ++u) {
      const double i = hard_sigmoid(z[u]), f = hard_sigmoid(z[H + u]);
      const double g = std::max(0.0, z[2 * H + u]), o = hard_sigmoid(z[3 * H + u]);
      for (double gate : {i, f, o}) {
        clipped_high = clipped_high || gate == 1.0;
        clipped_low = clipped_low || gate == 0.0;
      }
      c[u] = f * c[u] + i * g;
      h[u] = o * std::max(0.0, c[u]);
    }
    hs.push_back(h);
  }
  ASSERT_TRUE(clipped_high && clipped_low) << "pick weights that clip a gate at 1 and one at 0";

  lstmlab::LSTMScratch layer(RecurrentOptions(1, H)
                                 .activation(lstmlab::Activation::Relu)
                                 .recurrent_activation(GateActivation::HardSigmoid));
  layer->set_backward_mode(ScratchBackward::Autograd);
  layer->to(torch::kDouble);
  layer->set_weights({{torch::tensor(Wx, torch::kDouble).view({1, 4 * H}),
                       torch::tensor(Wh, torch::kDouble).view({H, 4 * H}),
                       torch::tensor(b, torch::kDouble)}});
  const auto out = layer->forward(torch::tensor(xs, torch::kDouble).view({3, 1})).output;  // [T, H]
  for (size_t t = 0; t < xs.size(); ++t) {
    for (int64_t u = 0; u < H; ++u) {
      EXPECT_NEAR(out[static_cast<int64_t>(t)][u].item<double>(), hs[t][u], 1e-14) << "t " << t << " u " << u;
    }
  }
  // The sigmoid layer with the same weights is another function.
  lstmlab::LSTMScratch plain(RecurrentOptions(1, H).activation(lstmlab::Activation::Relu));
  plain->to(torch::kDouble);
  plain->set_weights(layer->get_weights());
  EXPECT_GT(lstmlab::test::max_abs_diff(plain->forward(torch::tensor(xs, torch::kDouble).view({3, 1})).output, out),
            1e-3);
}

TEST(HardSigmoidGates, GradientsMatchFiniteDifferencesInsideTheLinearRange) {
  torch::manual_seed(5);
  lstmlab::LSTMScratch layer(RecurrentOptions(2, 3).recurrent_activation(GateActivation::HardSigmoid));
  layer->set_backward_mode(ScratchBackward::Autograd);
  layer->to(torch::kDouble);
  const auto x = (torch::randn({4, 2, 2}, torch::kDouble) * 0.5).requires_grad_(true);
  auto f = [&](const torch::Tensor& input) { return layer->forward(input).output.pow(2).sum(); };
  f(x).backward();
  const auto analytic = x.grad().clone();
  const double eps = 1e-6;
  auto flat = x.detach().clone().view(-1);
  for (int64_t j = 0; j < flat.numel(); ++j) {
    auto plus = flat.clone(), minus = flat.clone();
    plus[j] += eps;
    minus[j] -= eps;
    const double numeric = (f(plus.view({4, 2, 2})).item<double>() - f(minus.view({4, 2, 2})).item<double>()) / (2 * eps);
    EXPECT_NEAR(analytic.view(-1)[j].item<double>(), numeric, 1e-7) << "input " << j;
  }
}

TEST(HardSigmoidGates, FusedPathBuiltinAndGruRefuseItInOneLine) {
  lstmlab::LSTMScratch fused(RecurrentOptions(2, 3).recurrent_activation(GateActivation::HardSigmoid));
  ASSERT_EQ(fused->backward_mode(), ScratchBackward::Fused);
  const auto message = thrown_message([&] { fused->forward(torch::randn({4, 1, 2})); });
  expect_contains(message, {"hard_sigmoid", "autograd"});

  expect_contains(thrown_message([] {
                    lstmlab::BuiltinLSTM(RecurrentOptions(2, 3).recurrent_activation(GateActivation::HardSigmoid));
                  }),
                  {"BuiltinLSTM", "hard_sigmoid", "sigmoid", "--model scratch"});
  expect_contains(thrown_message([] {
                    lstmlab::GRUScratch(RecurrentOptions(2, 3).recurrent_activation(GateActivation::HardSigmoid));
                  }),
                  {"GRUScratch", "hard_sigmoid"});
  EXPECT_EQ(lstmlab::parse_gate_activation("hard_sigmoid"), GateActivation::HardSigmoid);
  expect_contains(thrown_message<std::invalid_argument>([] { lstmlab::parse_gate_activation("tanh"); }),
                  {"sigmoid, hard_sigmoid"});
}

}  // namespace
