#pragma once
// Timing work on a device, as `lstm-lab bench` does: the wall clock on the CPU; on CUDA, two events
// recorded on the current stream around the work, so that the figure is the GPU's own time.

#include <torch/types.h>

#include <functional>
#include <string>

namespace lstmlab {

class DeviceTimer {
 public:
  explicit DeviceTimer(const torch::Device& device);

  /// Seconds that one run of `fn` takes on the device, its queued work included (the device is
  /// synchronised before the run starts and after it ends).
  double seconds(const std::function<void()>& fn) const;

  /// "wall clock", "CUDA events", or, on a LibTorch whose c10::Event cannot time (before 2.x),
  /// "wall clock, synchronised".
  std::string clock() const;

 private:
  torch::Device device_;
  bool events_;
};

}  // namespace lstmlab
