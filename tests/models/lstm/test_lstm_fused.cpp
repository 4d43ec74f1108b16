// The fast scratch LSTM layer against a plain autograd loop, finite differences, itself in float32,
// and its ATen-op path. Letters: T time steps, B batch, I input features, H hidden units, G = 4H.

#include "models/lstm/lstm_fused.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
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

std::string describe(const Shape& s, Activation act) {
  return "T=" + std::to_string(s.T) + " B=" + std::to_string(s.B) + " I=" + std::to_string(s.I) +
         " H=" + std::to_string(s.H) + " act=" + to_string(act);
}

using Outputs = std::tuple<Tensor, Tensor, Tensor>;
using Layer = std::function<Outputs(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                    const Tensor&, const Tensor&, Activation)>;

/// lstm_layer_fused's arithmetic as plain autograd ops, one step at a time.
Outputs reference_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                        const Tensor& W_h, const Tensor& b, Activation act) {
  const auto act_fn = [act](const Tensor& v) {
    return act == Activation::Tanh ? torch::tanh(v) : torch::relu(v);
  };
  Tensor h = h0;
  Tensor c = c0;
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < x.size(0); ++t) {
    const Tensor gates = torch::addmm(torch::addmm(b, x[t], W_x), h, W_h);  // [B, G]
    const auto parts = gates.chunk(4, 1);
    const Tensor i = torch::sigmoid(parts[0]);
    const Tensor f = torch::sigmoid(parts[1]);
    const Tensor g = act_fn(parts[2]);
    const Tensor o = torch::sigmoid(parts[3]);
    c = f * c + i * g;
    h = o * act_fn(c);
    hs.push_back(h);
  }
  return {torch::stack(hs), h, c};
}

const Layer kFused = lstm_layer_fused;
const Layer kFusedOps = lstm_layer_fused_reference_ops;
const Layer kReference = reference_layer;

/// Arguments of one layer, leaves that require grad.
struct Args {
  Tensor x, h0, c0, W_x, W_h, b;

  std::vector<Tensor> all() const { return {x, h0, c0, W_x, W_h, b}; }
};
const char* const kArgNames[] = {"x", "h0", "c0", "W_x", "W_h", "b"};

Args random_args(const Shape& s, torch::Dtype dtype) {
  const auto opts = torch::TensorOptions().dtype(dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.H));
  Args a;
  a.x = torch::randn({s.T, s.B, s.I}, opts);
  a.h0 = torch::randn({s.B, s.H}, opts) * 0.5;
  a.c0 = torch::randn({s.B, s.H}, opts) * 0.5;
  a.W_x = torch::randn({s.I, 4 * s.H}, opts) * scale;
  a.W_h = torch::randn({s.H, 4 * s.H}, opts) * scale;
  a.b = torch::randn({4 * s.H}, opts) * 0.1;
  return a;
}

Args fresh_leaves(const Args& a, torch::Dtype dtype) {
  const auto leaf = [dtype](const Tensor& t) {
    return t.detach().to(dtype).clone().set_requires_grad(true);
  };
  return {leaf(a.x), leaf(a.h0), leaf(a.c0), leaf(a.W_x), leaf(a.W_h), leaf(a.b)};
}

/// Random weights for the loss (out*R1).sum() + (h_T*R2).sum() + (c_T*R3).sum().
struct LossWeights {
  Tensor r_out, r_h, r_c;  // undefined: that output is left out of the loss
};

LossWeights random_loss_weights(const Shape& s, bool use_state) {
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  LossWeights w;
  w.r_out = torch::randn({s.T, s.B, s.H}, opts);
  if (use_state) {
    w.r_h = torch::randn({s.B, s.H}, opts);
    w.r_c = torch::randn({s.B, s.H}, opts);
  }
  return w;
}

Tensor loss_of(const Outputs& y, const LossWeights& w) {
  const Tensor& out = std::get<0>(y);
  Tensor loss = (out * w.r_out.to(out.scalar_type())).sum();
  if (w.r_h.defined()) loss = loss + (std::get<1>(y) * w.r_h.to(out.scalar_type())).sum();
  if (w.r_c.defined()) loss = loss + (std::get<2>(y) * w.r_c.to(out.scalar_type())).sum();
  return loss;
}

/// One forward and backward: the outputs, then the grads of x, h0, c0, W_x, W_h, b.
struct RunResult {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;
};

RunResult run_once(const Layer& layer, const Args& args, Activation act, const LossWeights& w,
                   torch::Dtype dtype) {
  const Args leaves = fresh_leaves(args, dtype);
  const Outputs y = layer(leaves.x, leaves.h0, leaves.c0, leaves.W_x, leaves.W_h, leaves.b, act);
  loss_of(y, w).backward();
  RunResult run;
  run.outputs = {std::get<0>(y).detach(), std::get<1>(y).detach(), std::get<2>(y).detach()};
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

/// Outputs and all six grads within the tolerance of `largest`, which notes every difference.
void expect_runs_close(const RunResult& got, const RunResult& want, LargestDifference& largest,
                       const std::string& what) {
  const double tol = largest.tolerance();
  const char* const output_names[] = {"out", "h_T", "c_T"};
  for (size_t k = 0; k < 3; ++k) {
    const double d = test::max_rel_diff(got.outputs[k], want.outputs[k]);
    largest.note(d);
    EXPECT_LE(d, tol) << what << ": " << output_names[k] << " differs by " << d << " (relative)";
  }
  for (size_t k = 0; k < 6; ++k) {
    ASSERT_TRUE(got.grads[k].defined()) << what << ": no grad for " << kArgNames[k];
    ASSERT_TRUE(want.grads[k].defined()) << what << ": reference has no grad for " << kArgNames[k];
    const double d = test::max_rel_diff(got.grads[k], want.grads[k]);
    largest.note(d);
    EXPECT_LE(d, tol) << what << ": grad of " << kArgNames[k] << " differs by " << d
                      << " (relative)";
  }
}

// The last is wider than one parallel task (64 rows at H=64): the raw loop splits its batch.
const std::vector<Shape> kShapes = {{1, 1, 1, 1}, {5, 3, 4, 6}, {7, 2, 3, 5}, {3, 130, 5, 64}};
const Activation kActs[] = {Activation::Tanh, Activation::Relu};

class LstmFusedTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(20240611); }
};

// ---- 1. against the autograd loop ---------------------------------------------------------------

using LstmFusedVsAutograd = LstmFusedTest;

TEST_F(LstmFusedVsAutograd, OutputsAndAllGradsMatchInFloat64) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const Activation act : kActs) {
      const Args args = random_args(s, torch::kDouble);
      const LossWeights w = random_loss_weights(s, /*use_state=*/true);
      const RunResult got = run_once(kFused, args, act, w, torch::kDouble);
      const RunResult want = run_once(kReference, args, act, w, torch::kDouble);
      expect_runs_close(got, want, largest, describe(s, act));
    }
  }
}

// h_T and c_T unused: their grads reach the backward undefined.
TEST_F(LstmFusedVsAutograd, OnlyOutInTheLoss) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const Activation act : kActs) {
      const Args args = random_args(s, torch::kDouble);
      const LossWeights w = random_loss_weights(s, /*use_state=*/false);
      expect_runs_close(run_once(kFused, args, act, w, torch::kDouble),
                        run_once(kReference, args, act, w, torch::kDouble), largest,
                        describe(s, act) + " (out only)");
    }
  }
}

TEST_F(LstmFusedVsAutograd, OnlyFinalStateInTheLoss) {
  const Shape s{6, 3, 2, 4};
  LargestDifference largest(1e-12);
  for (const Activation act : kActs) {
    const Args args = random_args(s, torch::kDouble);
    LossWeights w = random_loss_weights(s, /*use_state=*/true);
    w.r_out.zero_();  // out still in the graph, its grad all zero
    expect_runs_close(run_once(kFused, args, act, w, torch::kDouble),
                      run_once(kReference, args, act, w, torch::kDouble), largest,
                      describe(s, act) + " (state only)");
    // c_T alone: the grads of out and h_T arrive undefined.
    const Args leaves = fresh_leaves(args, torch::kDouble);
    const Outputs y =
        lstm_layer_fused(leaves.x, leaves.h0, leaves.c0, leaves.W_x, leaves.W_h, leaves.b, act);
    (std::get<2>(y) * w.r_c).sum().backward();
    const Args ref_leaves = fresh_leaves(args, torch::kDouble);
    const Outputs ref = reference_layer(ref_leaves.x, ref_leaves.h0, ref_leaves.c0, ref_leaves.W_x,
                                        ref_leaves.W_h, ref_leaves.b, act);
    (std::get<2>(ref) * w.r_c).sum().backward();
    const auto got = leaves.all();
    const auto want = ref_leaves.all();
    for (size_t k = 0; k < 6; ++k) {
      const double d = test::max_rel_diff(got[k].grad(), want[k].grad());
      largest.note(d);
      EXPECT_LE(d, 1e-12) << "c_T only, grad of " << kArgNames[k] << " " << to_string(act);
    }
  }
}

TEST_F(LstmFusedVsAutograd, NonContiguousArgumentsAndNoGradMode) {
  const Shape s{5, 3, 4, 6};
  const Args args = random_args(s, torch::kDouble);
  // The same numbers seen through transposes: x from a batch-first tensor, W_h from its transpose.
  const Tensor x_bf = args.x.transpose(0, 1).contiguous().transpose(0, 1);
  const Tensor W_h_t = args.W_h.t().contiguous().t();
  ASSERT_FALSE(x_bf.is_contiguous());
  ASSERT_FALSE(W_h_t.is_contiguous());
  const Outputs got =
      lstm_layer_fused(x_bf, args.h0, args.c0, args.W_x, W_h_t, args.b, Activation::Tanh);
  const Outputs want =
      reference_layer(args.x, args.h0, args.c0, args.W_x, args.W_h, args.b, Activation::Tanh);
  EXPECT_LE(test::max_rel_diff(std::get<0>(got), std::get<0>(want)), 1e-12);
  {
    torch::NoGradGuard no_grad;
    const Args leaves = fresh_leaves(args, torch::kDouble);
    const Outputs y = lstm_layer_fused(leaves.x, leaves.h0, leaves.c0, leaves.W_x, leaves.W_h,
                                       leaves.b, Activation::Tanh);
    EXPECT_FALSE(std::get<0>(y).requires_grad());
    EXPECT_LE(test::max_rel_diff(std::get<1>(y), std::get<1>(want)), 1e-12);
  }
}

TEST_F(LstmFusedVsAutograd, OutGradsOfAnyLayoutAndRetainedGraph) {
  const Shape s{6, 4, 3, 5};
  const Args args = random_args(s, torch::kDouble);
  const Tensor r_batch_first = torch::randn({s.B, s.T, s.H}, torch::kDouble);
  const Tensor r_state = torch::randn({s.B, s.H}, torch::kDouble);
  // out seen batch-first: its grad arrives transposed, [T, B, H] with strides [H, T*H, 1].
  // out summed: its grad arrives expanded, all strides 0.
  const auto batch_first_loss = [&](const Outputs& y) {
    return (std::get<0>(y).transpose(0, 1) * r_batch_first).sum() +
           (std::get<1>(y) * r_state).sum();
  };
  const auto sum_loss = [](const Outputs& y) { return std::get<0>(y).sum(); };
  LargestDifference largest(1e-12);
  const std::pair<const char*, Layer> paths[] = {{"raw loop", kFused}, {"tensor ops", kFusedOps}};
  const std::pair<const char*, std::function<Tensor(const Outputs&)>> losses[] = {
      {"batch-first", batch_first_loss}, {"sum", sum_loss}};
  for (const auto& [path, layer] : paths) {
    for (const auto& [loss_name, loss] : losses) {
      for (const Activation act : kActs) {
        const std::string what = std::string(path) + ", " + loss_name + ", " + to_string(act);
        const Args want = fresh_leaves(args, torch::kDouble);
        loss(reference_layer(want.x, want.h0, want.c0, want.W_x, want.W_h, want.b, act)).backward();
        const Args got = fresh_leaves(args, torch::kDouble);
        const Tensor l = loss(layer(got.x, got.h0, got.c0, got.W_x, got.W_h, got.b, act));
        // A second backward through the retained graph must find the saved tensors unchanged.
        l.backward({}, /*retain_graph=*/true);
        std::vector<Tensor> first;
        for (const Tensor& t : got.all()) first.push_back(t.grad().clone());
        for (const Tensor& t : got.all()) t.mutable_grad().zero_();
        l.backward();
        for (size_t k = 0; k < 6; ++k) {
          largest.note(test::max_rel_diff(first[k], want.all()[k].grad()));
          EXPECT_LE(test::max_rel_diff(first[k], want.all()[k].grad()), 1e-12)
              << what << ": grad of " << kArgNames[k];
          EXPECT_LE(test::max_rel_diff(got.all()[k].grad(), first[k]), 1e-14)
              << what << ": second backward, grad of " << kArgNames[k];
        }
      }
    }
  }
}

// ---- 2. two stacked layers ----------------------------------------------------------------------

using LstmFusedStack = LstmFusedTest;

TEST_F(LstmFusedStack, TwoLayersMatchAutograd) {
  const Shape s1{6, 3, 4, 5};
  const Shape s2{6, 3, 5, 7};  // layer 2 reads layer 1's out
  LargestDifference largest(1e-12);
  for (const Activation act : kActs) {
    const Args a1 = random_args(s1, torch::kDouble);
    const Args a2 = random_args(s2, torch::kDouble);
    const LossWeights w = random_loss_weights(s2, /*use_state=*/true);
    std::vector<std::vector<Tensor>> grads;
    std::vector<Tensor> final_outs;
    for (const Layer& layer : {kFused, kReference}) {
      const Args l1 = fresh_leaves(a1, torch::kDouble);
      const Args l2 = fresh_leaves(a2, torch::kDouble);
      const Outputs y1 = layer(l1.x, l1.h0, l1.c0, l1.W_x, l1.W_h, l1.b, act);
      const Outputs y2 = layer(std::get<0>(y1), l2.h0, l2.c0, l2.W_x, l2.W_h, l2.b, act);
      // The first layer's final state feeds the loss too, as a stacked model returns it.
      (loss_of(y2, w) + (std::get<1>(y1) * w.r_h.narrow(1, 0, s1.H)).sum() + std::get<2>(y1).sum())
          .backward();
      final_outs.push_back(std::get<0>(y2).detach());
      std::vector<Tensor> g;
      for (const Tensor& t : l1.all()) g.push_back(t.grad());
      for (const Tensor& t : {l2.h0, l2.c0, l2.W_x, l2.W_h, l2.b}) g.push_back(t.grad());
      grads.push_back(g);
    }
    largest.note(test::max_rel_diff(final_outs[0], final_outs[1]));
    EXPECT_LE(test::max_rel_diff(final_outs[0], final_outs[1]), 1e-12);
    for (size_t k = 0; k < grads[0].size(); ++k) {
      const double d = test::max_rel_diff(grads[0][k], grads[1][k]);
      largest.note(d);
      EXPECT_LE(d, 1e-12) << "grad " << k << " (layer 1: x h0 c0 W_x W_h b, layer 2: h0 c0 W_x "
                          << "W_h b) differs by " << d << " " << to_string(act);
    }
  }
}

// ---- 3. central finite differences --------------------------------------------------------------

using LstmFusedFiniteDiff = LstmFusedTest;

TEST_F(LstmFusedFiniteDiff, EveryElementOfXAndTheWeights) {
  const Shape s{3, 2, 2, 2};
  constexpr double kStep = 1e-6;
  LargestDifference largest(1e-6);
  for (const Activation act : kActs) {
    const Args args = random_args(s, torch::kDouble);
    const LossWeights w = random_loss_weights(s, /*use_state=*/true);
    const RunResult analytic = run_once(kFused, args, act, w, torch::kDouble);
    // Perturbs one element of x (k=0), W_x (3), W_h (4) or b (5) in place and reads the loss.
    Args probe = fresh_leaves(args, torch::kDouble);
    std::vector<Tensor> params = probe.all();
    for (const size_t k : {size_t{0}, size_t{3}, size_t{4}, size_t{5}}) {
      Tensor flat = params[k].detach().view({-1});  // shares storage with probe
      Tensor numeric = torch::zeros_like(flat);
      for (int64_t e = 0; e < flat.numel(); ++e) {
        const double keep = flat[e].item<double>();
        double loss[2];
        for (int side = 0; side < 2; ++side) {
          flat[e] = keep + (side == 0 ? kStep : -kStep);
          torch::NoGradGuard no_grad;
          loss[side] = loss_of(lstm_layer_fused(probe.x, probe.h0, probe.c0, probe.W_x, probe.W_h,
                                                probe.b, act),
                               w)
                           .item<double>();
        }
        flat[e] = keep;
        numeric[e] = (loss[0] - loss[1]) / (2 * kStep);
      }
      const double d = test::max_rel_diff(analytic.grads[k].view({-1}), numeric);
      largest.note(d);
      EXPECT_LE(d, 1e-6) << "grad of " << kArgNames[k] << " vs central differences: " << d << " "
                         << to_string(act) << "\nanalytic " << analytic.grads[k].view({-1})
                         << "\nnumeric " << numeric;
    }
  }
}

// ---- 4. float32 against float64 -----------------------------------------------------------------

using LstmFusedPrecision = LstmFusedTest;

TEST_F(LstmFusedPrecision, Float32AgreesWithFloat64) {
  LargestDifference largest(1e-5);
  for (const Shape& s : kShapes) {
    for (const Activation act : kActs) {
      const Args args = random_args(s, torch::kDouble);
      const LossWeights w = random_loss_weights(s, /*use_state=*/true);
      const RunResult single = run_once(kFused, args, act, w, torch::kFloat);
      ASSERT_EQ(single.outputs[0].scalar_type(), torch::kFloat);
      ASSERT_EQ(single.grads[3].scalar_type(), torch::kFloat);
      expect_runs_close(single, run_once(kFused, args, act, w, torch::kDouble), largest,
                        describe(s, act) + " float32 vs float64");
    }
  }
}

// ---- 5. the ATen-op path against the raw loop ---------------------------------------------------

using LstmFusedPaths = LstmFusedTest;

TEST_F(LstmFusedPaths, TensorOpsPathEqualsRawLoop) {
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const Activation act : kActs) {
      for (const bool use_state : {true, false}) {
        const Args args = random_args(s, torch::kDouble);
        const LossWeights w = random_loss_weights(s, use_state);
        expect_runs_close(run_once(kFusedOps, args, act, w, torch::kDouble),
                          run_once(kFused, args, act, w, torch::kDouble), largest,
                          describe(s, act) + (use_state ? "" : " (out only)"));
      }
    }
  }
}

TEST_F(LstmFusedPaths, TensorOpsPathMatchesAutogradInFloat32) {
  const Shape s{5, 3, 4, 6};
  LargestDifference largest(1e-5);
  for (const Activation act : kActs) {
    const Args args = random_args(s, torch::kDouble);
    const LossWeights w = random_loss_weights(s, /*use_state=*/true);
    expect_runs_close(run_once(kFusedOps, args, act, w, torch::kFloat),
                      run_once(kReference, args, act, w, torch::kFloat), largest,
                      describe(s, act) + " float32 ops path");
  }
}

/// `layer` on the GPU: its arguments moved there, its outputs back (autograd carries the grads).
Layer on_cuda(const Layer& layer) {
  return [layer](const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                 const Tensor& W_h, const Tensor& b, Activation act) {
    const Outputs y = layer(x.cuda(), h0.cuda(), c0.cuda(), W_x.cuda(), W_h.cuda(), b.cuda(), act);
    return Outputs{std::get<0>(y).cpu(), std::get<1>(y).cpu(), std::get<2>(y).cpu()};
  };
}

// On CUDA float/double the fused layer runs its kernels (models/kernels/cuda/), one launch a step
// each way; each against the autograd loop on the CPU in float64, as is the ATen-op path there.
TEST_F(LstmFusedPaths, CudaKernelsAndTensorOpsOnTheGpuMatchAutograd_CUDA) {
  if (!test::cuda_present()) GTEST_SKIP() << "no CUDA device";
  LargestDifference largest(1e-12);
  for (const Shape& s : kShapes) {
    for (const Activation act : kActs) {
      const Args args = random_args(s, torch::kDouble);
      const LossWeights w = random_loss_weights(s, /*use_state=*/true);
      const RunResult want = run_once(kReference, args, act, w, torch::kDouble);
      expect_runs_close(run_once(on_cuda(kFused), args, act, w, torch::kDouble), want, largest,
                        describe(s, act) + " cuda kernels");
      expect_runs_close(run_once(on_cuda(kFusedOps), args, act, w, torch::kDouble), want, largest,
                        describe(s, act) + " cuda tensor ops");
    }
  }
}

// ---- 6. checks ----------------------------------------------------------------------------------

using LstmFusedChecks = LstmFusedTest;

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

TEST_F(LstmFusedChecks, BadShapesNameExpectedAndActual) {
  const Shape s{4, 3, 2, 5};
  const Args a = random_args(s, torch::kFloat);
  const auto call = [](const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                       const Tensor& W_h, const Tensor& b) {
    return [=] { lstm_layer_fused(x, h0, c0, W_x, W_h, b, Activation::Tanh); };
  };
  expect_error(call(a.x[0], a.h0, a.c0, a.W_x, a.W_h, a.b), {"x of shape [T, B, I]", "[3, 2]"});
  expect_error(call(a.x.narrow(0, 0, 0), a.h0, a.c0, a.W_x, a.W_h, a.b), {"T, B, I > 0"});
  expect_error(call(a.x, a.h0, a.c0, a.W_x, a.W_h.narrow(1, 0, 19), a.b),
               {"W_h of shape [H, 4H]", "[5, 19]"});
  expect_error(call(a.x, a.h0, a.c0, torch::zeros({3, 20}), a.W_h, a.b),
               {"W_x of shape [I, 4H] = [2, 20]", "[3, 20]"});
  expect_error(call(a.x, a.h0, a.c0, a.W_x, a.W_h, torch::zeros({5})),
               {"b of shape [4H] = [20]", "[5]"});
  expect_error(call(a.x, torch::zeros({2, 5}), a.c0, a.W_x, a.W_h, a.b),
               {"h0 of shape [B, H] = [3, 5]", "[2, 5]"});
  expect_error(call(a.x, a.h0, torch::zeros({3, 5, 1}), a.W_x, a.W_h, a.b),
               {"c0 of shape [B, H] = [3, 5]", "[3, 5, 1]"});
  expect_error(call(a.x, a.h0, a.c0, a.W_x.to(torch::kDouble), a.W_h, a.b),
               {"W_x of dtype Float", "Double"});
  expect_error(call(a.x.to(torch::kLong), a.h0, a.c0, a.W_x, a.W_h, a.b), {"floating-point x"});
  expect_error(call(a.x, a.h0, Tensor(), a.W_x, a.W_h, a.b), {"defined tensor"});
}

TEST_F(LstmFusedChecks, DoubleBackwardRefused) {
  const Args a = fresh_leaves(random_args({3, 2, 2, 3}, torch::kDouble), torch::kDouble);
  const Outputs y = lstm_layer_fused(a.x, a.h0, a.c0, a.W_x, a.W_h, a.b, Activation::Tanh);
  const Tensor loss = std::get<0>(y).pow(2).sum();
  expect_error([&] { torch::autograd::grad({loss}, {a.W_h}, {}, true, /*create_graph=*/true); },
               {"double backward is not supported"});
}

}  // namespace
}  // namespace lstmlab
