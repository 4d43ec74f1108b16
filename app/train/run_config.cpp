#include "app/train/run_config.h"

#include "app/io/json_file.h"
#include "app/tasks/registry.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include <stdexcept>

namespace lstmlab {

using nlohmann::json;

void validate(const RunConfig& c) {
  find_task(c.task).check(c.task_options, "--task " + c.task);
  validate_settings(c);
}

void validate_settings(const RunConfig& c) {
  auto positive = [](int64_t v, const char* flag) {
    if (v <= 0) throw std::invalid_argument(std::string(flag) + " must be positive, got " + std::to_string(v));
  };
  positive(c.model.hidden, "--hidden");
  positive(c.model.layers, "--layers");
  positive(c.train.epochs, "--epochs");
  if (c.model.dropout < 0 || c.model.dropout >= 1) {
    throw std::invalid_argument("--dropout must be in [0, 1), got " + std::to_string(c.model.dropout));
  }
  if (c.model.kind == LayerKind::Builtin && c.model.activation == Activation::Relu) {
    throw std::invalid_argument(
        "--activation relu needs --model scratch: torch::nn::LSTM's cell is fixed to tanh");
  }
  if (c.model.cell == CellKind::Gru && c.model.activation == Activation::Relu) {
    throw std::invalid_argument("--activation relu is for --cell lstm: the GRU's candidate is tanh");
  }
  if (c.model.cell == CellKind::Gru && !c.model.reset_after && c.model.kind == LayerKind::Builtin) {
    throw std::invalid_argument(
        "--gru-reset before needs --model scratch: torch::nn::GRU applies the reset gate after "
        "the recurrent product");
  }
  // cross-entropy is the text task's (it sets it); a regression task refuses it itself.
  if (c.train.loss != "mse" && c.train.loss != "mae" && c.train.loss != "cross-entropy") {
    throw std::invalid_argument("--loss '" + c.train.loss +
                                "' is not a loss (allowed: mse, mae, cross-entropy)");
  }
  if (c.train.optimizer != "adam" && c.train.optimizer != "sgd") {
    throw std::invalid_argument("--optimizer '" + c.train.optimizer +
                                "' is not an optimizer (allowed: adam, sgd)");
  }
  if (!(c.train.lr > 0)) throw std::invalid_argument("--lr must be positive, got " + std::to_string(c.train.lr));
  if (c.train.batch_size < 0) {
    throw std::invalid_argument("--batch-size must be 0 (whole split) or positive, got " +
                                std::to_string(c.train.batch_size));
  }
  if (c.train.clip < 0) throw std::invalid_argument("--clip must be 0 (off) or positive");
  if (c.train.dtype != "float32" && c.train.dtype != "float64") {
    throw std::invalid_argument("--dtype '" + c.train.dtype + "' is not supported (allowed: float32, float64)");
  }
}

json to_json(const RunConfig& c) {
  return {
      {"task", c.task},
      {c.task, c.task_options},
      {"model",
       {{"cell", to_string(c.model.cell)}, {"gru_reset", c.model.reset_after ? "after" : "before"},
        {"kind", to_string(c.model.kind)}, {"hidden", c.model.hidden}, {"layers", c.model.layers},
        {"dropout", c.model.dropout}, {"activation", to_string(c.model.activation)},
        {"init", to_string(c.model.init)}, {"scratch_backward", to_string(c.model.backward)}}},
      {"train",
       {{"loss", c.train.loss}, {"optimizer", c.train.optimizer}, {"lr", c.train.lr},
        {"epochs", c.train.epochs}, {"batch_size", c.train.batch_size},
        {"shuffle", c.train.shuffle}, {"clip", c.train.clip}, {"seed", c.train.seed},
        {"device", c.train.device}, {"dtype", c.train.dtype}, {"threads", c.train.threads}}},
  };
}

RunConfig run_config_from_json(const json& j, const std::string& where) {
  RunConfig c;
  try {
    c.task = j.at("task").get<std::string>();
    c.task_options = j.contains(c.task) ? j.at(c.task) : json::object();
    const auto& m = j.at("model");
    // Runs recorded before the cell axis are LSTMs.
    c.model.cell = m.contains("cell") ? parse_cell(m.at("cell").get<std::string>()) : CellKind::Lstm;
    c.model.reset_after = !m.contains("gru_reset") || m.at("gru_reset").get<std::string>() != "before";
    c.model.kind = parse_layer_kind(m.at("kind"));
    c.model.hidden = m.at("hidden");
    c.model.layers = m.at("layers");
    c.model.dropout = m.at("dropout");
    c.model.activation = parse_activation(m.at("activation"));
    c.model.init = parse_init(m.at("init"));
    c.model.backward = parse_scratch_backward(m.at("scratch_backward"));
    const auto& t = j.at("train");
    c.train.loss = t.at("loss");
    c.train.optimizer = t.at("optimizer");
    c.train.lr = t.at("lr");
    c.train.epochs = t.at("epochs");
    c.train.batch_size = t.at("batch_size");
    c.train.shuffle = t.at("shuffle");
    c.train.clip = t.at("clip");
    c.train.seed = t.at("seed");
    c.train.device = t.at("device");
    c.train.dtype = t.at("dtype");
    c.train.threads = t.contains("threads") ? t.at("threads").get<int>() : 0;  // absent in runs written before it was recorded
  } catch (const json::exception& e) {
    throw std::runtime_error(where + ": not a run configuration lstm-lab can read: " +
                             json_error_text(e));
  }
  try {
    c.task_options = find_task(c.task).check(c.task_options, where);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  return c;
}

RunConfig read_run_config(const std::string& dir) {
  const auto path = dir + "/config.json";
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path + ": no such file; is " + dir + " a run directory?");
  }
  return run_config_from_json(read_json_file(path), path);
}

RecurrentLayerPtr make_recurrent_layer(const ModelConfig& model, int64_t input_size) {
  const auto options = RecurrentOptions(input_size, model.hidden)
                           .num_layers(model.layers)
                           .batch_first(true)
                           .dropout(model.dropout)
                           .activation(model.activation)
                           .init(model.init)
                           .reset_after(model.reset_after);
  return make_recurrent_layer(model.cell, model.kind, options, model.backward);
}

}  // namespace lstmlab
