// The weight map between the canonical (scratch), PyTorch and Keras layouts: exact round trips
// layer to layer and name to name, and errors that name the source and the problem. Letters: I input features, H hidden units, G = 4H.

#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "models/weight_layout.h"
#include "tests/test_helpers.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using lstmlab::NamedTensors;
using lstmlab::RecurrentOptions;
using lstmlab::StackWeights;
using lstmlab::WeightNaming;
using namespace lstmlab::test;

using WeightLayout = SeededFileTest;

std::map<std::string, torch::Tensor> as_map(const NamedTensors& named) {
  return {named.begin(), named.end()};
}

// ----- Layer to layer -----------------------------------------------------------------------------

TEST_F(WeightLayout, BuiltinToScratchToBuiltinIsExact) {
  const auto options = RecurrentOptions(3, 4).num_layers(3);
  lstmlab::BuiltinLSTM source(options);
  source->to(torch::kDouble);
  source->hold_recurrent_bias_at_zero();  // bias_hh = 0: the map is then a bijection
  lstmlab::LSTMScratch scratch(options);
  scratch->to(torch::kDouble);
  scratch->set_weights(source->get_weights());
  torch::manual_seed(99);
  lstmlab::BuiltinLSTM target(options);
  target->to(torch::kDouble);
  target->set_weights(scratch->get_weights());

  const auto want = source->lstm->named_parameters();
  const auto got = target->lstm->named_parameters();
  ASSERT_EQ(want.size(), got.size());
  ASSERT_EQ(want.size(), 12u);
  for (const auto& item : want) {
    ASSERT_NE(got.find(item.key()), nullptr) << item.key();
    EXPECT_TRUE(torch::equal(*got.find(item.key()), item.value())) << item.key();
  }
  // The scratch layer holds the transposes.
  EXPECT_TRUE(torch::equal(scratch->get_weights()[2].W_h, want["weight_hh_l2"].t()));
}

TEST_F(WeightLayout, BuiltinWithTwoBiasesKeepsTheirSum) {
  const auto options = RecurrentOptions(2, 3).num_layers(2);
  lstmlab::BuiltinLSTM source(options);  // torch init: both biases non-zero
  lstmlab::LSTMScratch scratch(options);
  scratch->set_weights(source->get_weights());
  lstmlab::BuiltinLSTM target(options);
  target->set_weights(scratch->get_weights());
  const auto s = source->lstm->named_parameters();
  const auto t = target->lstm->named_parameters();
  for (const std::string k : {"0", "1"}) {
    ASSERT_GT(s["bias_hh_l" + k].abs().max().item<double>(), 0.0);
    const auto sum = s["bias_ih_l" + k] + s["bias_hh_l" + k];
    EXPECT_TRUE(torch::equal(t["bias_ih_l" + k] + t["bias_hh_l" + k], sum)) << k;
    EXPECT_TRUE(torch::equal(t["bias_ih_l" + k], sum)) << k;
    EXPECT_EQ(t["bias_hh_l" + k].abs().max().item<double>(), 0.0) << k;
    EXPECT_TRUE(torch::equal(t["weight_ih_l" + k], s["weight_ih_l" + k])) << k;
    EXPECT_TRUE(torch::equal(t["weight_hh_l" + k], s["weight_hh_l" + k])) << k;
  }
}

// ----- Named layouts ------------------------------------------------------------------------------

TEST_F(WeightLayout, PyTorchNamesShapesAndRoundTrip) {
  const int64_t I = 3, H = 2;
  const auto stack = random_lstm_stack(I, H, 3);
  const auto named = lstmlab::to_named(stack, WeightNaming::PyTorch, lstmlab::CellKind::Lstm);
  const std::vector<std::string> names = {
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
      "weight_ih_l2", "weight_hh_l2", "bias_ih_l2", "bias_hh_l2"};
  ASSERT_EQ(named.size(), names.size());
  for (size_t n = 0; n < names.size(); ++n) EXPECT_EQ(named[n].first, names[n]);
  expect_sizes(named[0].second, {4 * H, I}, "weight_ih_l0");
  expect_sizes(named[1].second, {4 * H, H}, "weight_hh_l0");
  expect_sizes(named[4].second, {4 * H, H}, "weight_ih_l1");
  EXPECT_TRUE(torch::equal(named[0].second, stack[0].W_x.t()));
  EXPECT_TRUE(torch::equal(named[2].second, stack[0].b));
  EXPECT_TRUE(torch::equal(named[3].second, torch::zeros({4 * H}, torch::kDouble)));
  expect_same_stack(lstmlab::from_named(as_map(named), WeightNaming::PyTorch, lstmlab::CellKind::Lstm, "test"), stack);
}

TEST_F(WeightLayout, KerasToScratchToKerasIsExact) {
  const int64_t I = 2, H = 3;
  // A Keras model's weights as Keras holds them: kernel [I, 4H], recurrent_kernel [H, 4H], bias.
  std::map<std::string, torch::Tensor> keras;
  for (int64_t k = 0; k < 3; ++k) {
    const std::string p = k == 0 ? "lstm" : "lstm_" + std::to_string(k);
    keras[p + "/lstm_cell/kernel"] = torch::randn({k == 0 ? I : H, 4 * H}, torch::kDouble);
    keras[p + "/lstm_cell/recurrent_kernel"] = torch::randn({H, 4 * H}, torch::kDouble);
    keras[p + "/lstm_cell/bias"] = torch::randn({4 * H}, torch::kDouble);
  }
  const auto stack = lstmlab::from_named(keras, WeightNaming::Keras, lstmlab::CellKind::Lstm, "keras model");
  ASSERT_EQ(stack.size(), 3u);
  EXPECT_TRUE(torch::equal(stack[1].W_x, keras["lstm_1/lstm_cell/kernel"]));  // same layout
  EXPECT_TRUE(torch::equal(stack[2].b, keras["lstm_2/lstm_cell/bias"]));

  // Through a scratch layer and back.
  lstmlab::LSTMScratch layer(RecurrentOptions(I, H).num_layers(3));
  layer->to(torch::kDouble);
  layer->set_weights(stack);
  const auto back = lstmlab::to_named(layer->get_weights(), WeightNaming::Keras, lstmlab::CellKind::Lstm);
  ASSERT_EQ(back.size(), keras.size());
  EXPECT_EQ(back[0].first, "lstm/lstm_cell/kernel");
  EXPECT_EQ(back[1].first, "lstm/lstm_cell/recurrent_kernel");
  EXPECT_EQ(back[2].first, "lstm/lstm_cell/bias");
  EXPECT_EQ(back[3].first, "lstm_1/lstm_cell/kernel");
  EXPECT_EQ(back[8].first, "lstm_2/lstm_cell/bias");
  for (const auto& [name, tensor] : back) {
    ASSERT_EQ(keras.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(tensor, keras[name])) << name;
  }
  EXPECT_EQ(lstmlab::keras_layer_prefix(0), "lstm");
  EXPECT_EQ(lstmlab::keras_layer_prefix(4), "lstm_4");
}

TEST_F(WeightLayout, FromNamedErrorsNameTheSourceAndTheProblem) {
  const auto named = as_map(lstmlab::to_named(random_lstm_stack(3, 2, 2), WeightNaming::PyTorch, lstmlab::CellKind::Lstm));

  auto missing = named;
  missing.erase("bias_hh_l1");
  expect_contains(thrown_message([&] {
                    lstmlab::from_named(missing, WeightNaming::PyTorch, lstmlab::CellKind::Lstm, "my source");
                  }),
                  {"my source", "no tensor named 'bias_hh_l1'", "2-layer"});

  auto extra = named;
  extra["weight_ih_l7"] = torch::zeros({8, 2});
  expect_contains(thrown_message([&] {
                    lstmlab::from_named(extra, WeightNaming::PyTorch, lstmlab::CellKind::Lstm, "my source");
                  }),
                  {"my source", "unexpected tensor 'weight_ih_l7'"});

  auto wrong = named;
  wrong["weight_hh_l0"] = torch::zeros({8, 3});
  expect_contains(thrown_message([&] {
                    lstmlab::from_named(wrong, WeightNaming::PyTorch, lstmlab::CellKind::Lstm, "my source");
                  }),
                  {"my source", "size"});

  expect_contains(thrown_message([&] {
                    lstmlab::from_named(named, WeightNaming::Keras, lstmlab::CellKind::Lstm, "my source");
                  }),
                  {"my source", "lstm/lstm_cell/recurrent_kernel"});

  expect_contains(thrown_message([&] { lstmlab::check_stack({}, lstmlab::CellKind::Lstm, "somewhere"); }),
                  {"somewhere", "no layers"});
  expect_contains(thrown_message<std::invalid_argument>([] { lstmlab::parse_naming("tf"); }),
                  {"tf", "pytorch", "keras"});
}

}  // namespace
