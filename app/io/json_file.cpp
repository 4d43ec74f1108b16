#include "app/io/json_file.h"

#include "data/memory_limits.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <vector>

namespace lstmlab {

using nlohmann::json;

std::string json_error_text(const json::exception& e) {
  std::string text = e.what();
  if (!text.empty() && text.front() == '[') {
    const auto end = text.find("] ");
    if (end != std::string::npos) text.erase(0, end + 2);
  }
  return text;
}

std::string integer_expected(const json& found, long double min, long double max) {
  return fmt::format("must be an integer from {:.0f} to {:.0f}, found {}", min, max, found.dump());
}

json read_json_file(const std::string& path, int max_depth) {
  if (std::filesystem::is_directory(path)) throw std::runtime_error(path + ": a directory, not a JSON file");
  // Each number of the text becomes a 16-byte JSON value inside a vector, and then a tensor.
  check_file_fits_in_memory(path, 16.0);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the file");
  // One entry per open object or array: an object's keys so far (an array's set stays empty).
  std::vector<std::set<std::string>> open;
  std::string problem;
  const json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        open.emplace_back();
        if (static_cast<int>(open.size()) > max_depth) {
          problem = fmt::format("nested {} levels deep; this format needs at most {}",
                                open.size(), max_depth);
          throw std::runtime_error(problem);
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto key = parsed.get<std::string>();
        if (!open.empty() && !open.back().insert(key).second) {
          problem = fmt::format("the key '{}' appears twice in one object", key);
          throw std::runtime_error(problem);
        }
        break;
      }
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(in, check);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON: " + json_error_text(e));
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": " + json_error_text(e));
  } catch (const std::runtime_error&) {
    if (problem.empty()) throw;
    throw std::runtime_error(path + ": " + problem);
  }
}

}  // namespace lstmlab
