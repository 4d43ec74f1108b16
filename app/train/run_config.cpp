#include "app/train/run_config.h"

#include "app/io/json_file.h"
#include "app/train/model_size.h"
#include "app/tasks/registry.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <vector>

namespace lstmlab {

using nlohmann::json;

void validate(const RunConfig& c) {
  const auto& task = find_task(c.task);
  task.check(c.task_options, "--task " + c.task);
  find_loss(task.losses, c.train.loss, "the " + c.task + " task");
  validate_settings(c);
}

void validate_settings(const RunConfig& c) {
  auto positive = [](int64_t v, const char* flag) {
    if (v <= 0) throw std::invalid_argument(std::string(flag) + " must be positive, got " + std::to_string(v));
  };
  positive(c.model.hidden, "--hidden");
  positive(c.model.layers, "--layers");
  positive(c.train.epochs, "--epochs");
  // NaN passes every comparison below, and infinity most: each real-valued setting is a finite
  // number first.
  const std::pair<double, const char*> reals[] = {
      {c.model.dropout, "--dropout"},
      {c.train.lr, "--lr"},
      {c.train.adam_epsilon, "--adam-epsilon"},
      {c.train.clip, "--clip"},
      {c.train.early_stopping_min_delta, "--early-stopping-min-delta"},
      {c.train.lr_factor, "--lr-factor"},
      {c.train.lr_min_delta, "--lr-min-delta"},
      {c.train.lr_min, "--lr-min"},
  };
  for (const auto& [value, flag] : reals) {
    if (!std::isfinite(value)) {
      throw std::invalid_argument(fmt::format("{} must be a finite number, got {}", flag, value));
    }
  }
  if (c.train.threads < 0) {
    throw std::invalid_argument(fmt::format("--threads must be 0 or positive, got {}", c.train.threads));
  }
  // The input size is the task's; one feature is the least it can be.
  check_model_fits(c.model.cell, 1, static_cast<double>(c.model.hidden),
                   static_cast<double>(c.model.layers), c.train.dtype == "float64" ? 8 : 4,
                   fmt::format("--hidden {} --layers {}", c.model.hidden, c.model.layers));
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

namespace {

/// One key of a section of config.json: how it is written from the section and read into it.
template <typename Section>
struct Field {
  std::string key;
  std::function<json(const Section&)> write;
  std::function<void(const json&, Section&)> read;
  /// Absent from runs recorded before the key was: the section's default stands.
  bool optional = false;
};

template <typename Section, typename T>
Field<Section> plain(const char* key, T Section::*member, bool optional = false) {
  return {key, [member](const Section& s) { return json(s.*member); },
          [member](const json& j, Section& s) { s.*member = json_value<T>(j); }, optional};
}

/// An enum written by its name in the enum's table.
template <typename Section, typename E>
Field<Section> named(const char* key, E Section::*member, const EnumNames<E>& names,
                     bool optional = false) {
  return {key, [member, &names](const Section& s) { return json(names.name(s.*member)); },
          [member, &names](const json& j, Section& s) {
            s.*member = names.parse(j.get<std::string>());
          },
          optional};
}

const std::vector<Field<ModelConfig>>& model_fields() {
  using M = ModelConfig;
  static const std::vector<Field<M>> fields = {
      named("cell", &M::cell, cell_names(), true),  // runs before the cell axis are LSTMs
      named("gru_reset", &M::reset_after, gru_reset_names(), true),
      named("kind", &M::kind, layer_kind_names()),
      plain("hidden", &M::hidden),
      plain("layers", &M::layers),
      plain("dropout", &M::dropout),
      named("activation", &M::activation, activation_names()),
      named("init", &M::init, init_names()),
      named("scratch_backward", &M::backward, scratch_backward_names()),
      // Settings added later: a run recorded before them has their defaults.
      named("recurrent_activation", &M::recurrent_activation, gate_activation_names(), true),
      plain("init_weights", &M::init_weights, true),
  };
  return fields;
}

const std::vector<Field<TrainConfig>>& train_fields() {
  using T = TrainConfig;
  static const std::vector<Field<T>> fields = {
      plain("loss", &T::loss),
      plain("optimizer", &T::optimizer),
      plain("lr", &T::lr),
      plain("epochs", &T::epochs),
      plain("batch_size", &T::batch_size),
      plain("shuffle", &T::shuffle),
      plain("clip", &T::clip),
      plain("seed", &T::seed),
      plain("device", &T::device),
      plain("dtype", &T::dtype),
      plain("threads", &T::threads, true),  // runs before it was recorded: 0, not recorded
      // Settings added later: a run recorded before them has their defaults.
      plain("adam_epsilon", &T::adam_epsilon, true),
      plain("early_stopping", &T::early_stopping, true),
      plain("early_stopping_min_delta", &T::early_stopping_min_delta, true),
      plain("restore_best", &T::restore_best, true),
      plain("lr_schedule", &T::lr_schedule, true),
      plain("lr_factor", &T::lr_factor, true),
      plain("lr_patience", &T::lr_patience, true),
      plain("lr_min_delta", &T::lr_min_delta, true),
      plain("lr_cooldown", &T::lr_cooldown, true),
      plain("lr_min", &T::lr_min, true),
      plain("lr_step", &T::lr_step, true),
  };
  return fields;
}

template <typename Section>
json write_section(const Section& section, const std::vector<Field<Section>>& fields) {
  json j = json::object();
  for (const auto& f : fields) j[f.key] = f.write(section);
  return j;
}

/// Every key of `j` must be in the table and every required one present; errors name
/// `name.key` and what was wrong, as std::invalid_argument.
template <typename Section>
Section read_section(const json& j, const char* name, const std::vector<Field<Section>>& fields) {
  if (!j.is_object()) {
    throw std::invalid_argument(fmt::format("\"{}\" must be an object, found {}", name,
                                            j.type_name()));
  }
  std::string keys;
  for (const auto& f : fields) keys += (keys.empty() ? "" : ", ") + f.key;
  for (const auto& item : j.items()) {
    const bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const Field<Section>& f) { return f.key == item.key(); });
    if (!known) {
      throw std::invalid_argument(
          fmt::format("\"{}\" has no setting '{}' (allowed: {})", name, item.key(), keys));
    }
  }
  Section section;
  for (const auto& f : fields) {
    if (!j.contains(f.key)) {
      if (f.optional) continue;
      throw std::invalid_argument(fmt::format("\"{}\" lacks '{}'", name, f.key));
    }
    try {
      f.read(j.at(f.key), section);
    } catch (const json::exception& e) {
      throw std::invalid_argument(fmt::format("{}.{}: {}", name, f.key, json_error_text(e)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("{}.{}: {}", name, f.key, e.what()));
    }
  }
  return section;
}

}  // namespace

json to_json(const RunConfig& c) {
  return {
      {"format", kRunFormat},
      {"task", c.task},
      {c.task, c.task_options},
      {"model", write_section(c.model, model_fields())},
      {"train", write_section(c.train, train_fields())},
  };
}

RunConfig run_config_from_json(const json& j, const std::string& where) {
  RunConfig c;
  try {
    if (!j.is_object() || !j.contains("task") || !j.at("task").is_string()) {
      throw std::invalid_argument("no \"task\" name");
    }
    // A run written by a newer lstm-lab may mean its settings differently: refused, not guessed.
    // Runs from before the field are format 1.
    if (j.contains("format")) {
      const auto& format = j.at("format");
      if (!format.is_number_integer() || format.get<int64_t>() < 1) {
        throw std::invalid_argument(fmt::format("\"format\" must be a positive integer, found {}",
                                                format.dump()));
      }
      if (format.get<int64_t>() > kRunFormat) {
        throw std::invalid_argument(fmt::format(
            "it was written by a newer lstm-lab (run format {}; this one reads up to {})",
            format.get<int64_t>(), kRunFormat));
      }
    }
    c.task = j.at("task").get<std::string>();
    c.task_options = j.contains(c.task) ? j.at(c.task) : json::object();
    for (const char* section : {"model", "train"}) {
      if (!j.contains(section)) throw std::invalid_argument(fmt::format("no \"{}\" section", section));
    }
    c.model = read_section(j.at("model"), "model", model_fields());
    c.train = read_section(j.at("train"), "train", train_fields());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": not a run configuration lstm-lab can read: " + e.what());
  }
  try {
    const auto& task = find_task(c.task);
    c.task_options = task.check(c.task_options, where);
    validate_settings(c);
    find_loss(task.losses, c.train.loss, "the " + c.task + " task");
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
