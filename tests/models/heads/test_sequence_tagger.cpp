// SequenceTagger: logits at every step ([B, T, I] -> [B, T, V]) and the layer's final state, for
// both layers; a given state changes the output (and zeros do not); the prediction is the head
// applied to the layer's output by hand; the layer's weights are drawn before the head's.

#include "models/heads/sequence_tagger.h"
#include "models/layer_factory.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

using lstmlab::LayerKind;
using lstmlab::RecurrentOptions;
using lstmlab::RecurrentState;
using lstmlab::SequenceTagger;
using namespace lstmlab::test;

class SequenceTaggerTest : public SeededTest {};

constexpr int64_t B = 3, T = 5, I = 4, H = 6, L = 2, V = 7;

RecurrentOptions tagger_options() { return RecurrentOptions(I, H).num_layers(L).batch_first(true); }

SequenceTagger make_tagger(LayerKind kind) {
  SequenceTagger tagger(lstmlab::make_recurrent_layer(lstmlab::CellKind::Lstm, kind, tagger_options()), V);
  tagger->to(torch::kDouble);
  return tagger;
}

RecurrentState random_state() {
  return {torch::randn({L, B, H}, torch::kDouble), torch::randn({L, B, H}, torch::kDouble)};
}

const std::vector<LayerKind> kKinds = {LayerKind::Scratch, LayerKind::Builtin};

TEST_F(SequenceTaggerTest, LogitsAtEveryStepAndTheFinalState) {
  for (auto kind : kKinds) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    auto tagger = make_tagger(kind);
    const auto x = torch::randn({B, T, I}, torch::kDouble);
    const auto out = tagger->run(x, std::nullopt);
    expect_sizes(out.prediction, {B, T, V}, "prediction");
    expect_sizes(out.state.h, {L, B, H}, "state.h");
    expect_sizes(out.state.c, {L, B, H}, "state.c");
    expect_sizes(tagger->forward(x), {B, T, V}, "forward");
    EXPECT_TRUE(torch::equal(tagger->forward(x), out.prediction)) << "forward is run from zeros";
  }
}

TEST_F(SequenceTaggerTest, AGivenStateChangesTheOutputAndZerosDoNot) {
  for (auto kind : kKinds) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    auto tagger = make_tagger(kind);
    const auto x = torch::randn({B, T, I}, torch::kDouble);
    const auto from_none = tagger->run(x, std::nullopt);
    const auto from_state = tagger->run(x, random_state());
    // The first step sees the state most: every one of its logits moves.
    const auto first_step = (from_state.prediction.select(1, 0) - from_none.prediction.select(1, 0)).abs();
    EXPECT_GT(first_step.min().item<double>(), 0) << "a logit of the first step ignored the state";
    EXPECT_FALSE(torch::equal(from_state.state.h, from_none.state.h));

    const RecurrentState zeros{torch::zeros({L, B, H}, torch::kDouble),
                               torch::zeros({L, B, H}, torch::kDouble)};
    const auto from_zeros = tagger->run(x, zeros);
    EXPECT_LE(max_abs_diff(from_zeros.prediction, from_none.prediction), 1e-14);
  }
}

// logits[b, t] = W h[b, t] + bias, step by step, from the layer's own output.
TEST_F(SequenceTaggerTest, PredictionIsTheHeadAppliedToTheLayerOutputByHand) {
  for (auto kind : kKinds) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    auto tagger = make_tagger(kind);
    const auto x = torch::randn({B, T, I}, torch::kDouble);
    const auto state = random_state();
    const auto out = tagger->run(x, state);
    const auto layer = tagger->rnn->forward(x, state);
    const auto W = tagger->head->weight;  // [V, H]
    const auto bias = tagger->head->bias;  // [V]
    for (int64_t t = 0; t < T; ++t) {
      const auto by_hand = layer.output.select(1, t).matmul(W.t()) + bias;  // [B, V]
      const double diff = max_rel_diff(out.prediction.select(1, t), by_hand);
      EXPECT_LE(diff, 1e-14) << "step " << t << ": largest relative difference " << diff;
    }
    EXPECT_TRUE(torch::equal(out.state.h, layer.state.h));
    EXPECT_TRUE(torch::equal(out.state.c, layer.state.c));
  }
}

// The seeded draw: the layer's weights first, then the head's, as the modules are registered.
TEST_F(SequenceTaggerTest, RegistersTheLayerFirstAndTheHeadSecond) {
  torch::manual_seed(5);
  SequenceTagger tagger(lstmlab::make_recurrent_layer(lstmlab::CellKind::Lstm, LayerKind::Scratch, tagger_options()), V);
  torch::manual_seed(5);
  const auto layer = lstmlab::make_recurrent_layer(lstmlab::CellKind::Lstm, LayerKind::Scratch, tagger_options());
  const torch::nn::Linear head(H, V);
  expect_same_stack(tagger->rnn->get_weights(), layer->get_weights());
  EXPECT_TRUE(torch::equal(tagger->head->weight, head->weight));
  EXPECT_TRUE(torch::equal(tagger->head->bias, head->bias));

  const auto names = tagger->named_parameters().keys();
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names.front().rfind("rnn.", 0), 0u) << names.front();
  EXPECT_EQ(names[names.size() - 2], "head.weight");
  EXPECT_EQ(names.back(), "head.bias");

  std::ostringstream printed;
  printed << *tagger;
  EXPECT_NE(printed.str().find("lstmlab::SequenceTagger"), std::string::npos) << printed.str();
}

TEST_F(SequenceTaggerTest, RefusesAnUnbatchedInputALayerNotBatchFirstAndNoClasses) {
  const auto not_batch_first = thrown_message([] {
    SequenceTagger(lstmlab::make_recurrent_layer(lstmlab::CellKind::Lstm, LayerKind::Scratch, RecurrentOptions(I, H)), V);
  });
  expect_contains(not_batch_first, {"SequenceTagger", "batch_first"});
  const auto no_classes = thrown_message([] {
    SequenceTagger(lstmlab::make_recurrent_layer(lstmlab::CellKind::Lstm, LayerKind::Scratch, tagger_options()), 0);
  });
  expect_contains(no_classes, {"SequenceTagger", "output_size", "0"});
  auto tagger = make_tagger(LayerKind::Scratch);
  const auto unbatched = thrown_message(
      [&] { tagger->run(torch::randn({T, I}, torch::kDouble), std::nullopt); });
  expect_contains(unbatched, {"SequenceTagger", "[B, T, I]", "[5, 4]"});
}

}  // namespace
