// The training loop on tiny sine runs: that both layers learn, that the train loss is Keras'
// sample-weighted figure, that a seed fixes a run bit for bit, that a stopped run resumes to the
// same parameters as a straight one, that a NaN loss stops without touching the last checkpoint,
// and what a run directory holds (metrics.csv, config.json, plots or a note).

#include "app/train/run_config.h"
#include "app/train/train_run.h"
#include "app/train/trainer.h"
#include "data/batch_loader.h"
#include "data/sine_waves.h"
#include "app/tasks/registry.h"
#include "tests/run_helpers.h"
#include "tests/sine_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using lstmlab::EpochMetrics;
using lstmlab::LayerKind;
using lstmlab::RunConfig;
using lstmlab::RunRequest;
using lstmlab::RunResult;

class Trainer : public ::testing::Test {
 protected:
  // A stop request is process-wide; no test may leave one behind for the next.
  void SetUp() override { lstmlab::clear_stop_request(); }
  void TearDown() override { lstmlab::clear_stop_request(); }

  std::string run_dir(const std::string& name) { return paths_.path(name); }

 private:
  lstmlab::test::TempPaths paths_;
};

/// 120 points, windows of 10: 88 train, 11 validation, 11 test windows.
RunConfig tiny_config(LayerKind kind) {
  RunConfig c;
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 120; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.seq_len = 10; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.test_fraction = 0.2; });
  c.model.kind = kind;
  c.model.hidden = 8;
  c.train.epochs = 3;
  c.train.lr = 0.01;
  c.train.dtype = "float64";
  return c;
}

RunResult run(const RunConfig& config, const std::string& dir, lstmlab::TrainerHooks hooks = {}) {
  return lstmlab::test::quiet_run(config, dir, false, std::move(hooks));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string kind_name(LayerKind kind) { return lstmlab::to_string(kind); }

// ----- 1. Both layers learn ------------------------------------------------------------------

// 30 full-batch Adam steps take the validation loss from ~0.47 to ~3e-3 (a factor of 130 to 180
// when measured); the bound asks for a factor of 5.
TEST_F(Trainer, TinySineRunLearnsWithBothLayers) {
  for (auto kind : {LayerKind::Scratch, LayerKind::Builtin}) {
    SCOPED_TRACE(kind_name(kind));
    auto c = tiny_config(kind);
    lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 200; });
    lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.seq_len = 20; });
    c.model.hidden = 16;
    c.train.lr = 0.02;
    c.train.epochs = 30;
    const auto result = run(c, run_dir(kind_name(kind)));
    ASSERT_EQ(result.history.size(), 30u);
    const double first = result.history.front().val_loss;
    const double last = result.history.back().val_loss;
    ASSERT_TRUE(std::isfinite(first) && std::isfinite(last)) << first << " " << last;
    EXPECT_LE(last, first / 5) << "first-epoch validation loss " << first << ", final " << last;
    EXPECT_FALSE(result.stopped);
    EXPECT_TRUE(std::isfinite(lstmlab::metric_value(result.evaluation.metrics, "rmse")));
  }
}

// ----- 2. The train loss is the Keras figure -------------------------------------------------

// 43 points, windows of 10: 26 train windows, so batches of 4 end with a batch of 2 and a plain
// mean of the batch losses differs from the sample-weighted one.
TEST_F(Trainer, TrainLossIsSampleWeightedMeanOfBatchLossesBeforeTheirSteps) {
  auto c = tiny_config(LayerKind::Scratch);
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 43; });
  c.train.batch_size = 4;
  c.train.shuffle = true;
  c.train.epochs = 2;
  const auto result = run(c, run_dir("run"));
  ASSERT_EQ(result.history.size(), 2u);

  // The same run by hand: seeded model, the loader's order, each batch's loss before its step.
  lstmlab::SineWaves data(lstmlab::sine_options(c));
  ASSERT_EQ(data.size(lstmlab::Split::Train), 26);
  torch::manual_seed(c.train.seed);
  const auto task = lstmlab::make_task(c);
  auto model = task->make_model(c.model);
  model->to(torch::kDouble);
  model->train();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(c.train.lr));
  lstmlab::BatchLoader loader(data, lstmlab::Split::Train,
                              {c.train.batch_size, true, c.train.seed, torch::kCPU, torch::kDouble});
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    double weighted = 0, plain = 0;
    int64_t count = 0;
    const auto batches = loader.epoch(epoch);
    ASSERT_EQ(batches.size(), 7u);
    for (const auto& batch : batches) {
      const auto loss = torch::mse_loss(model->forward(batch.input), batch.target);
      const double value = loss.item<double>();
      weighted += value * static_cast<double>(batch.input.size(0));
      plain += value;
      count += batch.input.size(0);
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
    ASSERT_EQ(count, 26);
    const double keras = weighted / static_cast<double>(count);
    plain /= static_cast<double>(batches.size());
    const double reported = result.history[static_cast<size_t>(epoch)].train_loss;
    EXPECT_NEAR(reported, keras, 1e-12 * std::abs(keras)) << "epoch " << epoch + 1;
    // The check can tell the two means apart.
    EXPECT_GT(std::abs(keras - plain), 1e-9 * std::abs(keras)) << "epoch " << epoch + 1;
  }
}

// ----- 3. A seed fixes a run -----------------------------------------------------------------

TEST_F(Trainer, SameSeedGivesIdenticalHistoryBitForBit) {
  auto c = tiny_config(LayerKind::Scratch);
  c.model.layers = 2;
  c.model.dropout = 0.3;  // dropout draws from the seeded generator too
  c.train.batch_size = 16;
  c.train.shuffle = true;
  c.train.seed = 7;
  const auto a = run(c, run_dir("a"));
  torch::manual_seed(999);  // whatever the generator did in between
  const auto b = run(c, run_dir("b"));
  ASSERT_EQ(a.history.size(), 3u);
  ASSERT_EQ(b.history.size(), 3u);
  for (size_t i = 0; i < a.history.size(); ++i) {
    SCOPED_TRACE("epoch " + std::to_string(i + 1));
    EXPECT_EQ(a.history[i].epoch, b.history[i].epoch);
    EXPECT_EQ(a.history[i].train_loss, b.history[i].train_loss);
    EXPECT_EQ(a.history[i].val_loss, b.history[i].val_loss);
    EXPECT_EQ(lstmlab::metric_value(a.history[i].val_metrics, "rmse"), lstmlab::metric_value(b.history[i].val_metrics, "rmse"));
    EXPECT_EQ(lstmlab::metric_value(a.history[i].val_metrics, "mae"), lstmlab::metric_value(b.history[i].val_metrics, "mae"));
  }
  EXPECT_EQ(lstmlab::metric_value(a.evaluation.metrics, "rmse"), lstmlab::metric_value(b.evaluation.metrics, "rmse"));

  // And the seed matters: another one gives another run.
  c.train.seed = 8;
  const auto other = run(c, run_dir("other"));
  ASSERT_EQ(other.history.size(), 3u);
  EXPECT_NE(other.history[0].train_loss, a.history[0].train_loss);
}

// ----- 4. Resume after a stop ----------------------------------------------------------------

// Run A goes straight through; run B is stopped after step 2 of the second epoch (batches of 8,
// shuffled) and resumed from its checkpoint. Every parameter must end bit-for-bit equal.
TEST_F(Trainer, ResumeAfterStopReachesTheSameParametersBitForBit) {
  for (auto kind : {LayerKind::Scratch, LayerKind::Builtin}) {
    SCOPED_TRACE(kind_name(kind));
    lstmlab::clear_stop_request();
    auto c = tiny_config(kind);
    c.train.batch_size = 8;
    c.train.shuffle = true;
    c.model.dropout = 0;
    c.train.epochs = 3;

    const auto a = run(c, run_dir(kind_name(kind) + "_a"));
    ASSERT_FALSE(a.stopped);
    ASSERT_EQ(a.history.size(), 3u);

    const auto dir_b = run_dir(kind_name(kind) + "_b");
    int64_t steps_seen = 0;
    lstmlab::TrainerHooks hooks;
    hooks.after_step = [&](int64_t epoch, int64_t step) {
      ++steps_seen;
      // The two steps before the stop take 80 ms or more: the resumed epoch must count them.
      if (epoch == 1) std::this_thread::sleep_for(std::chrono::milliseconds(40));
      if (epoch == 1 && step == 2) lstmlab::request_stop();
    };
    const auto stopped = run(c, dir_b, hooks);
    EXPECT_TRUE(stopped.stopped);
    ASSERT_EQ(stopped.history.size(), 1u) << "only the first epoch is complete";
    EXPECT_EQ(steps_seen, 11 + 2) << "88 windows in batches of 8: 11 steps, then 2";
    EXPECT_TRUE(fs::exists(dir_b + "/checkpoint.pt"));
    EXPECT_FALSE(fs::exists(dir_b + "/checkpoint.pt.tmp"));
    lstmlab::clear_stop_request();

    RunRequest resume;
    resume.config = c;
    resume.run_dir = dir_b;
    resume.resume = true;
    resume.quiet = true;
    resume.plots = false;
    std::ostringstream log;
    const auto b = train_run(resume, log);
    ASSERT_FALSE(b.stopped);
    ASSERT_EQ(b.history.size(), 3u);

    auto pa = a.model->named_parameters();
    auto pb = b.model->named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    ASSERT_GT(pa.size(), 0u);
    for (const auto& item : pa) {
      ASSERT_TRUE(pb.contains(item.key())) << item.key();
      EXPECT_TRUE(torch::equal(item.value(), pb[item.key()]))
          << item.key() << " differs by up to "
          << (item.value() - pb[item.key()]).abs().max().item<double>();
    }
    for (size_t i = 0; i < 3; ++i) {
      SCOPED_TRACE("epoch " + std::to_string(i + 1));
      EXPECT_EQ(a.history[i].epoch, b.history[i].epoch);
      EXPECT_EQ(a.history[i].train_loss, b.history[i].train_loss);  // epoch 2 spans the stop
      EXPECT_EQ(a.history[i].val_loss, b.history[i].val_loss);
    }
    EXPECT_EQ(read_lines(dir_b + "/metrics.csv").size(), 4u);
    EXPECT_GE(b.history[1].train_seconds, 0.08) << "the seconds before the stop were lost";
    EXPECT_NEAR(b.history[1].examples_per_s * b.history[1].train_seconds, 88.0, 1e-6);
  }
}

// ----- 5. A NaN loss -------------------------------------------------------------------------

// After the first epoch's checkpoint, the head weight is set to NaN: step 2 of epoch 2 must stop
// with NonFiniteLoss naming both, and neither the checkpoint nor metrics.csv may change.
TEST_F(Trainer, NonFiniteLossStopsNamingEpochAndStepAndKeepsTheLastCheckpoint) {
  auto c = tiny_config(LayerKind::Scratch);
  c.train.batch_size = 8;
  lstmlab::SineWaves data(lstmlab::sine_options(c));
  torch::manual_seed(c.train.seed);
  const auto task = lstmlab::make_task(c);
  auto model = task->make_model(c.model);
  const auto dir = run_dir("run");

  std::string checkpoint_before, metrics_before;
  lstmlab::TrainerHooks hooks;
  hooks.after_step = [&](int64_t epoch, int64_t step) {
    if (epoch == 1 && step == 1) {
      checkpoint_before = read_file(dir + "/checkpoint.pt");
      metrics_before = read_file(dir + "/metrics.csv");
      torch::NoGradGuard no_grad;
      for (auto& p : model->named_parameters()) {
        if (p.key() == "head.weight") p.value().fill_(std::numeric_limits<double>::quiet_NaN());
      }
    }
  };
  std::ostringstream log;
  lstmlab::Trainer trainer(model, *task, c, dir, log, true, "", hooks);
  std::string message;
  try {
    trainer.fit();
    ADD_FAILURE() << "fit() finished with a NaN head weight";
  } catch (const lstmlab::NonFiniteLoss& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("epoch 2"), std::string::npos) << message;
  EXPECT_NE(message.find("step 2"), std::string::npos) << message;
  EXPECT_NE(message.find("nan"), std::string::npos) << message;
  ASSERT_FALSE(checkpoint_before.empty()) << "no checkpoint after the first epoch";
  EXPECT_TRUE(read_file(dir + "/checkpoint.pt") == checkpoint_before)
      << "the last good checkpoint was overwritten";
  EXPECT_EQ(read_file(dir + "/metrics.csv"), metrics_before);
  EXPECT_EQ(read_lines(dir + "/metrics.csv").size(), 2u);
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.pt.tmp"));
  EXPECT_EQ(trainer.history().size(), 1u);
}

// ----- 6. What a run directory holds ---------------------------------------------------------

void expect_same_config(const RunConfig& a, const RunConfig& b) {
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(lstmlab::sine_options(a).points, lstmlab::sine_options(b).points);
  EXPECT_EQ(lstmlab::sine_options(a).x_start, lstmlab::sine_options(b).x_start);
  EXPECT_EQ(lstmlab::sine_options(a).x_end, lstmlab::sine_options(b).x_end);
  EXPECT_EQ(lstmlab::sine_options(a).seq_len, lstmlab::sine_options(b).seq_len);
  EXPECT_EQ(lstmlab::sine_options(a).noise, lstmlab::sine_options(b).noise);
  EXPECT_EQ(lstmlab::sine_options(a).noise_seed, lstmlab::sine_options(b).noise_seed);
  EXPECT_EQ(lstmlab::sine_options(a).test_fraction, lstmlab::sine_options(b).test_fraction);
  EXPECT_EQ(a.model.kind, b.model.kind);
  EXPECT_EQ(a.model.hidden, b.model.hidden);
  EXPECT_EQ(a.model.layers, b.model.layers);
  EXPECT_EQ(a.model.dropout, b.model.dropout);
  EXPECT_EQ(a.model.activation, b.model.activation);
  EXPECT_EQ(a.model.init, b.model.init);
  EXPECT_EQ(a.model.backward, b.model.backward);
  EXPECT_EQ(a.train.loss, b.train.loss);
  EXPECT_EQ(a.train.optimizer, b.train.optimizer);
  EXPECT_EQ(a.train.lr, b.train.lr);
  EXPECT_EQ(a.train.epochs, b.train.epochs);
  EXPECT_EQ(a.train.batch_size, b.train.batch_size);
  EXPECT_EQ(a.train.shuffle, b.train.shuffle);
  EXPECT_EQ(a.train.clip, b.train.clip);
  EXPECT_EQ(a.train.seed, b.train.seed);
  EXPECT_EQ(a.train.device, b.train.device);
  EXPECT_EQ(a.train.dtype, b.train.dtype);
}

// Every field away from its default, so a field that is dropped or swapped shows.
TEST_F(Trainer, MetricsCsvHasOneRowPerEpochAndConfigJsonRoundTrips) {
  RunConfig c;
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 130; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.x_start = 0.25; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.x_end = 40.1; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.seq_len = 10; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.noise = 0.01; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.noise_seed = 7; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.test_fraction = 0.3; });
  c.model.kind = LayerKind::Scratch;
  c.model.hidden = 6;
  c.model.layers = 2;
  c.model.dropout = 0.1;
  c.model.activation = lstmlab::Activation::Relu;
  c.model.init = lstmlab::InitScheme::Keras;
  c.model.backward = lstmlab::ScratchBackward::Autograd;
  c.train.loss = "mae";
  c.train.optimizer = "sgd";
  c.train.lr = 0.003;
  c.train.epochs = 4;
  c.train.batch_size = 16;
  c.train.shuffle = true;
  c.train.clip = 0.5;
  c.train.seed = 12345678901234567890ull;  // above 2^63
  c.train.device = "cpu";
  c.train.dtype = "float64";

  {
    SCOPED_TRACE("run_config_from_json(to_json(c))");
    expect_same_config(lstmlab::run_config_from_json(lstmlab::to_json(c), "memory"), c);
  }

  const auto dir = run_dir("run");
  const auto result = run(c, dir);
  ASSERT_EQ(result.history.size(), 4u);

  const auto lines = read_lines(dir + "/metrics.csv");
  ASSERT_EQ(lines.size(), 1u + 4u) << "a header and one row per epoch";
  EXPECT_EQ(lines[0].rfind("epoch,train_loss,val_loss", 0), 0u) << lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    std::stringstream row(lines[i]);
    std::string epoch, train_loss;
    std::getline(row, epoch, ',');
    std::getline(row, train_loss, ',');
    EXPECT_EQ(epoch, std::to_string(i));
    EXPECT_EQ(std::stod(train_loss), result.history[i - 1].train_loss) << "row " << i;
  }

  std::ifstream in(dir + "/config.json");
  ASSERT_TRUE(in) << "no config.json in " << dir;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(in));
  SCOPED_TRACE("config.json");
  expect_same_config(lstmlab::run_config_from_json(j, dir + "/config.json"), c);
}

// The one test with plots on: each is drawn (the PNG exists) or a note says how to get it.
TEST_F(Trainer, PlotsAreDrawnOrANoteSaysHowToGetThem) {
  auto c = tiny_config(LayerKind::Builtin);
  c.train.epochs = 2;
  const auto dir = run_dir("run");
  RunRequest request;
  request.config = c;
  request.run_dir = dir;
  request.quiet = true;
  request.plots = true;
  std::ostringstream log;
  const auto result = train_run(request, log);
  ASSERT_EQ(result.notes.size(), 2u) << "loss and predictions";
  for (const auto& note : result.notes) {
    const bool drawn = note.rfind("plot: ", 0) == 0;
    if (drawn) {
      const auto png = note.substr(6);
      EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 0) << note;
    } else {
      EXPECT_NE(note.find("gnuplot"), std::string::npos) << "neither drawn nor explained: " << note;
    }
  }
  EXPECT_TRUE(fs::exists(dir + "/loss.gp"));
  EXPECT_TRUE(fs::exists(dir + "/predictions.gp"));
  EXPECT_TRUE(fs::exists(dir + "/predictions.csv"));
}

}  // namespace
