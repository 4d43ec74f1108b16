#pragma once
// Shared by the core tests: a seeded fixture, the one shape helper, relative differences, error
// messages, and an LSTM written out in double with std::exp/std::tanh as an independent reference.
// Letters: T time steps, B batch, I input features, H hidden units, L layers, G = 4H.

#include "models/recurrent_layer.h"
#include "tests/temp_paths.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace lstmlab::test {

/// Every core test starts from the same generator state, so a failure reproduces.
class SeededTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSeed = 20240601;
  void SetUp() override { torch::manual_seed(kSeed); }
};

/// A seeded test that writes files: paths named per test, removed when it passes.
class SeededFileTest : public SeededTest {
 protected:
  std::string temp_path(const std::string& name) { return paths_.path(name); }
  static void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }

 private:
  TempPaths paths_;
};

/// A random canonical LSTM stack in float64: L layers, I inputs, H units.
inline StackWeights random_lstm_stack(int64_t I, int64_t H, int64_t L) {
  StackWeights stack;
  for (int64_t k = 0; k < L; ++k) {
    stack.push_back({torch::randn({k == 0 ? I : H, 4 * H}, torch::kDouble),
                     torch::randn({H, 4 * H}, torch::kDouble), torch::randn({4 * H}, torch::kDouble)});
  }
  return stack;
}

inline bool cuda_present() { return torch::cuda::is_available(); }

/// The one shape check: `what` names the tensor in the failure message.
inline void expect_sizes(const torch::Tensor& t, const std::vector<int64_t>& expected,
                         const std::string& what) {
  ASSERT_TRUE(t.defined()) << what << " is undefined";
  EXPECT_TRUE(t.sizes() == torch::IntArrayRef(expected))
      << what << ": expected " << torch::IntArrayRef(expected) << ", got " << t.sizes();
}

/// Two weight stacks hold bit-for-bit the same numbers, layer by layer.
inline void expect_same_stack(const StackWeights& a, const StackWeights& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(torch::equal(a[k].W_x, b[k].W_x)) << "W_x layer " << k;
    EXPECT_TRUE(torch::equal(a[k].W_h, b[k].W_h)) << "W_h layer " << k;
    EXPECT_TRUE(torch::equal(a[k].b, b[k].b)) << "b layer " << k;
  }
}

/// max |a - b| / max |b|: the largest difference relative to the reference's scale (infinite when
/// either is missing or the shapes differ, so a comparison never passes by accident).
inline double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) {
    return std::numeric_limits<double>::infinity();
  }
  const auto ad = a.detach().to(torch::kCPU, torch::kDouble);
  const auto bd = b.detach().to(torch::kCPU, torch::kDouble);
  const double diff = (ad - bd).abs().max().item<double>();
  const double scale = bd.abs().max().item<double>();
  return scale > 0 ? diff / scale : diff;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) {
    return std::numeric_limits<double>::infinity();
  }
  return (a.detach().to(torch::kDouble) - b.detach().to(torch::kDouble)).abs().max().item<double>();
}

/// Runs `f`, expects it to throw an `E`, and returns the message (empty, with a failure recorded,
/// when nothing or something else was thrown).
template <class E = c10::Error, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "nothing was thrown";
  return {};
}

inline void expect_contains(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos)
        << "message lacks \"" << part << "\":\n" << message;
  }
}

// ----- An LSTM by hand, in double -------------------------------------------------------------

/// One layer's weights as plain numbers, canonical layout: Wx[I][4H], Wh[H][4H], b[4H], gate
/// blocks i, f, g, o.
struct HandWeights {
  std::vector<std::vector<double>> Wx, Wh;
  std::vector<double> b;
  size_t I() const { return Wx.size(); }
  size_t H() const { return Wh.size(); }
};

struct HandStep {
  std::vector<double> i, f, g, o, c, h;
};

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

/// The LSTM equations element by element, from h0 and c0 ([H]; empty: zeros). xs: [T][I]. relu
/// replaces tanh in the candidate and in the cell output.
inline std::vector<HandStep> hand_lstm(const HandWeights& w,
                                       const std::vector<std::vector<double>>& xs,
                                       bool relu = false, const std::vector<double>& h0 = {},
                                       const std::vector<double>& c0 = {}) {
  const size_t I = w.I();
  const size_t H = w.H();
  auto act = [relu](double z) { return relu ? std::max(0.0, z) : std::tanh(z); };
  std::vector<double> h = h0.empty() ? std::vector<double>(H, 0.0) : h0;
  std::vector<double> c = c0.empty() ? std::vector<double>(H, 0.0) : c0;
  std::vector<HandStep> steps;
  for (const auto& x : xs) {
    std::vector<double> z(4 * H);
    for (size_t j = 0; j < 4 * H; ++j) {
      double s = w.b[j];
      for (size_t k = 0; k < I; ++k) s += x[k] * w.Wx[k][j];
      for (size_t k = 0; k < H; ++k) s += h[k] * w.Wh[k][j];
      z[j] = s;
    }
    HandStep st;
    for (size_t u = 0; u < H; ++u) {
      const double i = sigmoid(z[u]);
      const double f = sigmoid(z[H + u]);
      const double g = act(z[2 * H + u]);
      const double o = sigmoid(z[3 * H + u]);
      c[u] = f * c[u] + i * g;
      h[u] = o * act(c[u]);
      st.i.push_back(i);
      st.f.push_back(f);
      st.g.push_back(g);
      st.o.push_back(o);
    }
    st.c = c;
    st.h = h;
    steps.push_back(st);
  }
  return steps;
}

inline std::vector<std::vector<double>> to_rows(const torch::Tensor& t) {
  const auto d = t.detach().to(torch::kDouble).contiguous();
  std::vector<std::vector<double>> rows(static_cast<size_t>(d.size(0)));
  for (int64_t r = 0; r < d.size(0); ++r) {
    for (int64_t j = 0; j < d.size(1); ++j) rows[r].push_back(d[r][j].item<double>());
  }
  return rows;
}

inline HandWeights to_hand(const LayerWeights& w) {
  HandWeights hw{to_rows(w.W_x), to_rows(w.W_h), {}};
  const auto b = w.b.detach().to(torch::kDouble);
  for (int64_t j = 0; j < b.numel(); ++j) hw.b.push_back(b[j].item<double>());
  return hw;
}

inline torch::Tensor tensor_of(const std::vector<double>& v) {
  return torch::tensor(v, torch::kDouble);
}

inline torch::Tensor matrix_of(const std::vector<std::vector<double>>& rows) {
  std::vector<torch::Tensor> r;
  for (const auto& row : rows) r.push_back(tensor_of(row));
  return torch::stack(r);
}

// ----- Shapes of every option combination -----------------------------------------------------

using LayerFactory = std::function<RecurrentLayerPtr(const RecurrentOptions&)>;

/// num_layers {1,3} x batch_first x batched/unbatched x with/without initial state: the output and
/// state shapes, that a given state is used, that batch_first is a transpose of the time-major
/// result, and that an unbatched sequence is a batch of one.
inline void check_option_combinations(const LayerFactory& make) {
  const int64_t T = 4, B = 3, I = 5, H = 6;
  for (int64_t L : {1, 3}) {
    for (bool batch_first : {false, true}) {
      auto layer = make(RecurrentOptions(I, H).num_layers(L).batch_first(batch_first));
      layer->to(torch::kDouble);
      for (bool unbatched : {false, true}) {
        for (bool with_state : {false, true}) {
          SCOPED_TRACE("L=" + std::to_string(L) + " batch_first=" + std::to_string(batch_first) +
                       " unbatched=" + std::to_string(unbatched) +
                       " with_state=" + std::to_string(with_state));
          const auto opts = torch::dtype(torch::kDouble);
          using Sizes = std::vector<int64_t>;
          const Sizes in_shape = unbatched ? Sizes{T, I} : batch_first ? Sizes{B, T, I} : Sizes{T, B, I};
          const Sizes out_shape = unbatched     ? Sizes{T, H}
                                  : batch_first ? Sizes{B, T, H}
                                                : Sizes{T, B, H};
          const Sizes state_shape = unbatched ? Sizes{L, H} : Sizes{L, B, H};
          const auto x = torch::randn(in_shape, opts);
          std::optional<RecurrentState> state;
          if (with_state) {
            state = RecurrentState{torch::randn(state_shape, opts), torch::randn(state_shape, opts)};
          }
          const auto r = layer->forward(x, state);
          expect_sizes(r.output, out_shape, "output");
          expect_sizes(r.state.h, state_shape, "h_n");
          expect_sizes(r.state.c, state_shape, "c_n");

          // The last layer's h_n is the output's last time step.
          const auto last = unbatched ? r.output[T - 1]
                                      : (batch_first ? r.output.select(1, T - 1) : r.output[T - 1]);
          EXPECT_LT(max_abs_diff(r.state.h[L - 1], last), 1e-15);

          if (with_state) {  // a given state must change the result
            const auto zero = layer->forward(x);
            EXPECT_GT(max_abs_diff(r.output, zero.output), 1e-6);
          }
          if (!unbatched) {  // batch_first is only a layout: same numbers, transposed
            auto other = make(RecurrentOptions(I, H).num_layers(L).batch_first(!batch_first));
            other->to(torch::kDouble);
            other->set_weights(layer->get_weights());
            const auto r2 = other->forward(x.transpose(0, 1), state);
            EXPECT_LT(max_abs_diff(r2.output.transpose(0, 1), r.output), 1e-14);
            EXPECT_LT(max_abs_diff(r2.state.h, r.state.h), 1e-14);
          } else {  // one unbatched sequence is a batch of one
            std::optional<RecurrentState> s1;
            if (with_state) s1 = RecurrentState{state->h.unsqueeze(1), state->c.unsqueeze(1)};
            const auto xb = batch_first ? x.unsqueeze(0) : x.unsqueeze(1);
            const auto rb = layer->forward(xb, s1);
            const auto ob = batch_first ? rb.output.squeeze(0) : rb.output.squeeze(1);
            EXPECT_LT(max_abs_diff(ob, r.output), 1e-14);
            EXPECT_LT(max_abs_diff(rb.state.c.squeeze(1), r.state.c), 1e-14);
          }
        }
      }
    }
  }
}

/// Seed 003: batch 2, seq 5, input 10, hidden 20, batch_first -> output (2, 5, 20).
inline void check_seed_003(const LayerFactory& make) {
  auto layer = make(RecurrentOptions(10, 20).batch_first(true));
  const auto x = torch::randn({2, 5, 10});
  const auto r = layer->forward(x);
  expect_sizes(r.output, {2, 5, 20}, "output");
  expect_sizes(r.state.h, {1, 2, 20}, "h_n");
  expect_sizes(r.state.c, {1, 2, 20}, "c_n");
  EXPECT_EQ(r.output.scalar_type(), torch::kFloat);
}

/// Dropout between layers: deterministic in eval, random in train.
inline void check_dropout_modes(const LayerFactory& make) {
  auto layer = make(RecurrentOptions(3, 8).num_layers(2).dropout(0.5));
  const auto x = torch::randn({5, 4, 3});
  layer->train();
  const auto a = layer->forward(x).output;
  const auto b = layer->forward(x).output;
  EXPECT_GT(max_abs_diff(a, b), 1e-4) << "dropout in training should draw new masks each call";
  layer->eval();
  const auto c = layer->forward(x).output;
  const auto d = layer->forward(x).output;
  EXPECT_TRUE(torch::equal(c, d)) << "eval must be deterministic";
  // Eval is the dropout-free function.
  auto plain = make(RecurrentOptions(3, 8).num_layers(2));
  plain->set_weights(layer->get_weights());
  EXPECT_LT(max_abs_diff(plain->forward(x).output, c), 1e-6);
  EXPECT_GT(max_abs_diff(a, c), 1e-4);
}

}  // namespace lstmlab::test
