#include "app/train/progress.h"

#include <fmt/format.h>

#include <ostream>
#include <unistd.h>

namespace lstmlab {

Progress::Mode Progress::detect(bool quiet) {
  if (quiet) return Mode::Quiet;
  return isatty(STDOUT_FILENO) ? Mode::Terminal : Mode::Lines;
}

Progress::Progress(std::ostream& out, Mode mode, std::string label, int64_t epochs,
                   std::string unit)
    : out_(out), mode_(mode), label_(std::move(label)), epochs_(epochs), unit_(std::move(unit)) {}

void Progress::start_epoch(int64_t epoch, int64_t batches) {
  epoch_ = epoch;
  batches_ = batches;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::step(int64_t batch, double running_loss, int64_t samples) {
  if (mode_ != Mode::Terminal) return;
  const auto now = std::chrono::steady_clock::now();
  // Redrawing more than ~10 times a second only costs time.
  if (batch < batches_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double eta = batch > 0 ? elapsed / static_cast<double>(batch) *
                                     static_cast<double>(batches_ - batch)
                               : 0.0;
  out_ << fmt::format("\r\033[K{}epoch {}/{}  batch {}/{}  loss {:.6g}  {:.0f} {}/s  ETA {:.1f}s",
                      label_, epoch_ + 1, epochs_, batch, batches_, running_loss,
                      elapsed > 0 ? static_cast<double>(samples) / elapsed : 0.0, unit_, eta)
       << std::flush;
}

void Progress::count(const std::string& what, int64_t done, int64_t total) {
  if (mode_ != Mode::Terminal) return;
  const auto now = std::chrono::steady_clock::now();
  if (done == 1) epoch_start_ = last_draw_ = now;
  if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double eta = done > 0 ? elapsed / static_cast<double>(done) *
                                    static_cast<double>(total - done)
                              : 0.0;
  out_ << fmt::format("\r\033[K{}{} {}/{}  ETA {:.1f}s", label_, what, done, total, eta)
       << std::flush;
}

void Progress::clear() {
  if (mode_ == Mode::Terminal) out_ << "\r\033[K" << std::flush;
}

void Progress::end_epoch(const std::string& summary) {
  if (mode_ == Mode::Quiet) return;
  if (mode_ == Mode::Terminal) out_ << "\r\033[K";
  out_ << label_ << fmt::format("epoch {}/{}  ", epoch_ + 1, epochs_) << summary << std::endl;
}

}  // namespace lstmlab
