#pragma once
// Options shared by every recurrent layer (scratch and built-in, LSTM and later GRU), in the
// style of torch::nn::LSTMOptions: required sizes in the constructor, the rest TORCH_ARGs.

#include "models/enum_names.h"

#include <torch/arg.h>

#include <cstdint>
#include <string>

namespace lstmlab {

/// The nonlinearity of the candidate and of the cell output. `Relu` is the Keras
/// `LSTM(activation='relu')` port; only the scratch layer can honour it.
enum class Activation { Tanh, Relu };

/// The nonlinearity of the input, forget and output gates (Keras' `recurrent_activation`).
/// `HardSigmoid` is clip(0.2 x + 0.5, 0, 1), the default of models from Keras 2.2 and earlier;
/// only the scratch LSTM's autograd path honours it.
enum class GateActivation { Sigmoid, HardSigmoid };

/// How a layer's first weights are drawn.
/// - `Torch`: uniform(-1/sqrt(H), 1/sqrt(H)), drawn in torch::nn::LSTM's order, so a seeded scratch
///   layer starts from exactly the numbers a seeded built-in layer would.
/// - `D2l`: normal * sigma for every weight, zero bias, drawn gate by gate as d2l's LSTMScratch does.
/// - `Keras`: glorot-uniform input kernel, orthogonal recurrent kernel, zero bias with forget bias 1.
enum class InitScheme { Torch, D2l, Keras };

struct RecurrentOptions {
  RecurrentOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}

  /// Features per time step of the input.
  TORCH_ARG(int64_t, input_size);
  /// Units of the hidden and cell state.
  TORCH_ARG(int64_t, hidden_size);
  /// Stacked layers. Default: 1.
  TORCH_ARG(int64_t, num_layers) = 1;
  /// Input and output as (batch, seq, feature) instead of (seq, batch, feature). Default: false.
  TORCH_ARG(bool, batch_first) = false;
  /// Dropout on the outputs of every layer but the last, in training only. Default: 0.
  TORCH_ARG(double, dropout) = 0.0;
  /// Candidate and cell-output nonlinearity. Default: tanh.
  TORCH_ARG(Activation, activation) = Activation::Tanh;
  /// Gate nonlinearity. Default: sigmoid.
  TORCH_ARG(GateActivation, recurrent_activation) = GateActivation::Sigmoid;
  /// First-weight scheme. Default: torch.
  TORCH_ARG(InitScheme, init) = InitScheme::Torch;
  /// Standard deviation of the d2l scheme. Default: 0.01.
  TORCH_ARG(double, sigma) = 0.01;
  /// GRU only: the reset gate applies after the recurrent product, r * (h W_hn + b_hn), as PyTorch,
  /// cuDNN and Keras' reset_after=True do; false applies it before, (r * h) W_hn, as d2l and
  /// Keras' reset_after=False do (the scratch GRU only). Default: true.
  TORCH_ARG(bool, reset_after) = true;
};

const EnumNames<Activation>& activation_names();
const EnumNames<InitScheme>& init_names();
/// The GRU's reset_after as written: "after" (true) or "before" (false).
const EnumNames<bool>& gru_reset_names();
const EnumNames<GateActivation>& gate_activation_names();

std::string to_string(Activation activation);
std::string to_string(InitScheme init);
std::string to_string(GateActivation activation);
/// Parse the command-line spelling ("tanh", "relu"); throws std::invalid_argument naming the choices.
Activation parse_activation(const std::string& text);
/// Parse the command-line spelling ("sigmoid", "hard_sigmoid"); throws std::invalid_argument.
GateActivation parse_gate_activation(const std::string& text);
/// Parse the command-line spelling ("torch", "d2l", "keras"); throws std::invalid_argument.
InitScheme parse_init(const std::string& text);
/// "after" or "before"; throws std::invalid_argument naming the choices.
bool parse_gru_reset(const std::string& text);

/// Throws c10::Error when a size is not positive or dropout is outside [0, 1).
void check_options(const RecurrentOptions& options, const std::string& layer_name);

}  // namespace lstmlab
