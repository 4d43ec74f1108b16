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
  if (c.train.loss != "mse" && c.train.loss != "mae") {
    throw std::invalid_argument("--loss '" + c.train.loss + "' is not a loss (allowed: mse, mae)");
  }
  if (c.train.optimizer != "adam" && c.train.optimizer != "keras-adam" &&
      c.train.optimizer != "sgd") {
    throw std::invalid_argument("--optimizer '" + c.train.optimizer +
                                "' is not an optimizer (allowed: adam, keras-adam, sgd)");
  }
  if (!(c.train.adam_epsilon >= 0)) {
    throw std::invalid_argument("--adam-epsilon must be 0 or positive, got " +
                                std::to_string(c.train.adam_epsilon));
  }
  if (c.model.recurrent_activation == GateActivation::HardSigmoid) {
    if (c.model.cell != CellKind::Lstm || c.model.kind != LayerKind::Scratch) {
      throw std::invalid_argument(
          "--recurrent-activation hard_sigmoid needs --cell lstm --model scratch: LibTorch's "
          "layers and the GRU compute sigmoid gates");
    }
    if (c.model.backward != ScratchBackward::Autograd) {
      throw std::invalid_argument(
          "--recurrent-activation hard_sigmoid needs --scratch-backward autograd: the fused "
          "backward computes sigmoid gates");
    }
  }
  if (c.train.early_stopping < 0) {
    throw std::invalid_argument("--early-stopping must be 0 (off) or a patience in epochs, got " +
                                std::to_string(c.train.early_stopping));
  }
  if (c.train.restore_best && c.train.early_stopping == 0) {
    throw std::invalid_argument("--restore-best needs --early-stopping PATIENCE");
  }
  const auto& schedule = c.train.lr_schedule;
  if (schedule != "none" && schedule != "plateau" && schedule != "step" && schedule != "cosine") {
    throw std::invalid_argument("--lr-schedule '" + schedule +
                                "' is not a schedule (allowed: none, plateau, step, cosine)");
  }
  if (!(c.train.lr_factor > 0 && c.train.lr_factor < 1)) {
    throw std::invalid_argument("--lr-factor must be in (0, 1), got " + std::to_string(c.train.lr_factor));
  }
  positive(c.train.lr_patience, "--lr-patience");
  positive(c.train.lr_step, "--lr-step");
  if (c.train.lr_cooldown < 0) throw std::invalid_argument("--lr-cooldown must be 0 or positive");
  if (c.train.lr_min < 0 || c.train.lr_min_delta < 0 || c.train.early_stopping_min_delta < 0) {
    throw std::invalid_argument("--lr-min, --lr-min-delta and --early-stopping-min-delta must be 0 or positive");
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
        {"init", to_string(c.model.init)}, {"scratch_backward", to_string(c.model.backward)},
        {"recurrent_activation", to_string(c.model.recurrent_activation)},
        {"init_weights", c.model.init_weights}}},
      {"train",
       {{"loss", c.train.loss}, {"optimizer", c.train.optimizer}, {"lr", c.train.lr},
        {"epochs", c.train.epochs}, {"batch_size", c.train.batch_size},
        {"shuffle", c.train.shuffle}, {"clip", c.train.clip}, {"seed", c.train.seed},
        {"device", c.train.device}, {"dtype", c.train.dtype}, {"threads", c.train.threads},
        {"adam_epsilon", c.train.adam_epsilon}, {"early_stopping", c.train.early_stopping},
        {"early_stopping_min_delta", c.train.early_stopping_min_delta},
        {"restore_best", c.train.restore_best}, {"lr_schedule", c.train.lr_schedule},
        {"lr_factor", c.train.lr_factor}, {"lr_patience", c.train.lr_patience},
        {"lr_min_delta", c.train.lr_min_delta}, {"lr_cooldown", c.train.lr_cooldown},
        {"lr_min", c.train.lr_min}, {"lr_step", c.train.lr_step}}},
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
    // Settings added later: a run recorded before them has their defaults.
    const auto optional = [](const json& section, const char* key, auto& field) {
      if (section.contains(key)) field = section.at(key).get<std::decay_t<decltype(field)>>();
    };
    if (m.contains("recurrent_activation")) {
      c.model.recurrent_activation = parse_gate_activation(m.at("recurrent_activation"));
    }
    optional(m, "init_weights", c.model.init_weights);
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
    optional(t, "adam_epsilon", c.train.adam_epsilon);
    optional(t, "early_stopping", c.train.early_stopping);
    optional(t, "early_stopping_min_delta", c.train.early_stopping_min_delta);
    optional(t, "restore_best", c.train.restore_best);
    optional(t, "lr_schedule", c.train.lr_schedule);
    optional(t, "lr_factor", c.train.lr_factor);
    optional(t, "lr_patience", c.train.lr_patience);
    optional(t, "lr_min_delta", c.train.lr_min_delta);
    optional(t, "lr_cooldown", c.train.lr_cooldown);
    optional(t, "lr_min", c.train.lr_min);
    optional(t, "lr_step", c.train.lr_step);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": not a run configuration lstm-lab can read: " + e.what());
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
                           .reset_after(model.reset_after)
                           .recurrent_activation(model.recurrent_activation);
  return make_recurrent_layer(model.cell, model.kind, options, model.backward);
}

}  // namespace lstmlab
