#include "models/recurrent_options.h"

#include <c10/util/Exception.h>

#include <stdexcept>

namespace lstmlab {

std::string to_string(Activation activation) {
  return activation == Activation::Tanh ? "tanh" : "relu";
}

std::string to_string(InitScheme init) {
  switch (init) {
    case InitScheme::Torch: return "torch";
    case InitScheme::D2l: return "d2l";
    case InitScheme::Keras: return "keras";
  }
  return "?";
}

std::string to_string(GateActivation activation) {
  return activation == GateActivation::Sigmoid ? "sigmoid" : "hard_sigmoid";
}

GateActivation parse_gate_activation(const std::string& text) {
  if (text == "sigmoid") return GateActivation::Sigmoid;
  if (text == "hard_sigmoid") return GateActivation::HardSigmoid;
  throw std::invalid_argument("unknown recurrent activation '" + text +
                              "' (allowed: sigmoid, hard_sigmoid)");
}

Activation parse_activation(const std::string& text) {
  if (text == "tanh") return Activation::Tanh;
  if (text == "relu") return Activation::Relu;
  throw std::invalid_argument("unknown activation '" + text + "' (allowed: tanh, relu)");
}

InitScheme parse_init(const std::string& text) {
  if (text == "torch") return InitScheme::Torch;
  if (text == "d2l") return InitScheme::D2l;
  if (text == "keras") return InitScheme::Keras;
  throw std::invalid_argument("unknown init '" + text + "' (allowed: torch, d2l, keras)");
}

void check_options(const RecurrentOptions& options, const std::string& layer_name) {
  TORCH_CHECK(options.input_size() > 0, layer_name, ": input_size must be positive, got ",
              options.input_size());
  TORCH_CHECK(options.hidden_size() > 0, layer_name, ": hidden_size must be positive, got ",
              options.hidden_size());
  TORCH_CHECK(options.num_layers() > 0, layer_name, ": num_layers must be positive, got ",
              options.num_layers());
  TORCH_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0, layer_name,
              ": dropout must be in [0, 1), got ", options.dropout());
  TORCH_CHECK(options.sigma() > 0.0, layer_name, ": sigma must be positive, got ", options.sigma());
  if (options.dropout() > 0.0 && options.num_layers() == 1) {
    TORCH_WARN(layer_name, ": dropout=", options.dropout(),
               " acts between layers, so it does nothing with num_layers=1");
  }
}

}  // namespace lstmlab
