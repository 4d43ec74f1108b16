// Windows of a character corpus: d2l's random windows cover their split, sequential streams
// cover the corpus in order, and a corpus too short for the windows is one clear error.

#include "data/batch_loader.h"
#include "data/char_corpus.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <set>
#include <stdexcept>

namespace {

using lstmlab::CharCorpus;
using lstmlab::CharWindowsOptions;
using lstmlab::Split;
using lstmlab::WindowLayout;

// Token i is i: every window tells where it came from.
CharCorpus counting(int64_t n, CharWindowsOptions o) {
  return CharCorpus(torch::arange(n, torch::kLong), n, o);
}

TEST(CharCorpus, RandomWindowsAreD2lsAndTheShuffledEpochCoversTheSplit) {
  CharWindowsOptions o;
  o.seq_len = 4;
  o.train_windows = 20;
  o.val_windows = 10;
  const auto corpus = counting(50, o);
  ASSERT_EQ(corpus.size(Split::Train), 20);
  ASSERT_EQ(corpus.size(Split::Validation), 10);
  const auto all = corpus.examples(Split::Validation, torch::arange(10, torch::kLong));
  ASSERT_EQ(all.input.sizes(), torch::IntArrayRef({10, 4, 1}));
  ASSERT_EQ(all.target.sizes(), torch::IntArrayRef({10, 4}));
  EXPECT_EQ(all.target.scalar_type(), torch::kLong);
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t t = 0; t < 4; ++t) {
      EXPECT_EQ(all.input[i][t][0].item<double>(), 20 + i + t) << "validation follows training";
      EXPECT_EQ(all.target[i][t].item<int64_t>(), 20 + i + t + 1) << "the next token";
    }
  }
  const lstmlab::BatchLoader loader(corpus, Split::Train, {6, true, 7, torch::kCPU, torch::kFloat32});
  std::multiset<int64_t> firsts;
  for (const auto& b : loader.epoch(3)) {
    for (int64_t i = 0; i < b.input.size(0); ++i) firsts.insert(static_cast<int64_t>(b.input[i][0][0].item<float>()));
  }
  std::multiset<int64_t> expected;
  for (int64_t i = 0; i < 20; ++i) expected.insert(i);
  EXPECT_EQ(firsts, expected) << "every training window once, no validation window";
}

TEST(CharCorpus, RandomWindowsShrinkToAShortCorpus) {
  CharWindowsOptions o;
  o.seq_len = 4;
  const auto corpus = counting(10, o);  // 6 windows, all for training
  EXPECT_EQ(corpus.size(Split::Train), 6);
  EXPECT_EQ(corpus.size(Split::Validation), 0);
}

TEST(CharCorpus, SequentialStreamsCoverTheCorpusInOrder) {
  CharWindowsOptions o;
  o.layout = WindowLayout::Sequential;
  o.seq_len = 4;
  o.streams = 3;
  o.val_fraction = 0.2;
  const auto corpus = counting(103, o);
  // 20 held out; 83 train: lanes of (83 - 1) / 3 = 27 tokens, 6 windows each; validation: lanes of
  // (20 - 1) / 3 = 6 tokens, 1 window each.
  ASSERT_EQ(corpus.size(Split::Train), 18);
  ASSERT_EQ(corpus.size(Split::Validation), 3);
  const lstmlab::BatchLoader loader(corpus, Split::Train, {3, false, 0, torch::kCPU, torch::kFloat32});
  const auto batches = loader.epoch(0);
  ASSERT_EQ(batches.size(), 6u);
  for (int64_t lane = 0; lane < 3; ++lane) {
    std::vector<torch::Tensor> inputs, targets;
    for (const auto& b : batches) {
      inputs.push_back(b.input[lane].squeeze(-1).to(torch::kLong));
      targets.push_back(b.target[lane]);
    }
    const auto first = lane * 27;
    EXPECT_TRUE(torch::equal(torch::cat(inputs), torch::arange(first, first + 24, torch::kLong)))
        << "row " << lane << " reads lane " << lane << " from its start, window after window";
    EXPECT_TRUE(torch::equal(torch::cat(targets), torch::arange(first + 1, first + 25, torch::kLong)));
  }
  const auto val = corpus.examples(Split::Validation, torch::arange(3, torch::kLong));
  EXPECT_TRUE(torch::equal(val.input.squeeze(-1).select(1, 0).to(torch::kLong),
                           torch::tensor({83, 89, 95}, torch::kLong)))
      << "validation lanes start in the held-out tail";
}

void expect_message(const std::function<void()>& f, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(CharCorpus, ACorpusTooShortIsOneClearError) {
  CharWindowsOptions o;
  o.seq_len = 5;
  expect_message([&] { counting(5, o); },
                 "--seq-len 5 is longer than the corpus allows: it holds 5 characters and one "
                 "window needs seq_len + 1 = 6");
  o.layout = WindowLayout::Sequential;
  o.streams = 4;
  o.val_fraction = 0;
  expect_message([&] { counting(20, o); },
                 "--seq-len 5 with --batch-size 4: the training part holds 20 characters, fewer "
                 "than batch x seq_len + 1 = 21 (one window per stream); lower them or give more text");
}

}  // namespace
