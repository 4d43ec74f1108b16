#pragma once
// Reading a JSON file a user hands us (weights, a run's config.json) strictly: every error is one
// line that names the file; a key twice in one object is refused rather than the last one winning
// silently; nesting deeper than the format needs is refused before it can cost a deep recursion.

#include <nlohmann/json.hpp>

#include <string>

namespace lstmlab {

/// Throws std::runtime_error "PATH: ..." when the file is missing, not JSON (with nlohmann's line
/// and column), holds a number out of double's range, repeats a key, or nests deeper than
/// `max_depth` objects and arrays.
nlohmann::json read_json_file(const std::string& path, int max_depth = 16);

/// nlohmann's message without its "[json.exception.type.N] " prefix.
std::string json_error_text(const nlohmann::json::exception& e);

}  // namespace lstmlab
