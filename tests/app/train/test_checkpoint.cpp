// checkpoint.pt: a round trip restores weights, optimizer state, position, RNG and history; the
// save leaves no temporary file; a missing, truncated, corrupted or foreign file is refused with a
// message naming it; and an unwritable run directory fails before any training.

#include "app/train/checkpoint.h"
#include "app/train/run_config.h"
#include "app/train/train_run.h"
#include "app/train/trainer.h"
#include "data/sine_waves.h"
#include "app/tasks/registry.h"
#include "tests/sine_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using lstmlab::CheckpointExtras;
using lstmlab::LayerKind;
using lstmlab::RunConfig;

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = paths_.path("checkpoint");
    fs::create_directories(dir_);
    lstmlab::test::edit_sine(config_, [&](lstmlab::SineOptions& s) { s.points = 120; });
    lstmlab::test::edit_sine(config_, [&](lstmlab::SineOptions& s) { s.seq_len = 10; });
    config_.model.kind = LayerKind::Scratch;
    config_.model.hidden = 8;
    config_.train.dtype = "float64";
    config_.train.epochs = 2;
  }
  lstmlab::SequenceModelPtr model(uint64_t seed) const {
    torch::manual_seed(seed);
    auto m = lstmlab::make_task(config_)->make_model(config_.model);
    m->to(torch::kDouble);
    return m;
  }

  /// One Adam step on a fixed batch, so the optimizer has state worth saving.
  static void adam_step(lstmlab::SequenceModelImpl& m, torch::optim::Optimizer& optimizer,
                        const lstmlab::Batch& batch) {
    optimizer.zero_grad();
    torch::mse_loss(m.forward(batch.input), batch.target).backward();
    optimizer.step();
  }

  lstmlab::Batch batch() const {
    auto b = data_.examples(lstmlab::Split::Train, torch::arange(0, 16, torch::kLong));
    return {b.input.to(torch::kDouble), b.target.to(torch::kDouble)};
  }

  /// A saved checkpoint of `m` (by default a fresh one) after one Adam step.
  std::string saved_checkpoint(lstmlab::SequenceModelPtr m = nullptr) {
    if (!m) m = model(1);
    torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(0.01));
    adam_step(*m, adam, batch());
    const auto path = dir_ + "/checkpoint.pt";
    CheckpointExtras extras;
    extras.position.epoch = 1;
    extras.rng_state = at::detail::getDefaultCPUGenerator().get_state();
    extras.history = torch::zeros({1, 7}, torch::kDouble);
    lstmlab::save_checkpoint(path, *m, adam, extras);
    return path;
  }

  /// load_checkpoint into a fresh model; the std::runtime_error's message, or "" (with a failure).
  std::string load_error(const std::string& path) {
    auto m = model(2);
    torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(0.01));
    try {
      lstmlab::load_checkpoint(path, *m, &adam);
    } catch (const std::runtime_error& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a std::runtime_error: " << e.what();
      return "";
    } catch (...) {
      ADD_FAILURE() << "threw something that is not a std::exception";
      return "";
    }
    ADD_FAILURE() << "loaded " << path << " without complaint";
    return "";
  }

  /// Writes `count` bytes of garbage at `offset`, keeping the size.
  static void overwrite(const std::string& path, uintmax_t offset, int count) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    for (int i = 0; i < count; ++i) f.put(static_cast<char>((i * 37 + 11) & 0xff));
    ASSERT_TRUE(f.good()) << path;
  }

  lstmlab::test::TempPaths paths_;
  std::string dir_;
  RunConfig config_;
  lstmlab::SineWaves data_{[] {
    lstmlab::SineOptions o;
    o.points = 120;
    o.seq_len = 10;
    return o;
  }()};
};

TEST_F(Checkpoint, RoundTripRestoresEverythingAndLeavesNoTemporaryFile) {
  auto a = model(1);
  torch::optim::Adam adam_a(a->parameters(), torch::optim::AdamOptions(0.01));
  const auto b1 = batch();
  adam_step(*a, adam_a, b1);

  CheckpointExtras extras;
  extras.position = {3, 5, 1.25, 40};
  torch::manual_seed(77);
  extras.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  extras.history = torch::rand({3, 7}, torch::kDouble);
  const auto path = dir_ + "/checkpoint.pt";
  lstmlab::save_checkpoint(path, *a, adam_a, extras);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp")) << "the temporary file was left behind";
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "checkpoint.pt") << "stray file " << entry.path();
  }

  auto b = model(2);  // other initial weights
  torch::optim::Adam adam_b(b->parameters(), torch::optim::AdamOptions(0.01));
  const auto loaded = lstmlab::load_checkpoint(path, *b, &adam_b);
  EXPECT_EQ(loaded.position.epoch, 3);
  EXPECT_EQ(loaded.position.step, 5);
  EXPECT_EQ(loaded.position.loss_sum, 1.25);
  EXPECT_EQ(loaded.position.loss_count, 40);
  EXPECT_TRUE(torch::equal(loaded.rng_state, extras.rng_state));
  EXPECT_TRUE(torch::equal(loaded.history, extras.history));
  auto pa = a->named_parameters();
  for (const auto& item : b->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), pa[item.key()])) << item.key();
  }

  // The optimizer state came back too: one more identical step keeps the two equal (Adam's step
  // count and moments decide the update).
  adam_step(*a, adam_a, b1);
  adam_step(*b, adam_b, b1);
  for (const auto& item : b->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), pa[item.key()])) << item.key() << " after a step";
  }
}

TEST_F(Checkpoint, MissingFileIsNamed) {
  const auto path = dir_ + "/no-such-checkpoint.pt";
  const auto message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST_F(Checkpoint, TruncatedFileIsRefusedNamingIt) {
  const auto path = saved_checkpoint();
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 100u);
  fs::resize_file(path, size / 2);
  const auto message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

// The end of the file is the payload archive's central directory.
TEST_F(Checkpoint, CorruptedArchiveIsRefusedNamingIt) {
  const auto path = saved_checkpoint();
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 1000u);
  overwrite(path, size - 200, 200);
  EXPECT_EQ(fs::file_size(path), size);
  const auto message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

// Garbage in the middle of the file (the brief's case: it lands in the last tensor records and
// the zip header after them).
TEST_F(Checkpoint, CorruptedFileIsRefusedNamingIt) {
  const auto path = saved_checkpoint();
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 1000u);
  overwrite(path, size / 2 - 256, 512);
  EXPECT_EQ(fs::file_size(path), size);
  const auto message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

// 16 bytes flipped at each of 40 places spread over the whole file -- the header, zip headers, the
// weights, Adam's moments, the position, the RNG state -- must each be refused, naming the file:
// LibTorch does not verify what it reads, so the checkpoint carries its own checksum over every
// byte after the header, and the header is checked field by field.
TEST_F(Checkpoint, CorruptionAnywhereIsRefusedNamingIt) {
  const auto saved = model(1);
  const auto clean = saved_checkpoint(saved);
  int refused = 0;
  std::ostringstream contents;
  contents << std::ifstream(clean, std::ios::binary).rdbuf();
  const std::string bytes = contents.str();
  ASSERT_GT(bytes.size(), 2000u);
  const auto path = dir_ + "/corrupted.pt";
  for (int k = 0; k < 40; ++k) {
    auto corrupted = bytes;
    const size_t at = (bytes.size() - 16) * static_cast<size_t>(k) / 39;
    for (size_t i = 0; i < 16; ++i) corrupted[at + i] = static_cast<char>(corrupted[at + i] ^ 0x5a);
    std::ofstream(path, std::ios::binary) << corrupted;
    auto m = model(2);
    torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(0.01));
    try {
      const auto extras = lstmlab::load_checkpoint(path, *m, &adam);
      const auto a = saved->parameters();
      const auto b = m->parameters();
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(torch::equal(a[i], b[i])) << "offset " << at << " changed a weight silently";
      }
      EXPECT_EQ(extras.position.epoch, 1) << "offset " << at;
    } catch (const std::runtime_error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos)
          << "offset " << at << ": " << e.what();
    }
  }
  EXPECT_EQ(refused, 40);
}

// Format 1 (a LibTorch archive around the payload), as `lstm-lab train --task sine --points 120
// --seq-len 10 --hidden 4 --epochs 2 --seed 7` wrote it before format 2: still read, into the
// model its config.json builds, with the position and history the run ended on.
TEST_F(Checkpoint, FormatOneCheckpointsStillLoad) {
  const std::string dir = std::string(LSTMLAB_FIXTURES) + "/run_checkpoint_format1";
  const auto recorded = lstmlab::read_run_config(dir);
  torch::manual_seed(0);
  auto m = lstmlab::make_task(recorded)->make_model(recorded.model);
  torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(0.01));
  const auto extras = lstmlab::load_checkpoint(dir + "/checkpoint.pt", *m, &adam);
  EXPECT_EQ(extras.position.epoch, 2);
  EXPECT_EQ(extras.position.step, 0);
  ASSERT_EQ(extras.history.size(0), 2);
  // metrics.csv's val_loss column, epoch 2.
  EXPECT_DOUBLE_EQ(extras.history[1][2].item<double>(), 0.60089468955993652);
}

// The header's fields: a payload length that is not the file's, a format number of 0 or above
// this lstm-lab's, each refused with what was wrong.
TEST_F(Checkpoint, HeaderFieldsAreChecked) {
  const auto path = saved_checkpoint();
  std::ostringstream contents;
  contents << std::ifstream(path, std::ios::binary).rdbuf();
  const std::string bytes = contents.str();
  ASSERT_EQ(bytes.compare(0, 20, "lstm-lab checkpoint\n"), 0);
  const auto with_field = [&](size_t at, uint64_t value) {
    auto edited = bytes;
    for (int i = 0; i < 8; ++i) edited[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << edited;
    return load_error(path);
  };
  EXPECT_NE(with_field(20, 0).find("not a positive integer"), std::string::npos);
  EXPECT_NE(with_field(20, 3).find("newer lstm-lab (checkpoint format 3; this one reads up to 2)"),
            std::string::npos);
  EXPECT_NE(with_field(28, bytes.size()).find("promises"), std::string::npos);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, 30);
  EXPECT_NE(load_error(path).find("ends inside its header"), std::string::npos);
}

// torch::serialize::InputArchive::read set_()s each parameter to the saved tensor, so without a
// check of its own a hidden-8 checkpoint would load into a hidden-5 model and fail only at the
// next forward, naming no file.
TEST_F(Checkpoint, CheckpointOfAnotherModelIsRefusedNamingIt) {
  const auto path = saved_checkpoint();
  config_.model.hidden = 5;  // another shape of every recurrent weight
  const auto message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

// A run directory under a regular file cannot be created, whoever runs the test (root included).
TEST_F(Checkpoint, UnwritableRunDirectoryFailsBeforeTraining) {
  const auto blocker = dir_ + "/a-file";
  std::ofstream(blocker) << "not a directory\n";
  const auto run_dir = blocker + "/run";

  auto m = model(1);
  int64_t steps = 0;
  lstmlab::TrainerHooks hooks;
  hooks.after_step = [&](int64_t, int64_t) { ++steps; };
  std::ostringstream log;
  std::string message;
  try {
    const auto task = lstmlab::make_task(config_);
    lstmlab::Trainer trainer(m, *task, config_, run_dir, log, true, "", hooks);
    trainer.fit();
    ADD_FAILURE() << "a run directory under a regular file was accepted";
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(run_dir), std::string::npos) << message;
  EXPECT_EQ(steps, 0) << "training started";

  // train_run says the same before its first step.
  lstmlab::RunRequest request;
  request.config = config_;
  request.run_dir = run_dir;
  request.quiet = true;
  request.plots = false;
  request.hooks = hooks;
  try {
    lstmlab::train_run(request, log);
    ADD_FAILURE() << "train_run accepted a run directory under a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(run_dir), std::string::npos) << e.what();
  }
  EXPECT_EQ(steps, 0) << "training started";
}

}  // namespace
