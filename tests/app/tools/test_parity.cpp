// LSTMScratch against BuiltinLSTM with the same weights: forward values and every gradient, in
// float64 (<= 1e-12 relative) and float32 (<= 1e-5), for 1 and 3 layers, both scratch backward
// modes. Then `run_parity` itself, its JSON, and a perturbed pair that must fail.
// Letters: T time steps, B batch, I input features, H hidden units, L layers.

#include "app/tools/parity.h"
#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

using lstmlab::RecurrentOptions;
using lstmlab::RecurrentState;
using lstmlab::ScratchBackward;
using lstmlab::StackWeights;
using namespace lstmlab::test;

class Parity : public SeededTest {};

struct Case {
  int64_t T, B, I, H, L;
  bool batch_first, unbatched, with_state;
};

std::string describe(const Case& c, torch::ScalarType dtype, ScratchBackward mode) {
  return "T=" + std::to_string(c.T) + " B=" + std::to_string(c.B) + " I=" + std::to_string(c.I) +
         " H=" + std::to_string(c.H) + " L=" + std::to_string(c.L) +
         (c.batch_first ? " batch_first" : "") + (c.unbatched ? " unbatched" : "") +
         (c.with_state ? " h0/c0" : "") + (dtype == torch::kDouble ? " float64" : " float32") +
         " scratch " + lstmlab::to_string(mode);
}

struct Result {
  lstmlab::RecurrentOutput out;
  torch::Tensor dx, dh0, dc0;
  StackWeights grads;  // canonical layout
};

// One forward and backward of a loss that weighs every output element differently.
Result run_layer(lstmlab::RecurrentLayerImpl& layer, const torch::Tensor& x, const torch::Tensor& h0,
                 const torch::Tensor& c0, bool with_state, const torch::Tensor& w_out,
                 const torch::Tensor& w_h, const torch::Tensor& w_c) {
  Result r;
  auto xi = x.clone().requires_grad_(true);
  auto hi = h0.clone().requires_grad_(true);
  auto ci = c0.clone().requires_grad_(true);
  std::optional<RecurrentState> state;
  if (with_state) state = RecurrentState{hi, ci};
  layer.zero_grad();
  r.out = layer.forward(xi, state);
  ((r.out.output * w_out).sum() + (r.out.state.h * w_h).sum() + (r.out.state.c * w_c).sum())
      .backward();
  r.dx = xi.grad();
  r.dh0 = hi.grad();
  r.dc0 = ci.grad();
  return r;
}

void check_case(const Case& c, torch::ScalarType dtype, ScratchBackward mode) {
  SCOPED_TRACE(describe(c, dtype, mode));
  const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
  const auto options = RecurrentOptions(c.I, c.H).num_layers(c.L).batch_first(c.batch_first);
  lstmlab::BuiltinLSTM builtin(options);
  builtin->to(dtype);
  lstmlab::LSTMScratch scratch(options);
  scratch->to(dtype);
  scratch->set_weights(builtin->get_weights());
  scratch->set_backward_mode(mode);

  const auto opts = torch::dtype(dtype);
  std::vector<int64_t> in_shape = c.unbatched ? std::vector<int64_t>{c.T, c.I}
                                  : c.batch_first ? std::vector<int64_t>{c.B, c.T, c.I}
                                                  : std::vector<int64_t>{c.T, c.B, c.I};
  std::vector<int64_t> state_shape = c.unbatched ? std::vector<int64_t>{c.L, c.H}
                                                 : std::vector<int64_t>{c.L, c.B, c.H};
  auto out_shape = in_shape;
  out_shape.back() = c.H;
  const auto x = torch::randn(in_shape, opts);
  const auto h0 = torch::randn(state_shape, opts);
  const auto c0 = torch::randn(state_shape, opts);
  const auto w_out = torch::randn(out_shape, opts);
  const auto w_h = torch::randn(state_shape, opts);
  const auto w_c = torch::randn(state_shape, opts);

  const auto b = run_layer(*builtin, x, h0, c0, c.with_state, w_out, w_h, w_c);
  auto s = run_layer(*scratch, x, h0, c0, c.with_state, w_out, w_h, w_c);
  s.grads = scratch->get_weight_grads();

  expect_sizes(s.out.output, out_shape, "scratch output");
  EXPECT_LE(max_rel_diff(s.out.output, b.out.output), tol) << "forward output";
  EXPECT_LE(max_rel_diff(s.out.state.h, b.out.state.h), tol) << "h_n";
  EXPECT_LE(max_rel_diff(s.out.state.c, b.out.state.c), tol) << "c_n";
  EXPECT_LE(max_rel_diff(s.dx, b.dx), tol) << "grad input";
  if (c.with_state) {
    EXPECT_LE(max_rel_diff(s.dh0, b.dh0), tol) << "grad h0";
    EXPECT_LE(max_rel_diff(s.dc0, b.dc0), tol) << "grad c0";
  }
  // The reference gradients straight from torch::nn::LSTM's parameters, transposed by hand.
  const auto params = builtin->lstm->named_parameters();
  ASSERT_EQ(s.grads.size(), static_cast<size_t>(c.L));
  for (int64_t k = 0; k < c.L; ++k) {
    const auto n = std::to_string(k);
    EXPECT_LE(max_rel_diff(s.grads[k].W_x, params["weight_ih_l" + n].grad().t()), tol)
        << "grad W_x layer " << k;
    EXPECT_LE(max_rel_diff(s.grads[k].W_h, params["weight_hh_l" + n].grad().t()), tol)
        << "grad W_h layer " << k;
    EXPECT_LE(max_rel_diff(s.grads[k].b, params["bias_ih_l" + n].grad()), tol)
        << "grad b layer " << k;
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {6, 3, 4, 5, 1, false, false, false},
      {5, 4, 3, 4, 3, false, false, true},   // 3 layers with a given state
      {4, 2, 3, 3, 3, true, false, true},    // 3 layers, batch_first
      {5, 1, 2, 3, 2, false, true, true},    // unbatched
      {5, 2, 10, 20, 1, true, false, false},  // seed 003
  };
  return all;
}

TEST_F(Parity, Float64ForwardAndGradientsWithin1e12) {
  for (auto mode : {ScratchBackward::Autograd, ScratchBackward::Fused}) {
    for (const auto& c : cases()) check_case(c, torch::kDouble, mode);
  }
}

TEST_F(Parity, Float32ForwardAndGradientsWithin1e5) {
  for (auto mode : {ScratchBackward::Autograd, ScratchBackward::Fused}) {
    for (const auto& c : cases()) check_case(c, torch::kFloat, mode);
  }
}

TEST_F(Parity, ToleranceFigures) {
  EXPECT_EQ(lstmlab::parity_tolerance(torch::kDouble, "forward"), 1e-12);
  EXPECT_EQ(lstmlab::parity_tolerance(torch::kDouble, "backward"), 1e-12);
  EXPECT_EQ(lstmlab::parity_tolerance(torch::kFloat, "forward"), 1e-5);
  EXPECT_EQ(lstmlab::parity_tolerance(torch::kFloat, "backward"), 1e-5);
  EXPECT_GT(lstmlab::parity_tolerance(torch::kDouble, "train"), 0.0);
}

TEST_F(Parity, APerturbedWeightIsCaught) {
  const auto options = RecurrentOptions(3, 4).num_layers(2);
  lstmlab::BuiltinLSTM builtin(options);
  builtin->to(torch::kDouble);
  lstmlab::LSTMScratch scratch(options);
  scratch->to(torch::kDouble);
  scratch->set_weights(builtin->get_weights());
  const auto x = torch::randn({5, 2, 3}, torch::kDouble);
  const auto reference = builtin->forward(x).output;
  const double tol = lstmlab::parity_tolerance(torch::kDouble, "forward");
  ASSERT_LE(max_rel_diff(scratch->forward(x).output, reference), tol) << "unperturbed must agree";

  for (size_t part = 0; part < 3; ++part) {
    auto w = builtin->get_weights();
    auto& t = part == 0 ? w[0].W_x : part == 1 ? w[1].W_h : w[0].b;
    t.view({-1})[1] += 1e-6;
    scratch->set_weights(w);
    EXPECT_GT(max_rel_diff(scratch->forward(x).output, reference), tol) << "part " << part;
  }
}

TEST_F(Parity, RunParityPassesWithRowsForEveryKind) {
  lstmlab::ParityOptions options;
  options.dtypes = {torch::kDouble};
  options.train_steps = 2;
  const auto report = lstmlab::run_parity(options);
  EXPECT_TRUE(report.all_pass());
  EXPECT_FALSE(report.runtime.empty());

  bool forward = false, gradients = false, training = false, autograd = false, fused = false,
       seed003 = false;
  for (const auto& row : report.rows) {
    SCOPED_TRACE(row.shape_case + " | " + row.variant + " | " + row.quantity);
    EXPECT_TRUE(row.pass);
    EXPECT_EQ(row.dtype, "float64");
    EXPECT_LE(row.max_rel, row.tolerance);
    EXPECT_GE(row.max_abs, 0.0);
    forward = forward || row.quantity.rfind("forward", 0) == 0;
    gradients = gradients || row.quantity.rfind("grad", 0) == 0;
    training = training || row.quantity.rfind("train", 0) == 0;
    autograd = autograd || row.variant == "autograd";
    fused = fused || row.variant == "fused";
    seed003 = seed003 || row.shape_case.find("seed 003") != std::string::npos;
  }
  EXPECT_TRUE(forward);
  EXPECT_TRUE(gradients);
  EXPECT_TRUE(training);
  EXPECT_TRUE(autograd);
  EXPECT_TRUE(fused);
  EXPECT_TRUE(seed003);

  const auto json = lstmlab::parity_json(report);
  EXPECT_EQ(json.at("pass"), true);
  EXPECT_EQ(json.at("checks").size(), report.rows.size());
  EXPECT_EQ(json.at("checks").at(0).at("dtype"), "float64");

  std::ostringstream table;
  lstmlab::print_parity_table(report, table);
  EXPECT_NE(table.str().find("0 failed"), std::string::npos) << table.str();
  EXPECT_EQ(table.str().find("FAIL"), std::string::npos);
}

TEST_F(Parity, AFailingRowFailsTheReport) {
  lstmlab::ParityReport report;
  EXPECT_FALSE(report.all_pass()) << "an empty report proves nothing";
  report.rows.push_back({"case", "float64", "autograd", "forward output", 1e-20, 1e-20, 1e-12, true});
  EXPECT_TRUE(report.all_pass());
  report.rows.push_back({"case", "float64", "fused", "grad b (layer 0)", 1e-9, 1e-9, 1e-12, false});
  EXPECT_FALSE(report.all_pass());
  EXPECT_EQ(lstmlab::parity_json(report).at("pass"), false);
  std::ostringstream table;
  lstmlab::print_parity_table(report, table);
  EXPECT_NE(table.str().find("FAIL"), std::string::npos);
  EXPECT_NE(table.str().find("1 failed"), std::string::npos);
}

TEST_F(Parity, ForwardAndGradients_CUDA) {
  if (!cuda_present()) GTEST_SKIP() << "no CUDA device";
  lstmlab::ParityOptions options;
  options.device = torch::kCUDA;
  options.dtypes = {torch::kDouble, torch::kFloat};
  options.train_steps = 2;
  const auto report = lstmlab::run_parity(options);
  for (const auto& row : report.rows) {
    EXPECT_TRUE(row.pass) << row.shape_case << " | " << row.dtype << " | " << row.quantity
                          << " rel " << row.max_rel;
  }
  EXPECT_TRUE(report.all_pass());
}

}  // namespace
