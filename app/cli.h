#pragma once
// The subcommands of `lstm-lab`. Each parses its own flags into the library's option structs and
// returns the process exit status. Bad flags throw std::invalid_argument with a one-line message.

#include <cxxopts.hpp>

#include <string>

namespace lstmlab {

int parity_command(int argc, const char* const* argv);
int trace_command(int argc, const char* const* argv);
int train_command(int argc, const char* const* argv);
int compare_command(int argc, const char* const* argv);
int predict_command(int argc, const char* const* argv);
int bench_command(int argc, const char* const* argv);

/// Flags every subcommand shares (--threads, --help).
void add_common_flags(cxxopts::Options& options);
/// Parses; prints help and returns true when --help was asked. Applies --threads.
bool parse_common(cxxopts::Options& options, int argc, const char* const* argv,
                  cxxopts::ParseResult& result);

}  // namespace lstmlab
