// The fused GRU layer against a plain autograd GRU, torch::nn::GRU, central finite differences, a
// two-unit cell worked by hand, and its ATen-op path, with the reset gate after the product
// (PyTorch) and before it (d2l). Letters: T time steps, B batch, I input features, H hidden
// units, G = 3H, gates r, z, n.

#include "models/gru/gru_fused.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace lstmlab {
namespace {

using torch::Tensor;

struct Shape {
  int64_t T, B, I, H;
};

std::string variant_name(bool reset_after) {
  return reset_after ? "reset after" : "reset before";
}

std::string describe(const Shape& s, bool reset_after) {
  return "T=" + std::to_string(s.T) + " B=" + std::to_string(s.B) + " I=" + std::to_string(s.I) +
         " H=" + std::to_string(s.H) + " " + variant_name(reset_after);
}

using Outputs = std::tuple<Tensor, Tensor>;
using Layer = std::function<Outputs(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                    const Tensor&, const Tensor&, bool)>;

/// The GRU equations as plain autograd ops, one step at a time, gate by gate.
Outputs reference_layer(const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                        const Tensor& b, const Tensor& b_hn, bool reset_after) {
  const int64_t H = W_h.size(0);
  const auto W_x_gates = W_x.split(H, 1);  // r, z, n
  const auto W_h_gates = W_h.split(H, 1);
  const auto b_gates = b.split(H, 0);
  Tensor h = h0;
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < x.size(0); ++t) {
    const Tensor& xt = x[t];
    const Tensor r = torch::sigmoid(torch::mm(xt, W_x_gates[0]) + torch::mm(h, W_h_gates[0]) +
                                    b_gates[0]);
    const Tensor z = torch::sigmoid(torch::mm(xt, W_x_gates[1]) + torch::mm(h, W_h_gates[1]) +
                                    b_gates[1]);
    const Tensor x_n = torch::mm(xt, W_x_gates[2]) + b_gates[2];
    Tensor n;
    if (reset_after) {
      const Tensor h_n = b_hn.defined() ? torch::mm(h, W_h_gates[2]) + b_hn
                                        : torch::mm(h, W_h_gates[2]);
      n = torch::tanh(x_n + r * h_n);
    } else {
      n = torch::tanh(x_n + torch::mm(r * h, W_h_gates[2]));
    }
    h = (1 - z) * n + z * h;
    hs.push_back(h);
  }
  return {torch::stack(hs), h};
}

const Layer kFused = [](const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                        const Tensor& b, const Tensor& b_hn, bool reset_after) {
  return gru_layer_fused(x, h0, W_x, W_h, b, b_hn, reset_after);
};
const Layer kFusedOps = [](const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                           const Tensor& b, const Tensor& b_hn, bool reset_after) {
  return gru_layer_fused_reference_ops(x, h0, W_x, W_h, b, b_hn, reset_after);
};
const Layer kReference = reference_layer;

/// Arguments of one layer, leaves that require grad. b_hn is zeros with the reset gate before
/// the product, where it has no place.
struct Args {
  Tensor x, h0, W_x, W_h, b, b_hn;

  std::vector<Tensor> all() const { return {x, h0, W_x, W_h, b, b_hn}; }
};
const char* const kArgNames[] = {"x", "h0", "W_x", "W_h", "b", "b_hn"};
constexpr size_t kArgCount = 6;

Args random_args(const Shape& s, bool reset_after, torch::Dtype dtype = torch::kDouble) {
  const auto opts = torch::TensorOptions().dtype(dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.H));
  Args a;
  a.x = torch::randn({s.T, s.B, s.I}, opts);
  a.h0 = torch::randn({s.B, s.H}, opts) * 0.5;
  a.W_x = torch::randn({s.I, 3 * s.H}, opts) * scale;
  a.W_h = torch::randn({s.H, 3 * s.H}, opts) * scale;
  a.b = torch::randn({3 * s.H}, opts) * 0.1;
  a.b_hn = reset_after ? torch::randn({s.H}, opts) * 0.1 : torch::zeros({s.H}, opts);
  return a;
}

Args fresh_leaves(const Args& a, torch::Dtype dtype) {
  const auto leaf = [dtype](const Tensor& t) {
    return t.detach().to(dtype).clone().set_requires_grad(true);
  };
  return {leaf(a.x), leaf(a.h0), leaf(a.W_x), leaf(a.W_h), leaf(a.b), leaf(a.b_hn)};
}

/// Random weights for the loss (out*R1).sum() + (h_T*R2).sum().
struct LossWeights {
  Tensor r_out, r_h;  // undefined: that output is left out of the loss
};

LossWeights random_loss_weights(const Shape& s, bool use_out, bool use_state) {
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  LossWeights w;
  if (use_out) w.r_out = torch::randn({s.T, s.B, s.H}, opts);
  if (use_state) w.r_h = torch::randn({s.B, s.H}, opts);
  return w;
}

Tensor loss_of(const Outputs& y, const LossWeights& w) {
  const Tensor& out = std::get<0>(y);
  Tensor loss = torch::zeros({}, out.options());
  if (w.r_out.defined()) loss = loss + (out * w.r_out.to(out.scalar_type())).sum();
  if (w.r_h.defined()) loss = loss + (std::get<1>(y) * w.r_h.to(out.scalar_type())).sum();
  return loss;
}

/// One forward and backward: the outputs, then the grads of x, h0, W_x, W_h, b, b_hn.
struct RunResult {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;
};

RunResult run_once(const Layer& layer, const Args& args, bool reset_after, const LossWeights& w,
                   torch::Dtype dtype) {
  const Args leaves = fresh_leaves(args, dtype);
  const Outputs y =
      layer(leaves.x, leaves.h0, leaves.W_x, leaves.W_h, leaves.b, leaves.b_hn, reset_after);
  loss_of(y, w).backward();
  RunResult run;
  run.outputs = {std::get<0>(y).detach(), std::get<1>(y).detach()};
  for (const Tensor& leaf : leaves.all()) run.grads.push_back(leaf.grad());
  return run;
}

/// The largest relative difference a test met, printed with its tolerance when the test ends.
class LargestDifference {
 public:
  explicit LargestDifference(double tolerance) : tolerance_(tolerance) {}
  ~LargestDifference() {
    std::cout << "    largest relative difference " << largest_ << " (tolerance " << tolerance_
              << ")\n";
  }
  double tolerance() const { return tolerance_; }
  void note(double d) { largest_ = std::max(largest_, d); }

 private:
  double tolerance_;
  double largest_ = 0.0;
};

/// Outputs and all six grads within the tolerance of `largest`. With the reset gate before the
/// product b_hn takes no part: both sides must leave its grad undefined.
void expect_runs_close(const RunResult& got, const RunResult& want, bool reset_after,
                       LargestDifference& largest, const std::string& what) {
  const double tol = largest.tolerance();
  const char* const output_names[] = {"out", "h_T"};
  for (size_t k = 0; k < 2; ++k) {
    const double d = test::max_rel_diff(got.outputs[k], want.outputs[k]);
    largest.note(d);
    EXPECT_LE(d, tol) << what << ": " << output_names[k] << " differs by " << d << " (relative)";
  }
  for (size_t k = 0; k < kArgCount; ++k) {
    if (!reset_after && k == 5) {
      EXPECT_FALSE(got.grads[k].defined()) << what << ": b_hn has no part, yet a grad";
      EXPECT_FALSE(want.grads[k].defined()) << what << ": reference has a b_hn grad";
      continue;
    }
    ASSERT_TRUE(got.grads[k].defined()) << what << ": no grad for " << kArgNames[k];
    ASSERT_TRUE(want.grads[k].defined()) << what << ": reference has no grad for " << kArgNames[k];
    const double d = test::max_rel_diff(got.grads[k], want.grads[k]);
    largest.note(d);
    EXPECT_LE(d, tol) << what << ": grad of " << kArgNames[k] << " differs by " << d
                      << " (relative)";
  }
}

// The last is wider than one parallel task (85 rows at H=64): the raw loop splits its batch.
const std::vector<Shape> kShapes = {{1, 1, 1, 1}, {1, 4, 3, 5}, {6, 1, 2, 3},
                                    {5, 3, 4, 6}, {7, 2, 3, 5}, {3, 130, 5, 64}};
const bool kVariants[] = {true, false};

class GruFusedTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(20240715); }
};

// ---- 1. against the autograd GRU ----------------------------------------------------------------

using GruFusedVsAutograd = GruFusedTest;

TEST_F(GruFusedVsAutograd, OutputsAndAllGradsMatchInFloat64) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const bool reset_after : kVariants) {
      const Args args = random_args(s, reset_after);
      const LossWeights w = random_loss_weights(s, true, true);
      expect_runs_close(run_once(kFused, args, reset_after, w, torch::kDouble),
                        run_once(kReference, args, reset_after, w, torch::kDouble), reset_after,
                        largest, describe(s, reset_after));
    }
  }
}

// The fused layer in float32 against the autograd GRU in float64: the float32 error itself.
TEST_F(GruFusedVsAutograd, OutputsAndAllGradsMatchInFloat32) {
  LargestDifference largest(1e-5);
  for (const Shape& s : kShapes) {
    for (const bool reset_after : kVariants) {
      const Args args = random_args(s, reset_after);
      const LossWeights w = random_loss_weights(s, true, true);
      const RunResult single = run_once(kFused, args, reset_after, w, torch::kFloat);
      ASSERT_EQ(single.outputs[0].scalar_type(), torch::kFloat);
      ASSERT_EQ(single.grads[3].scalar_type(), torch::kFloat);
      expect_runs_close(single, run_once(kReference, args, reset_after, w, torch::kDouble),
                        reset_after, largest, describe(s, reset_after) + " float32");
    }
  }
}

// One of out and h_T unused: its grad reaches the backward undefined.
TEST_F(GruFusedVsAutograd, OnlyOutOrOnlyFinalStateInTheLoss) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const bool reset_after : kVariants) {
      for (const bool use_out : {true, false}) {
        const Args args = random_args(s, reset_after);
        const LossWeights w = random_loss_weights(s, use_out, !use_out);
        expect_runs_close(run_once(kFused, args, reset_after, w, torch::kDouble),
                          run_once(kReference, args, reset_after, w, torch::kDouble), reset_after,
                          largest, describe(s, reset_after) + (use_out ? " (out)" : " (h_T)"));
      }
    }
  }
}

// Only some arguments require grad: the others get none, and the rest are unchanged.
TEST_F(GruFusedVsAutograd, GradsOnlyWhereAsked) {
  const Shape s{4, 3, 2, 5};
  for (const bool reset_after : kVariants) {
    const Args args = random_args(s, reset_after);
    const LossWeights w = random_loss_weights(s, true, true);
    const RunResult all = run_once(kReference, args, reset_after, w, torch::kDouble);
    for (size_t asked = 0; asked < kArgCount; ++asked) {
      std::vector<Tensor> leaves = args.all();
      for (size_t k = 0; k < kArgCount; ++k) {
        leaves[k] = leaves[k].detach().clone().set_requires_grad(k == asked);
      }
      const Outputs y = gru_layer_fused(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4],
                                        leaves[5], reset_after);
      loss_of(y, w).backward();
      for (size_t k = 0; k < kArgCount; ++k) {
        if (k != asked || (!reset_after && k == 5)) {  // b_hn before the product: no part
          EXPECT_FALSE(leaves[k].grad().defined()) << kArgNames[k] << " got a grad unasked";
          continue;
        }
        EXPECT_LE(test::max_rel_diff(leaves[k].grad(), all.grads[k]), 1e-12)
            << variant_name(reset_after) << ": grad of " << kArgNames[k] << " alone";
      }
    }
  }
}

TEST_F(GruFusedVsAutograd, NonContiguousArgumentsAndNoGradMode) {
  const Shape s{5, 3, 4, 6};
  for (const bool reset_after : kVariants) {
    const Args args = random_args(s, reset_after);
    // The same numbers seen through transposes and strides: x from a batch-first tensor, W_h from
    // its transpose, h0 from a column-major copy, b_hn every other element of a longer tensor.
    const Tensor x_bf = args.x.transpose(0, 1).contiguous().transpose(0, 1);
    const Tensor W_h_t = args.W_h.t().contiguous().t();
    const Tensor h0_t = args.h0.t().contiguous().t();
    const Tensor b_hn_strided = torch::stack({args.b_hn, args.b_hn}, 1).select(1, 0);
    ASSERT_FALSE(x_bf.is_contiguous());
    ASSERT_FALSE(W_h_t.is_contiguous());
    ASSERT_FALSE(h0_t.is_contiguous());
    ASSERT_FALSE(b_hn_strided.is_contiguous());
    const Outputs got = gru_layer_fused(x_bf, h0_t, args.W_x, W_h_t, args.b, b_hn_strided,
                                        reset_after);
    const Outputs want = reference_layer(args.x, args.h0, args.W_x, args.W_h, args.b, args.b_hn,
                                         reset_after);
    EXPECT_LE(test::max_rel_diff(std::get<0>(got), std::get<0>(want)), 1e-12)
        << variant_name(reset_after);
    torch::NoGradGuard no_grad;
    const Args leaves = fresh_leaves(args, torch::kDouble);
    const Outputs y = gru_layer_fused(leaves.x, leaves.h0, leaves.W_x, leaves.W_h, leaves.b,
                                      leaves.b_hn, reset_after);
    EXPECT_FALSE(std::get<0>(y).requires_grad());
    EXPECT_LE(test::max_rel_diff(std::get<1>(y), std::get<1>(want)), 1e-12)
        << variant_name(reset_after);
  }
}

// An undefined b_hn is zeros; with the reset gate before the product, zeros are accepted too.
TEST_F(GruFusedVsAutograd, UndefinedBhnIsZeros) {
  const Shape s{4, 2, 3, 5};
  for (const bool reset_after : kVariants) {
    const Args a = random_args(s, reset_after);
    const Tensor zeros = torch::zeros({s.H}, torch::kDouble);
    const Outputs undefined_bhn = gru_layer_fused(a.x, a.h0, a.W_x, a.W_h, a.b, {}, reset_after);
    const Outputs zero_bhn = gru_layer_fused(a.x, a.h0, a.W_x, a.W_h, a.b, zeros, reset_after);
    const Outputs want = reference_layer(a.x, a.h0, a.W_x, a.W_h, a.b, zeros, reset_after);
    EXPECT_TRUE(torch::equal(std::get<0>(undefined_bhn), std::get<0>(zero_bhn)));
    EXPECT_LE(test::max_rel_diff(std::get<0>(undefined_bhn), std::get<0>(want)), 1e-12);
  }
}

TEST_F(GruFusedVsAutograd, OutGradsOfAnyLayoutAndRetainedGraph) {
  const Shape s{6, 4, 3, 5};
  const Tensor r_batch_first = torch::randn({s.B, s.T, s.H}, torch::kDouble);
  const Tensor r_state = torch::randn({s.B, s.H}, torch::kDouble);
  // out seen batch-first: its grad arrives transposed, [T, B, H] with strides [H, T*H, 1].
  // out and h_T summed: their grads arrive expanded, all strides 0.
  // h_T seen transposed: its grad arrives column-major.
  const auto batch_first_loss = [&](const Outputs& y) {
    return (std::get<0>(y).transpose(0, 1) * r_batch_first).sum() +
           (std::get<1>(y).t() * r_state.t()).sum();
  };
  const auto sum_loss = [](const Outputs& y) { return std::get<0>(y).sum() + std::get<1>(y).sum(); };
  LargestDifference largest(1e-12);
  const std::pair<const char*, Layer> paths[] = {{"raw loop", kFused}, {"tensor ops", kFusedOps}};
  const std::pair<const char*, std::function<Tensor(const Outputs&)>> losses[] = {
      {"batch-first", batch_first_loss}, {"sum", sum_loss}};
  for (const bool reset_after : kVariants) {
    const Args args = random_args(s, reset_after);
    for (const auto& [path, layer] : paths) {
      for (const auto& [loss_name, loss] : losses) {
        const std::string what =
            std::string(path) + ", " + loss_name + ", " + variant_name(reset_after);
        const Args want = fresh_leaves(args, torch::kDouble);
        loss(reference_layer(want.x, want.h0, want.W_x, want.W_h, want.b, want.b_hn,
                             reset_after))
            .backward();
        const Args got = fresh_leaves(args, torch::kDouble);
        const Tensor l =
            loss(layer(got.x, got.h0, got.W_x, got.W_h, got.b, got.b_hn, reset_after));
        // A second backward through the retained graph must find the saved tensors unchanged.
        l.backward({}, /*retain_graph=*/true);
        std::vector<Tensor> first;
        for (const Tensor& t : got.all()) first.push_back(t.grad().defined() ? t.grad().clone()
                                                                             : Tensor());
        for (const Tensor& t : got.all()) {
          if (t.grad().defined()) t.mutable_grad().zero_();
        }
        l.backward();
        for (size_t k = 0; k < kArgCount; ++k) {
          if (!reset_after && k == 5) {
            EXPECT_FALSE(first[k].defined()) << what << ": b_hn has no part, yet a grad";
            continue;
          }
          const double d = test::max_rel_diff(first[k], want.all()[k].grad());
          largest.note(d);
          EXPECT_LE(d, 1e-12) << what << ": grad of " << kArgNames[k];
          EXPECT_LE(test::max_rel_diff(got.all()[k].grad(), first[k]), 1e-14)
              << what << ": second backward, grad of " << kArgNames[k];
        }
      }
    }
  }
}

// ---- 2. against torch::nn::GRU ------------------------------------------------------------------

using GruFusedVsTorchGru = GruFusedTest;

// torch::nn::GRU's own weights, mapped to the canonical layout (models/gru_fused.h): the forward
// and, through the same map, every grad.
TEST_F(GruFusedVsTorchGru, ForwardAndGradsMatchInFloat64) {
  LargestDifference largest(1e-12);
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{6, 3, 4, 5}, Shape{9, 17, 7, 24}}) {
    torch::nn::GRU gru(torch::nn::GRUOptions(s.I, s.H));
    gru->to(torch::kDouble);
    auto params = gru->named_parameters();
    const Tensor weight_ih = params["weight_ih_l0"];  // [3H, I]
    const Tensor weight_hh = params["weight_hh_l0"];  // [3H, H]
    const Tensor bias_ih = params["bias_ih_l0"];      // [3H]
    const Tensor bias_hh = params["bias_hh_l0"];      // [3H]
    const int64_t H = s.H;

    const Tensor x = torch::randn({s.T, s.B, s.I}, torch::kDouble);
    const Tensor h0 = torch::randn({s.B, s.H}, torch::kDouble) * 0.5;
    const Tensor r_out = torch::randn({s.T, s.B, s.H}, torch::kDouble);
    const Tensor r_h = torch::randn({s.B, s.H}, torch::kDouble);

    const Tensor x_torch = x.clone().set_requires_grad(true);
    const Tensor h0_torch = h0.clone().set_requires_grad(true);
    const auto [out_torch, h_n_torch] = gru->forward(x_torch, h0_torch.unsqueeze(0));
    ((out_torch * r_out).sum() + (h_n_torch[0] * r_h).sum()).backward();

    Args ours;
    {
      torch::NoGradGuard no_grad;
      ours.x = x;
      ours.h0 = h0;
      ours.W_x = weight_ih.t();
      ours.W_h = weight_hh.t();
      ours.b = bias_ih + torch::cat({bias_hh.narrow(0, 0, 2 * H), torch::zeros({H}, torch::kDouble)});
      ours.b_hn = bias_hh.narrow(0, 2 * H, H);
    }
    const LossWeights w{r_out, r_h};
    const RunResult got = run_once(kFused, ours, /*reset_after=*/true, w, torch::kDouble);

    const std::string what = describe(s, true);
    const std::pair<const char*, std::pair<Tensor, Tensor>> pairs[] = {
        {"out", {got.outputs[0], out_torch}},
        {"h_T", {got.outputs[1], h_n_torch[0]}},
        {"grad of x", {got.grads[0], x_torch.grad()}},
        {"grad of h0", {got.grads[1], h0_torch.grad()}},
        {"grad of weight_ih = W_x^T", {got.grads[2].t(), weight_ih.grad()}},
        {"grad of weight_hh = W_h^T", {got.grads[3].t(), weight_hh.grad()}},
        {"grad of bias_ih = b", {got.grads[4], bias_ih.grad()}},
        {"grad of bias_hh = [b_rz, b_hn]",
         {torch::cat({got.grads[4].narrow(0, 0, 2 * H), got.grads[5]}), bias_hh.grad()}},
    };
    for (const auto& [name, tensors] : pairs) {
      const double d = test::max_rel_diff(tensors.first, tensors.second);
      largest.note(d);
      EXPECT_LE(d, 1e-12) << what << ": " << name << " differs by " << d << " (relative)";
    }
  }
}

// ---- 3. central finite differences --------------------------------------------------------------

using GruFusedFiniteDiff = GruFusedTest;

TEST_F(GruFusedFiniteDiff, EveryElementOfEveryArgument) {
  const Shape s{3, 2, 2, 3};
  constexpr double kStep = 1e-6;
  LargestDifference largest(1e-6);
  for (const bool reset_after : kVariants) {
    const Args args = random_args(s, reset_after);
    const LossWeights w = random_loss_weights(s, true, true);
    const RunResult analytic = run_once(kFused, args, reset_after, w, torch::kDouble);
    Args probe = fresh_leaves(args, torch::kDouble);
    std::vector<Tensor> params = probe.all();
    for (size_t k = 0; k < (reset_after ? kArgCount : kArgCount - 1); ++k) {
      Tensor flat = params[k].detach().view({-1});  // shares storage with probe
      Tensor numeric = torch::zeros_like(flat);
      for (int64_t e = 0; e < flat.numel(); ++e) {
        const double keep = flat[e].item<double>();
        double loss[2];
        for (int side = 0; side < 2; ++side) {
          flat[e] = keep + (side == 0 ? kStep : -kStep);
          torch::NoGradGuard no_grad;
          loss[side] = loss_of(gru_layer_fused(probe.x, probe.h0, probe.W_x, probe.W_h, probe.b,
                                               probe.b_hn, reset_after),
                               w)
                           .item<double>();
        }
        flat[e] = keep;
        numeric[e] = (loss[0] - loss[1]) / (2 * kStep);
      }
      const double d = test::max_rel_diff(analytic.grads[k].view({-1}), numeric);
      largest.note(d);
      EXPECT_LE(d, 1e-6) << "grad of " << kArgNames[k] << " vs central differences: " << d << " "
                         << variant_name(reset_after) << "\nanalytic "
                         << analytic.grads[k].view({-1}) << "\nnumeric " << numeric;
    }
  }
}

// ---- 4. a two-unit cell by hand -----------------------------------------------------------------

using GruFusedByHand = GruFusedTest;

/// The GRU equations in plain doubles from std::exp, one unit at a time. Wx: [I][3H], Wh: [H][3H].
/// Returns h after each step.
std::vector<std::vector<double>> hand_gru(const std::vector<std::vector<double>>& Wx,
                                          const std::vector<std::vector<double>>& Wh,
                                          const std::vector<double>& b,
                                          const std::vector<double>& b_hn,
                                          const std::vector<std::vector<double>>& xs,
                                          std::vector<double> h, bool reset_after) {
  const size_t I = Wx.size();
  const size_t H = Wh.size();
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const auto tanh_of = [](double v) { return 2.0 / (1.0 + std::exp(-2.0 * v)) - 1.0; };
  std::vector<std::vector<double>> hs;
  for (const auto& x : xs) {
    std::vector<double> r(H), z(H), n(H), next(H);
    for (size_t u = 0; u < H; ++u) {
      double pr = b[u], pz = b[H + u];
      for (size_t k = 0; k < I; ++k) {
        pr += x[k] * Wx[k][u];
        pz += x[k] * Wx[k][H + u];
      }
      for (size_t k = 0; k < H; ++k) {
        pr += h[k] * Wh[k][u];
        pz += h[k] * Wh[k][H + u];
      }
      r[u] = sigmoid(pr);
      z[u] = sigmoid(pz);
    }
    for (size_t u = 0; u < H; ++u) {
      double pn = b[2 * H + u];
      for (size_t k = 0; k < I; ++k) pn += x[k] * Wx[k][2 * H + u];
      double recurrent = 0.0;
      if (reset_after) {  // r * (h W_hn + b_hn)
        for (size_t k = 0; k < H; ++k) recurrent += h[k] * Wh[k][2 * H + u];
        recurrent = r[u] * (recurrent + b_hn[u]);
      } else {  // (r * h) W_hn: unit k's own r scales h_k
        for (size_t k = 0; k < H; ++k) recurrent += r[k] * h[k] * Wh[k][2 * H + u];
      }
      n[u] = tanh_of(pn + recurrent);
      next[u] = (1.0 - z[u]) * n[u] + z[u] * h[u];
    }
    h = next;
    hs.push_back(h);
  }
  return hs;
}

// I = 1, H = 2, T = 2, B = 1: two units so that (r * h) W_hn and r * (h W_hn) differ. The
// numbers are written out; the expected h's come from hand_gru above and, independently, from
// the same equations in Python's math module (printed to 17 digits).
TEST_F(GruFusedByHand, TwoUnitCellBothVariants) {
  const std::vector<std::vector<double>> Wx = {{0.3, -0.4, 0.2, 0.5, 0.6, -0.7}};  // r r z z n n
  const std::vector<std::vector<double>> Wh = {{0.1, 0.2, -0.3, 0.4, 0.5, -0.6},
                                               {-0.2, 0.3, 0.1, -0.5, 0.7, 0.8}};
  const std::vector<double> b = {0.05, -0.1, 0.2, 0.0, -0.15, 0.1};
  const std::vector<double> b_hn = {0.3, -0.2};
  const std::vector<std::vector<double>> xs = {{0.5}, {-1.0}};
  const std::vector<double> h0 = {0.1, -0.2};
  // Python: h_1, h_2 for reset before, then reset after.
  const double python[2][2][2] = {
      {{0.10846062651448296, -0.2551502862768398}, {-0.2962414757244255, 0.22801016655370673}},
      {{0.1708468502354153, -0.28107941429645444}, {-0.2199884810835975, 0.14582264566102024}}};

  const Tensor x = test::matrix_of(xs).view({2, 1, 1});
  const Tensor h0_t = test::tensor_of(h0).view({1, 2});
  const Tensor W_x = test::matrix_of(Wx);
  const Tensor W_h = test::matrix_of(Wh);
  const Tensor b_t = test::tensor_of(b);
  for (const bool reset_after : kVariants) {
    const auto hand = hand_gru(Wx, Wh, b, b_hn, xs, h0, reset_after);
    const Tensor b_hn_t = reset_after ? test::tensor_of(b_hn) : Tensor();
    for (const Layer& layer : {kFused, kFusedOps}) {
      const auto [out, h_T] = layer(x, h0_t, W_x, W_h, b_t, b_hn_t, reset_after);
      for (int64_t t = 0; t < 2; ++t) {
        for (int64_t u = 0; u < 2; ++u) {
          const double got = out[t][0][u].item<double>();
          EXPECT_NEAR(got, hand[t][u], 1e-15) << variant_name(reset_after) << " t=" << t;
          EXPECT_NEAR(got, python[reset_after ? 1 : 0][t][u], 1e-15)
              << variant_name(reset_after) << " t=" << t;
        }
      }
      EXPECT_TRUE(torch::equal(h_T, out[1]));
    }
  }
  // The two variants are different cells here.
  EXPECT_GT(std::abs(python[0][1][0] - python[1][1][0]), 1e-2);
}

// ---- 5. the ATen-op path against the raw loop ---------------------------------------------------

using GruFusedPaths = GruFusedTest;

TEST_F(GruFusedPaths, TensorOpsPathEqualsRawLoop) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const bool reset_after : kVariants) {
      for (const bool use_state : {true, false}) {
        const Args args = random_args(s, reset_after);
        const LossWeights w = random_loss_weights(s, true, use_state);
        expect_runs_close(run_once(kFusedOps, args, reset_after, w, torch::kDouble),
                          run_once(kFused, args, reset_after, w, torch::kDouble), reset_after,
                          largest, describe(s, reset_after) + (use_state ? "" : " (out only)"));
      }
    }
  }
}

TEST_F(GruFusedPaths, TensorOpsPathAndRawLoopInFloat32) {
  LargestDifference largest(1e-5);
  for (const Shape& s : {Shape{5, 3, 4, 6}, Shape{3, 130, 5, 64}}) {
    for (const bool reset_after : kVariants) {
      const Args args = random_args(s, reset_after);
      const LossWeights w = random_loss_weights(s, true, true);
      const RunResult want = run_once(kReference, args, reset_after, w, torch::kDouble);
      expect_runs_close(run_once(kFusedOps, args, reset_after, w, torch::kFloat), want,
                        reset_after, largest, describe(s, reset_after) + " float32 ops path");
      expect_runs_close(run_once(kFused, args, reset_after, w, torch::kFloat), want, reset_after,
                        largest, describe(s, reset_after) + " float32 raw loop");
    }
  }
}

/// `layer` on the GPU: its arguments moved there, its outputs back (autograd carries the grads).
Layer on_cuda(const Layer& layer) {
  return [layer](const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                 const Tensor& b, const Tensor& b_hn, bool reset_after) {
    const Outputs y =
        layer(x.cuda(), h0.cuda(), W_x.cuda(), W_h.cuda(), b.cuda(),
              b_hn.defined() ? b_hn.cuda() : b_hn, reset_after);
    return Outputs{std::get<0>(y).cpu(), std::get<1>(y).cpu()};
  };
}

// On CUDA float/double the reset-after GRU runs its kernels (models/kernels/cuda/), d2l's
// reset-before one its ATen ops; each against the autograd GRU on the CPU in float64.
TEST_F(GruFusedPaths, CudaKernelsAndTensorOpsOnTheGpuMatchAutograd_CUDA) {
  if (!test::cuda_present()) GTEST_SKIP() << "no CUDA device";
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const bool reset_after : kVariants) {
      const Args args = random_args(s, reset_after);
      const LossWeights w = random_loss_weights(s, true, true);
      const RunResult want = run_once(kReference, args, reset_after, w, torch::kDouble);
      expect_runs_close(run_once(on_cuda(kFused), args, reset_after, w, torch::kDouble), want,
                        reset_after, largest, describe(s, reset_after) + " cuda");
      expect_runs_close(run_once(on_cuda(kFusedOps), args, reset_after, w, torch::kDouble), want,
                        reset_after, largest, describe(s, reset_after) + " cuda tensor ops");
    }
  }
}

// ---- 6. checks ----------------------------------------------------------------------------------

using GruFusedChecks = GruFusedTest;

/// Runs fn, expecting a c10::Error whose message contains every one of `needles`.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  EXPECT_THROW(
      {
        try {
          fn();
        } catch (const c10::Error& e) {
          const std::string message = e.what_without_backtrace();
          for (const std::string& needle : needles) {
            EXPECT_NE(message.find(needle), std::string::npos)
                << "message '" << message << "' lacks '" << needle << "'";
          }
          throw;
        }
      },
      c10::Error);
}

TEST_F(GruFusedChecks, BadArgumentsNameExpectedAndActual) {
  const Shape s{4, 3, 2, 5};
  const Args a = random_args(s, true, torch::kFloat);
  const auto call = [](const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                       const Tensor& b, const Tensor& b_hn, bool reset_after = true) {
    return [=] { gru_layer_fused(x, h0, W_x, W_h, b, b_hn, reset_after); };
  };
  expect_error(call(a.x[0], a.h0, a.W_x, a.W_h, a.b, a.b_hn), {"x of shape [T, B, I]", "[3, 2]"});
  expect_error(call(a.x.narrow(0, 0, 0), a.h0, a.W_x, a.W_h, a.b, a.b_hn),
               {"T, B, I > 0", "[0, 3, 2]"});
  expect_error(call(a.x, a.h0, a.W_x, a.W_h.narrow(1, 0, 14), a.b, a.b_hn),
               {"W_h of shape [H, 3H]", "[5, 14]"});
  expect_error(call(a.x, a.h0, torch::zeros({3, 15}), a.W_h, a.b, a.b_hn),
               {"W_x of shape [I, 3H] = [2, 15]", "[3, 15]"});
  expect_error(call(a.x, a.h0, a.W_x, a.W_h, torch::zeros({5}), a.b_hn),
               {"b of shape [3H] = [15]", "[5]"});
  expect_error(call(a.x, a.h0, a.W_x, a.W_h, a.b, torch::zeros({15})),
               {"b_hn of shape [H] = [5]", "[15]"});
  expect_error(call(a.x, torch::zeros({2, 5}), a.W_x, a.W_h, a.b, a.b_hn),
               {"h0 of shape [B, H] = [3, 5]", "[2, 5]"});
  expect_error(call(a.x, a.h0.unsqueeze(0), a.W_x, a.W_h, a.b, a.b_hn),
               {"h0 of shape [B, H] = [3, 5]", "[1, 3, 5]"});
  expect_error(call(a.x, a.h0, a.W_x.to(torch::kDouble), a.W_h, a.b, a.b_hn),
               {"W_x of dtype Float", "Double"});
  expect_error(call(a.x, a.h0, a.W_x, a.W_h, a.b, a.b_hn.to(torch::kDouble)),
               {"b_hn of dtype Float", "Double"});
  expect_error(call(a.x.to(torch::kLong), a.h0, a.W_x, a.W_h, a.b, a.b_hn), {"floating-point x"});
  expect_error(call(a.x, Tensor(), a.W_x, a.W_h, a.b, a.b_hn), {"defined tensors"});
  // The reset gate before the product leaves no place for b_hn.
  expect_error(call(a.x, a.h0, a.W_x, a.W_h, a.b, torch::full({5}, 0.5), false),
               {"reset_after=false", "b_hn undefined or all zeros", "max |b_hn| = 0.5"});
  const Tensor nan_bhn =
      torch::zeros({5}).index_put_({2}, std::numeric_limits<float>::quiet_NaN());
  expect_error(call(a.x, a.h0, a.W_x, a.W_h, a.b, nan_bhn, false), {"all zeros", "nan"});
}

TEST_F(GruFusedChecks, DoubleBackwardRefused) {
  for (const bool reset_after : kVariants) {
    const Args a = fresh_leaves(random_args({3, 2, 2, 3}, reset_after), torch::kDouble);
    const Outputs y = gru_layer_fused(a.x, a.h0, a.W_x, a.W_h, a.b, a.b_hn, reset_after);
    const Tensor loss = std::get<0>(y).pow(2).sum();
    expect_error([&] { torch::autograd::grad({loss}, {a.W_h}, {}, true, /*create_graph=*/true); },
                 {"double backward is not supported"});
  }
}

}  // namespace
}  // namespace lstmlab
