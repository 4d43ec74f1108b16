#include "models/recurrent_options.h"

#include <c10/util/Exception.h>

#include <stdexcept>

namespace lstmlab {

const EnumNames<Activation>& activation_names() {
  static const EnumNames<Activation> names(
      "activation", {{Activation::Tanh, "tanh"}, {Activation::Relu, "relu"}});
  return names;
}

const EnumNames<InitScheme>& init_names() {
  static const EnumNames<InitScheme> names(
      "init", {{InitScheme::Torch, "torch"}, {InitScheme::D2l, "d2l"}, {InitScheme::Keras, "keras"}});
  return names;
}

const EnumNames<bool>& gru_reset_names() {
  static const EnumNames<bool> names("GRU reset variant", {{true, "after"}, {false, "before"}});
  return names;
}

const EnumNames<GateActivation>& gate_activation_names() {
  static const EnumNames<GateActivation> names(
      "recurrent activation",
      {{GateActivation::Sigmoid, "sigmoid"}, {GateActivation::HardSigmoid, "hard_sigmoid"}});
  return names;
}

std::string to_string(Activation activation) { return activation_names().name(activation); }
std::string to_string(InitScheme init) { return init_names().name(init); }
Activation parse_activation(const std::string& text) { return activation_names().parse(text); }
InitScheme parse_init(const std::string& text) { return init_names().parse(text); }
bool parse_gru_reset(const std::string& text) { return gru_reset_names().parse(text); }
std::string to_string(GateActivation activation) { return gate_activation_names().name(activation); }
GateActivation parse_gate_activation(const std::string& text) {
  return gate_activation_names().parse(text);
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
