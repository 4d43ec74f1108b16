#include "app/checkpoint.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace lstmlab {
namespace {

// FNV-1a over the bytes of every parameter and buffer, in order. LibTorch's archive does not
// check what it reads back, so a flipped byte in a tensor would otherwise load silently.
int64_t fingerprint(const torch::nn::Module& model) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](const torch::Tensor& t) {
    const auto cpu = t.detach().to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(cpu.data_ptr());
    const auto n = static_cast<size_t>(cpu.numel()) * cpu.element_size();
    for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  };
  for (const auto& p : model.named_parameters()) mix(p.value());
  for (const auto& b : model.named_buffers()) mix(b.value());
  return static_cast<int64_t>(hash);
}

std::map<std::string, std::vector<int64_t>> shapes_of(const torch::nn::Module& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : model.named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  return shapes;
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const CheckpointExtras& extras) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  const auto& p = extras.position;
  archive.write("position", torch::tensor({p.epoch, p.step, p.loss_count}, torch::kLong));
  archive.write("loss_sum", torch::tensor({p.loss_sum}, torch::kDouble));
  archive.write("rng_state", extras.rng_state);
  archive.write("history", extras.history);
  archive.write("fingerprint", torch::tensor({fingerprint(model)}, torch::kLong));

  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write checkpoint '" + tmp + "': " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

CheckpointExtras load_checkpoint(const std::string& path, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("no checkpoint at '" + path + "'");
  }
  CheckpointExtras extras;
  const auto expected_shapes = shapes_of(model);
  torch::Tensor saved_fingerprint;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    torch::Tensor position, loss_sum;
    archive.read("position", position);
    archive.read("loss_sum", loss_sum);
    archive.read("rng_state", extras.rng_state);
    archive.read("history", extras.history);
    archive.read("fingerprint", saved_fingerprint);
    extras.position = {position[0].item<int64_t>(), position[1].item<int64_t>(),
                       loss_sum[0].item<double>(), position[2].item<int64_t>()};
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path +
                             "' cannot be read (truncated, corrupted, or saved by a different "
                             "model): " + e.what_without_backtrace());
  }
  for (const auto& [name, shape] : shapes_of(model)) {
    const auto& expected = expected_shapes.at(name);
    if (shape != expected) {
      throw std::runtime_error("checkpoint '" + path + "' was saved by a different model: '" +
                               name + "' is " + c10::str(torch::IntArrayRef(shape)) +
                               " there and " + c10::str(torch::IntArrayRef(expected)) + " here");
    }
  }
  if (saved_fingerprint.numel() != 1 || saved_fingerprint.item<int64_t>() != fingerprint(model)) {
    throw std::runtime_error("checkpoint '" + path +
                             "' is corrupted: its weights do not match the checksum saved with them");
  }
  return extras;
}

}  // namespace lstmlab
