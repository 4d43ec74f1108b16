#include "models/weight_init.h"

#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>

namespace lstmlab {
namespace {

constexpr int64_t kGates = 4;

// torch::nn::LSTM draws weight_ih, weight_hh, bias_ih, bias_hh of each layer in turn, all
// uniform(-1/sqrt(H), 1/sqrt(H)); drawing the same shapes in the same order gives the same numbers.
LayerWeights torch_scheme(int64_t in, int64_t H) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  auto w_ih = torch::empty({kGates * H, in}).uniform_(-bound, bound);
  auto w_hh = torch::empty({kGates * H, H}).uniform_(-bound, bound);
  auto b_ih = torch::empty({kGates * H}).uniform_(-bound, bound);
  auto b_hh = torch::empty({kGates * H}).uniform_(-bound, bound);
  return {w_ih.t().contiguous(), w_hh.t().contiguous(), b_ih + b_hh};
}

// d2l's LSTMScratch draws a (W_x, W_h, b) triple per gate in the order i, f, o, c.
LayerWeights d2l_scheme(int64_t in, int64_t H, double sigma) {
  auto W_x = torch::empty({in, kGates * H});
  auto W_h = torch::empty({H, kGates * H});
  const int64_t block_of[] = {0, 1, 3, 2};  // i, f, o, c -> fused blocks i, f, g, o
  for (int64_t block : block_of) {
    W_x.narrow(1, block * H, H).copy_(torch::randn({in, H}) * sigma);
    W_h.narrow(1, block * H, H).copy_(torch::randn({H, H}) * sigma);
  }
  return {W_x, W_h, torch::zeros({kGates * H})};
}

// Keras LSTM defaults: glorot_uniform kernel, orthogonal recurrent_kernel, unit_forget_bias.
LayerWeights keras_scheme(int64_t in, int64_t H) {
  const double limit = std::sqrt(6.0 / static_cast<double>(in + kGates * H));
  auto W_x = torch::empty({in, kGates * H}).uniform_(-limit, limit);
  auto W_h = torch::empty({H, kGates * H});
  torch::nn::init::orthogonal_(W_h);
  auto b = torch::zeros({kGates * H});
  b.narrow(0, H, H).fill_(1.0);
  return {W_x, W_h, b};
}

}  // namespace

StackWeights initial_lstm_weights(const RecurrentOptions& options, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const int64_t H = options.hidden_size();
  StackWeights stack;
  for (int64_t k = 0; k < options.num_layers(); ++k) {
    const int64_t in = k == 0 ? options.input_size() : H;
    LayerWeights w;
    switch (options.init()) {
      case InitScheme::Torch: w = torch_scheme(in, H); break;
      case InitScheme::D2l: w = d2l_scheme(in, H, options.sigma()); break;
      case InitScheme::Keras: w = keras_scheme(in, H); break;
    }
    stack.push_back({w.W_x.to(dtype), w.W_h.to(dtype), w.b.to(dtype)});
  }
  return stack;
}

}  // namespace lstmlab
