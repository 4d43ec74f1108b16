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

namespace {

// cxxopts says "Argument 'nan' failed to parse" without the flag; the flag is found again in argv
// (--flag VALUE or --flag=VALUE), so that the one line names it as every other error does.
std::string unparsed_value_error(const std::string& what, int argc, const char* const* argv) {
  const auto open = what.find("Argument ");
  std::string value;
  if (open != std::string::npos) {
    // The value sits between cxxopts' quotes, ASCII or typographic: strip up to 3 bytes each side.
    const auto tail = what.rfind(" failed to parse");
    const auto start = open + 9;
    if (tail != std::string::npos && tail > start) value = what.substr(start, tail - start);
    for (const std::string quote : {"\xE2\x80\x98", "'"}) {
      if (value.rfind(quote, 0) == 0) value.erase(0, quote.size());
    }
    for (const std::string quote : {"\xE2\x80\x99", "'"}) {
      if (value.size() >= quote.size() && value.compare(value.size() - quote.size(), quote.size(), quote) == 0) {
        value.erase(value.size() - quote.size());
      }
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos && arg.substr(eq + 1) == value) {
      return arg.substr(0, eq) + " '" + value + "': not a value this flag takes (see --help for its type)";
    }
    if (arg.rfind("--", 0) == 0 && i + 1 < argc && argv[i + 1] == value) {
      return arg + " '" + value + "': not a value this flag takes (see --help for its type)";
    }
  }
  return what;
}

}  // namespace

bool parse_common(cxxopts::Options& options, int argc, const char* const* argv,
                  cxxopts::ParseResult& result) {
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::incorrect_argument_type& e) {
    throw std::invalid_argument(unparsed_value_error(e.what(), argc, argv));
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
