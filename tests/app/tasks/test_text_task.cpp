// The text task end to end at tiny sizes: a periodic corpus learned to near-zero loss and
// continued by generate; sequential windows hand each batch the state the last one ended in,
// detached; a run stopped mid-epoch resumes to the same weights bit for bit; samples.txt and
// vocab.tsv in the run directory; generate's refusals.

#include "app/tasks/registry.h"
#include "app/tasks/text_options.h"
#include "app/tools/generate.h"
#include "app/train/train_run.h"
#include "models/heads/char_language_model.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using lstmlab::CellKind;
using lstmlab::LayerKind;
using lstmlab::RunConfig;
using lstmlab::RunRequest;
using lstmlab::TextOptions;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string repeated(const std::string& unit, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += unit;
  return s;
}

class TextTask : public ::testing::Test {
 protected:
  void SetUp() override { lstmlab::clear_stop_request(); }
  void TearDown() override { lstmlab::clear_stop_request(); }

  std::string corpus_file(const std::string& text) {
    const auto path = paths_.path("corpus") + ".txt";
    std::ofstream(path) << text;
    return path;
  }
  std::string dir(const std::string& name) { return paths_.path(name); }

  static RunConfig config(const std::string& file, TextOptions o, LayerKind kind, CellKind cell,
                          int64_t epochs) {
    RunConfig c;
    c.task = "text";
    o.text_file = file;
    c.task_options = lstmlab::to_json(o);
    c.model.kind = kind;
    c.model.cell = cell;
    c.model.hidden = 16;
    c.train.loss = "cross-entropy";
    c.train.lr = 0.05;
    c.train.epochs = epochs;
    c.train.batch_size = 16;
    c.train.shuffle = lstmlab::parse_window_layout(o.windows) == lstmlab::WindowLayout::Random;
    c.train.clip = 1;
    return c;
  }

  // 227 characters (folding drops the last space) in 4 streams of windows of 5, a quarter held out.
  RunConfig sequential_config(LayerKind kind, CellKind cell, int64_t epochs) {
    const auto file = corpus_file(repeated("the time traveller ", 12));
    TextOptions o;
    o.windows = "sequential";
    o.seq_len = 5;
    o.val_fraction = 0.25;
    auto c = config(file, o, kind, cell, epochs);
    c.train.batch_size = 4;
    return c;
  }

  static lstmlab::RunResult run(const RunConfig& c, const std::string& run_dir,
                                lstmlab::TrainerHooks hooks = {}, bool resume = false) {
    RunRequest r;
    r.config = c;
    r.run_dir = run_dir;
    r.quiet = true;
    r.plots = false;
    r.hooks = std::move(hooks);
    r.resume = resume;
    std::ostringstream log;
    return lstmlab::train_run(r, log);
  }

 private:
  lstmlab::test::TempPaths paths_;
};

TEST_F(TextTask, LearnsAbcToNearZeroLossAndGenerateContinuesThePattern) {
  const auto file = corpus_file(repeated("abc", 100));
  TextOptions o;
  o.seq_len = 8;
  o.train_windows = 160;
  o.val_windows = 40;
  const std::vector<std::pair<LayerKind, CellKind>> layers = {
      {LayerKind::Scratch, CellKind::Lstm}, {LayerKind::Builtin, CellKind::Lstm},
      {LayerKind::Scratch, CellKind::Gru}};
  for (const auto& [kind, cell] : layers) {
    SCOPED_TRACE(lstmlab::to_string(kind) + " " + lstmlab::to_string(cell));
    const auto run_dir = dir(lstmlab::to_string(kind) + lstmlab::to_string(cell));
    const auto result = run(config(file, o, kind, cell, 12), run_dir);
    ASSERT_EQ(result.history.size(), 12u);
    EXPECT_LT(result.history.back().train_loss, 0.05) << "cross-entropy per token";
    const double ppl = lstmlab::metric_value(result.history.back().val_metrics, "perplexity");
    EXPECT_LT(ppl, 1.05);
    EXPECT_NEAR(ppl, std::exp(result.history.back().val_loss), 1e-6 * ppl)
        << "perplexity is exp of the mean cross-entropy per token (the loss sums in float32)";

    lstmlab::GenerateRequest g;
    g.run_dir = run_dir;
    g.prompt = "ab";
    g.length = 12;
    EXPECT_EQ(lstmlab::generate_text(g).text, "abcabcabcabcab");
    g.temperature = 0.5;
    g.top_k = 2;
    g.seed = 3;
    const auto sampled = lstmlab::generate_text(g).text;
    EXPECT_EQ(sampled, lstmlab::generate_text(g).text) << "a seed reproduces a sample";
    EXPECT_EQ(sampled.size(), 14u);
  }
}

// Vocabulary of "abc": <unk> first, then a, b, c (equal counts, by code point).
TEST_F(TextTask, TheRunDirectoryAndTheCheckpointHoldTheVocabulary) {
  const auto file = corpus_file(repeated("abca", 40));
  TextOptions o;
  o.seq_len = 6;
  o.train_windows = 64;
  o.val_windows = 16;
  o.sample_every = 1;
  o.sample_length = 5;
  o.sample_prompt = "ab";
  const auto run_dir = dir("run");
  const auto result = run(config(file, o, LayerKind::Scratch, CellKind::Lstm, 2), run_dir);
  EXPECT_EQ(read_file(run_dir + "/vocab.tsv"),
            "index\tcode_point\ttoken\tcount\n0\t<unk>\t<unk>\t0\n1\tU+0061\ta\t80\n"
            "2\tU+0062\tb\t40\n3\tU+0063\tc\t40\n");
  auto* model = dynamic_cast<lstmlab::CharLanguageModelImpl*>(result.model.get());
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->code_points(), (std::vector<int32_t>{-1, 'a', 'b', 'c'}));
  const auto samples = read_file(run_dir + "/samples.txt");
  EXPECT_EQ(samples.rfind("epoch 1: ab", 0), 0u) << samples;
  EXPECT_NE(samples.find("\nepoch 2: ab"), std::string::npos) << samples;
  EXPECT_EQ(std::count(samples.begin(), samples.end(), '\n'), 2);
}

// A model that checks what the trainer hands it: each batch after the first of a pass gets the
// state the batch before returned, with no graph attached (no gradient flows across windows).
class StateCheckImpl : public lstmlab::SequenceModelImpl {
 public:
  explicit StateCheckImpl(lstmlab::SequenceModelPtr inner)
      : SequenceModelImpl("StateCheck"), inner_(register_module("inner", std::move(inner))) {}
  lstmlab::SequenceOutput run(const torch::Tensor& input,
                              const std::optional<lstmlab::RecurrentState>& state) override {
    if (state) {
      ++carried;
      if (state->h.requires_grad() || state->c.requires_grad()) ++attached;
      if (!last_.h.defined() || !torch::equal(state->h, last_.h) || !torch::equal(state->c, last_.c)) {
        ++not_continued;
      }
    } else {
      ++fresh;
    }
    auto out = inner_->run(input, state);
    last_ = {out.state.h.detach(), out.state.c.detach()};
    EXPECT_TRUE(out.state.h.requires_grad() || !is_training()) << "the model's own state has a graph";
    return out;
  }
  lstmlab::RecurrentLayerImpl& recurrent() override { return inner_->recurrent(); }
  int fresh = 0, carried = 0, attached = 0, not_continued = 0;

 private:
  lstmlab::SequenceModelPtr inner_;
  lstmlab::RecurrentState last_;
};

TEST_F(TextTask, SequentialWindowsCarryTheStateDetached) {
  auto c = sequential_config(LayerKind::Scratch, CellKind::Lstm, 2);
  const auto task = lstmlab::make_task(c);
  ASSERT_TRUE(task->carries_state());
  // 56 held out; train 171: lanes of 42, 8 windows each; validation: lanes of 13, 2 windows each.
  ASSERT_EQ(task->data().size(lstmlab::Split::Train), 32);
  ASSERT_EQ(task->data().size(lstmlab::Split::Validation), 8);
  torch::manual_seed(c.train.seed);
  const auto check = std::make_shared<StateCheckImpl>(task->make_model(c.model));
  std::ostringstream log;
  lstmlab::Trainer trainer(check, *task, c, dir("run"), log, true);
  trainer.fit();
  // Two epochs of 8 training batches and 2 validation batches: each pass starts from zeros.
  EXPECT_EQ(check->fresh, 4);
  EXPECT_EQ(check->carried, 2 * (7 + 1));
  EXPECT_EQ(check->attached, 0);
  EXPECT_EQ(check->not_continued, 0);
}

TEST_F(TextTask, AStopMidEpochResumesToTheSameWeightsBitForBit) {
  const auto c = sequential_config(LayerKind::Builtin, CellKind::Gru, 3);
  const auto a = run(c, dir("a"));
  lstmlab::TrainerHooks hooks;
  hooks.after_step = [](int64_t epoch, int64_t step) {
    if (epoch == 1 && step == 3) lstmlab::request_stop();
  };
  const auto b_dir = dir("b");
  const auto stopped = run(c, b_dir, hooks);
  ASSERT_TRUE(stopped.stopped);
  lstmlab::clear_stop_request();
  torch::manual_seed(999);  // the checkpoint holds the weights and the carried state
  const auto b = run(c, b_dir, {}, true);
  ASSERT_FALSE(b.stopped);
  ASSERT_EQ(a.history.size(), 3u);
  ASSERT_EQ(b.history.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(a.history[e].train_loss, b.history[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a.history[e].val_loss, b.history[e].val_loss) << "epoch " << e + 1;
  }
  auto pb = b.model->named_parameters();
  for (const auto& item : a.model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  }
}

TEST_F(TextTask, GenerateRefusesWhatItCannotUse) {
  const auto file = corpus_file(repeated("abc", 30));
  TextOptions o;
  o.seq_len = 4;
  const auto run_dir = dir("run");
  run(config(file, o, LayerKind::Scratch, CellKind::Lstm, 1), run_dir);
  lstmlab::GenerateRequest g;
  g.run_dir = run_dir;
  g.prompt = "abz\xc3\xa9";
  g.length = 3;
  try {
    lstmlab::generate_text(g);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--prompt: 'z' (U+007A), '\xc3\xa9' (U+00E9) not in the run's vocabulary of 3 "
                           "characters; change the prompt or pass --unknown map to read them as <unk>");
  }
  g.map_unknown = true;
  const auto mapped = lstmlab::generate_text(g);
  ASSERT_EQ(mapped.warnings.size(), 1u);
  EXPECT_EQ(mapped.text.rfind("abz\xc3\xa9", 0), 0u);

  std::filesystem::remove(run_dir + "/vocab.tsv");
  try {
    lstmlab::generate_text(g);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              run_dir + " has no vocab.tsv: generate needs the vocabulary a text run saves there");
  }
}

}  // namespace
