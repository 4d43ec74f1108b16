// A toy classification task, built here and driven through lstmlab::Trainer directly, to show that
// the trainer assumes no regression: integer class targets [n, T], a tagger's logits [B, T, V],
// cross-entropy counted in tokens, an accuracy metric, and a recurrent state carried from one
// batch to the next.
//
// The data, "delayed bits": a stream of fair random bits where the target at each step is the
// input bit K steps earlier. Each split is its own stream, laid out as language-model batching
// lays out a text: cut into B equal lanes (B parallel streams, B the batch size), each lane cut
// into consecutive chunks of T steps, and example j is chunk j / B of lane j % B. Read in order in
// batches of B, row i of batch k+1 is the chunk right after row i of batch k, so the state batch k
// ends in is where batch k+1 starts. The first K targets of a chunk are bits of the chunk before:
// only a carried state can get them right (a zero state guesses, one half right).
//
// The task is not in the CLI registry. The Trainer still records config.task and the task's
// options in config.json (app/train/run_config.cpp), so the configs here keep the default task
// name "sine", which the toy task ignores. The loss is the task's own: the Trainer checks
// config.train.loss against the losses the task names (cross_entropy), not against sine's.

#include "app/tasks/task.h"
#include "app/train/run_config.h"
#include "app/train/trainer.h"
#include "data/batch_loader.h"
#include "models/heads/sequence_tagger.h"
#include "tests/temp_paths.h"
#include "tests/test_helpers.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using lstmlab::Batch;
using lstmlab::BatchLoss;
using lstmlab::Dataset;
using lstmlab::LayerKind;
using lstmlab::Metric;
using lstmlab::MetricSpec;
using lstmlab::RecurrentState;
using lstmlab::RunConfig;
using lstmlab::SequenceModelPtr;
using lstmlab::SequenceOutput;
using lstmlab::Split;

constexpr int64_t kLanes = 8;  // B: the batch size, and the streams a split is cut into
constexpr int64_t kSteps = 8;  // T
constexpr int64_t kDelay = 2;  // K
constexpr int64_t kTrainChunks = 32;       // per lane: 32 batches an epoch, 8 x 8 = 64 tokens each
constexpr int64_t kValidationChunks = 16;  // per lane: 16 batches

// ----- The data ------------------------------------------------------------------------------

// input [n, T, 1] float64 (the bit), target [n, T] int64 (the bit K steps before).
class DelayedBits : public Dataset {
 public:
  DelayedBits() {
    splits_[Split::Train] = make(kTrainChunks, 11);
    splits_[Split::Validation] = make(kValidationChunks, 12);
    splits_[Split::Test] = make(0, 13);
  }

  std::string name() const override { return "delayed-bits"; }
  int64_t size(Split split) const override { return splits_.at(split).target.size(0); }
  Batch examples(Split split, const torch::Tensor& indices) const override {
    check_indices(split, indices);
    const auto& s = splits_.at(split);
    return {s.input.index_select(0, indices), s.target.index_select(0, indices)};
  }
  int64_t input_size() const override { return 1; }
  int64_t target_size() const override { return kSteps; }
  std::string describe() const override {
    return "delayed bits: " + std::to_string(size(Split::Train)) + " train and " +
           std::to_string(size(Split::Validation)) + " validation chunks of " +
           std::to_string(kSteps) + " steps, target = input " + std::to_string(kDelay) +
           " steps before";
  }

 private:
  // `chunks` per lane, from a private generator: the global one stays the model's.
  static Batch make(int64_t chunks, uint64_t seed) {
    const auto lane_length = chunks * kSteps;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    // K leading bits, so that every step has a bit K steps before it.
    const auto bits = torch::randint(0, 2, {kDelay + kLanes * lane_length}, generator, torch::kLong);
    const auto j = torch::arange(kLanes * chunks, torch::kLong);
    const auto lane = j.remainder(kLanes);
    const auto chunk = j.div(kLanes, "floor");
    // Where step t of example j lies in the stream, the leading bits not counted: [n, T].
    const auto where = (lane * lane_length + chunk * kSteps).unsqueeze(1) +
                       torch::arange(kSteps, torch::kLong).unsqueeze(0);
    return {bits.take(where + kDelay).to(torch::kDouble).unsqueeze(-1), bits.take(where)};
  }

  std::map<Split, Batch> splits_;
};

// ----- The task ------------------------------------------------------------------------------

// Correct predictions over the tokens seen: of every step, or of the first `steps` of each chunk.
class Accuracy : public Metric {
 public:
  explicit Accuracy(int64_t steps = 0) : steps_(steps) {}
  void update(const torch::Tensor& prediction, const torch::Tensor& target) override {
    auto p = prediction;  // [B, T, V]
    auto t = target;      // [B, T]
    if (steps_ > 0) {
      p = p.narrow(1, 0, steps_);
      t = t.narrow(1, 0, steps_);
    }
    correct_ += (p.argmax(-1) == t).sum().item<int64_t>();
    count_ += t.numel();
  }
  double compute() const override {
    if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>(correct_) / static_cast<double>(count_);
  }

 private:
  int64_t steps_;
  int64_t correct_ = 0;
  int64_t count_ = 0;
};

struct ToyOptions {
  bool carries_state = true;
  /// Adds "first_steps_accuracy": the accuracy on the first K steps of each chunk.
  bool first_steps_metric = false;
};

class DelayedBitsTask : public lstmlab::Task {
 public:
  explicit DelayedBitsTask(const DelayedBits& data, ToyOptions options = {})
      : data_(data), options_(options) {}

  const Dataset& data() const override { return data_; }
  SequenceModelPtr make_model(const lstmlab::ModelConfig& model) const override {
    return std::make_shared<lstmlab::SequenceTaggerImpl>(
        lstmlab::make_recurrent_layer(model, data_.input_size()), 2);
  }
  std::vector<lstmlab::LossSpec> losses() const override {
    return {{"cross_entropy", "cross-entropy"}};
  }
  // Cross-entropy over every token of the batch: logits [B*T, 2] against classes [B*T].
  BatchLoss loss(const torch::Tensor& prediction, const Batch& batch) const override {
    const auto target = batch.target.reshape({-1});
    auto mean = torch::nn::functional::cross_entropy(prediction.reshape({-1, prediction.size(-1)}),
                                                     target);
    if (mean.requires_grad()) train_losses.emplace_back(mean.item<double>(), target.numel());
    return {mean, target.numel()};
  }
  std::vector<MetricSpec> metrics() const override {
    std::vector<MetricSpec> specs = {{"accuracy", "accuracy"}};
    if (options_.first_steps_metric) specs.push_back({"first_steps_accuracy", "first-K accuracy"});
    return specs;
  }
  std::vector<std::unique_ptr<Metric>> make_metrics() const override {
    std::vector<std::unique_ptr<Metric>> m;
    m.push_back(std::make_unique<Accuracy>());
    if (options_.first_steps_metric) m.push_back(std::make_unique<Accuracy>(kDelay));
    return m;
  }
  std::string count_unit() const override { return "tokens"; }
  bool carries_state() const override { return options_.carries_state; }

  /// Each training batch's (loss, count), before its step: the losses computed with the graph.
  mutable std::vector<std::pair<double, int64_t>> train_losses;

 private:
  const DelayedBits& data_;
  ToyOptions options_;
};

// ----- A model that records what the trainer hands it ----------------------------------------

struct RunCall {
  bool training = false;    ///< the module's mode: fit's batches, not evaluate's
  bool got_state = false;
  bool state_requires_grad = false;
  bool continues_last = false;  ///< the state holds the values the call before returned
  RecurrentState state;         ///< what it was given
};

class StateRecorderImpl : public lstmlab::SequenceModelImpl {
 public:
  explicit StateRecorderImpl(SequenceModelPtr inner)
      : SequenceModelImpl("StateRecorder"), inner_(register_module("inner", std::move(inner))) {}

  SequenceOutput run(const torch::Tensor& input,
                     const std::optional<RecurrentState>& state) override {
    RunCall call;
    call.training = is_training();
    call.got_state = state.has_value();
    if (state) {
      call.state = *state;
      call.state_requires_grad = state->h.requires_grad() ||
                                 (state->c.defined() && state->c.requires_grad());
      call.continues_last = last_.h.defined() && torch::equal(state->h, last_.h) &&
                            state->c.defined() == last_.c.defined() &&
                            (!last_.c.defined() || torch::equal(state->c, last_.c));
    }
    calls.push_back(call);
    auto out = inner_->run(input, state);
    last_ = {out.state.h.detach(), out.state.c.defined() ? out.state.c.detach() : out.state.c};
    return out;
  }
  lstmlab::RecurrentLayerImpl& recurrent() override { return inner_->recurrent(); }
  /// The state the last call ended in, detached.
  const RecurrentState& last_state() const { return last_; }

  std::vector<RunCall> calls;

 private:
  SequenceModelPtr inner_;
  RecurrentState last_;
};

// ----- Helpers -------------------------------------------------------------------------------

RunConfig toy_config(LayerKind kind, int64_t epochs) {
  RunConfig c;  // task "sine": see the file comment
  c.train.loss = "cross_entropy";
  c.model.kind = kind;
  c.model.hidden = 16;
  c.train.epochs = epochs;
  c.train.batch_size = kLanes;  // the lanes: batch k+1 continues batch k row by row
  c.train.shuffle = false;
  c.train.lr = 0.02;
  c.train.dtype = "float32";
  return c;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream row(line);
  for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
  return fields;
}

class ToyTask : public ::testing::Test {
 protected:
  // A stop request is process-wide; no test may leave one behind for the next.
  void SetUp() override { lstmlab::clear_stop_request(); }
  void TearDown() override { lstmlab::clear_stop_request(); }

  std::string run_dir(const std::string& name) { return paths_.path(name); }

  DelayedBits data_;
  std::ostringstream log_;

 private:
  lstmlab::test::TempPaths paths_;
};

TEST_F(ToyTask, TheLayoutContinuesEachRowAndTheLoaderKeepsIntegerTargets) {
  const lstmlab::BatchLoader loader(data_, Split::Train,
                                    {kLanes, false, 0, torch::kCPU, torch::kFloat32});
  const auto batches = loader.epoch(0);
  ASSERT_EQ(batches.size(), static_cast<size_t>(kTrainChunks));
  for (size_t k = 0; k < batches.size(); ++k) {
    SCOPED_TRACE("batch " + std::to_string(k));
    const auto& b = batches[k];
    EXPECT_EQ(b.input.scalar_type(), torch::kFloat32);
    EXPECT_EQ(b.target.scalar_type(), torch::kLong) << "class indices must stay integers";
    ASSERT_EQ(b.target.sizes(), torch::IntArrayRef({kLanes, kSteps}));
    const auto bits = b.input.squeeze(-1).to(torch::kLong);
    // Within a chunk, the target is the input K steps before.
    EXPECT_TRUE(torch::equal(b.target.narrow(1, kDelay, kSteps - kDelay),
                             bits.narrow(1, 0, kSteps - kDelay)));
    // Across batches, row i's first K targets are the last K inputs of row i one batch before.
    if (k > 0) {
      const auto before = batches[k - 1].input.squeeze(-1).to(torch::kLong);
      EXPECT_TRUE(torch::equal(b.target.narrow(1, 0, kDelay),
                               before.narrow(1, kSteps - kDelay, kDelay)));
    }
  }
}

// ----- (a), (d): it learns, and the first steps of a chunk only with the carried state -------

// Both layers reach a validation accuracy of 0.95 or more in 6 epochs of 32 steps. A model that
// never sees the carried state cannot: it guesses the first K steps of every chunk, which caps
// its accuracy near 1 - K / (2T) = 0.875. Evaluated again without carrying, the same trained
// model's accuracy on those first steps falls to a guess. (The first chunk of each lane has no
// chunk before it, so even a carried state guesses there: 1 validation chunk in 16, which leaves
// the first steps at least 15/16 right for a model that has learnt the task.)
TEST_F(ToyTask, LearnsToHighAccuracyAndTheFirstStepsNeedTheCarriedState) {
  for (auto kind : {LayerKind::Scratch, LayerKind::Builtin}) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    const auto config = toy_config(kind, 6);
    const DelayedBitsTask task(data_);
    torch::manual_seed(config.train.seed);
    const auto model = task.make_model(config.model);
    lstmlab::Trainer trainer(model, task, config, run_dir(lstmlab::to_string(kind)), log_, true);
    const auto& history = trainer.fit();
    ASSERT_EQ(history.size(), 6u);
    const double accuracy = lstmlab::metric_value(history.back().val_metrics, "accuracy");
    EXPECT_GE(accuracy, 0.95) << "final validation accuracy";
    EXPECT_LT(history.back().train_loss, history.front().train_loss);

    const DelayedBitsTask carrying(data_, {true, true});
    const DelayedBitsTask not_carrying(data_, {false, true});
    lstmlab::Trainer with(model, carrying, config, run_dir("with"), log_, true);
    lstmlab::Trainer without(model, not_carrying, config, run_dir("without"), log_, true);
    const auto a = with.evaluate(Split::Validation);
    const auto b = without.evaluate(Split::Validation);
    const double first_with = lstmlab::metric_value(a.metrics, "first_steps_accuracy");
    const double first_without = lstmlab::metric_value(b.metrics, "first_steps_accuracy");
    EXPECT_EQ(lstmlab::metric_value(a.metrics, "accuracy"), accuracy) << "the same evaluation";
    EXPECT_GE(first_with, 0.9) << "first " << kDelay << " steps, state carried";
    EXPECT_LE(first_without, 0.75) << "first " << kDelay << " steps from zeros";
    EXPECT_LT(lstmlab::metric_value(b.metrics, "accuracy"), accuracy - 0.05);
  }
}

// ----- (b): metrics.csv takes its columns from the task; the train loss counts tokens --------

TEST_F(ToyTask, TheTrainerTakesTheTasksLossesAndRefusesSines) {
  auto config = toy_config(LayerKind::Scratch, 1);
  const DelayedBitsTask task(data_);
  config.train.loss = "mse";  // sine's default: no loss of a classification task
  const auto message = lstmlab::test::thrown_message<std::invalid_argument>([&] {
    lstmlab::Trainer trainer(task.make_model(config.model), task, config, run_dir("mse"), log_,
                             true);
  });
  EXPECT_NE(message.find("--loss 'mse'"), std::string::npos) << message;
  EXPECT_NE(message.find("(allowed: cross_entropy)"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(run_dir("mse"))) << "refused before the run directory";
}

TEST_F(ToyTask, MetricsCsvHasTheTasksColumnsAndTheTokenWeightedTrainLoss) {
  const auto config = toy_config(LayerKind::Scratch, 2);
  const DelayedBitsTask task(data_);
  torch::manual_seed(config.train.seed);
  const auto dir = run_dir("run");
  lstmlab::Trainer trainer(task.make_model(config.model), task, config, dir, log_, true);
  const auto& history = trainer.fit();
  ASSERT_EQ(history.size(), 2u);

  const auto lines = read_lines(dir + "/metrics.csv");
  ASSERT_EQ(lines.size(), 3u) << "a header and one row per epoch";
  EXPECT_EQ(lines[0], "epoch,train_loss,val_loss,val_accuracy,lr,train_seconds,tokens_per_s");

  ASSERT_EQ(task.train_losses.size(), static_cast<size_t>(2 * kTrainChunks));
  const int64_t tokens = kLanes * kTrainChunks * kSteps;
  for (size_t e = 0; e < 2; ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e + 1));
    double sum = 0;
    int64_t count = 0;
    for (size_t s = 0; s < static_cast<size_t>(kTrainChunks); ++s) {
      const auto& [loss, n] = task.train_losses[e * kTrainChunks + s];
      EXPECT_EQ(n, kLanes * kSteps) << "a batch's count is its tokens, B*T";
      sum += loss * static_cast<double>(n);
      count += n;
    }
    ASSERT_EQ(count, tokens);
    const double weighted = sum / static_cast<double>(count);
    EXPECT_NEAR(history[e].train_loss, weighted, 1e-12 * weighted);
    // The rate counts tokens: tokens_per_s times the seconds is the epoch's tokens.
    EXPECT_NEAR(history[e].examples_per_s * history[e].train_seconds, static_cast<double>(tokens),
                1e-6 * static_cast<double>(tokens));

    const auto row = split_csv(lines[e + 1]);
    ASSERT_EQ(row.size(), 7u) << lines[e + 1];
    EXPECT_EQ(row[0], std::to_string(e + 1));
    EXPECT_EQ(std::stod(row[1]), history[e].train_loss);
    EXPECT_EQ(std::stod(row[2]), history[e].val_loss);
    EXPECT_EQ(std::stod(row[3]), lstmlab::metric_value(history[e].val_metrics, "accuracy"));
  }
}

// ----- (c): the state really is carried ------------------------------------------------------

// Every epoch and every evaluation starts from zeros; every other batch gets the state the batch
// before it ended in, with the values it returned and cut from its graph.
TEST_F(ToyTask, EachBatchButTheFirstOfAPassGetsTheLastStateDetached) {
  for (auto kind : {LayerKind::Scratch, LayerKind::Builtin}) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    const auto config = toy_config(kind, 2);
    const DelayedBitsTask task(data_);
    torch::manual_seed(config.train.seed);
    const auto recorder = std::make_shared<StateRecorderImpl>(task.make_model(config.model));
    lstmlab::Trainer trainer(recorder, task, config, run_dir(lstmlab::to_string(kind)), log_, true);
    trainer.fit();
    trainer.evaluate(Split::Validation);

    // Two epochs of (32 training batches, 16 validation batches), then one more evaluation.
    std::vector<std::pair<bool, int64_t>> passes = {{true, kTrainChunks}, {false, kValidationChunks},
                                                    {true, kTrainChunks}, {false, kValidationChunks},
                                                    {false, kValidationChunks}};
    size_t i = 0;
    for (size_t p = 0; p < passes.size(); ++p) {
      const auto [training, batches] = passes[p];
      for (int64_t b = 0; b < batches; ++b, ++i) {
        SCOPED_TRACE("pass " + std::to_string(p) + ", batch " + std::to_string(b));
        ASSERT_LT(i, recorder->calls.size());
        const auto& call = recorder->calls[i];
        EXPECT_EQ(call.training, training);
        EXPECT_EQ(call.got_state, b > 0) << "only the first batch of a pass starts from zeros";
        if (!call.got_state) continue;
        EXPECT_FALSE(call.state_requires_grad) << "the carried state must be detached";
        EXPECT_TRUE(call.continues_last) << "the state is not the one the batch before ended in";
        EXPECT_EQ(call.state.h.sizes(), torch::IntArrayRef({1, kLanes, 16}));
      }
    }
    EXPECT_EQ(i, recorder->calls.size()) << "more run() calls than the passes hold";
  }
}

// ----- (e): stopped mid-epoch and resumed, the same weights bit for bit -----------------------

// Run A goes straight through three epochs; run B stops after step 5 of the second and resumes
// from its checkpoint, whose saved state the resumed epoch's next batch must get.
TEST_F(ToyTask, ResumeMidEpochCarriesTheSavedStateToTheSameWeightsBitForBit) {
  for (auto kind : {LayerKind::Scratch, LayerKind::Builtin}) {
    SCOPED_TRACE(lstmlab::to_string(kind));
    lstmlab::clear_stop_request();
    const auto config = toy_config(kind, 3);
    const DelayedBitsTask task(data_);

    torch::manual_seed(config.train.seed);
    const auto model_a = task.make_model(config.model);
    lstmlab::Trainer a(model_a, task, config, run_dir(lstmlab::to_string(kind) + "_a"), log_, true);
    const auto history_a = a.fit();
    ASSERT_EQ(history_a.size(), 3u);

    const auto dir_b = run_dir(lstmlab::to_string(kind) + "_b");
    torch::manual_seed(config.train.seed);
    const auto stopped_recorder = std::make_shared<StateRecorderImpl>(task.make_model(config.model));
    lstmlab::TrainerHooks hooks;
    hooks.after_step = [](int64_t epoch, int64_t step) {
      if (epoch == 1 && step == 5) lstmlab::request_stop();
    };
    {
      lstmlab::Trainer stopped(stopped_recorder, task, config, dir_b, log_, true, "", hooks);
      stopped.fit();
      ASSERT_TRUE(stopped.stopped());
      ASSERT_EQ(stopped.history().size(), 1u);
    }
    lstmlab::clear_stop_request();

    torch::manual_seed(999);  // the checkpoint holds the weights, not the seed
    const auto resumed_recorder = std::make_shared<StateRecorderImpl>(task.make_model(config.model));
    lstmlab::Trainer resumed(resumed_recorder, task, config, dir_b, log_, true);
    resumed.resume();
    const auto history_b = resumed.fit();
    ASSERT_FALSE(resumed.stopped());
    ASSERT_EQ(history_b.size(), 3u);

    auto pa = model_a->named_parameters();
    auto pb = resumed_recorder->named_parameters();
    ASSERT_GT(pa.size(), 0u);
    ASSERT_EQ(pa.size(), pb.size());
    for (const auto& item : pa) {
      const auto& other = pb["inner." + item.key()];
      EXPECT_TRUE(torch::equal(item.value(), other))
          << item.key() << " differs by up to "
          << (item.value() - other).abs().max().item<double>();
    }
    for (size_t e = 0; e < 3; ++e) {
      SCOPED_TRACE("epoch " + std::to_string(e + 1));
      EXPECT_EQ(history_a[e].train_loss, history_b[e].train_loss);  // epoch 2 spans the stop
      EXPECT_EQ(history_a[e].val_loss, history_b[e].val_loss);
      EXPECT_EQ(lstmlab::metric_value(history_a[e].val_metrics, "accuracy"),
                lstmlab::metric_value(history_b[e].val_metrics, "accuracy"));
    }
    // The first batch after the resume gets the state the stopped run's fifth batch ended in.
    ASSERT_FALSE(resumed_recorder->calls.empty());
    const auto& first = resumed_recorder->calls.front();
    ASSERT_TRUE(first.got_state) << "the saved state was not handed to the next batch";
    EXPECT_FALSE(first.state_requires_grad);
    ASSERT_TRUE(stopped_recorder->last_state().h.defined());
    EXPECT_TRUE(torch::equal(first.state.h, stopped_recorder->last_state().h));
    EXPECT_TRUE(torch::equal(first.state.c, stopped_recorder->last_state().c));
  }
}

}  // namespace
