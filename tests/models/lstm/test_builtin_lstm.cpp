// BuiltinLSTM: torch::nn::LSTM behind the layers' contract. Shapes, dropout, the refusal of relu,
// first weights equal to LSTMScratch's under every init scheme, the weight map against
// torch::nn::LSTM's own parameters, and seed 004's hand numbers through the built-in cell.

#include "app/tools/trace.h"
#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using lstmlab::Activation;
using lstmlab::InitScheme;
using lstmlab::RecurrentOptions;
using lstmlab::RecurrentState;
using lstmlab::StackWeights;
using namespace lstmlab::test;

class BuiltinLSTM : public SeededTest {};

lstmlab::RecurrentLayerPtr make_builtin(const RecurrentOptions& o) {
  return lstmlab::BuiltinLSTM(o).ptr();
}

TEST_F(BuiltinLSTM, Seed003BatchFirstShape) { check_seed_003(make_builtin); }

TEST_F(BuiltinLSTM, ShapesOfEveryOptionCombination) { check_option_combinations(make_builtin); }

TEST_F(BuiltinLSTM, DropoutRandomInTrainDeterministicInEval) { check_dropout_modes(make_builtin); }

TEST_F(BuiltinLSTM, RefusesRelu) {
  const auto message = thrown_message([] {
    lstmlab::BuiltinLSTM layer(RecurrentOptions(2, 3).activation(Activation::Relu));
  });
  expect_contains(message, {"BuiltinLSTM", "relu"});
}

TEST_F(BuiltinLSTM, SameSeedSameFirstWeightsAsScratchUnderEveryScheme) {
  for (InitScheme init : {InitScheme::Torch, InitScheme::D2l, InitScheme::Keras}) {
    SCOPED_TRACE(lstmlab::to_string(init));
    const auto options = RecurrentOptions(3, 5).num_layers(3).init(init);
    torch::manual_seed(42);
    lstmlab::BuiltinLSTM builtin(options);
    torch::manual_seed(42);
    lstmlab::LSTMScratch scratch(options);
    expect_same_stack(builtin->get_weights(), scratch->get_weights());
    // And the draws are seed-dependent.
    torch::manual_seed(43);
    lstmlab::BuiltinLSTM other(options);
    if (init != InitScheme::Keras) {  // keras' biases are constants; its kernels still differ
      EXPECT_FALSE(torch::equal(other->get_weights()[0].W_h, builtin->get_weights()[0].W_h));
    } else {
      EXPECT_FALSE(torch::equal(other->get_weights()[0].W_x, builtin->get_weights()[0].W_x));
    }
  }
}

TEST_F(BuiltinLSTM, D2lAndKerasInitsReachTorchNnLSTMParameters) {
  // The scheme's weights are written into torch::nn::LSTM's own tensors: biases are whole in
  // bias_ih, bias_hh is zero.
  const int64_t H = 4;
  lstmlab::BuiltinLSTM keras(RecurrentOptions(3, H).init(InitScheme::Keras));
  const auto params = keras->lstm->named_parameters();
  auto expected_b = torch::zeros({4 * H});
  expected_b.narrow(0, H, H).fill_(1.0);
  EXPECT_TRUE(torch::equal(params["bias_ih_l0"], expected_b));
  EXPECT_TRUE(torch::equal(params["bias_hh_l0"], torch::zeros({4 * H})));
  const auto W_hh = params["weight_hh_l0"].to(torch::kDouble);  // [4H, H] = W_h^T: orthonormal columns
  EXPECT_LT(max_abs_diff(W_hh.t().mm(W_hh), torch::eye(H, torch::kDouble)), 1e-5);

  lstmlab::BuiltinLSTM d2l(RecurrentOptions(3, 64).init(InitScheme::D2l).sigma(0.05));
  const auto p2 = d2l->lstm->named_parameters();
  EXPECT_NEAR(p2["weight_hh_l0"].std().item<double>(), 0.05, 0.01);
  EXPECT_EQ(p2["bias_ih_l0"].abs().max().item<double>(), 0.0);
}

TEST_F(BuiltinLSTM, WeightMapMatchesTorchNnLSTMParameters) {
  const int64_t I = 3, H = 2, L = 2;
  lstmlab::BuiltinLSTM layer(RecurrentOptions(I, H).num_layers(L));
  layer->to(torch::kDouble);
  const auto w = layer->get_weights();
  const auto params = layer->lstm->named_parameters();
  for (int64_t k = 0; k < L; ++k) {
    const auto s = std::to_string(k);
    EXPECT_TRUE(torch::equal(w[k].W_x, params["weight_ih_l" + s].t()));
    EXPECT_TRUE(torch::equal(w[k].W_h, params["weight_hh_l" + s].t()));
    EXPECT_TRUE(torch::equal(w[k].b, params["bias_ih_l" + s] + params["bias_hh_l" + s]));
  }
  // set_weights writes the transposes and the whole bias into bias_ih.
  StackWeights mine;
  for (int64_t k = 0; k < L; ++k) {
    const int64_t in = k == 0 ? I : H;
    mine.push_back({torch::randn({in, 4 * H}, torch::kDouble), torch::randn({H, 4 * H}, torch::kDouble),
                    torch::randn({4 * H}, torch::kDouble)});
  }
  layer->set_weights(mine);
  const auto after = layer->lstm->named_parameters();
  for (int64_t k = 0; k < L; ++k) {
    const auto s = std::to_string(k);
    EXPECT_TRUE(torch::equal(after["weight_ih_l" + s], mine[k].W_x.t()));
    EXPECT_TRUE(torch::equal(after["weight_hh_l" + s], mine[k].W_h.t()));
    EXPECT_TRUE(torch::equal(after["bias_ih_l" + s], mine[k].b));
    EXPECT_TRUE(torch::equal(after["bias_hh_l" + s], torch::zeros({4 * H}, torch::kDouble)));
  }
  const auto message = thrown_message([&] { layer->set_weights({mine[0]}); });
  expect_contains(message, {"expected 2 layers", "got 1"});
}

TEST_F(BuiltinLSTM, StatQuestByHandThroughTheBuiltinCell) {
  lstmlab::BuiltinLSTM layer(RecurrentOptions(1, 1));
  layer->to(torch::kDouble);
  layer->set_weights(lstmlab::statquest_weights());
  for (const auto& seq : lstmlab::statquest_sequences()) {
    HandWeights hw{{{1.65, 1.63, 0.94, -0.19}}, {{2.0, 2.7, 1.41, 4.38}}, {0.62, 1.62, -0.32, 0.59}};
    std::vector<std::vector<double>> xs;
    for (double x : seq) xs.push_back({x});
    const auto hand = hand_lstm(hw, xs);
    const auto r = layer->forward(torch::tensor(seq, torch::kDouble).view({-1, 1}));
    EXPECT_NEAR(r.state.h.item<double>(), hand.back().h[0], 1e-14);
    EXPECT_NEAR(r.state.c.item<double>(), hand.back().c[0], 1e-14);
  }
}

TEST_F(BuiltinLSTM, HoldingRecurrentBiasAtZeroKeepsTheFunction) {
  lstmlab::BuiltinLSTM layer(RecurrentOptions(3, 4).num_layers(2));
  layer->to(torch::kDouble);
  const auto x = torch::randn({5, 2, 3}, torch::kDouble);
  const auto before = layer->forward(x).output;
  const auto params = layer->lstm->named_parameters();
  const auto sum0 = (params["bias_ih_l0"] + params["bias_hh_l0"]).detach().clone();
  ASSERT_GT(params["bias_hh_l0"].abs().max().item<double>(), 0.0);
  EXPECT_FALSE(layer->recurrent_bias_held());
  layer->hold_recurrent_bias_at_zero();
  EXPECT_TRUE(layer->recurrent_bias_held());
  EXPECT_TRUE(torch::equal(params["bias_hh_l0"], torch::zeros({16}, torch::kDouble)));
  EXPECT_FALSE(params["bias_hh_l1"].requires_grad());
  EXPECT_LT(max_abs_diff(params["bias_ih_l0"], sum0), 1e-15);
  EXPECT_LT(max_rel_diff(layer->forward(x).output, before), 1e-14);
}

TEST_F(BuiltinLSTM, WeightGradsAreTheTransposedParameterGrads) {
  lstmlab::BuiltinLSTM layer(RecurrentOptions(2, 3).num_layers(2));
  layer->to(torch::kDouble);
  const auto x = torch::randn({4, 2, 2}, torch::kDouble);
  layer->forward(x).output.pow(2).sum().backward();
  const auto g = layer->get_weight_grads();
  const auto params = layer->lstm->named_parameters();
  for (int64_t k = 0; k < 2; ++k) {
    const auto s = std::to_string(k);
    EXPECT_TRUE(torch::equal(g[k].W_x, params["weight_ih_l" + s].grad().t()));
    EXPECT_TRUE(torch::equal(g[k].W_h, params["weight_hh_l" + s].grad().t()));
    EXPECT_TRUE(torch::equal(g[k].b, params["bias_ih_l" + s].grad()));
    // Both biases feed the same pre-activation, so they get the same gradient: that of the sum.
    // (Equal up to summation order: ATen reduces the two in different kernels.)
    EXPECT_LE(max_rel_diff(params["bias_hh_l" + s].grad(), params["bias_ih_l" + s].grad()), 1e-14);
  }
}

TEST_F(BuiltinLSTM, ForwardOnGpu_CUDA) {
  if (!cuda_present()) GTEST_SKIP() << "no CUDA device";
  lstmlab::BuiltinLSTM layer(RecurrentOptions(10, 20).batch_first(true));
  layer->to(torch::kCUDA);
  const auto r = layer->forward(torch::randn({2, 5, 10}, torch::kCUDA));
  expect_sizes(r.output, {2, 5, 20}, "output");
  EXPECT_TRUE(r.output.is_cuda());
}

}  // namespace
