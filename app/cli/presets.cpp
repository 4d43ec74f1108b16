#include "app/cli/presets.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace lstmlab {
namespace {

const std::vector<Preset>& presets() {
  // Seed 000's Keras model: LSTM(60, activation='relu') -> Dense(1), loss 'mae', 'adam',
  // 30 epochs, batch 50, shuffle=False; Keras' initializers; the scratch layer, since the built-in
  // cannot do relu.
  static const std::vector<Preset> table = {
      {"keras",
       "seed 000's Keras model and fit: LSTM(60, relu) + Dense(1), MAE, Keras' Adam at 1e-3, "
       "30 epochs of batches of 50 in order",
       {{"cell", "lstm"},
        {"model", "scratch"},
        {"hidden", "60"},
        {"layers", "1"},
        {"activation", "relu"},
        {"recurrent-activation", "sigmoid"},
        {"init", "keras"},
        {"loss", "mae"},
        {"optimizer", "keras-adam"},
        {"lr", "0.001"},
        {"adam-epsilon", "1e-7"},
        {"epochs", "30"},
        {"batch-size", "50"},
        {"shuffle", "false"},
        {"dtype", "float32"}}},
      // d2l's Time Machine character model; the text task sets its training (hidden 32, batch
      // 1024, SGD lr 4, clip 1, 50 epochs) and cleaning for flags not given (text_options.cpp).
      {"d2l",
       "d2l's character model of The Time Machine (the text task): one-hot, hidden 32, seq 32, "
       "batch 1024, SGD lr 4, clip 1, 50 epochs",
       {{"task", "text"}}},
  };
  return table;
}

}  // namespace

std::string preset_names() {
  std::string names;
  for (const auto& p : presets()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

const Preset& find_preset(const std::string& name) {
  for (const auto& p : presets()) {
    if (p.name == name) return p;
  }
  throw std::invalid_argument("--preset '" + name + "' is not a preset (allowed: " +
                              preset_names() + ")");
}

const std::string* FlagValues::preset_value(const std::string& flag) const {
  if (!preset_ || flags_.count(flag)) return nullptr;
  const auto it = preset_->flags.find(flag);
  return it == preset_->flags.end() ? nullptr : &it->second;
}

template <>
std::string FlagValues::get<std::string>(const std::string& flag) const {
  if (const auto* v = preset_value(flag)) return *v;
  return flags_[flag].as<std::string>();
}

template <>
int64_t FlagValues::get<int64_t>(const std::string& flag) const {
  if (const auto* v = preset_value(flag)) return std::stoll(*v);
  return flags_[flag].as<int64_t>();
}

template <>
uint64_t FlagValues::get<uint64_t>(const std::string& flag) const {
  if (const auto* v = preset_value(flag)) return std::stoull(*v);
  return flags_[flag].as<uint64_t>();
}

template <>
double FlagValues::get<double>(const std::string& flag) const {
  if (const auto* v = preset_value(flag)) return std::stod(*v);
  return flags_[flag].as<double>();
}

bool FlagValues::on(const std::string& flag) const {
  if (flags_.count(flag)) return true;
  const auto* v = preset_value(flag);
  return v && *v == "true";
}

}  // namespace lstmlab
