#pragma once
// Reading a JSON file a user hands us (weights, a run's config.json) strictly: every error is one
// line that names the file; a key twice in one object is refused rather than the last one winning
// silently; nesting deeper than the format needs is refused before it can cost a deep recursion.

#include <nlohmann/json.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace lstmlab {

/// Throws std::runtime_error "PATH: ..." when the file is missing, not JSON (with nlohmann's line
/// and column), holds a number out of double's range, repeats a key, or nests deeper than
/// `max_depth` objects and arrays.
nlohmann::json read_json_file(const std::string& path, int max_depth = 16);

/// nlohmann's message without its "[json.exception.type.N] " prefix.
std::string json_error_text(const nlohmann::json::exception& e);

/// "must be an integer from MIN to MAX, found TEXT", for json_value.
std::string integer_expected(const nlohmann::json& found, long double min, long double max);

/// A JSON value as T, strictly: an integer setting only from a JSON integer that fits T (nlohmann's
/// own get<int>() casts a float such as 1e300, undefined behaviour, and wraps a large integer), a
/// boolean only from true or false, a floating-point one from any number. Anything else goes to
/// nlohmann's get<T>(), which throws json::type_error on a mismatch. Throws std::invalid_argument.
template <typename T>
T json_value(const nlohmann::json& j) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw std::invalid_argument("must be true or false, found " + j.dump());
    return j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    using limits = std::numeric_limits<T>;
    bool fits = false;
    if (j.is_number_unsigned()) {
      fits = j.get<uint64_t>() <= static_cast<uint64_t>(limits::max());
    } else if (j.is_number_integer()) {
      const int64_t v = j.get<int64_t>();
      fits = std::is_signed_v<T> ? v >= static_cast<int64_t>(limits::min()) &&
                                       v <= static_cast<int64_t>(limits::max())
                                 : v >= 0 && static_cast<uint64_t>(v) <= static_cast<uint64_t>(limits::max());
    }
    if (!fits) throw std::invalid_argument(integer_expected(j, limits::min(), limits::max()));
    return j.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) throw std::invalid_argument("must be a number, found " + j.dump());
    return j.get<T>();
  } else {
    return j.get<T>();
  }
}

/// A section's setting `key`, when present, into `field` (json_value's rules). Throws
/// std::invalid_argument "KEY: what was wrong".
template <typename T>
void read_setting(const nlohmann::json& section, const char* key, T& field) {
  if (!section.contains(key)) return;
  try {
    field = json_value<T>(section.at(key));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string(key) + ": " + json_error_text(e));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(key) + ": " + e.what());
  }
}


}  // namespace lstmlab
