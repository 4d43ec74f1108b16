#include "app/checkpoint.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace lstmlab {

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
    extras.position = {position[0].item<int64_t>(), position[1].item<int64_t>(),
                       loss_sum[0].item<double>(), position[2].item<int64_t>()};
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path +
                             "' cannot be read (truncated, corrupted, or saved by a different "
                             "model): " + e.what_without_backtrace());
  }
  return extras;
}

}  // namespace lstmlab
