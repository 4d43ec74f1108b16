#pragma once
// Presets: a named table of flag defaults. `--preset keras` sets each flag of its table unless
// the command line gives that flag itself, so every flag beside a preset overrides its part.

#include <cxxopts.hpp>

#include <map>
#include <string>

namespace lstmlab {

struct Preset {
  std::string name;
  std::string summary;
  std::map<std::string, std::string> flags;  ///< flag (without "--") -> value, as typed
};

/// Throws std::invalid_argument naming --preset and the presets there are.
const Preset& find_preset(const std::string& name);
/// "keras" (comma-separated names, for messages and --help).
std::string preset_names();

/// The value of a flag: given on the command line, else the preset's, else the flag's default.
class FlagValues {
 public:
  /// `preset` may be null (no preset).
  FlagValues(const cxxopts::ParseResult& flags, const Preset* preset)
      : flags_(flags), preset_(preset) {}

  template <typename T>
  T get(const std::string& flag) const;
  /// A switch (a flag without a value): given, or "true" in the preset.
  bool on(const std::string& flag) const;

 private:
  const std::string* preset_value(const std::string& flag) const;

  const cxxopts::ParseResult& flags_;
  const Preset* preset_;
};

template <>
std::string FlagValues::get<std::string>(const std::string& flag) const;
template <>
int64_t FlagValues::get<int64_t>(const std::string& flag) const;
template <>
uint64_t FlagValues::get<uint64_t>(const std::string& flag) const;
template <>
double FlagValues::get<double>(const std::string& flag) const;

}  // namespace lstmlab
