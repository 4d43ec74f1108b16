#include "app/platform/device_timer.h"

#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/cuda.h>

#include <chrono>
#include <type_traits>
#include <utility>

namespace lstmlab {
namespace {

// c10::Event gained elapsedTime in LibTorch 2.x; 1.13's cannot time. Detected, not assumed, so
// that one source builds on both.
template <typename E, typename = void>
struct CanTime : std::false_type {};
template <typename E>
struct CanTime<E, std::void_t<decltype(std::declval<const E&>().elapsedTime(
                      std::declval<const E&>()))>> : std::true_type {};

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double wall_seconds(const std::function<void()>& fn, const torch::Device& device) {
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  fn();
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Events with timing on (BACKEND_DEFAULT: cudaEventDefault; PyTorch's default turns timing off).
template <typename Event = c10::Event>
double event_seconds(const std::function<void()>& fn, const torch::Device& device) {
  if constexpr (CanTime<Event>::value) {
    const c10::impl::VirtualGuardImpl guard(device.type());
    const c10::Stream stream = guard.getStream(device);
    Event start(device.type(), c10::EventFlag::BACKEND_DEFAULT);
    Event stop(device.type(), c10::EventFlag::BACKEND_DEFAULT);
    synchronize(device);
    start.record(stream);
    fn();
    stop.record(stream);
    stop.synchronize();
    return start.elapsedTime(stop) / 1e3;  // milliseconds, as cudaEventElapsedTime
  } else {
    return wall_seconds(fn, device);
  }
}

}  // namespace

DeviceTimer::DeviceTimer(const torch::Device& device)
    : device_(device), events_(device.is_cuda() && CanTime<c10::Event>::value) {}

double DeviceTimer::seconds(const std::function<void()>& fn) const {
  return events_ ? event_seconds(fn, device_) : wall_seconds(fn, device_);
}

std::string DeviceTimer::clock() const {
  if (!device_.is_cuda()) return "wall clock";
  return events_ ? "CUDA events" : "wall clock, synchronised";
}

}  // namespace lstmlab
