// LSTMScratch: shapes, the cell against hand-computed numbers (seed 004's StatQuest unit and a relu
// layer), d2l's per-gate views, first weights of each init scheme, and gradients against central
// finite differences. Letters: T time steps, B batch, I input features, H hidden units, G = 4H.

#include "app/tools/trace.h"
#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using lstmlab::Activation;
using lstmlab::InitScheme;
using lstmlab::LayerWeights;
using lstmlab::RecurrentOptions;
using lstmlab::RecurrentState;
using lstmlab::ScratchBackward;
using lstmlab::StackWeights;
using namespace lstmlab::test;

class LSTMScratch : public SeededTest {};

lstmlab::RecurrentLayerPtr make_scratch(const RecurrentOptions& o) {
  return lstmlab::LSTMScratch(o).ptr();
}

// ----- Shapes ---------------------------------------------------------------------------------

TEST_F(LSTMScratch, Seed003BatchFirstShape) { check_seed_003(make_scratch); }

TEST_F(LSTMScratch, ShapesOfEveryOptionCombination) { check_option_combinations(make_scratch); }

TEST_F(LSTMScratch, DropoutRandomInTrainDeterministicInEval) { check_dropout_modes(make_scratch); }

// ----- Seed 004: StatQuest's one-unit LSTM by hand ----------------------------------------------

struct StatQuestStep {
  double forget, input, candidate, output, c, h;
};

// Seed 004's lstm_unit, written out: *1 weights multiply the short-term memory h, *2 the input x.
std::vector<StatQuestStep> statquest_by_hand(const std::vector<double>& xs) {
  const double wlr1 = 2.7, wlr2 = 1.63, blr1 = 1.62;   // forget gate
  const double wpr1 = 2.0, wpr2 = 1.65, bpr1 = 0.62;   // input gate
  const double wp1 = 1.41, wp2 = 0.94, bp1 = -0.32;    // candidate
  const double wo1 = 4.38, wo2 = -0.19, bo1 = 0.59;    // output gate
  auto sig = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  double h = 0.0, c = 0.0;
  std::vector<StatQuestStep> steps;
  for (double x : xs) {
    StatQuestStep s;
    s.forget = sig(h * wlr1 + x * wlr2 + blr1);
    s.input = sig(h * wpr1 + x * wpr2 + bpr1);
    s.candidate = std::tanh(h * wp1 + x * wp2 + bp1);
    s.output = sig(h * wo1 + x * wo2 + bo1);
    c = c * s.forget + s.input * s.candidate;
    h = std::tanh(c) * s.output;
    s.c = c;
    s.h = h;
    steps.push_back(s);
  }
  return steps;
}

double scalar(const torch::Tensor& t) { return t.reshape({-1})[0].item<double>(); }

TEST_F(LSTMScratch, StatQuestWeightsSitInTheRightGateColumns) {
  const StackWeights w = lstmlab::statquest_weights();
  ASSERT_EQ(w.size(), 1u);
  // Columns i, f, g, o.
  EXPECT_TRUE(torch::equal(w[0].W_x, torch::tensor({{1.65, 1.63, 0.94, -0.19}}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(w[0].W_h, torch::tensor({{2.0, 2.7, 1.41, 4.38}}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(w[0].b, torch::tensor({0.62, 1.62, -0.32, 0.59}, torch::kDouble)));
}

TEST_F(LSTMScratch, CellMatchesStatQuestByHandEveryStage) {
  const LayerWeights w = lstmlab::statquest_weights().at(0);
  for (const auto& seq : lstmlab::statquest_sequences()) {
    const auto hand = statquest_by_hand(seq);
    auto h = torch::zeros({1, 1}, torch::kDouble);
    auto c = torch::zeros({1, 1}, torch::kDouble);
    for (size_t t = 0; t < seq.size(); ++t) {
      SCOPED_TRACE("x[" + std::to_string(t) + "] = " + std::to_string(seq[t]));
      const auto x = torch::full({1, 1}, seq[t], torch::kDouble);
      const auto s = lstmlab::lstm_cell(x, h, c, w, Activation::Tanh);
      EXPECT_NEAR(scalar(s.forget_gate), hand[t].forget, 1e-14);
      EXPECT_NEAR(scalar(s.input_gate), hand[t].input, 1e-14);
      EXPECT_NEAR(scalar(s.candidate), hand[t].candidate, 1e-14);
      EXPECT_NEAR(scalar(s.output_gate), hand[t].output, 1e-14);
      EXPECT_NEAR(scalar(s.c), hand[t].c, 1e-14);
      EXPECT_NEAR(scalar(s.h), hand[t].h, 1e-14);
      h = s.h;
      c = s.c;
    }
  }
  // The video's answers: company A's day 5 is about 0, company B's about 1.
  EXPECT_NEAR(statquest_by_hand({0, 0.5, 0.25, 1}).back().h, 0.0, 0.01);
  EXPECT_NEAR(statquest_by_hand({1, 0.5, 0.25, 1}).back().h, 0.97, 0.01);
}

TEST_F(LSTMScratch, LayerWithStatQuestWeightsGivesTheHandFinalState) {
  lstmlab::LSTMScratch layer(RecurrentOptions(1, 1));
  layer->to(torch::kDouble);
  layer->set_weights(lstmlab::statquest_weights());
  const auto seqs = lstmlab::statquest_sequences();
  // Each sequence alone (unbatched [T, 1]) and both as one batch [T, 2, 1].
  std::vector<torch::Tensor> columns;
  for (const auto& seq : seqs) {
    const auto hand = statquest_by_hand(seq);
    const auto x = torch::tensor(seq, torch::kDouble).view({-1, 1});
    columns.push_back(x);
    const auto r = layer->forward(x);
    expect_sizes(r.state.h, {1, 1}, "h_n");
    EXPECT_NEAR(scalar(r.state.h), hand.back().h, 1e-14);
    EXPECT_NEAR(scalar(r.state.c), hand.back().c, 1e-14);
    for (size_t t = 0; t < seq.size(); ++t) {
      EXPECT_NEAR(r.output[static_cast<int64_t>(t)][0].item<double>(), hand[t].h, 1e-14);
    }
  }
  const auto batch = torch::stack(columns, 1);  // [T, B=2, I=1]
  const auto r = layer->forward(batch);
  for (int64_t n = 0; n < 2; ++n) {
    const auto hand = statquest_by_hand(seqs[static_cast<size_t>(n)]);
    EXPECT_NEAR(r.state.h[0][n][0].item<double>(), hand.back().h, 1e-14);
    EXPECT_NEAR(r.state.c[0][n][0].item<double>(), hand.back().c, 1e-14);
  }
}

// ----- Relu (Keras' LSTM(activation='relu')) --------------------------------------------------

TEST_F(LSTMScratch, ReluLayerMatchesHandComputation) {
  // I = 2, H = 2, weights picked so that some candidates and some cells go negative (clamped).
  HandWeights hw;
  hw.Wx = {{0.5, -0.3, 0.8, 0.1, -1.2, 0.7, 0.2, -0.4},
           {-0.6, 0.9, 0.3, -0.2, 0.4, -1.5, -0.3, 0.6}};
  hw.Wh = {{0.2, 0.1, -0.5, 0.3, 0.9, -0.8, 0.4, 0.1},
           {-0.1, 0.4, 0.2, -0.6, -0.7, 0.5, 0.3, -0.2}};
  hw.b = {0.1, -0.2, 0.3, 0.5, -0.1, 0.2, 0.0, -0.3};
  const std::vector<std::vector<double>> xs = {{1.0, -0.5}, {0.3, 0.8}, {-1.1, 0.2}, {0.6, 0.6}};
  const auto hand = hand_lstm(hw, xs, /*relu=*/true);

  // The case must exercise the clamp: some candidate is exactly 0 after relu.
  bool clamped = false;
  for (const auto& s : hand) {
    for (double g : s.g) clamped = clamped || g == 0.0;
  }
  ASSERT_TRUE(clamped) << "pick weights that make a candidate negative";

  lstmlab::LSTMScratch layer(RecurrentOptions(2, 2).activation(Activation::Relu));
  layer->to(torch::kDouble);
  const StackWeights w = {{matrix_of(hw.Wx), matrix_of(hw.Wh), tensor_of(hw.b)}};
  layer->set_weights(w);
  const auto x = torch::tensor({1.0, -0.5, 0.3, 0.8, -1.1, 0.2, 0.6, 0.6}, torch::kDouble)
                     .view({4, 2});  // unbatched [T, I]
  const auto r = layer->forward(x);
  expect_sizes(r.output, {4, 2}, "output");
  for (size_t t = 0; t < xs.size(); ++t) {
    for (size_t u = 0; u < 2; ++u) {
      EXPECT_NEAR(r.output[t][u].item<double>(), hand[t].h[u], 1e-14) << "t=" << t << " u=" << u;
    }
  }
  EXPECT_NEAR(r.state.c[0][0].item<double>(), hand.back().c[0], 1e-14);
  EXPECT_NEAR(r.state.c[0][1].item<double>(), hand.back().c[1], 1e-14);

  // The same weights under tanh are a different function.
  lstmlab::LSTMScratch tanh_layer(RecurrentOptions(2, 2));
  tanh_layer->to(torch::kDouble);
  tanh_layer->set_weights(w);
  EXPECT_GT(max_abs_diff(tanh_layer->forward(x).output, r.output), 1e-3);
}

// ----- d2l's per-gate views ---------------------------------------------------------------------

TEST_F(LSTMScratch, PerGateViewsAreTheRightColumnsOfTheFusedWeights) {
  const int64_t I = 3, H = 2, G = 4 * H;
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).num_layers(2));
  layer->to(torch::kDouble);
  // Element (r, j) of each fused tensor holds base + r * G + j, so a block's contents say where it
  // came from.
  auto numbered = [G](int64_t rows, double base) {
    return (torch::arange(rows * G, torch::kDouble) + base).view({rows, G});
  };
  StackWeights w = {{numbered(I, 0), numbered(H, 1000), torch::arange(G, torch::kDouble) + 2000},
                    {numbered(H, 3000), numbered(H, 4000), torch::arange(G, torch::kDouble) + 5000}};
  layer->set_weights(w);

  auto expect_block = [&](const torch::Tensor& view, int64_t rows, double base, int64_t block,
                          const std::string& name) {
    SCOPED_TRACE(name);
    if (rows == 0) {  // a bias
      expect_sizes(view, {H}, name);
      for (int64_t j = 0; j < H; ++j) EXPECT_EQ(view[j].item<double>(), base + block * H + j);
      return;
    }
    expect_sizes(view, {rows, H}, name);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < H; ++j) {
        EXPECT_EQ(view[r][j].item<double>(), base + r * G + block * H + j);
      }
    }
  };
  for (int64_t k = 0; k < 2; ++k) {
    const double bx = k == 0 ? 0 : 3000, bh = k == 0 ? 1000 : 4000, bb = k == 0 ? 2000 : 5000;
    const int64_t Ik = k == 0 ? I : H;
    expect_block(layer->W_xi(k), Ik, bx, 0, "W_xi");
    expect_block(layer->W_xf(k), Ik, bx, 1, "W_xf");
    expect_block(layer->W_xc(k), Ik, bx, 2, "W_xc (the g block, columns 2H..3H)");
    expect_block(layer->W_xo(k), Ik, bx, 3, "W_xo");
    expect_block(layer->W_hi(k), H, bh, 0, "W_hi");
    expect_block(layer->W_hf(k), H, bh, 1, "W_hf");
    expect_block(layer->W_hc(k), H, bh, 2, "W_hc");
    expect_block(layer->W_ho(k), H, bh, 3, "W_ho");
    expect_block(layer->b_i(k), 0, bb, 0, "b_i");
    expect_block(layer->b_f(k), 0, bb, 1, "b_f");
    expect_block(layer->b_c(k), 0, bb, 2, "b_c");
    expect_block(layer->b_o(k), 0, bb, 3, "b_o");
  }

  // Views, not copies: a change to the fused parameter shows through the view, and the other way.
  {
    torch::NoGradGuard no_grad;
    layer->layer(0).W_x.narrow(1, 2 * H, H).fill_(-7.0);
    layer->W_ho(1).fill_(-9.0);
    layer->b_f(0).fill_(-11.0);
  }
  EXPECT_TRUE(torch::all(layer->W_xc(0) == -7.0).item<bool>());
  EXPECT_FALSE(torch::any(layer->W_xi(0) == -7.0).item<bool>());
  EXPECT_FALSE(torch::any(layer->W_xo(0) == -7.0).item<bool>());
  const auto now = layer->get_weights();
  EXPECT_TRUE(torch::all(now[1].W_h.narrow(1, 3 * H, H) == -9.0).item<bool>());
  EXPECT_FALSE(torch::any(now[1].W_h.narrow(1, 0, 3 * H) == -9.0).item<bool>());
  EXPECT_TRUE(torch::all(now[0].b.narrow(0, H, H) == -11.0).item<bool>());
  EXPECT_EQ(now[0].b[0].item<double>(), 2000.0);
  EXPECT_TRUE(torch::equal(now[0].W_x.narrow(1, 2 * H, H), torch::full({I, H}, -7.0, torch::kDouble)));
}

// ----- First weights ------------------------------------------------------------------------------

TEST_F(LSTMScratch, TorchInitDrawsTheNumbersOfTorchNnLSTM) {
  const int64_t I = 3, H = 5, L = 2;
  torch::manual_seed(7);
  torch::nn::LSTM reference(torch::nn::LSTMOptions(I, H).num_layers(L));
  torch::manual_seed(7);
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).num_layers(L));
  const auto w = layer->get_weights();
  ASSERT_EQ(w.size(), static_cast<size_t>(L));
  const auto params = reference->named_parameters();
  for (int64_t k = 0; k < L; ++k) {
    const auto s = std::to_string(k);
    EXPECT_TRUE(torch::equal(w[k].W_x, params["weight_ih_l" + s].t())) << "layer " << k;
    EXPECT_TRUE(torch::equal(w[k].W_h, params["weight_hh_l" + s].t())) << "layer " << k;
    EXPECT_TRUE(torch::equal(w[k].b, params["bias_ih_l" + s] + params["bias_hh_l" + s]))
        << "layer " << k;
  }
  // And a different seed gives different weights.
  torch::manual_seed(8);
  lstmlab::LSTMScratch other(RecurrentOptions(I, H).num_layers(L));
  EXPECT_FALSE(torch::equal(other->get_weights()[0].W_x, w[0].W_x));
}

TEST_F(LSTMScratch, D2lInitHasStdSigmaAndZeroBias) {
  const int64_t I = 16, H = 64;
  for (double sigma : {0.01, 0.1}) {
    lstmlab::LSTMScratch layer(
        RecurrentOptions(I, H).num_layers(2).init(InitScheme::D2l).sigma(sigma));
    for (const auto& w : layer->get_weights()) {
      for (const auto& t : {w.W_x, w.W_h}) {
        const double std = t.std().item<double>();
        EXPECT_NEAR(std, sigma, 0.2 * sigma) << "sigma " << sigma;
        EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.1 * sigma);
      }
      EXPECT_TRUE(torch::equal(w.b, torch::zeros({4 * H}))) << "d2l biases start at zero";
    }
  }
}

TEST_F(LSTMScratch, D2lInitDrawsGateByGateInD2lOrder) {
  // d2l's LSTMScratch: W_xi, W_hi, b_i = triple(); then f, then o, then c (the candidate);
  // triple() draws randn(I, H) * sigma, randn(H, H) * sigma.
  const int64_t I = 3, H = 4;
  const double sigma = 0.01;
  torch::manual_seed(11);
  std::vector<torch::Tensor> x_blocks, h_blocks;
  for (int n = 0; n < 4; ++n) {
    x_blocks.push_back(torch::randn({I, H}) * sigma);
    h_blocks.push_back(torch::randn({H, H}) * sigma);
  }
  torch::manual_seed(11);
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).init(InitScheme::D2l).sigma(sigma));
  EXPECT_TRUE(torch::equal(layer->W_xi(), x_blocks[0]));
  EXPECT_TRUE(torch::equal(layer->W_hi(), h_blocks[0]));
  EXPECT_TRUE(torch::equal(layer->W_xf(), x_blocks[1]));
  EXPECT_TRUE(torch::equal(layer->W_hf(), h_blocks[1]));
  EXPECT_TRUE(torch::equal(layer->W_xo(), x_blocks[2]));
  EXPECT_TRUE(torch::equal(layer->W_ho(), h_blocks[2]));
  EXPECT_TRUE(torch::equal(layer->W_xc(), x_blocks[3]));
  EXPECT_TRUE(torch::equal(layer->W_hc(), h_blocks[3]));
}

TEST_F(LSTMScratch, KerasInitOrthogonalRecurrentKernelUnitForgetBiasGlorotKernel) {
  const int64_t I = 6, H = 8;
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).num_layers(2).init(InitScheme::Keras));
  const auto stack = layer->get_weights();
  for (size_t k = 0; k < stack.size(); ++k) {
    SCOPED_TRACE("layer " + std::to_string(k));
    const auto& w = stack[k];
    const int64_t in = k == 0 ? I : H;
    const auto Wh = w.W_h.to(torch::kDouble);  // [H, 4H]
    EXPECT_LT(max_abs_diff(Wh.mm(Wh.t()), torch::eye(H, torch::kDouble)), 1e-5);
    auto expected_b = torch::zeros({4 * H});
    expected_b.narrow(0, H, H).fill_(1.0);
    EXPECT_TRUE(torch::equal(w.b, expected_b));
    const double limit = std::sqrt(6.0 / static_cast<double>(in + 4 * H));
    EXPECT_LE(w.W_x.abs().max().item<double>(), limit);
    // Uniform on [-limit, limit]: std limit / sqrt(3), so not all near zero either.
    EXPECT_NEAR(w.W_x.std().item<double>(), limit / std::sqrt(3.0), 0.3 * limit / std::sqrt(3.0));
  }
}

TEST_F(LSTMScratch, ResetParametersDrawsAgain) {
  lstmlab::LSTMScratch layer(RecurrentOptions(3, 4));
  const auto before = layer->get_weights();
  layer->reset_parameters();
  EXPECT_FALSE(torch::equal(layer->get_weights()[0].W_x, before[0].W_x));
}

// ----- Gradients against central finite differences -----------------------------------------------

void finite_difference_check(ScratchBackward mode) {
  torch::manual_seed(3);
  const int64_t T = 3, B = 2, I = 2, H = 2, L = 2;
  const auto opts = torch::dtype(torch::kDouble);
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).num_layers(L));
  layer->to(torch::kDouble);
  layer->set_backward_mode(mode);
  EXPECT_EQ(layer->backward_mode(), mode);
  // Larger weights than the default so that the gates leave their linear range.
  {
    StackWeights w = layer->get_weights();
    for (auto& lw : w) {
      lw.W_x = torch::randn_like(lw.W_x);
      lw.W_h = torch::randn_like(lw.W_h);
      lw.b = torch::randn_like(lw.b);
    }
    layer->set_weights(w);
  }
  const auto x = torch::randn({T, B, I}, opts);
  const auto h0 = torch::randn({L, B, H}, opts);
  const auto c0 = torch::randn({L, B, H}, opts);
  const auto w_out = torch::randn({T, B, H}, opts);
  const auto w_h = torch::randn({L, B, H}, opts);
  const auto w_c = torch::randn({L, B, H}, opts);
  auto loss_of = [&](const torch::Tensor& xi, const torch::Tensor& hi, const torch::Tensor& ci) {
    const auto r = layer->forward(xi, RecurrentState{hi, ci});
    return (r.output * w_out).sum() + (r.state.h * w_h).sum() + (r.state.c * w_c).sum();
  };

  // Analytic.
  auto xg = x.clone().requires_grad_(true);
  auto hg = h0.clone().requires_grad_(true);
  auto cg = c0.clone().requires_grad_(true);
  layer->zero_grad();
  loss_of(xg, hg, cg).backward();
  const StackWeights grads = layer->get_weight_grads();
  ASSERT_EQ(grads.size(), static_cast<size_t>(L));

  // Central differences, one element at a time.
  const double eps = 1e-6;
  torch::NoGradGuard no_grad;
  auto numeric_for_input = [&](const torch::Tensor& base, int which) {
    auto g = torch::zeros_like(base);
    auto flat = g.view({-1});
    for (int64_t e = 0; e < base.numel(); ++e) {
      auto plus = base.clone(), minus = base.clone();
      plus.view({-1})[e] += eps;
      minus.view({-1})[e] -= eps;
      auto f = [&](const torch::Tensor& v) {
        return which == 0   ? loss_of(v, h0, c0).item<double>()
               : which == 1 ? loss_of(x, v, c0).item<double>()
                            : loss_of(x, h0, v).item<double>();
      };
      flat[e] = (f(plus) - f(minus)) / (2 * eps);
    }
    return g;
  };
  EXPECT_LE(max_rel_diff(xg.grad(), numeric_for_input(x, 0)), 1e-6) << "input";
  EXPECT_LE(max_rel_diff(hg.grad(), numeric_for_input(h0, 1)), 1e-6) << "h0";
  EXPECT_LE(max_rel_diff(cg.grad(), numeric_for_input(c0, 2)), 1e-6) << "c0";

  StackWeights base = layer->get_weights();
  auto numeric_for_weight = [&](size_t k, int part) {
    auto pick = [part](LayerWeights& lw) -> torch::Tensor& {
      return part == 0 ? lw.W_x : part == 1 ? lw.W_h : lw.b;
    };
    StackWeights probe = base;
    for (auto& lw : probe) lw = {lw.W_x.clone(), lw.W_h.clone(), lw.b.clone()};
    auto g = torch::zeros_like(pick(probe[k]));
    for (int64_t e = 0; e < g.numel(); ++e) {
      const double v = pick(base[k]).view({-1})[e].item<double>();
      pick(probe[k]).view({-1})[e] = v + eps;
      layer->set_weights(probe);
      const double up = loss_of(x, h0, c0).item<double>();
      pick(probe[k]).view({-1})[e] = v - eps;
      layer->set_weights(probe);
      const double down = loss_of(x, h0, c0).item<double>();
      pick(probe[k]).view({-1})[e] = v;
      g.view({-1})[e] = (up - down) / (2 * eps);
    }
    layer->set_weights(base);
    return g;
  };
  for (size_t k = 0; k < static_cast<size_t>(L); ++k) {
    EXPECT_LE(max_rel_diff(grads[k].W_x, numeric_for_weight(k, 0)), 1e-6) << "W_x layer " << k;
    EXPECT_LE(max_rel_diff(grads[k].W_h, numeric_for_weight(k, 1)), 1e-6) << "W_h layer " << k;
    EXPECT_LE(max_rel_diff(grads[k].b, numeric_for_weight(k, 2)), 1e-6) << "b layer " << k;
  }
}

TEST_F(LSTMScratch, GradientsMatchFiniteDifferencesAutograd) {
  finite_difference_check(ScratchBackward::Autograd);
}

TEST_F(LSTMScratch, GradientsMatchFiniteDifferencesFused) {
  finite_difference_check(ScratchBackward::Fused);
}

TEST_F(LSTMScratch, BackwardModeNamesParse) {
  EXPECT_EQ(lstmlab::parse_scratch_backward("fused"), ScratchBackward::Fused);
  EXPECT_EQ(lstmlab::parse_scratch_backward("autograd"), ScratchBackward::Autograd);
  EXPECT_EQ(lstmlab::to_string(ScratchBackward::Fused), "fused");
  const auto message = thrown_message<std::invalid_argument>(
      [] { lstmlab::parse_scratch_backward("adjoint"); });
  expect_contains(message, {"adjoint", "fused", "autograd"});
}

// ----- GPU ----------------------------------------------------------------------------------------

TEST_F(LSTMScratch, StatQuestOnGpu_CUDA) {
  if (!cuda_present()) GTEST_SKIP() << "no CUDA device";
  lstmlab::LSTMScratch layer(RecurrentOptions(1, 1));
  layer->to(torch::kCUDA, torch::kDouble);
  layer->set_weights(lstmlab::statquest_weights());
  const auto seq = lstmlab::statquest_sequences()[1];
  const auto x = torch::tensor(seq, torch::kDouble).view({-1, 1}).to(torch::kCUDA);
  const auto r = layer->forward(x);
  EXPECT_TRUE(r.output.is_cuda());
  EXPECT_NEAR(scalar(r.state.h.cpu()), statquest_by_hand(seq).back().h, 1e-14);
}

}  // namespace
