#pragma once
// Every setting of a training run, as the flags set it and as config.json records it. The task's
// own settings are its section of config.json, read and checked by the task (app/tasks/).

#include "models/layer_factory.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace lstmlab {

/// The layout of config.json this lstm-lab writes (its "format"); a run with a higher one was
/// written by a newer lstm-lab and is refused. Runs from before the field are format 1.
inline constexpr int64_t kRunFormat = 1;

struct ModelConfig {
  CellKind cell = CellKind::Lstm;
  LayerKind kind = LayerKind::Scratch;
  int64_t hidden = 64;  ///< seed 002's LSTMPredictor
  int64_t layers = 1;
  double dropout = 0.0;
  Activation activation = Activation::Tanh;
  InitScheme init = InitScheme::Torch;
  ScratchBackward backward = ScratchBackward::Fused;
  bool reset_after = true;  ///< GRU: PyTorch's reset gate (after the product); false: d2l's
  GateActivation recurrent_activation = GateActivation::Sigmoid;  ///< hard_sigmoid: scratch LSTM, autograd
  std::string init_weights;  ///< a weights file (Keras or PyTorch layout) to start from; empty: drawn
};

struct TrainConfig {
  std::string loss = "mse";       ///< one of the task's losses (Task::losses); mse is sine's default
  std::string optimizer = "adam"; ///< adam (PyTorch semantics), keras-adam, sgd
  double lr = 0.01;
  double adam_epsilon = 1e-7;     ///< keras-adam's epsilon (on the uncorrected sqrt(v))
  int64_t epochs = 100;
  int64_t batch_size = 0;         ///< 0: the whole split in one batch (seed 002)
  bool shuffle = false;
  double clip = 0.0;              ///< max gradient norm; 0: no clipping
  uint64_t seed = 42;
  std::string device = "cpu";
  std::string dtype = "float32";
  int threads = 0;                ///< LibTorch CPU threads the run trains with (0: not recorded)
  int64_t early_stopping = 0;     ///< patience in epochs on the validation loss; 0: off
  double early_stopping_min_delta = 0.0;
  bool restore_best = false;      ///< with early_stopping: end on the best epoch's weights
  std::string lr_schedule = "none";  ///< none, plateau, step, cosine (app/train/fit_callbacks.h)
  double lr_factor = 0.1;         ///< plateau and step: lr *= factor
  int64_t lr_patience = 10;       ///< plateau: epochs without improvement before a cut
  double lr_min_delta = 1e-4;     ///< plateau: what counts as an improvement
  int64_t lr_cooldown = 0;        ///< plateau: epochs after a cut that do not count
  double lr_min = 0.0;            ///< plateau: the floor; cosine: the end value
  int64_t lr_step = 10;           ///< step: epochs per cut
};

struct RunConfig {
  std::string task = "sine";
  /// The task's section of config.json (under the task's name); what it leaves out takes the
  /// task's defaults.
  nlohmann::json task_options = nlohmann::json::object();
  ModelConfig model;
  TrainConfig train;
};

/// Throws std::invalid_argument, one line naming the flag and what is allowed.
void validate(const RunConfig& config);
/// The model and training settings alone, for a task that is not in the registry (the tests');
/// the loss is the task's to check (find_loss).
void validate_settings(const RunConfig& config);

nlohmann::json to_json(const RunConfig& config);
/// `where` (a file) is named in errors.
RunConfig run_config_from_json(const nlohmann::json& j, const std::string& where);
/// The configuration of the run in `dir` (its config.json); errors name the file.
RunConfig read_run_config(const std::string& dir);

/// The recurrent layer the model settings ask for, batch_first, fed `input_size` features.
RecurrentLayerPtr make_recurrent_layer(const ModelConfig& model, int64_t input_size);

}  // namespace lstmlab
