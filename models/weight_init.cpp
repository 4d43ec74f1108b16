#include "models/weight_init.h"

#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace lstmlab {
namespace {

// torch::nn::LSTM and GRU draw weight_ih, weight_hh, bias_ih, bias_hh of each layer in turn, all
// uniform(-1/sqrt(H), 1/sqrt(H)); drawing the same shapes in the same order gives the same numbers.
LayerWeights torch_scheme(CellKind cell, int64_t in, int64_t H) {
  const int64_t G = gate_count(cell) * H;
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  auto w_ih = torch::empty({G, in}).uniform_(-bound, bound);
  auto w_hh = torch::empty({G, H}).uniform_(-bound, bound);
  auto b_ih = torch::empty({G}).uniform_(-bound, bound);
  auto b_hh = torch::empty({G}).uniform_(-bound, bound);
  LayerWeights w{w_ih.t().contiguous(), w_hh.t().contiguous(), b_ih + b_hh, {}};
  if (cell == CellKind::Gru) {  // n's two biases do not merge: r * (h W_hn + b_hn)
    w.b.narrow(0, 2 * H, H).copy_(b_ih.narrow(0, 2 * H, H));
    w.b_hn = b_hh.narrow(0, 2 * H, H).clone();
  }
  return w;
}

// d2l draws a (W_x, W_h, b) triple per gate: the LSTM in the order i, f, o, c; the GRU z, r, h.
LayerWeights d2l_scheme(CellKind cell, int64_t in, int64_t H, double sigma) {
  const int64_t G = gate_count(cell) * H;
  auto W_x = torch::empty({in, G});
  auto W_h = torch::empty({H, G});
  const std::vector<int64_t> blocks = cell == CellKind::Lstm
                                          ? std::vector<int64_t>{0, 1, 3, 2}  // -> i, f, g, o
                                          : std::vector<int64_t>{1, 0, 2};    // -> r, z, n
  for (int64_t block : blocks) {
    W_x.narrow(1, block * H, H).copy_(torch::randn({in, H}) * sigma);
    W_h.narrow(1, block * H, H).copy_(torch::randn({H, H}) * sigma);
  }
  LayerWeights w{W_x, W_h, torch::zeros({G}), {}};
  if (cell == CellKind::Gru) w.b_hn = torch::zeros({H});
  return w;
}

// Keras defaults: glorot_uniform kernel (fan_in = I, fan_out = G: Keras reads the fans off the
// kernel's [I, G] shape), orthogonal recurrent_kernel, zero bias (the LSTM's forget gate bias 1:
// unit_forget_bias).
LayerWeights keras_scheme(CellKind cell, int64_t in, int64_t H) {
  const int64_t G = gate_count(cell) * H;
  auto W_x = torch::empty({in, G});
  glorot_uniform_(W_x, in, G);
  // Keras' orthogonal on [H, G]: QR of a [G, H] standard normal matrix, the columns of Q times
  // sign(diag R) so that the result is unique, transposed: rows of W_h orthonormal. LibTorch's
  // orthogonal_ is this very algorithm.
  auto W_h = torch::empty({H, G});
  torch::nn::init::orthogonal_(W_h);
  LayerWeights w{W_x, W_h, torch::zeros({G}), {}};
  if (cell == CellKind::Lstm) w.b.narrow(0, H, H).fill_(1.0);
  if (cell == CellKind::Gru) w.b_hn = torch::zeros({H});
  return w;
}

}  // namespace

void glorot_uniform_(torch::Tensor& t, int64_t fan_in, int64_t fan_out) {
  torch::NoGradGuard no_grad;
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  t.uniform_(-limit, limit);
}

void keras_dense_init(torch::Tensor& weight, torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  glorot_uniform_(weight, weight.size(1), weight.size(0));
  bias.zero_();
}

StackWeights initial_weights(CellKind cell, const RecurrentOptions& options,
                             torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const int64_t H = options.hidden_size();
  StackWeights stack;
  for (int64_t k = 0; k < options.num_layers(); ++k) {
    const int64_t in = k == 0 ? options.input_size() : H;
    LayerWeights w;
    switch (options.init()) {
      case InitScheme::Torch: w = torch_scheme(cell, in, H); break;
      case InitScheme::D2l: w = d2l_scheme(cell, in, H, options.sigma()); break;
      case InitScheme::Keras: w = keras_scheme(cell, in, H); break;
    }
    stack.push_back({w.W_x.to(dtype), w.W_h.to(dtype), w.b.to(dtype),
                     w.b_hn.defined() ? w.b_hn.to(dtype) : w.b_hn});
  }
  return stack;
}

}  // namespace lstmlab
