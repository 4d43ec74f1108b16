// The checkpoint loader (app/train/checkpoint.h) on any bytes, into a small sine model and its
// Adam optimizer, as --resume loads it. The first byte picks the file: even, the bytes are the
// file; odd, they are the payload archive behind a header (checkpoint.h's format 2) whose length
// and checksum match, so that the fuzzer reaches what a file from another model or another
// version holds. Either loads or is one std::runtime_error naming the file.

#include "app/tasks/registry.h"
#include "app/tasks/sine_task.h"
#include "app/train/checkpoint.h"
#include "fuzz/fuzz_input.h"

#include <torch/torch.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

// checkpoint.cpp's FNV-1a over the inner archive.
int64_t fnv1a(const uint8_t* bytes, size_t n) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return static_cast<int64_t>(hash);
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string wrapped(const uint8_t* data, size_t size) {
  std::string file = "lstm-lab checkpoint\n";
  put_u64(file, static_cast<uint64_t>(lstmlab::kCheckpointFormat));
  put_u64(file, size);
  put_u64(file, static_cast<uint64_t>(fnv1a(data, size)));
  file.append(reinterpret_cast<const char*>(data), size);
  return file;
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
