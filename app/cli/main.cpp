// lstm-lab: the command line. Each subcommand lives in the core library; this only dispatches.

#include "app/cli/cli.h"
#include "app/platform/blas_startup.h"
#include "app/platform/device.h"
#include "app/platform/memory_policy.h"
#include "app/platform/platform_report.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <string>

namespace {

struct Command {
  std::function<int(int, const char* const*)> run;
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"parity", {lstmlab::parity_command, "prove LSTMScratch = BuiltinLSTM: forward, gradients, training"}},
      {"trace", {lstmlab::trace_command, "print every gate of every step of a small LSTM"}},
      {"train", {lstmlab::train_command, "train one model on a task (--model scratch|builtin)"}},
      {"compare", {lstmlab::compare_command, "train both layers from the same weights; compare loss and speed"}},
      {"bench", {lstmlab::bench_command, "time built-in, scratch autograd and fused scratch layers"}},
      {"export", {lstmlab::export_command, "write a trained run's weights as Keras or PyTorch JSON"}},
      {"predict", {lstmlab::predict_command, "roll a trained run forward: forecast.csv and a plot"}},
      {"corpus", {lstmlab::corpus_command, "clean a text source as --task text reads it: corpus.txt, vocab.tsv"}},
      {"generate", {lstmlab::generate_command, "continue a prompt with a trained text run"}},
  };
  return table;
}

// An error is one line even when it quotes a path or a value with a newline in it.
std::string one_line(std::string text) {
  std::string line;
  for (char ch : text) {
    if (ch == '\n') {
      line += "\\n";
    } else if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') {
      line += '?';
    } else {
      line += ch;
    }
  }
  return line;
}

void print_usage(std::ostream& out) {
  out << "lstm-lab " << LSTMLAB_VERSION
      << ": LSTMs from scratch and built-in, trained and compared\n\n"
         "usage: lstm-lab <command> [flags]    (lstm-lab <command> --help for its flags)\n\n"
         "commands:\n";
  for (const auto& [name, command] : commands()) {
    out << "  " << name << std::string(10 - name.size(), ' ') << command.summary << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  // First of all: this may execute the program again with the BLAS core that fits the CPU
  // (LSTMLAB_BLAS_CORE=keep turns it off; a set OPENBLAS_CORETYPE is never overridden).
  lstmlab::choose_blas_core_at_startup(argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "lstm-lab " << LSTMLAB_VERSION << '\n'
              << lstmlab::describe_runtime(torch::kCPU) << " (commands use every core unless --threads)\n";
    for (const auto& line : lstmlab::platform_lines()) std::cout << line << '\n';
    const auto warning = lstmlab::platform_warning();
    if (!warning.empty()) std::cerr << "lstm-lab: " << warning << '\n';
    std::cout << std::flush;
    return 0;
  }
  const auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::cerr << "lstm-lab: unknown command '" << argv[1] << "' (run lstm-lab --help)\n";
    return 2;
  }
  // Whole lines reach a redirected stdout as they are printed, so that a second Ctrl-C, which
  // leaves at once, loses at most a line in progress.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // LSTMLAB_KEEP_FREED_MEMORY=0 keeps glibc's defaults (bench then says so in its header).
  const char* keep = std::getenv("LSTMLAB_KEEP_FREED_MEMORY");
  if (!keep || std::strcmp(keep, "0") != 0) lstmlab::keep_freed_memory_for_reuse();
  try {
    // The subcommand sees itself as argv[0], so its own --help reads naturally.
    return it->second.run(argc - 1, argv + 1);
  } catch (const std::invalid_argument& e) {
    std::cerr << "lstm-lab " << argv[1] << ": " << one_line(e.what()) << '\n';
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "lstm-lab " << argv[1] << ": " << one_line(e.what_without_backtrace()) << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lstm-lab " << argv[1] << ": " << one_line(e.what()) << '\n';
    return 1;
  }
}
