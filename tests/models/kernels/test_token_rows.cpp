// Token ids as a fused layer's input (models/kernels/token_rows.h): the same function as its
// one-hot input, every grad included, on both executors the CPU runs, for the LSTM and both GRU
// variants; then the layers' forward_tokens against their one-hot forward, and the errors.
// Letters: T time steps, B batch, V vocabulary (= I), H hidden units.

#include "models/gru/gru_fused.h"
#include "models/kernels/token_rows.h"
#include "models/layer_factory.h"
#include "models/lstm/lstm_fused.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace lstmlab {
namespace {

using torch::Tensor;
using namespace test;

constexpr int64_t T = 7, B = 5, V = 6, H = 4;

/// A layer call over input x (ids or one-hot) with weights w = {h0, c0, W_x, W_h, b}: returns a
/// scalar that reads every output, so that backward reaches every grad.
using LayerLoss = std::function<Tensor(const Tensor& x, const std::vector<Tensor>& w)>;

/// Random ids [T, B] over the vocabulary.
Tensor some_ids() { return torch::randint(0, V, {T, B}, torch::kLong); }

std::vector<Tensor> leaves(int64_t G) {
  const auto o = torch::TensorOptions().dtype(torch::kDouble);
  std::vector<Tensor> w = {torch::randn({B, H}, o) * 0.5, torch::randn({B, H}, o) * 0.5,
                           torch::randn({V, G}, o) * 0.5, torch::randn({H, G}, o) * 0.5,
                           torch::randn({G}, o) * 0.5};
  for (auto& t : w) t.requires_grad_(true);
  return w;
}

/// The outputs and every weight grad of the ids call equal the one-hot call's to float64 rounding.
void expect_ids_equal_one_hot(const LayerLoss& loss, int64_t G, const std::string& what) {
  const Tensor ids = some_ids();
  const Tensor one_hot = torch::one_hot(ids, V).to(torch::kDouble);
  const auto w = leaves(G);
  const Tensor from_ids = loss(ids, w);
  const auto grads_ids = torch::autograd::grad({from_ids}, w, {}, /*retain_graph=*/false,
                                               /*create_graph=*/false, /*allow_unused=*/true);
  const Tensor from_one_hot = loss(one_hot, w);
  const auto grads_one_hot = torch::autograd::grad({from_one_hot}, w, {}, false, false, true);
  EXPECT_LT(max_abs_diff(from_ids, from_one_hot), 1e-12) << what;
  const char* names[] = {"h0", "c0", "W_x", "W_h", "b"};
  for (size_t k = 0; k < w.size(); ++k) {
    ASSERT_EQ(grads_ids[k].defined(), grads_one_hot[k].defined()) << what << " " << names[k];
    if (!grads_ids[k].defined()) continue;
    EXPECT_GT(grads_ids[k].abs().max().item<double>(), 0.0) << what << " " << names[k];
    EXPECT_LT(max_abs_diff(grads_ids[k], grads_one_hot[k]), 1e-12) << what << " " << names[k];
  }
}

/// A loss that weighs every element differently, so that no grad is a plain sum.
Tensor weighted(const Tensor& t, double seed) {
  return (t * torch::linspace(seed, seed + 1.0, t.numel(), t.options()).view(t.sizes())).sum();
}

TEST(TokenRows, LstmFromIdsEqualsOneHotOnBothExecutors) {
  torch::manual_seed(11);
  for (const bool ops : {false, true}) {
    const auto layer = ops ? lstm_layer_fused_reference_ops : lstm_layer_fused;
    expect_ids_equal_one_hot(
        [&](const Tensor& x, const std::vector<Tensor>& w) {
          auto [out, h_T, c_T] = layer(x, w[0], w[1], w[2], w[3], w[4], Activation::Tanh);
          return weighted(out, 0.5) + weighted(h_T, -1.0) + weighted(c_T, 2.0);
        },
        4 * H, ops ? "lstm, ATen ops" : "lstm, row loops");
  }
}

TEST(TokenRows, GruFromIdsEqualsOneHotOnBothExecutorsAndVariants) {
  torch::manual_seed(12);
  for (const bool ops : {false, true}) {
    for (const bool reset_after : {true, false}) {
      const auto layer = ops ? gru_layer_fused_reference_ops : gru_layer_fused;
      const Tensor b_hn =
          reset_after ? torch::randn({H}, torch::kDouble).requires_grad_(true) : Tensor();
      expect_ids_equal_one_hot(
          [&](const Tensor& x, const std::vector<Tensor>& w) {
            // The GRU has no c: w[1] enters the loss alone so that its grad is defined either way.
            auto [out, h_T] = layer(x, w[0], w[2], w[3], w[4], b_hn, reset_after);
            return weighted(out, 0.5) + weighted(h_T, -1.0) + weighted(w[1], 0.0);
          },
          3 * H,
          std::string(ops ? "gru, ATen ops" : "gru, row loops") +
              (reset_after ? ", reset after" : ", reset before"));
    }
  }
}

TEST(TokenRows, TheWeightGradSumsTheRowsOfEachId) {
  // By hand: ids 2, 0, 2 over rows a, b, c give W_x's grad row 2 = a + c, row 0 = b, others 0.
  const Tensor ids = torch::tensor({2, 0, 2}, torch::kLong);
  const Tensor dA = torch::tensor({1.0f, 2.0f, 10.0f, 20.0f, 100.0f, 200.0f}).view({3, 2});
  const Tensor grad = token_rows_grad(ids, dA, 4);
  const Tensor expected =
      torch::tensor({10.0f, 20.0f, 0.0f, 0.0f, 101.0f, 202.0f, 0.0f, 0.0f}).view({4, 2});
  EXPECT_TRUE(torch::equal(grad, expected)) << grad;
  // Rows read through a row stride (a column block of a wider buffer), as the backward passes them.
  const Tensor wide = torch::cat({torch::full({3, 1}, 7.0f), dA}, 1);
  EXPECT_TRUE(torch::equal(token_rows_grad(ids, wide.narrow(1, 1, 2), 4), expected));
  // Columns not adjacent (and any device or dtype but CPU float32/float64): ATen's index_add_.
  const Tensor column_major = dA.t().contiguous().t();
  ASSERT_NE(column_major.stride(1), 1);
  EXPECT_TRUE(torch::equal(token_rows_grad(ids, column_major, 4), expected));
  EXPECT_TRUE(torch::equal(token_rows_grad(ids, dA.to(torch::kBFloat16), 4),
                           expected.to(torch::kBFloat16)));
}

TEST(TokenRows, IdsOutsideTheVocabularyAreNamed) {
  auto w = leaves(4 * H);
  Tensor ids = some_ids();
  ids[3][1] = V;
  const auto message = thrown_message([&] {
    lstm_layer_fused(ids, w[0], w[1], w[2], w[3], w[4], Activation::Tanh);
  });
  expect_contains(message, {"lstm_layer_fused", "token id 6", "position 16", "[0, 6)"});
  ids[3][1] = -1;
  expect_contains(thrown_message([&] {
                    gru_layer_fused(ids, w[0], w[2].narrow(1, 0, 3 * H), w[3].narrow(1, 0, 3 * H),
                                    w[4].narrow(0, 0, 3 * H), Tensor(), true);
                  }),
                  {"gru_layer_fused", "token id -1"});
  expect_contains(thrown_message([&] {
                    lstm_layer_fused(torch::zeros({T, B, 1}, torch::kLong), w[0], w[1], w[2], w[3],
                                     w[4], Activation::Tanh);
                  }),
                  {"floating-point x of shape [T, B, I] or token ids of shape [T, B]", "Long of shape [7, 5, 1]"});
}

class LayerTokens : public ::testing::TestWithParam<std::tuple<CellKind, LayerKind, ScratchBackward>> {};

TEST_P(LayerTokens, ForwardTokensEqualsForwardOfOneHot) {
  const auto [cell, kind, backward] = GetParam();
  torch::manual_seed(13);
  const auto options = RecurrentOptions(V, H).num_layers(2).batch_first(true);
  auto layer = make_recurrent_layer(cell, kind, options, backward);
  layer->to(torch::kDouble);
  const Tensor ids = torch::randint(0, V, {B, T}, torch::kInt);  // batch first, any integer dtype
  const auto from_ids = layer->forward_tokens(ids);
  const auto grads_ids = torch::autograd::grad({from_ids.output.sum() + from_ids.state.h.sum()},
                                               layer->parameters());
  const auto from_one_hot = layer->forward(torch::one_hot(ids.to(torch::kLong), V).to(torch::kDouble));
  const auto grads_one_hot =
      torch::autograd::grad({from_one_hot.output.sum() + from_one_hot.state.h.sum()},
                            layer->parameters());
  expect_sizes(from_ids.output, {B, T, H}, "output");
  EXPECT_LT(max_abs_diff(from_ids.output, from_one_hot.output), 1e-12);
  EXPECT_LT(max_abs_diff(from_ids.state.h, from_one_hot.state.h), 1e-12);
  if (cell == CellKind::Lstm) {
    EXPECT_LT(max_abs_diff(from_ids.state.c, from_one_hot.state.c), 1e-12);
  }
  for (size_t k = 0; k < grads_ids.size(); ++k) {
    EXPECT_LT(max_abs_diff(grads_ids[k], grads_one_hot[k]), 1e-12) << "parameter " << k;
  }
  // Float ids are not ids; the message says what was expected.
  expect_contains(thrown_message([&] { layer->forward_tokens(torch::zeros({B, T})); }),
                  {"expected token ids of size (batch, seq_len) in an integer dtype", "Float"});
}

INSTANTIATE_TEST_SUITE_P(
    CellsKindsBackwards, LayerTokens,
    ::testing::Values(std::make_tuple(CellKind::Lstm, LayerKind::Scratch, ScratchBackward::Fused),
                      std::make_tuple(CellKind::Lstm, LayerKind::Scratch, ScratchBackward::Autograd),
                      std::make_tuple(CellKind::Lstm, LayerKind::Builtin, ScratchBackward::Fused),
                      std::make_tuple(CellKind::Gru, LayerKind::Scratch, ScratchBackward::Fused),
                      std::make_tuple(CellKind::Gru, LayerKind::Builtin, ScratchBackward::Fused)));

}  // namespace
}  // namespace lstmlab
