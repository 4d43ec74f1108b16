#include "app/cli/cli.h"
#include "app/platform/device.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace lstmlab {

void add_common_flags(cxxopts::Options& options) {
  options.add_options("common")
      ("threads", "LibTorch CPU threads (0 = every core)", cxxopts::value<int>()->default_value("0"))
      ("h,help", "Show this help");
}

bool parse_common(cxxopts::Options& options, int argc, const char* const* argv,
                  cxxopts::ParseResult& result) {
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw std::invalid_argument(e.what());
  }
  if (result.count("help")) {
    std::cout << options.help() << std::endl;
    return true;
  }
  if (!result.unmatched().empty()) {
    throw std::invalid_argument("unexpected argument '" + result.unmatched().front() + "'");
  }
  set_thread_count(result["threads"].as<int>());
  return false;
}

JsonReport::JsonReport(const cxxopts::ParseResult& flags) {
  if (!flags.count("json")) return;
  const auto path = flags["json"].as<std::string>();
  if (path == "-") {
    to_stdout_ = true;
    return;
  }
  try {
    file_ = std::make_unique<AtomicFile>(path);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("--json: ") + e.what());
  }
}

void JsonReport::write(const nlohmann::json& report) {
  if (to_stdout_) std::cout << report.dump(2) << std::endl;
  if (!file_) return;
  file_->stream() << report.dump(2) << '\n';
  file_->commit();
}

}  // namespace lstmlab
