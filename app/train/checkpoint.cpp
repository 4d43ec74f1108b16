#include "app/train/checkpoint.h"

#include "app/io/atomic_file.h"
#include "data/memory_limits.h"

#include <fmt/format.h>

#include <torch/serialize.h>
#include <torch/torch.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace lstmlab {
namespace {

// The file holds one "payload" (a LibTorch archive with everything) and its FNV-1a checksum.
// LibTorch's archive does not check what it reads back, so a flipped byte in any record (weights,
// Adam's moments, the position, the RNG state) would otherwise load silently.
int64_t fnv1a(const unsigned char* bytes, size_t n) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return static_cast<int64_t>(hash);
}

// Format 2 on: a container of our own around the payload, so that LibTorch's archive reader (whose
// unpickler can crash on crafted bytes instead of throwing) parses only bytes whose checksum
// matched. Format 1 wrapped the payload in a second LibTorch archive, parsed before any check.
constexpr char kMagic[] = "lstm-lab checkpoint\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kHeaderSize = kMagicSize + 3 * 8;  // then format, payload bytes, checksum

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

void check_format(uint64_t format) {
  if (format < 1) throw std::runtime_error("its format number is not a positive integer");
  if (format > static_cast<uint64_t>(kCheckpointFormat)) {
    throw std::runtime_error(fmt::format(
        "it was written by a newer lstm-lab (checkpoint format {}; this one reads up to {})", format,
        kCheckpointFormat));
  }
}

// Format 2 and on: the payload, once its length and checksum are right.
std::string payload_of_container(const std::string& file) {
  if (file.size() < kHeaderSize) throw std::runtime_error("it ends inside its header");
  const auto format = get_u64(file, kMagicSize);
  check_format(format);
  const auto size = get_u64(file, kMagicSize + 8);
  if (size != file.size() - kHeaderSize) {
    throw std::runtime_error(fmt::format("its header promises {} bytes of payload, the file holds {}",
                                         size, file.size() - kHeaderSize));
  }
  auto payload = file.substr(kHeaderSize);
  const auto* data = reinterpret_cast<const unsigned char*>(payload.data());
  if (static_cast<int64_t>(get_u64(file, kMagicSize + 16)) != fnv1a(data, payload.size())) {
    throw std::runtime_error("its contents do not match the checksum saved with them");
  }
  return payload;
}

// Format 1: the payload and its checksum as two records of an outer LibTorch archive.
std::string payload_of_archive(const std::string& file) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.data(), file.size());
  torch::Tensor payload, checksum, format;
  if (archive.try_read("format", format)) {
    if (format.numel() != 1 || format.scalar_type() != torch::kLong) {
      throw std::runtime_error("its format record is not one integer");
    }
    const auto number = format.item<int64_t>();
    check_format(number < 1 ? 0 : static_cast<uint64_t>(number));
  }
  archive.read("payload", payload);
  archive.read("checksum", checksum);
  if (payload.scalar_type() != torch::kUInt8 || payload.dim() != 1 ||
      checksum.scalar_type() != torch::kLong) {
    throw std::runtime_error("its payload is not a byte array with a 64-bit checksum");
  }
  payload = payload.contiguous();
  const auto* data = payload.data_ptr<uint8_t>();
  const auto size = static_cast<size_t>(payload.numel());
  if (checksum.numel() != 1 || checksum.item<int64_t>() != fnv1a(data, size)) {
    throw std::runtime_error("its contents do not match the checksum saved with them");
  }
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::map<std::string, std::vector<int64_t>> shapes_of(const torch::nn::Module& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : model.named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  return shapes;
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const CheckpointExtras& extras) {
  torch::serialize::OutputArchive inner;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  inner.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  inner.write("optimizer", optimizer_archive);
  const auto& p = extras.position;
  inner.write("position", torch::tensor({p.epoch, p.step, p.loss_count}, torch::kLong));
  inner.write("loss_sum", torch::tensor({p.loss_sum, p.seconds}, torch::kDouble));
  inner.write("rng_state", extras.rng_state);
  inner.write("history", extras.history);
  if (extras.state.h.defined()) inner.write("state_h", extras.state.h.to(torch::kCPU));
  if (extras.state.c.defined()) inner.write("state_c", extras.state.c.to(torch::kCPU));
  if (extras.callbacks.defined()) inner.write("callbacks", extras.callbacks);
  if (!extras.best_parameters.empty()) {
    inner.write("best_parameters/size",
                torch::tensor({static_cast<int64_t>(extras.best_parameters.size())}, torch::kLong));
    for (size_t i = 0; i < extras.best_parameters.size(); ++i) {
      inner.write("best_parameters/" + std::to_string(i), extras.best_parameters[i].to(torch::kCPU));
    }
  }
  std::ostringstream bytes;
  inner.save_to(bytes);
  const std::string payload = bytes.str();
  std::string file(kMagic, kMagicSize);
  put_u64(file, static_cast<uint64_t>(kCheckpointFormat));
  put_u64(file, payload.size());
  put_u64(file, static_cast<uint64_t>(
                    fnv1a(reinterpret_cast<const unsigned char*>(payload.data()), payload.size())));
  file += payload;
  try {
    write_file_atomically(path, file);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot write checkpoint '" + path + "': " + e.what());
  }
}

CheckpointExtras load_checkpoint(const std::string& path, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("no checkpoint at '" + path + "'");
  }
  // The file, its payload and the payload's records are in memory at once.
  check_file_fits_in_memory(path, 3.0);
  const auto expected_shapes = shapes_of(model);
  CheckpointExtras extras;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) throw std::runtime_error("it cannot be opened: " + std::string(std::strerror(errno)));
    std::ostringstream read;
    read << in.rdbuf();
    const std::string file = read.str();
    const bool container = file.compare(0, kMagicSize, kMagic, kMagicSize) == 0;
    const std::string payload = container ? payload_of_container(file) : payload_of_archive(file);
    torch::serialize::InputArchive inner;
    inner.load_from(payload.data(), payload.size());
    torch::serialize::InputArchive model_archive;
    inner.read("model", model_archive);
    model.load(model_archive);
    for (const auto& [name, shape] : shapes_of(model)) {
      const auto& expected = expected_shapes.at(name);
      if (shape != expected) {
        throw std::runtime_error("it was saved by a different model: '" + name + "' is " +
                                 c10::str(torch::IntArrayRef(shape)) + " there and " +
                                 c10::str(torch::IntArrayRef(expected)) + " here");
      }
    }
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      inner.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    torch::Tensor position, loss_sum;
    inner.read("position", position);
    inner.read("loss_sum", loss_sum);
    inner.read("rng_state", extras.rng_state);
    inner.read("history", extras.history);
    torch::Tensor h, c;
    if (inner.try_read("state_h", h)) extras.state.h = h;
    if (inner.try_read("state_c", c)) extras.state.c = c;
    torch::Tensor callbacks, best_count;
    if (inner.try_read("callbacks", callbacks)) extras.callbacks = callbacks;  // absent before schedules
    if (inner.try_read("best_parameters/size", best_count)) {
      for (int64_t i = 0; i < best_count.item<int64_t>(); ++i) {
        torch::Tensor p;
        inner.read("best_parameters/" + std::to_string(i), p);
        extras.best_parameters.push_back(p);
      }
    }
    extras.position = {position[0].item<int64_t>(), position[1].item<int64_t>(),
                       loss_sum[0].item<double>(), position[2].item<int64_t>(),
                       loss_sum.numel() > 1 ? loss_sum[1].item<double>() : 0.0};
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path +
                             "' cannot be read (truncated, corrupted, or saved by a different "
                             "model): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path + "' cannot be used: " + e.what());
  }
  return extras;
}

}  // namespace lstmlab
