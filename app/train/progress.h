#pragma once
// Training progress: on a terminal one line per epoch that updates in place (batch k/n, loss,
// samples/s or tokens/s, ETA); in a log one plain line per epoch; nothing when quiet.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace lstmlab {

class Progress {
 public:
  enum class Mode { Terminal, Lines, Quiet };
  /// Terminal when `out` is stdout and stdout is a terminal.
  static Mode detect(bool quiet);

  /// `unit`: what step()'s count counts ("samples", "tokens"), as the rate shows it.
  Progress(std::ostream& out, Mode mode, std::string label, int64_t epochs,
           std::string unit = "samples");

  void start_epoch(int64_t epoch, int64_t batches);
  void step(int64_t batch, double running_loss, int64_t samples);
  /// `summary`: the epoch's metrics, already formatted.
  void end_epoch(const std::string& summary);
  /// Work that is not an epoch (a forecast's steps): "<what> done/total  ETA" on a terminal.
  void count(const std::string& what, int64_t done, int64_t total);
  /// Clears the in-place line on a terminal.
  void clear();

 private:
  std::ostream& out_;
  Mode mode_;
  std::string label_;
  int64_t epochs_;
  std::string unit_;
  int64_t epoch_ = 0;
  int64_t batches_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace lstmlab
