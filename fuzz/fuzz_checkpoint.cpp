// The checkpoint loader (app/train/checkpoint.h) on any bytes, into a small sine model and its
// Adam optimizer, as --resume loads it. The first byte picks the file: even, the bytes are the
// file; odd, they are the inner archive, wrapped with a checksum that matches, so that the
// fuzzer reaches what a file from another model or another version holds. Either loads or is
// one std::runtime_error naming the file.

#include "app/tasks/registry.h"
#include "app/tasks/sine_task.h"
#include "app/train/checkpoint.h"
#include "fuzz/fuzz_input.h"

#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

// checkpoint.cpp's FNV-1a over the inner archive.
int64_t fnv1a(const uint8_t* bytes, size_t n) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return static_cast<int64_t>(hash);
}

std::string wrapped(const uint8_t* data, size_t size) {
  torch::serialize::OutputArchive archive;
  auto payload = torch::empty({static_cast<int64_t>(size)}, torch::kUInt8);
  if (size > 0) std::memcpy(payload.data_ptr<uint8_t>(), data, size);
  archive.write("payload", payload);
  archive.write("checksum", torch::tensor({fnv1a(data, size)}, torch::kLong));
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

const lstmlab::RunConfig& config() {
  static const lstmlab::RunConfig c = [] {
    lstmlab::RunConfig r;
    auto sine = lstmlab::sine_options(r);
    sine.points = 40;
    sine.seq_len = 4;
    lstmlab::set_sine_options(r, sine);
    r.model.hidden = 3;
    return r;
  }();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lstmlab;
  if (size == 0) return 0;
  static const auto task = make_task(config());
  std::string path;
  if (data[0] % 2 == 0) {
    path = fuzz::scratch_file("checkpoint.pt", data + 1, size - 1);
  } else {
    const auto bytes = wrapped(data + 1, size - 1);
    path = fuzz::scratch_file("checkpoint.pt", reinterpret_cast<const uint8_t*>(bytes.data()),
                              bytes.size());
  }
  torch::manual_seed(0);
  auto model = task->make_model(config().model);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.01));
  try {
    (void)load_checkpoint(path, *model, &adam);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) std::abort();
  }
  return 0;
}
