#pragma once
// The subcommands of `lstm-lab`. Each parses its own flags into the library's option structs and
// returns the process exit status. Bad flags throw std::invalid_argument with a one-line message.

#include "app/io/atomic_file.h"

#include <cxxopts.hpp>
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace lstmlab {

int parity_command(int argc, const char* const* argv);
int trace_command(int argc, const char* const* argv);
int train_command(int argc, const char* const* argv);
int compare_command(int argc, const char* const* argv);
int predict_command(int argc, const char* const* argv);
int bench_command(int argc, const char* const* argv);
int export_command(int argc, const char* const* argv);
int corpus_command(int argc, const char* const* argv);
int generate_command(int argc, const char* const* argv);

/// Flags every subcommand shares (--threads, --help).
void add_common_flags(cxxopts::Options& options);
/// Parses; prints help and returns true when --help was asked. Applies --threads.
bool parse_common(cxxopts::Options& options, int argc, const char* const* argv,
                  cxxopts::ParseResult& result);

/// `parse(value)`, its error prefixed with the flag: the models' parsers name the allowed values,
/// the message gains "--flag: ".
template <typename F>
auto parse_flag(const char* flag, const std::string& value, F parse) {
  try {
    return parse(value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--") + flag + ": " + e.what());
  }
}

/// A command's `--json FILE|-` report. FILE is opened when the flags are read, so an unwritable
/// one fails before the work, and written whole at the end; "-" is stdout.
class JsonReport {
 public:
  explicit JsonReport(const cxxopts::ParseResult& flags);
  bool wanted() const { return to_stdout_ || file_ != nullptr; }
  /// "-": the report replaces the table on stdout.
  bool to_stdout() const { return to_stdout_; }
  void write(const nlohmann::json& report);

 private:
  bool to_stdout_ = false;
  std::unique_ptr<AtomicFile> file_;
};

}  // namespace lstmlab
