// Keras' initializers: glorot_uniform kernels with Keras' fans (fan_in the inputs, fan_out the
// kernel's columns: 4 units for the LSTM, 3 for the GRU), the orthogonal recurrent kernel as QR of
// a normal matrix with signs fixed by diag R, zero biases with the LSTM's forget block at 1, and
// the Dense head's glorot_uniform kernel and zero bias.

#include "models/heads/sequence_regressor.h"
#include "models/layer_factory.h"
#include "models/weight_init.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace {

using lstmlab::CellKind;
using lstmlab::InitScheme;
using lstmlab::LayerKind;
using lstmlab::RecurrentOptions;
using lstmlab::test::max_abs_diff;

class KerasInit : public lstmlab::test::SeededTest {};

TEST_F(KerasInit, GruKernelUsesThreeUnitsPerGateAsFanOutAndZeroBiases) {
  const int64_t I = 5, H = 7;
  const auto stack = lstmlab::initial_weights(CellKind::Gru, RecurrentOptions(I, H).init(InitScheme::Keras),
                                              torch::kDouble);
  const double limit = std::sqrt(6.0 / static_cast<double>(I + 3 * H));
  const auto& w = stack[0];
  lstmlab::test::expect_sizes(w.W_x, {I, 3 * H}, "W_x");
  EXPECT_LE(w.W_x.abs().max().item<double>(), limit);
  // Not the LSTM's narrower bound sqrt(6 / (I + 4H)): some entries lie beyond it.
  EXPECT_GT(w.W_x.abs().max().item<double>(), std::sqrt(6.0 / static_cast<double>(I + 4 * H)));
  EXPECT_LT(max_abs_diff(w.W_h.mm(w.W_h.t()), torch::eye(H, torch::kDouble)), 1e-5);
  EXPECT_TRUE(torch::equal(w.b, torch::zeros({3 * H}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(w.b_hn, torch::zeros({H}, torch::kDouble)));
}

TEST_F(KerasInit, RecurrentKernelIsQrOfTheNormalDrawWithSignsFromDiagR) {
  const int64_t I = 3, H = 4, G = 4 * H;
  torch::manual_seed(11);
  const auto stack = lstmlab::initial_weights(CellKind::Lstm, RecurrentOptions(I, H).init(InitScheme::Keras),
                                              torch::kDouble);
  // The same draws again, then Keras' orthogonal by hand in double: a = normal [G, H],
  // a = QR, Q's columns times sign(diag R), transposed to [H, G].
  torch::manual_seed(11);
  (void)torch::empty({I, G}).uniform_(-1, 1);
  const auto a = torch::empty({H, G}).normal_(0, 1).t().to(torch::kDouble);
  auto [q, r] = at::linalg_qr(a);  // at::, not torch::linalg: LibTorch 2.x dropped that namespace
  q = q * r.diagonal().sign().unsqueeze(0);
  const auto expected = q.t();
  EXPECT_LT(max_abs_diff(stack[0].W_h, expected), 1e-5);
  // The sign rule is what makes it unique: flipping it gives another orthogonal matrix, not ours.
  EXPECT_GT(max_abs_diff(stack[0].W_h, (q * -1).t()), 0.1);
  // diag R > 0 after the fix: Q^T a is upper triangular with a positive diagonal.
  const auto r_fixed = q.t().mm(a);
  EXPECT_GT(r_fixed.diagonal().min().item<double>(), 0);
}

TEST_F(KerasInit, ForgetBiasIsOneEveryOtherBiasZero) {
  const int64_t H = 6;
  const auto stack = lstmlab::initial_weights(
      CellKind::Lstm, RecurrentOptions(2, H).num_layers(2).init(InitScheme::Keras), torch::kFloat);
  for (const auto& w : stack) {
    EXPECT_TRUE(torch::equal(w.b.narrow(0, H, H), torch::ones({H})));   // f
    EXPECT_TRUE(torch::equal(w.b.narrow(0, 0, H), torch::zeros({H})));  // i
    EXPECT_TRUE(torch::equal(w.b.narrow(0, 2 * H, 2 * H), torch::zeros({2 * H})));  // g, o
  }
}

TEST_F(KerasInit, DenseHeadIsGlorotUniformWithZeroBiasUnderKerasOnly) {
  const int64_t H = 40, K = 3;
  auto keras = std::make_shared<lstmlab::SequenceRegressorImpl>(
      lstmlab::make_recurrent_layer(CellKind::Lstm, LayerKind::Scratch,
                                    RecurrentOptions(2, H).batch_first(true).init(InitScheme::Keras)),
      K);
  const double limit = std::sqrt(6.0 / static_cast<double>(H + K));  // 0.380
  const auto& weight = keras->head->weight;
  lstmlab::test::expect_sizes(weight, {K, H}, "head weight");
  EXPECT_LE(weight.abs().max().item<double>(), limit);
  // PyTorch's Linear would stay within 1/sqrt(H) = 0.158; glorot reaches past it.
  EXPECT_GT(weight.abs().max().item<double>(), 1.0 / std::sqrt(static_cast<double>(H)));
  EXPECT_NEAR(weight.std().item<double>(), limit / std::sqrt(3.0), 0.2 * limit / std::sqrt(3.0));
  EXPECT_TRUE(torch::equal(keras->head->bias, torch::zeros({K})));

  auto torch_init = std::make_shared<lstmlab::SequenceRegressorImpl>(
      lstmlab::make_recurrent_layer(CellKind::Lstm, LayerKind::Scratch,
                                    RecurrentOptions(2, H).batch_first(true)),
      K);
  EXPECT_LE(torch_init->head->weight.abs().max().item<double>(), 1.0 / std::sqrt(static_cast<double>(H)));
  EXPECT_GT(torch_init->head->bias.abs().max().item<double>(), 0);
}

}  // namespace
