// `lstm-lab trace --cell gru`: a one-unit GRU with named weights against its equations and its
// loss gradient written out here in double (std::exp), in both reset variants; a two-unit cell
// against the numbers Python printed for it; the table of a wide cell; the Keras layout; the
// seeded init; refusals.

#include "app/io/weights_file.h"
#include "app/tools/trace.h"
#include "tests/test_helpers.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace {

using lstmlab::CellKind;
using lstmlab::StackWeights;
using lstmlab::TraceOptions;
using lstmlab::WeightNaming;
using namespace lstmlab::test;

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double tanh_of(double v) { return 2.0 / (1.0 + std::exp(-2.0 * v)) - 1.0; }

/// `v` as printf prints it: the trace's columns are "%7.4f" for gates, "%+7.4f" for the rest.
std::string printed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
std::string share4(double v) { return printed("%7.4f", v); }
std::string fixed4(double v) { return printed("%+7.4f", v); }

// The line labels, padded as the trace pads them: to the longest label and two spaces.
const char* const kReset = "reset gate (share of the old h the candidate sees)";
const char* const kUpdate = "update gate (share of the old h kept)";
const char* const kCandidate = "candidate (potential new h)";
const char* const kNewH = "new hidden state h";
std::string line(const std::string& label, const std::string& value) {
  return "  " + label + std::string(std::string(kReset).size() + 2 - label.size(), ' ') + value;
}

/// One unit's named weights: x weights, h weights and biases of r, z and n, and n's recurrent
/// bias b_hn (PyTorch's bias_hh of n; held at zero in d2l's variant, which has none).
struct OneUnit {
  double wxr = 0.7, wxz = -0.4, wxn = 1.1;
  double whr = 0.5, whz = 0.9, whn = -0.8;
  double br = 0.1, bz = -0.3, bn = 0.2;
  double bhn = 0.4;
};

StackWeights stack_of(const OneUnit& w) {
  auto d = torch::kDouble;
  return {{torch::tensor({{w.wxr, w.wxz, w.wxn}}, d), torch::tensor({{w.whr, w.whz, w.whn}}, d),
           torch::tensor({w.br, w.bz, w.bn}, d), torch::tensor({w.bhn}, d)}};
}

struct OneStep {
  double r, z, n, h;
};

/// PyTorch's GRU step for one unit; reset before (d2l) puts r on h before the product, with no
/// b_hn: for one unit that is r * (h * whn).
OneStep one_step(const OneUnit& w, double x, double h, bool reset_after) {
  OneStep s{};
  s.r = sigmoid_of(x * w.wxr + h * w.whr + w.br);
  s.z = sigmoid_of(x * w.wxz + h * w.whz + w.bz);
  const double recurrent = reset_after ? s.r * (h * w.whn + w.bhn) : (s.r * h) * w.whn;
  s.n = tanh_of(x * w.wxn + w.bn + recurrent);
  s.h = (1 - s.z) * s.n + s.z * h;
  return s;
}

/// d (h_1 - y)^2 / d weights for one step from h, by the chain rule written out.
struct OneGrad {
  double wxr, wxz, wxn, whr, whz, whn, br, bz, bn, bhn;
};

OneGrad one_step_grad(const OneUnit& w, double x, double h, double y, bool reset_after) {
  const auto s = one_step(w, x, h, reset_after);
  const double g = 2 * (s.h - y);                          // d loss / d h_1
  const double dan = g * (1 - s.z) * (1 - s.n * s.n);      // through n = tanh(a_n)
  const double daz = g * (h - s.n) * s.z * (1 - s.z);      // through z = sigmoid(a_z)
  const double m = h * w.whn + (reset_after ? w.bhn : 0);  // what r multiplies
  const double dar = dan * m * s.r * (1 - s.r);            // through r = sigmoid(a_r)
  return {dar * x, daz * x, dan * x, dar * h,          daz * h,
          dan * s.r * h, dar, daz, dan, reset_after ? dan * s.r : 0};
}

class TraceGru : public SeededTest {
 protected:
  std::string save(const std::string& name, const StackWeights& stack,
                   WeightNaming naming = WeightNaming::PyTorch) {
    const auto path = paths_.path(name);
    lstmlab::save_weights_json(path, stack, naming, CellKind::Gru);
    return path;
  }

 private:
  TempPaths paths_;
};

TEST_F(TraceGru, OneUnitStepsAreTheEquationsByHand) {
  for (const bool reset_after : {true, false}) {
    SCOPED_TRACE(reset_after ? "reset after" : "reset before");
    OneUnit w;
    if (!reset_after) w.bhn = 0;  // d2l's variant has no b_hn
    TraceOptions options;
    options.weights_path = save("one_unit.json", stack_of(w));
    options.reset_after = reset_after;
    options.sequences = {"1,-0.5"};
    options.h0 = {0.3};
    std::ostringstream out;
    const auto results = lstmlab::run_trace(options, out);
    const auto text = out.str();

    const auto s1 = one_step(w, 1.0, 0.3, reset_after);
    const auto s2 = one_step(w, -0.5, s1.h, reset_after);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_NEAR(results[0].h[0].item<double>(), s2.h, 1e-15);
    EXPECT_FALSE(results[0].c.defined()) << "a GRU has no long-term memory";
    const auto step2 = text.substr(text.find("step 2"));
    for (const auto& [s, block] : {std::pair{s1, text.substr(0, text.find("step 2"))},
                                   std::pair{s2, step2}}) {
      for (const auto& want : {line(kReset, share4(s.r)), line(kUpdate, share4(s.z)),
                               line(kCandidate, fixed4(s.n)), line(kNewH, fixed4(s.h))}) {
        EXPECT_NE(block.find(want + "\n"), std::string::npos) << "lacks\n" << want << "\n" << text;
      }
    }
    expect_contains(text, {"1-input, 1-unit GRU cell", reset_after ? "after" : "before",
                           "initial hidden state h0 [+0.3000]", "output after 2 steps"});
    EXPECT_EQ(text.find("long-term"), std::string::npos) << text;
  }
}

TEST_F(TraceGru, OneUnitLossGradientAndAdamStepByHand) {
  for (const bool reset_after : {true, false}) {
    SCOPED_TRACE(reset_after ? "reset after" : "reset before");
    OneUnit w;
    if (!reset_after) w.bhn = 0;
    TraceOptions options;
    options.weights_path = save("grad.json", stack_of(w));
    options.reset_after = reset_after;
    options.sequences = {"0.8"};
    options.h0 = {-0.6};
    options.target = 0.25;
    std::ostringstream out;
    const auto results = lstmlab::run_trace(options, out);
    ASSERT_EQ(results.size(), 1u);
    const auto& r = results[0];
    const auto s = one_step(w, 0.8, -0.6, reset_after);
    ASSERT_TRUE(r.loss.has_value());
    EXPECT_NEAR(*r.loss, (s.h - 0.25) * (s.h - 0.25), 1e-15);

    const auto g = one_step_grad(w, 0.8, -0.6, 0.25, reset_after);
    const double tol = 1e-14;
    EXPECT_NEAR(r.grad.W_x[0][0].item<double>(), g.wxr, tol);
    EXPECT_NEAR(r.grad.W_x[0][1].item<double>(), g.wxz, tol);
    EXPECT_NEAR(r.grad.W_x[0][2].item<double>(), g.wxn, tol);
    EXPECT_NEAR(r.grad.W_h[0][0].item<double>(), g.whr, tol);
    EXPECT_NEAR(r.grad.W_h[0][1].item<double>(), g.whz, tol);
    EXPECT_NEAR(r.grad.W_h[0][2].item<double>(), g.whn, tol);
    EXPECT_NEAR(r.grad.b[0].item<double>(), g.br, tol);
    EXPECT_NEAR(r.grad.b[1].item<double>(), g.bz, tol);
    EXPECT_NEAR(r.grad.b[2].item<double>(), g.bn, tol);
    const auto text = out.str();
    if (reset_after) {
      ASSERT_TRUE(r.grad.b_hn.defined());
      EXPECT_NEAR(r.grad.b_hn[0].item<double>(), g.bhn, tol);
      // b_hn's row: value, gradient, and the first Adam step w - lr * g / (|g| + 1e-8).
      // Names are padded to the longest, "W_x[0,r]".
      const std::string row = "  b_hn[n]   " + printed("%+10.6f", w.bhn) + "  " +
                              printed("%+12.4e", g.bhn) + "  " +
                              printed("%+10.6f", w.bhn - 0.001 * g.bhn / (std::abs(g.bhn) + 1e-8));
      EXPECT_NE(text.find(row), std::string::npos) << "lacks\n" << row << "\n" << text;
    } else {
      EXPECT_FALSE(r.grad.b_hn.defined()) << "d2l's variant has no b_hn to learn";
      EXPECT_EQ(text.find("b_hn"), std::string::npos) << text;
    }
    const double after_wxn = w.wxn - 0.001 * g.wxn / (std::abs(g.wxn) + 1e-8);
    EXPECT_NEAR(r.after.W_x[0][2].item<double>(), after_wxn, 1e-15);
    expect_contains(text, {"loss (h - target)^2 with target 0.25", "W_x[0,r]", "W_h[0,z]", "b[n]",
                           "lr 0.001"});
  }
}

// Two units, where the variants differ beyond b_hn: the numbers of the fused GRU's hand test,
// whose h's Python's math module printed to 17 digits.
TEST_F(TraceGru, TwoUnitCellMatchesPythonInBothVariants) {
  auto d = torch::kDouble;
  const auto W_x = torch::tensor({{0.3, -0.4, 0.2, 0.5, 0.6, -0.7}}, d);
  const auto W_h = torch::tensor({{0.1, 0.2, -0.3, 0.4, 0.5, -0.6}, {-0.2, 0.3, 0.1, -0.5, 0.7, 0.8}}, d);
  const auto b = torch::tensor({0.05, -0.1, 0.2, 0.0, -0.15, 0.1}, d);
  const double python[2][2][2] = {  // [before, after][step][unit]
      {{0.10846062651448296, -0.2551502862768398}, {-0.2962414757244255, 0.22801016655370673}},
      {{0.1708468502354153, -0.28107941429645444}, {-0.2199884810835975, 0.14582264566102024}}};
  for (const bool reset_after : {false, true}) {
    SCOPED_TRACE(reset_after ? "reset after" : "reset before");
    const auto b_hn = reset_after ? torch::tensor({0.3, -0.2}, d) : torch::zeros({2}, d);
    TraceOptions options;
    options.weights_path = save("two_units.json", {{W_x, W_h, b, b_hn}});
    options.reset_after = reset_after;
    options.sequences = {"0.5", "0.5,-1"};
    options.h0 = {0.1, -0.2};
    std::ostringstream out;
    const auto results = lstmlab::run_trace(options, out);
    ASSERT_EQ(results.size(), 2u);
    for (int64_t u = 0; u < 2; ++u) {
      EXPECT_NEAR(results[0].h[u].item<double>(), python[reset_after][0][u], 1e-15);
      EXPECT_NEAR(results[1].h[u].item<double>(), python[reset_after][1][u], 1e-15);
    }
    const auto h_line = line(kNewH, fixed4(python[reset_after][1][0]) + " " +
                                        fixed4(python[reset_after][1][1]));
    EXPECT_NE(out.str().find(h_line), std::string::npos) << "lacks\n" << h_line << "\n" << out.str();
  }
}

TEST_F(TraceGru, WideCellsPrintATablePerStep) {
  const int64_t H = 5;
  const StackWeights stack = {{torch::randn({1, 3 * H}, torch::kDouble),
                               torch::randn({H, 3 * H}, torch::kDouble),
                               torch::randn({3 * H}, torch::kDouble),
                               torch::randn({H}, torch::kDouble)}};
  TraceOptions options;
  options.weights_path = save("five_units.json", stack);
  options.sequences = {"0.4,-0.9"};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  const auto text = out.str();
  expect_contains(text, {"5-unit GRU", "columns: reset", "   unit   reset  update candidate       h"});
  EXPECT_EQ(text.find(kReset), std::string::npos) << "a table, not lines";

  // Every unit of both steps, from the equations over plain numbers.
  std::vector<double> h(H, 0.0);
  const auto at = [](const torch::Tensor& t, int64_t i, int64_t j) {
    return t[i][j].item<double>();
  };
  for (int64_t step = 0; step < 2; ++step) {
    const double x = step == 0 ? 0.4 : -0.9;
    std::vector<double> next(H);
    for (int64_t u = 0; u < H; ++u) {
      double ar = stack[0].b[u].item<double>() + x * at(stack[0].W_x, 0, u);
      double az = stack[0].b[H + u].item<double>() + x * at(stack[0].W_x, 0, H + u);
      double hn = stack[0].b_hn[u].item<double>();
      for (int64_t k = 0; k < H; ++k) {
        ar += h[k] * at(stack[0].W_h, k, u);
        az += h[k] * at(stack[0].W_h, k, H + u);
        hn += h[k] * at(stack[0].W_h, k, 2 * H + u);
      }
      const double r = sigmoid_of(ar), z = sigmoid_of(az);
      const double n = tanh_of(stack[0].b[2 * H + u].item<double>() +
                               x * at(stack[0].W_x, 0, 2 * H + u) + r * hn);
      next[u] = (1 - z) * n + z * h[u];
      const std::string row = "  " + std::string(4, ' ') + std::to_string(u) + " " + share4(r) +
                              " " + share4(z) + "   " + fixed4(n) + " " + fixed4(next[u]);
      EXPECT_NE(text.find(row + "\n"), std::string::npos) << "lacks\n" << row << "\n" << text;
    }
    h = next;
  }
  for (int64_t u = 0; u < H; ++u) EXPECT_NEAR(results.at(0).h[u].item<double>(), h[u], 1e-14);
}

TEST_F(TraceGru, KerasLayoutTracesTheSameCell) {
  OneUnit w;
  TraceOptions options;
  options.sequences = {"1,-0.5"};
  options.target = 0.1;
  options.weights_path = save("pytorch.json", stack_of(w));
  std::ostringstream a, b;
  const auto from_pytorch = lstmlab::run_trace(options, a);
  options.weights_path = save("keras.json", stack_of(w), WeightNaming::Keras);
  const auto from_keras = lstmlab::run_trace(options, b);
  EXPECT_NEAR(from_keras.at(0).h[0].item<double>(), from_pytorch.at(0).h[0].item<double>(), 1e-15);
  EXPECT_NEAR(*from_keras.at(0).loss, *from_pytorch.at(0).loss, 1e-15);
  EXPECT_LT(max_abs_diff(from_keras.at(0).grad.b_hn, from_pytorch.at(0).grad.b_hn), 1e-15);
}

TEST_F(TraceGru, SeededInitWithoutAFile) {
  TraceOptions options;
  options.cell = CellKind::Gru;
  options.hidden = 2;
  options.seed = 7;
  options.sequences = {"1,2;0.5,-1"};  // two steps of two features: I = 2
  std::ostringstream a, again, other;
  const auto first = lstmlab::run_trace(options, a);
  expect_contains(a.str(), {"2-input, 2-unit GRU cell", "seeded init (seed 7"});
  const auto second = lstmlab::run_trace(options, again);
  EXPECT_EQ(a.str(), again.str()) << "the same seed draws the same cell";
  options.seed = 8;
  lstmlab::run_trace(options, other);
  EXPECT_NE(a.str(), other.str());
  expect_sizes(first.at(0).h, {2}, "final h");
  // One unit by default, on seed 004's sequences.
  TraceOptions plain;
  plain.cell = CellKind::Gru;
  std::ostringstream one;
  EXPECT_EQ(lstmlab::run_trace(plain, one).size(), 2u);
  expect_contains(one.str(), {"1-input, 1-unit GRU cell", "seeded init (seed 0"});
}

TEST_F(TraceGru, RefusalsAreOneLineBeforeAnyOutput) {
  OneUnit w;
  const auto gru = save("gru.json", stack_of(w));
  std::ostringstream out;
  const auto refused = [&](TraceOptions options, std::initializer_list<std::string> mentions) {
    const auto message =
        thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, out); });
    expect_contains(message, mentions);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  };
  TraceOptions o;
  o.weights_path = gru;
  o.c0 = {1};
  refused(o, {"--c0", "GRU", "--h0"});
  o.c0.clear();
  o.cell = CellKind::Lstm;
  refused(o, {"--cell lstm", gru, "gru"});
  o.cell.reset();
  o.reset_after = false;  // the file's b_hn is 0.4
  refused(o, {"--gru-reset before", gru, "b_hn"});
  o.reset_after = true;
  o.hidden = 3;
  refused(o, {"--hidden", gru});
  TraceOptions lstm;
  lstm.reset_after = false;
  refused(lstm, {"--gru-reset before", "--cell gru"});
  EXPECT_TRUE(out.str().empty()) << out.str();
}

}  // namespace
