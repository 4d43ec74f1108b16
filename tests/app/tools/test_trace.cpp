// `lstm-lab trace`: seed 004's StatQuest unit step by step, against the LSTM equations written out
// in double here; weights files; refusals.

#include "app/tools/trace.h"
#include "app/io/weights_file.h"
#include "models/weight_layout.h"
#include "tests/test_helpers.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace {

using lstmlab::StackWeights;
using lstmlab::TraceOptions;
using lstmlab::WeightNaming;
using namespace lstmlab::test;

class Trace : public SeededTest {
 protected:
  std::string temp_path(const std::string& name) { return paths_.path(name); }

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

std::vector<std::vector<double>> as_steps(const std::vector<double>& seq, size_t I) {
  std::vector<std::vector<double>> xs;
  for (size_t t = 0; t + I <= seq.size(); t += I) xs.emplace_back(seq.begin() + t, seq.begin() + t + I);
  return xs;
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.4f", v);
  return buf;
}

std::string percent2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.2f%%", 100.0 * v);
  return buf;
}

TEST_F(Trace, DefaultTraceIsStatQuestByHand) {
  std::ostringstream out;
  const auto finals = lstmlab::run_trace(TraceOptions{}, out);
  const std::vector<std::vector<double>> seqs = {{0, 0.5, 0.25, 1}, {1, 0.5, 0.25, 1}};
  ASSERT_EQ(finals.size(), 2u);
  const std::string text = out.str();
  for (size_t n = 0; n < 2; ++n) {
    const auto hand = hand_lstm(statquest_hand(), as_steps(seqs[n], 1));
    expect_sizes(finals[n], {1}, "final h");
    EXPECT_NEAR(finals[n][0].item<double>(), hand.back().h[0], 1e-14) << "sequence " << n + 1;
    // The printed numbers are the hand numbers.
    expect_contains(text, {"output after 4 steps: " + fixed4(hand.back().h[0]),
                           percent2(hand[0].f[0]), percent2(hand[3].o[0]), fixed4(hand[2].c[0])});
  }
  expect_contains(text, {"forget gate", "input gate", "candidate", "long-term", "output gate",
                         "short-term", "sequence 1", "sequence 2", "step 4", "seed 004"});
}

TEST_F(Trace, WeightsFileIsUsedWhenGiven) {
  // Two units, one input: a different cell from seed 004's.
  StackWeights stack = {{torch::randn({1, 8}, torch::kDouble), torch::randn({2, 8}, torch::kDouble),
                         torch::randn({8}, torch::kDouble)}};
  const auto path = temp_path("two_units.json");
  lstmlab::save_weights_json(path, stack, WeightNaming::PyTorch);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {{0.3, -0.7, 1.1}};
  std::ostringstream out;
  const auto finals = lstmlab::run_trace(options, out);
  ASSERT_EQ(finals.size(), 1u);
  const auto hand = hand_lstm(to_hand(stack[0]), as_steps(options.sequences[0], 1));
  expect_sizes(finals[0], {2}, "final h");
  EXPECT_NEAR(finals[0][0].item<double>(), hand.back().h[0], 1e-14);
  EXPECT_NEAR(finals[0][1].item<double>(), hand.back().h[1], 1e-14);
  expect_contains(out.str(), {path, "2-unit", "step 3"});
  EXPECT_EQ(out.str().find("step 4"), std::string::npos);
  std::remove(path.c_str());
}

TEST_F(Trace, TwoInputWeightsReadSequencesAsRows) {
  // I = 2: the sequence's numbers are taken two at a time.
  StackWeights stack = {{torch::randn({2, 4}, torch::kDouble), torch::randn({1, 4}, torch::kDouble),
                         torch::randn({4}, torch::kDouble)}};
  const auto path = temp_path("two_inputs.json");
  lstmlab::save_weights_json(path, stack, WeightNaming::Keras);
  TraceOptions options;
  options.weights_path = path;
  options.sequences = {{0.1, 0.2, 0.3, 0.4}};
  std::ostringstream out;
  const auto finals = lstmlab::run_trace(options, out);
  const auto hand = hand_lstm(to_hand(stack[0]), as_steps(options.sequences[0], 2));
  ASSERT_EQ(hand.size(), 2u);
  EXPECT_NEAR(finals.at(0)[0].item<double>(), hand.back().h[0], 1e-14);

  options.sequences = {{0.1, 0.2, 0.3}};
  std::ostringstream ignored;
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, ignored); }),
                  {"sequence 1", "3 numbers", "input size 2"});
  std::remove(path.c_str());
}

TEST_F(Trace, LargeLayersAreRefused) {
  StackWeights stack = {{torch::randn({1, 20}, torch::kDouble), torch::randn({5, 20}, torch::kDouble),
                         torch::randn({20}, torch::kDouble)}};
  const auto path = temp_path("five_units.json");
  lstmlab::save_weights_json(path, stack, WeightNaming::PyTorch);
  TraceOptions options;
  options.weights_path = path;
  std::ostringstream out;
  expect_contains(thrown_message<std::invalid_argument>([&] { lstmlab::run_trace(options, out); }),
                  {path, "hidden size 5", "4 units"});
  options.max_hidden = 5;  // the limit is the option's
  EXPECT_EQ(lstmlab::run_trace(options, out).size(), 2u);
  std::remove(path.c_str());
}

TEST_F(Trace, MissingWeightsFileIsAnError) {
  TraceOptions options;
  options.weights_path = temp_path("absent.json");
  std::ostringstream out;
  expect_contains(thrown_message<std::runtime_error>([&] { lstmlab::run_trace(options, out); }),
                  {options.weights_path});
}

}  // namespace
