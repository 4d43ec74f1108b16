// `lstm-lab trace`: seed 004's StatQuest unit step by step, against the seed's own printed numbers
// and against the LSTM equations written out in double here; --sequence texts; initial state; the
// table of a wide cell; the loss, its gradient against central finite differences, and the first
// Adam step against its formula; refusals.

#include "app/tools/trace.h"
#include "app/io/weights_file.h"
#include "models/weight_layout.h"
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

using lstmlab::StackWeights;
using lstmlab::TraceOptions;
using lstmlab::TraceSequence;
using lstmlab::WeightNaming;
using namespace lstmlab::test;

class Trace : public SeededTest {
 protected:
  std::string temp_path(const std::string& name) { return paths_.path(name); }

  /// A one-layer weights file of I inputs and H units drawn from the seeded generator.
  std::string random_weights(const std::string& name, int64_t I, int64_t H, StackWeights& stack) {
    stack = {{torch::randn({I, 4 * H}, torch::kDouble), torch::randn({H, 4 * H}, torch::kDouble),
              torch::randn({4 * H}, torch::kDouble)}};
    const auto path = temp_path(name);
    lstmlab::save_weights_json(path, stack, WeightNaming::PyTorch);
    return path;
  }

 private:
  TempPaths paths_;
};

// Seed 004's numbers by name: forget (wlr1 h, wlr2 x, blr1), input (wpr*), candidate (wp*),
// output (wo*), placed in the gate blocks i, f, g, o.
HandWeights statquest_hand() {
  const double wlr1 = 2.7, wlr2 = 1.63, blr1 = 1.62;
  const double wpr1 = 2.0, wpr2 = 1.65, bpr1 = 0.62;
  const double wp1 = 1.41, wp2 = 0.94, bp1 = -0.32;
  const double wo1 = 4.38, wo2 = -0.19, bo1 = 0.59;
  return {{{wpr2, wlr2, wp2, wo2}}, {{wpr1, wlr1, wp1, wo1}}, {bpr1, blr1, bp1, bo1}};
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.4f", v);
  return buf;
}

std::string share4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

/// The lines of `text` that contain `label`, joined (empty when none).
std::string lines_with(const std::string& text, const std::string& label) {
  std::istringstream in(text);
  std::string found;
  for (std::string line; std::getline(in, line);) {
    if (line.find(label) != std::string::npos) found += line + "\n";
  }
  return found;
}

/// Every line of `text` that contains `label` also contains `value`, and there is at least one.
void expect_line(const std::string& text, const std::string& label, const std::string& value) {
  const auto lines = lines_with(text, label);
  ASSERT_FALSE(lines.empty()) << "no line with \"" << label << "\":\n" << text;
  EXPECT_NE(lines.find(value), std::string::npos) << "\"" << label << "\" line lacks " << value
                                                  << ":\n" << lines;
}

/// mean over the units of (h_T - target)^2, by hand.
double hand_loss(const HandWeights& w, const TraceSequence& xs, const std::vector<double>& h0,
                 const std::vector<double>& c0, double target) {
  const auto h = hand_lstm(w, xs, false, h0, c0).back().h;
  double sum = 0;
  for (double v : h) sum += (v - target) * (v - target);
  return sum / static_cast<double>(h.size());
}

/// Central finite differences of hand_loss for every weight, in the canonical layout.
lstmlab::LayerWeights finite_difference_grads(const HandWeights& w, const TraceSequence& xs,
                                              const std::vector<double>& h0,
                                              const std::vector<double>& c0, double target) {
  const double eps = 1e-6;
  HandWeights p = w;  // perturbed in place, one weight at a time, and restored
  auto central = [&](double& weight) {
    const double saved = weight;
    weight = saved + eps;
    const double up = hand_loss(p, xs, h0, c0, target);
    weight = saved - eps;
    const double down = hand_loss(p, xs, h0, c0, target);
    weight = saved;
    return (up - down) / (2 * eps);
  };
  std::vector<std::vector<double>> gx(p.Wx.size()), gh(p.Wh.size());
  std::vector<double> gb;
  for (size_t k = 0; k < p.Wx.size(); ++k) {
    for (auto& v : p.Wx[k]) gx[k].push_back(central(v));
  }
  for (size_t k = 0; k < p.Wh.size(); ++k) {
    for (auto& v : p.Wh[k]) gh[k].push_back(central(v));
  }
  for (auto& v : p.b) gb.push_back(central(v));
  return {matrix_of(gx), matrix_of(gh), tensor_of(gb)};
}

void expect_grads_match(const lstmlab::LayerWeights& got, const lstmlab::LayerWeights& fd) {
  // Central differences at eps 1e-6 are good to about 1e-9 here.
  EXPECT_LT(max_abs_diff(got.W_x, fd.W_x), 1e-8) << got.W_x << "\n" << fd.W_x;
  EXPECT_LT(max_abs_diff(got.W_h, fd.W_h), 1e-8) << got.W_h << "\n" << fd.W_h;
  EXPECT_LT(max_abs_diff(got.b, fd.b), 1e-8) << got.b << "\n" << fd.b;
}

TEST_F(Trace, DefaultTraceIsStatQuestByHand) {
  std::ostringstream out;
  const auto results = lstmlab::run_trace(TraceOptions{}, out);
  const std::vector<TraceSequence> seqs = {{{0}, {0.5}, {0.25}, {1}}, {{1}, {0.5}, {0.25}, {1}}};
  ASSERT_EQ(results.size(), 2u);
  const std::string text = out.str();
  for (size_t n = 0; n < 2; ++n) {
    const auto hand = hand_lstm(statquest_hand(), seqs[n]);
    expect_sizes(results[n].h, {1}, "final h");
    EXPECT_NEAR(results[n].h[0].item<double>(), hand.back().h[0], 1e-14) << "sequence " << n + 1;
    EXPECT_NEAR(results[n].c[0].item<double>(), hand.back().c[0], 1e-14) << "sequence " << n + 1;
    EXPECT_FALSE(results[n].loss.has_value());
    // The printed numbers are the hand numbers.
    expect_contains(text, {"output after 4 steps: " + fixed4(hand.back().h[0]),
                           share4(hand[0].f[0]), share4(hand[3].o[0]), fixed4(hand[2].c[0])});
  }
  expect_contains(text, {"forget gate", "input gate", "candidate", "long-term", "output gate",
                         "short-term", "sequence 1: [0, 0.5, 0.25, 1]",
                         "sequence 2: [1, 0.5, 0.25, 1]", "step 4", "seed 004",
                         "zero initial state"});
  EXPECT_EQ(text.find("loss"), std::string::npos) << "no target, no loss";
}

TEST_F(Trace, SeedsOwnCallPrintsTheSeedsNumbers) {
  // Seed 004's forward(): long-term memory 2, short-term memory 1, input [1]. The expected numbers
  // are the seed's printout, to its 4 decimals.
  TraceOptions options;
  options.sequences = {"1"};
  options.h0 = {1};
  options.c0 = {2};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 1u);
  const auto text = out.str();
  expect_line(text, "forget gate", "0.9974");   // Long-term memory keep percentage
  expect_line(text, "input gate", "0.9862");    // Potential keep percentage
  expect_line(text, "candidate (potential", "+0.9661");    // Potential memory
  expect_line(text, "new long-term memory", "+2.9476");
  expect_line(text, "output gate", "0.9917");   // Output gate percentage
  expect_line(text, "new short-term memory", "+0.9862");
  expect_line(text, "output after 1 step:", "+0.9862");
  expect_contains(text, {"h0 [+1.0000]", "c0 [+2.0000]"});
  EXPECT_NEAR(results[0].h[0].item<double>(), 0.9862, 5e-5);
  EXPECT_NEAR(results[0].c[0].item<double>(), 2.9476, 5e-5);
}

TEST_F(Trace, SequenceTextIsOneSequence) {
  const auto four = lstmlab::parse_trace_sequence("0,0.5,0.25,1", 1);
  EXPECT_EQ(four, (TraceSequence{{0}, {0.5}, {0.25}, {1}}));
  EXPECT_EQ(lstmlab::parse_trace_sequence("0;0.5; 0.25 ;1", 1), four);
  EXPECT_EQ(lstmlab::parse_trace_sequence("-1e-1", 1), (TraceSequence{{-0.1}}));
  EXPECT_EQ(lstmlab::parse_trace_sequence("1,2;3,4;5,6", 2),
            (TraceSequence{{1, 2}, {3, 4}, {5, 6}}));
  EXPECT_EQ(lstmlab::parse_trace_sequence("1,2,3", 3), (TraceSequence{{1, 2, 3}}));

  // Through run_trace: one sequence of four steps, the seed's company A.
  TraceOptions options;
  options.sequences = {"0,0.5,0.25,1"};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 1u);
  const auto hand = hand_lstm(statquest_hand(), four);
  EXPECT_NEAR(results[0].h[0].item<double>(), hand.back().h[0], 1e-14);
  expect_contains(out.str(), {"step 4", "output after 4 steps"});
  EXPECT_EQ(out.str().find("sequence 2"), std::string::npos) << out.str();
}

TEST_F(Trace, BadSequencesAreOneLineNamingTheStep) {
  struct Bad {
    std::string text;
    int64_t I;
    std::vector<std::string> mentions;
  };
  const std::vector<Bad> cases = {
      {"1,x,3", 1, {"--sequence '1,x,3'", "step 2", "'x'", "not a number"}},
      {"1,2;3,nan", 2, {"step 2", "'nan'", "not a number"}},
      {"1,,2", 1, {"step 2 is empty", "1 number"}},
      {"1,2;", 2, {"step 2 is empty", "2 numbers"}},
      {"", 1, {"--sequence ''", "no steps"}},
      {"1,2;3", 2, {"step 2 has 1 feature", "step 1 has 2", "2 features per step"}},
      {"1,2,3;4,5,6", 2, {"step 1 has 3 features", "expected 2", "input size"}},
      {"1,2;3,4", 1, {"step 1 has 2 features", "expected 1"}},
      {"1,2,3,4", 2, {"step 1 has 4 features", "expected 2", "';'", "'1,2;3,4'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto message = thrown_message<std::invalid_argument>(
        [&] { lstmlab::parse_trace_sequence(c.text, c.I); });
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    expect_contains(message, {"--sequence"});
    for (const auto& m : c.mentions) expect_contains(message, {m});
  }
  expect_contains(thrown_message<std::invalid_argument>(
                      [] { lstmlab::parse_number_list("--h0", "1,abc"); }),
                  {"--h0 '1,abc'", "'abc'", "not a number"});
}

TEST_F(Trace, WeightsFileIsUsedWhenGiven) {
  StackWeights stack;
  const auto path = random_weights("two_units.json", 1, 2, stack);  // not seed 004's cell
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {"0.3,-0.7,1.1"};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 1u);
  const auto hand = hand_lstm(to_hand(stack[0]), {{0.3}, {-0.7}, {1.1}});
  expect_sizes(results[0].h, {2}, "final h");
  EXPECT_NEAR(results[0].h[0].item<double>(), hand.back().h[0], 1e-14);
  EXPECT_NEAR(results[0].h[1].item<double>(), hand.back().h[1], 1e-14);
  expect_contains(out.str(), {path, "2-unit", "step 3"});
  EXPECT_EQ(out.str().find("step 4"), std::string::npos);
}

TEST_F(Trace, TwoInputWeightsTakeStepsSplitBySemicolons) {
  StackWeights stack;
  const auto path = random_weights("two_inputs.json", 2, 1, stack);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {"0.1,0.2;0.3,0.4;0.5,0.6", "1,-1"};  // 3 steps, then 1
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 2u);
  const auto hand = hand_lstm(to_hand(stack[0]), {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}});
  EXPECT_NEAR(results[0].h[0].item<double>(), hand.back().h[0], 1e-14);
  const auto one = hand_lstm(to_hand(stack[0]), {{1, -1}});
  EXPECT_NEAR(results[1].h[0].item<double>(), one.back().h[0], 1e-14);
  expect_contains(out.str(), {"sequence 1: [0.1, 0.2; 0.3, 0.4; 0.5, 0.6]", "output after 3 steps",
                              "sequence 2: [1, -1]", "output after 1 step:"});

  // The feature count is checked against the file before anything is printed.
  options.sequences = {"0.1,0.2,0.3"};
  std::ostringstream none;
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, none); }),
                  {"--sequence '0.1,0.2,0.3'", "step 1 has 3 features", "expected 2"});
  EXPECT_TRUE(none.str().empty()) << none.str();
  options.sequences.clear();  // seed 004's sequences have one feature a step
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, none); }),
                  {"--sequence", path, "2 input features"});
}

TEST_F(Trace, InitialStateIsUsedAndChecked) {
  StackWeights stack;
  const auto path = random_weights("three_units.json", 1, 3, stack);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {"0.5,-0.25"};
  options.h0 = {0.1, -0.2, 0.3};
  options.c0 = {1.0, 0.0, -2.0};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  const auto hand = hand_lstm(to_hand(stack[0]), {{0.5}, {-0.25}}, false, options.h0, options.c0);
  EXPECT_LT(max_abs_diff(results.at(0).h, tensor_of(hand.back().h)), 1e-14);
  EXPECT_LT(max_abs_diff(results.at(0).c, tensor_of(hand.back().c)), 1e-14);

  options.h0 = {0.1};
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, out); }),
                  {"--h0", "1 value", "expected 3", "hidden size"});
  options.h0.clear();
  options.c0 = {1, 2, 3, 4};
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, out); }),
                  {"--c0", "4 values", "expected 3"});
}

TEST_F(Trace, WideCellsPrintATablePerStep) {
  StackWeights stack;
  const int64_t H = 6;
  const auto path = random_weights("six_units.json", 1, H, stack);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {"0.4,-0.9"};
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  const auto hand = hand_lstm(to_hand(stack[0]), {{0.4}, {-0.9}});
  expect_sizes(results.at(0).h, {H}, "final h");
  EXPECT_LT(max_abs_diff(results.at(0).h, tensor_of(hand.back().h)), 1e-14);
  const auto text = out.str();
  expect_contains(text, {"6-unit", "unit", "forget", "input", "candidate", "output"});
  // Step 2's row of the last unit holds that unit's hand numbers in the column order.
  const size_t u = H - 1;
  const auto& s = hand[1];
  const std::string row = "      5  " + share4(s.f[u]) + "  " + share4(s.i[u]) + "   " +
                          fixed4(s.g[u]) + " " + fixed4(s.c[u]) + "  " + share4(s.o[u]) + " " +
                          fixed4(s.h[u]);
  EXPECT_NE(text.find(row), std::string::npos) << "lacks\n" << row << "\n" << text;
  EXPECT_EQ(text.find("forget gate (share"), std::string::npos) << "a table, not lines";

  // Four units keep the line format.
  const auto four = random_weights("four_units.json", 1, 4, stack);
  options.weights_path = four;
  std::ostringstream lines;
  lstmlab::run_trace(options, lines);
  expect_contains(lines.str(), {"forget gate (share of long-term memory kept)"});
}

TEST_F(Trace, SeedsLossGradientsAndAdamStep) {
  // The seed's last lines: target 0.5, loss (output - target)^2, optim.Adam's default lr 0.001.
  TraceOptions options;
  options.sequences = {"1"};
  options.h0 = {1};
  options.c0 = {2};
  options.target = 0.5;
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  ASSERT_TRUE(r.loss.has_value());
  // From the seed's printed output 0.9862 (0.98623 unrounded): (0.98623 - 0.5)^2 = 0.23642.
  EXPECT_NEAR(*r.loss, 0.23642, 1e-5);
  const auto text = out.str();
  expect_line(text, "loss (h - target)^2", "0.2364");

  const auto fd = finite_difference_grads(statquest_hand(), {{1}}, {1}, {2}, 0.5);
  expect_grads_match(r.grad, fd);

  // The first Adam step: m_hat = g, v_hat = g^2, so w - lr * g / (|g| + 1e-8).
  const double lr = 0.001;
  const auto before = lstmlab::statquest_weights()[0];
  auto first_adam = [&](const torch::Tensor& w, const torch::Tensor& g) {
    return w - lr * g / (g.abs() + 1e-8);
  };
  EXPECT_LT(max_abs_diff(r.after.W_x, first_adam(before.W_x, r.grad.W_x)), 1e-12);
  EXPECT_LT(max_abs_diff(r.after.W_h, first_adam(before.W_h, r.grad.W_h)), 1e-12);
  EXPECT_LT(max_abs_diff(r.after.b, first_adam(before.b, r.grad.b)), 1e-12);

  // Every weight by the seed's name, in the seed's order, with its three numbers.
  const std::vector<std::string> names = {"wlr1", "wlr2", "blr1", "wpr1", "wpr2", "bpr1",
                                          "wp1",  "wp2",  "bp1",  "wo1",  "wo2",  "bo1"};
  size_t at = 0;
  for (const auto& name : names) {
    const auto found = text.find("  " + name + " ", at);
    ASSERT_NE(found, std::string::npos) << name << " missing or out of order:\n" << text;
    at = found;
  }
  // wlr1 is W_h's forget column: value 2.7, its gradient and the value after the step.
  const double g = r.grad.W_h[0][1].item<double>();
  char row[128];
  std::snprintf(row, sizeof row, "%+10.6f  %+12.4e  %+10.6f", 2.7, g,
                2.7 - lr * g / (std::abs(g) + 1e-8));
  expect_line(text, "wlr1", row);
  expect_contains(text, {"W_h[0,f]", "W_x[0,i]", "b[o]", "lr 0.001"});
}

TEST_F(Trace, GradientsOfAWiderCellMatchFiniteDifferences) {
  StackWeights stack;
  const auto path = random_weights("grad.json", 2, 3, stack);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {"0.3,-0.5;1.2,0.1;-0.7,0.4", "0.9,0.9"};
  options.h0 = {0.2, -0.1, 0.4};
  options.c0 = {-0.5, 0.3, 1.0};
  options.target = -0.25;
  options.lr = 0.01;
  std::ostringstream out;
  const auto results = lstmlab::run_trace(options, out);
  ASSERT_EQ(results.size(), 2u);
  const std::vector<TraceSequence> seqs = {{{0.3, -0.5}, {1.2, 0.1}, {-0.7, 0.4}}, {{0.9, 0.9}}};
  for (size_t n = 0; n < 2; ++n) {
    SCOPED_TRACE("sequence " + std::to_string(n + 1));
    const auto& r = results[n];
    const auto hw = to_hand(stack[0]);
    EXPECT_NEAR(*r.loss, hand_loss(hw, seqs[n], options.h0, options.c0, -0.25), 1e-14);
    expect_grads_match(r.grad, finite_difference_grads(hw, seqs[n], options.h0, options.c0, -0.25));
    // Each sequence's step starts from the file's weights; a first Adam step is lr * sign(g)
    // wherever |g| is far above Adam's epsilon.
    const auto moved = (stack[0].W_h - r.after.W_h).abs();
    const auto big = r.grad.W_h.abs() > 1e-4;
    EXPECT_LT((moved.masked_select(big) - 0.01).abs().max().item<double>(), 1e-6);
    EXPECT_LT(max_abs_diff(stack[0].W_x - r.after.W_x,
                           0.01 * r.grad.W_x / (r.grad.W_x.abs() + 1e-8)), 1e-12);
  }
  expect_contains(out.str(), {"mean over 3 units", "W_x[1,g2]", "W_h[2,o0]", "b[f1]", "lr 0.01"});
}

TEST_F(Trace, BadLearningRateIsRefused) {
  TraceOptions options;
  options.lr = 0;
  std::ostringstream out;
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, out); }),
                  {"--lr", "positive"});
}

TEST_F(Trace, MissingWeightsFileIsAnError) {
  TraceOptions options;
  options.weights_path = temp_path("absent.json");
  std::ostringstream out;
  expect_contains(thrown_message<std::runtime_error>([&] { lstmlab::run_trace(options, out); }),
                  {options.weights_path});
}

}  // namespace
