// Every check a recurrent layer runs before any arithmetic, for both layers: each fires with a
// message that names the layer, the problem, what was expected and what came.

#include "models/lstm/builtin_lstm.h"
#include "models/input_checks.h"
#include "models/lstm/lstm_scratch.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using lstmlab::RecurrentOptions;
using lstmlab::RecurrentState;
using namespace lstmlab::test;

class InputChecks : public SeededTest {
 protected:
  struct Kind {
    std::string name;
    LayerFactory make;
  };
  static std::vector<Kind> kinds() {
    return {{"LSTMScratch", [](const RecurrentOptions& o) { return lstmlab::LSTMScratch(o).ptr(); }},
            {"BuiltinLSTM", [](const RecurrentOptions& o) { return lstmlab::BuiltinLSTM(o).ptr(); }}};
  }
};

// I = 3, H = 4, L = 2 unless a case needs otherwise.
constexpr int64_t I = 3, H = 4, L = 2, T = 5, B = 2;

TEST_F(InputChecks, ValidInputsPass) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H).num_layers(L));
    EXPECT_NO_THROW(layer->forward(torch::randn({T, B, I})));
    EXPECT_NO_THROW(layer->forward(torch::randn({T, I})));
    EXPECT_NO_THROW(layer->forward(torch::randn({T, B, I}),
                                   RecurrentState{torch::zeros({L, B, H}), torch::zeros({L, B, H})}));
    EXPECT_NO_THROW(layer->forward(torch::randn({1, 1, I})));  // one step, one sequence
  }
}

TEST_F(InputChecks, Seed002TenDimensionalInputExplainsTheUnsqueeze) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(1, H));
    const auto message = thrown_message(
        [&] { layer->forward(torch::zeros({1, 1, 1, 1, 1, 1, 1, 950, 50, 1})); });
    expect_contains(message, {kind.name, "10 dimensions", "3 dimensions", "unsqueeze",
                              "[1, 1, 1, 1, 1, 1, 1, 950, 50, 1]", "7 extra"});
  }
}

TEST_F(InputChecks, OneDimensionalInput) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));
    const auto message = thrown_message([&] { layer->forward(torch::zeros({I})); });
    expect_contains(message, {kind.name, "3 dimensions", "2 dimensions", "got 1 dimension", "[3]"});
    EXPECT_EQ(message.find("unsqueeze"), std::string::npos) << "no extra-dimension hint for 1-D";
  }
}

TEST_F(InputChecks, WrongFeatureWidth) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    for (bool batch_first : {false, true}) {
      auto layer = kind.make(RecurrentOptions(I, H).batch_first(batch_first));
      const auto message = thrown_message([&] { layer->forward(torch::zeros({T, B, 7})); });
      expect_contains(message, {kind.name, "input_size 3", "[5, 2, 7]",
                                batch_first ? "(batch, seq_len, input_size)"
                                            : "(seq_len, batch, input_size)"});
      const auto unbatched = thrown_message([&] { layer->forward(torch::zeros({T, 2})); });
      expect_contains(unbatched, {"input_size 3", "[5, 2]"});
    }
  }
}

TEST_F(InputChecks, WrongInitialStateShapes) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H).num_layers(L));
    const auto x = torch::randn({T, B, I});
    const auto good = torch::zeros({L, B, H});

    auto message = thrown_message(
        [&] { layer->forward(x, RecurrentState{torch::zeros({1, B, H}), good}); });
    expect_contains(message, {kind.name, "h0", "[2, 2, 4]", "got [1, 2, 4]", "num_layers"});

    message = thrown_message(
        [&] { layer->forward(x, RecurrentState{good, torch::zeros({L, 3, H})}); });
    expect_contains(message, {kind.name, "c0", "[2, 2, 4]", "got [2, 3, 4]"});

    message = thrown_message(
        [&] { layer->forward(x, RecurrentState{good, torch::zeros({L, B, H + 1})}); });
    expect_contains(message, {"c0", "got [2, 2, 5]"});

    // Unbatched input takes an unbatched state [L, H].
    message = thrown_message(
        [&] { layer->forward(torch::randn({T, I}), RecurrentState{good, good}); });
    expect_contains(message, {"h0", "[2, 4]", "got [2, 2, 4]"});

    // batch_first changes the input's layout, not the state's: (L, B, H) always.
    auto bf = kind.make(RecurrentOptions(I, H).num_layers(L).batch_first(true));
    const auto xb = torch::randn({3, T, I});  // B = 3
    EXPECT_NO_THROW(bf->forward(xb, RecurrentState{torch::zeros({L, 3, H}), torch::zeros({L, 3, H})}));
    message = thrown_message(
        [&] { bf->forward(xb, RecurrentState{torch::zeros({3, L, H}), torch::zeros({3, L, H})}); });
    expect_contains(message, {"h0", "[2, 3, 4]", "got [3, 2, 4]"});

    // A missing c0.
    message = thrown_message([&] { layer->forward(x, RecurrentState{good, torch::Tensor()}); });
    expect_contains(message, {"c0"});
  }
}

TEST_F(InputChecks, DtypeMismatchBetweenInputAndWeights) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));  // float32 weights
    auto message = thrown_message(
        [&] { layer->forward(torch::randn({T, B, I}, torch::kDouble)); });
    expect_contains(message, {kind.name, "input", "dtype", "Double", "Float"});

    layer->to(torch::kDouble);
    message = thrown_message([&] { layer->forward(torch::randn({T, B, I})); });
    expect_contains(message, {"input", "dtype", "Float", "Double"});
  }
}

TEST_F(InputChecks, FloatInputWithDoubleState) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));
    const auto d = torch::zeros({1, B, H}, torch::kDouble);
    const auto f = torch::zeros({1, B, H});
    auto message = thrown_message(
        [&] { layer->forward(torch::randn({T, B, I}), RecurrentState{d, f}); });
    expect_contains(message, {kind.name, "h0", "dtype", "Double"});
    message = thrown_message(
        [&] { layer->forward(torch::randn({T, B, I}), RecurrentState{f, d}); });
    expect_contains(message, {kind.name, "c0", "dtype", "Double"});
  }
}

TEST_F(InputChecks, IntegerInputAndState) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));
    auto message = thrown_message([&] { layer->forward(torch::ones({T, B, I}, torch::kLong)); });
    expect_contains(message, {kind.name, "input", "floating-point", "Long"});
    message = thrown_message([&] {
      layer->forward(torch::ones({T, B, I}),
                     RecurrentState{torch::zeros({1, B, H}, torch::kInt), torch::zeros({1, B, H})});
    });
    expect_contains(message, {"h0", "floating-point", "Int"});
  }
}

TEST_F(InputChecks, EmptySequenceOrBatch) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));
    auto message = thrown_message([&] { layer->forward(torch::zeros({0, B, I})); });
    expect_contains(message, {kind.name, "at least one time step", "[0, 2, 3]"});
    message = thrown_message([&] { layer->forward(torch::zeros({0, I})); });
    expect_contains(message, {"at least one time step", "[0, 3]"});
    message = thrown_message([&] { layer->forward(torch::zeros({T, 0, I})); });
    expect_contains(message, {"one sequence", "[5, 0, 3]"});
    // batch_first: (B, T, I) with T = 0.
    auto bf = kind.make(RecurrentOptions(I, H).batch_first(true));
    message = thrown_message([&] { bf->forward(torch::zeros({B, 0, I})); });
    expect_contains(message, {"at least one time step", "[2, 0, 3]"});
  }
}

TEST_F(InputChecks, UndefinedInput) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    auto layer = kind.make(RecurrentOptions(I, H));
    expect_contains(thrown_message([&] { layer->forward(torch::Tensor()); }),
                    {kind.name, "undefined"});
  }
}

TEST_F(InputChecks, BadOptions) {
  for (const auto& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    expect_contains(thrown_message([&] { kind.make(RecurrentOptions(0, H)); }),
                    {kind.name, "input_size must be positive", "got 0"});
    expect_contains(thrown_message([&] { kind.make(RecurrentOptions(I, -2)); }),
                    {"hidden_size must be positive", "got -2"});
    expect_contains(thrown_message([&] { kind.make(RecurrentOptions(I, H).num_layers(0)); }),
                    {"num_layers must be positive"});
    expect_contains(thrown_message([&] { kind.make(RecurrentOptions(I, H).dropout(1.0)); }),
                    {"dropout must be in [0, 1)", "got 1"});
    expect_contains(thrown_message([&] { kind.make(RecurrentOptions(I, H).dropout(-0.1)); }),
                    {"dropout"});
  }
  expect_contains(thrown_message<std::invalid_argument>([] { lstmlab::parse_activation("gelu"); }),
                  {"gelu", "tanh", "relu"});
  expect_contains(thrown_message<std::invalid_argument>([] { lstmlab::parse_init("xavier"); }),
                  {"xavier", "torch", "d2l", "keras"});
  EXPECT_EQ(lstmlab::parse_init("keras"), lstmlab::InitScheme::Keras);
  EXPECT_EQ(lstmlab::parse_activation("relu"), lstmlab::Activation::Relu);
}

TEST_F(InputChecks, CheckInputReturnsTimeMajor) {
  // The shared helper on its own: [B, T, I] comes back [T, B, I], [T, I] as [T, 1, I].
  const auto weight = torch::zeros({I, 4 * H});
  const auto x = torch::randn({B, T, I});
  const auto in = lstmlab::check_input("L", x, RecurrentOptions(I, H).batch_first(true), weight);
  EXPECT_FALSE(in.unbatched);
  expect_sizes(in.x, {T, B, I}, "time-major");
  EXPECT_TRUE(torch::equal(in.x[2][1], x[1][2]));
  const auto u = lstmlab::check_input("L", x[0], RecurrentOptions(I, H).batch_first(true), weight);
  EXPECT_TRUE(u.unbatched);
  expect_sizes(u.x, {T, 1, I}, "unbatched");
  const auto state = lstmlab::check_state("L", std::nullopt, in, RecurrentOptions(I, H).num_layers(3),
                                          /*has_cell=*/false, weight);
  expect_sizes(state.h, {3, B, H}, "zero h0");
  EXPECT_FALSE(state.c.defined());
  EXPECT_EQ(state.h.abs().max().item<double>(), 0.0);
  // A cell without c refuses one.
  const auto message = thrown_message([&] {
    lstmlab::check_state("GRUish", RecurrentState{torch::zeros({1, B, H}), torch::zeros({1, B, H})},
                         in, RecurrentOptions(I, H), /*has_cell=*/false, weight);
  });
  expect_contains(message, {"GRUish", "no cell state"});
}

}  // namespace
