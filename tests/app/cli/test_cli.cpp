// The lstm-lab executable as a user meets it: help, one-line refusals of bad flags (naming the
// flag and what is allowed), and a tiny train -> predict -> resume -> compare round, run through
// popen. Every run is --quiet, tiny, and writes under a temporary directory.

#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

using lstmlab::test::lstm_lab;
using lstmlab::test::Outcome;

size_t line_count(const std::string& text) {
  size_t n = 0;
  for (char ch : text) n += ch == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

size_t file_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

class Cli : public ::testing::Test {
 protected:
  std::string temp_dir(const std::string& name) { return paths_.path(name); }

 private:
  lstmlab::test::TempPaths paths_;
};

void expect_contains(const std::string& text, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "lacks \"" << part << "\":\n" << text;
  }
}

// ----- 11. Help and unknown flags ------------------------------------------------------------

TEST_F(Cli, HelpListsTheCommands) {
  const auto o = lstm_lab("--help");
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"parity", "trace", "train", "compare", "predict"});
}

TEST_F(Cli, TrainHelpShowsItsFlags) {
  const auto o = lstm_lab("train --help");
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"--hidden", "--epochs", "--resume"});
}

TEST_F(Cli, UnknownFlagIsOneLineNamingIt) {
  const auto dir = temp_dir("run");
  const auto o = lstm_lab("train --no-such-flag --quiet --out '" + dir + "'", true);
  EXPECT_NE(o.status, 0);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"no-such-flag"});
  EXPECT_FALSE(fs::exists(dir));
}

// ----- 12. Bad flag values -------------------------------------------------------------------

/// The tiny valid flags of a train run with `flag` set to `value` (replacing its valid value).
std::string train_args(const std::string& dir, const std::string& flag, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> flags = {
      {"--epochs", "1"}, {"--points", "100"}, {"--seq-len", "10"}, {"--hidden", "4"},
      {"--out", "'" + dir + "'"}};
  bool replaced = false;
  for (auto& [name, v] : flags) {
    if (name == flag) {
      v = value;
      replaced = true;
    }
  }
  if (!replaced) flags.emplace_back(flag, value);
  std::string args = "train --quiet --no-plots";
  for (const auto& [name, v] : flags) args += " " + name + " " + v;
  return args;
}

struct BadFlag {
  std::string flag, value;
  std::vector<std::string> mentions;  ///< what the one line must name
};

TEST_F(Cli, BadTrainFlagsAreOneLineNamingTheFlagAndTheChoices) {
  const std::vector<BadFlag> cases = {
      {"--task", "nope", {"--task", "sine"}},
      {"--model", "nope", {"--model", "scratch", "builtin"}},
      {"--loss", "nope", {"--loss", "mse", "mae"}},
      {"--loss", "cross_entropy", {"--loss", "sine task", "mse", "mae"}},  // the task's losses
      {"--cell", "rnn", {"--cell", "lstm", "gru"}},
      {"--gru-reset", "sideways", {"--gru-reset", "after", "before"}},
      {"--optimizer", "nope", {"--optimizer", "adam", "sgd"}},
      {"--hidden", "0", {"--hidden"}},
      {"--layers", "-1", {"--layers"}},
      {"--epochs", "0", {"--epochs"}},
      {"--batch-size", "-3", {"--batch-size"}},
      {"--seq-len", "2000", {"--seq-len", "--points"}},
      {"--activation", "nope", {"--activation", "tanh", "relu"}},
      {"--init", "nope", {"--init", "torch", "d2l", "keras"}},
      {"--dtype", "nope", {"--dtype", "float32", "float64"}},
      {"--device", "cuda", {"--device", "CUDA"}},  // this machine and this LibTorch have none
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flag + " " + c.value);
    const auto dir = temp_dir(c.flag.substr(2));
    const auto o = lstm_lab(train_args(dir, c.flag, c.value), true);
    EXPECT_NE(o.status, 0);
    EXPECT_EQ(line_count(o.output), 1u) << o.output;
    for (const auto& m : c.mentions) expect_contains(o.output, {m});
    EXPECT_FALSE(fs::exists(dir)) << "a refused run left a directory behind";
  }
}

TEST_F(Cli, ParityOnCudaWithoutOneIsOneClearLine) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is present: parity --device cuda runs";
  const auto o = lstm_lab("parity --device cuda", true);
  EXPECT_NE(o.status, 0);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"CUDA", "--device"});
}

// ----- 13. train, predict, resume, compare ---------------------------------------------------

TEST_F(Cli, TrainPredictResumeAndCompare) {
  const auto dir = temp_dir("run");
  auto o = lstm_lab("train --epochs 2 --points 100 --seq-len 10 --hidden 4 --quiet --out '" +
                    dir + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  for (const char* file : {"config.json", "metrics.csv", "checkpoint.pt", "predictions.csv"}) {
    EXPECT_TRUE(fs::exists(dir + "/" + file)) << file << " missing; output:\n" << o.output;
  }
  EXPECT_EQ(file_lines(dir + "/metrics.csv"), 3u);

  o = lstm_lab("predict --checkpoint '" + dir + "' --steps 5");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(file_lines(dir + "/forecast.csv"), 6u) << o.output;

  o = lstm_lab("train --resume '" + dir + "' --epochs 3 --quiet");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(file_lines(dir + "/metrics.csv"), 4u) << o.output;

  const auto dir2 = temp_dir("compare");
  o = lstm_lab("compare --epochs 2 --points 100 --seq-len 10 --hidden 4 --quiet --out '" + dir2 +
               "'");
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"agree"});
  EXPECT_EQ(file_lines(dir2 + "/compare.csv"), 3u);
}

// ----- 14. trace -----------------------------------------------------------------------------

TEST_F(Cli, BenchRepeatsOnceAtATinySizeAndWritesJson) {
  const auto dir = temp_dir("bench");
  fs::create_directories(dir);
  const auto json = dir + "/bench.json";
  const auto o = lstm_lab("bench --size 3,4,2,5 --repeats 1 --threads 1 --json '" + json + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"matrix-product rate", "builtin", "scratch-autograd", "scratch-fused",
                             "products-only", "custom 3,4,2,5", "CPU: ", "BLAS: "});
  std::ifstream in(json);
  ASSERT_TRUE(in) << json;
  const auto report = nlohmann::json::parse(in);  // throws, failing the test, on invalid JSON
  EXPECT_EQ(report.at("repeats"), 1);
  EXPECT_FALSE(report.at("platform").at("blas").at("vendor").get<std::string>().empty());
#if !defined(LSTMLAB_SANITIZED)  // AddressSanitizer's allocator ignores the policy
  EXPECT_EQ(report.at("heap_kept"), true);  // the executable sets the heap policy at start
#endif
  ASSERT_EQ(report.at("rows").size(), 4u);
  for (const auto& row : report.at("rows")) {
    EXPECT_GT(row.at("forward_backward").at("median_s").get<double>(), 0.0) << row.dump();
  }

  const auto bad = lstm_lab("bench --size 3,4,2 --repeats 1", true);
  EXPECT_NE(bad.status, 0);
  EXPECT_EQ(line_count(bad.output), 1u) << bad.output;
  expect_contains(bad.output, {"--size", "B,T,I,H"});

  const auto one = lstm_lab("bench --size 3,4,2,5 --repeats 1 --variants scratch-fused");
  ASSERT_EQ(one.status, 0) << one.output;
  expect_contains(one.output, {"scratch-fused"});
  EXPECT_EQ(one.output.find("scratch-autograd"), std::string::npos) << one.output;
  const auto unknown = lstm_lab("bench --size 3,4,2,5 --repeats 1 --variants fast", true);
  EXPECT_NE(unknown.status, 0);
  expect_contains(unknown.output, {"--variants", "'fast'", "scratch-fused"});
}

TEST_F(Cli, CompareRefusesWhatCannotAgree) {
  const auto dir = temp_dir("compare");
  const std::string tiny = " --quiet --no-plots --epochs 1 --points 100 --seq-len 10 --hidden 4";
  const auto dropout = lstm_lab("compare --layers 2 --dropout 0.3 --out '" + dir + "'" + tiny, true);
  EXPECT_EQ(dropout.status, 2);
  EXPECT_EQ(line_count(dropout.output), 1u) << dropout.output;
  expect_contains(dropout.output, {"--dropout 0.3", "--layers 2", "masks"});
  const auto relu = lstm_lab("compare --activation relu --out '" + dir + "'" + tiny, true);
  EXPECT_EQ(relu.status, 2);
  expect_contains(relu.output, {"--activation relu", "--model scratch"});
  EXPECT_FALSE(fs::exists(dir));
}

// ----- Defects found by trying it as a user would ---------------------------------------------

/// `text` single-quoted for sh (the tests' own command lines; lstm-lab itself runs no shell).
std::string sh(const std::string& text) {
  std::string q = "'";
  for (char ch : text) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kTiny = " --epochs 1 --points 100 --seq-len 10 --hidden 4";

TEST_F(Cli, ARunNameCannotInjectIntoAPlotScript) {
  // The reproduction: a newline in --out broke out of the script's comment and gnuplot ran the
  // next line. Every plot (train's two, compare's, predict's) gets a hostile directory name.
  const auto base = temp_dir("hostile");
  fs::create_directories(base);
  const std::string hostile = "/a\nsystem(\"touch PWNED\")\n#'b\\";
  const auto run = base + hostile;
  auto o = lstm_lab("train" + kTiny + " --out " + sh(run));
  ASSERT_EQ(o.status, 0) << o.output;
  o = lstm_lab("predict --steps 3 --checkpoint " + sh(run));
  ASSERT_EQ(o.status, 0) << o.output;
  const auto pair = base + hostile + "-compare";
  o = lstm_lab("compare" + kTiny + " --out " + sh(pair));
  ASSERT_EQ(o.status, 0) << o.output;
  for (const auto& entry : fs::recursive_directory_iterator(base)) {
    EXPECT_NE(entry.path().filename(), "PWNED") << entry.path();
  }
  EXPECT_FALSE(fs::exists("PWNED"));
  if (o.output.find("gnuplot is not installed") == std::string::npos) {
    for (const auto& png : {run + "/loss.png", run + "/predictions.png", run + "/forecast.png",
                            pair + "/loss.png", pair + "/scratch/loss.png"}) {
      EXPECT_TRUE(fs::exists(png)) << png;
    }
  }
}

TEST_F(Cli, ThreadsAreBoundedWithOneLine) {
  const auto o = lstm_lab("trace --threads 100000", true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"--threads 100000", "at most"});
}

TEST_F(Cli, ARunIsNeverWrittenOverWithoutOverwrite) {
  const auto dir = temp_dir("run");
  ASSERT_EQ(lstm_lab("train --quiet --no-plots" + kTiny + " --out " + sh(dir)).status, 0);
  std::ofstream(dir + "/loss.png") << "an old plot";
  const auto before = read_file(dir + "/metrics.csv");

  auto o = lstm_lab("train --quiet --no-plots" + kTiny + " --lr 0.1 --out " + sh(dir), true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"--out", "--overwrite", "--resume"});
  EXPECT_EQ(read_file(dir + "/metrics.csv"), before) << "the refused run wrote over the old one";

  o = lstm_lab("train --quiet --no-plots --overwrite" + kTiny + " --lr 0.1 --out " + sh(dir));
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_FALSE(fs::exists(dir + "/loss.png")) << "--overwrite left the old run's plot beside the new";
  EXPECT_NE(read_file(dir + "/config.json").find("0.1"), std::string::npos);

  // A directory of other files is never cleared, --overwrite or not.
  const auto mine = temp_dir("mine");
  fs::create_directories(mine);
  std::ofstream(mine + "/thesis.tex") << "years of work";
  o = lstm_lab("train --quiet --no-plots --overwrite" + kTiny + " --out " + sh(mine), true);
  EXPECT_EQ(o.status, 2);
  expect_contains(o.output, {"not an lstm-lab run"});
  EXPECT_EQ(read_file(mine + "/thesis.tex"), "years of work");
}

TEST_F(Cli, ADataErrorLeavesNoEmptyRunDirectoryBehind) {
  const auto csv = temp_dir("series.csv");
  std::ofstream(csv) << "t,y\n1,2\n2,3\n3,5\n";
  for (const std::string command : {"train", "compare"}) {
    const auto dir = temp_dir(command + "-run");
    const auto o = lstm_lab(command + " --quiet --no-plots --task csv --csv " + sh(csv) +
                                " --target nosuch --out " + sh(dir),
                            true);
    EXPECT_EQ(o.status, 2) << o.output;
    expect_contains(o.output, {"'nosuch' is not a column", csv});
    EXPECT_FALSE(fs::exists(dir)) << command << " left the directory it made";
  }
  // A directory the user made is theirs: it stays, empty, after the same error.
  const auto given = temp_dir("given");
  fs::create_directories(given);
  EXPECT_EQ(lstm_lab("train --quiet --task csv --csv " + sh(csv) + " --target nosuch --out " +
                         sh(given),
                     true)
                .status,
            2);
  EXPECT_TRUE(fs::is_directory(given));
}

TEST_F(Cli, RunsStartedInTheSameSecondGetTheirOwnDirectories) {
  const auto cwd = temp_dir("cwd");
  fs::create_directories(cwd);
  const std::string run = "'" + std::string(LSTMLAB_BINARY) + "' train --quiet --no-plots" + kTiny;
  const std::string both = "cd " + sh(cwd) + " && (" + run + " & " + run + " & " + run + " & wait)";
  ASSERT_EQ(std::system(both.c_str()), 0);
  size_t runs = 0;
  for (const auto& entry : fs::directory_iterator(cwd + "/runs")) {
    EXPECT_TRUE(fs::exists(entry.path() / "metrics.csv")) << entry.path();
    ++runs;
  }
  EXPECT_EQ(runs, 3u);
}

TEST_F(Cli, ResumeRefusesWhatItCannotHonour) {
  const auto dir = temp_dir("run");
  ASSERT_EQ(lstm_lab("train --quiet --no-plots --threads 1 --epochs 2 --points 100 --seq-len 10 "
                     "--hidden 4 --out " + sh(dir)).status, 0);
  const auto config = read_file(dir + "/config.json");

  // Settings fixed by the run are refused by name, not silently ignored.
  auto o = lstm_lab("train --resume " + sh(dir) + " --epochs 3 --lr 5 --hidden 8", true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"--lr", "--hidden", "cannot change"});
  // Fewer epochs than done is refused, and leaves the record as it was.
  o = lstm_lab("train --resume " + sh(dir) + " --epochs 1", true);
  EXPECT_EQ(o.status, 2);
  expect_contains(o.output, {"--epochs 1", "2 epoch(s)"});
  EXPECT_EQ(read_file(dir + "/config.json"), config);
  EXPECT_EQ(file_lines(dir + "/metrics.csv"), 3u);
  // A failed resume (a damaged checkpoint) does not rewrite config.json either.
  const auto checkpoint = read_file(dir + "/checkpoint.pt");
  std::ofstream(dir + "/checkpoint.pt", std::ios::binary) << checkpoint.substr(0, 100);
  o = lstm_lab("train --resume " + sh(dir) + " --epochs 3", true);
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_EQ(read_file(dir + "/config.json"), config);
  std::ofstream(dir + "/checkpoint.pt", std::ios::binary) << checkpoint;

  // The run's thread count is recorded and a resume takes it back.
  EXPECT_EQ(nlohmann::json::parse(config).at("train").at("threads"), 1);
  o = lstm_lab("train --resume " + sh(dir) + " --epochs 3 --quiet");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(o.output, "");
  EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/config.json")).at("train").at("threads"), 1);
  o = lstm_lab("train --resume " + sh(dir) + " --epochs 4 --quiet --threads 2", true);
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"warning", "2 threads", "trained with 1"});
}

TEST_F(Cli, QuietMeansNothingOnStdout) {
  const auto dir = temp_dir("run");
  auto o = lstm_lab("train --quiet" + kTiny + " --out " + sh(dir));
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.output, "");
  o = lstm_lab("predict --quiet --steps 3 --checkpoint " + sh(dir));
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.output, "");
  EXPECT_EQ(file_lines(dir + "/forecast.csv"), 4u);
}

TEST_F(Cli, AnUnwritableJsonReportFailsBeforeTheWork) {
  const auto missing = temp_dir("nowhere") + "/report.json";
  for (const std::string command : {"parity", "bench --size 3,4,2,5 --repeats 1"}) {
    SCOPED_TRACE(command);
    const auto o = lstm_lab(command + " --json " + sh(missing));
    EXPECT_NE(o.status, 0);
    EXPECT_EQ(line_count(o.output), 1u) << "the work ran first:\n" << o.output;
    expect_contains(o.output, {"--json", missing});
  }
}

TEST_F(Cli, ASecondCtrlCKeepsTheLinesAlreadyPrinted) {
  const auto dir = temp_dir("run");
  const auto log = temp_dir("log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT, 0644);
  std::vector<std::string> args = {"lstm-lab", "train", "--no-plots", "--epochs", "100000",
                                   "--points", "100", "--seq-len", "10", "--hidden", "4",
                                   "--out", dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, LSTMLAB_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Redirected, stdout once held its lines in a 4 KiB buffer that the second Ctrl-C threw away.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (read_file(log).find("epoch 3/") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGINT);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status;
  const auto text = read_file(log);
  expect_contains(text, {"sine: 100 points", "epoch 1/100000", "epoch 2/100000"});
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "a line was cut:\n" << text;
}

TEST_F(Cli, BothGrusTrainFromTheSameWeightsAndAgree) {
  const auto dir = temp_dir("gru");
  auto o = lstm_lab("compare --cell gru --quiet --no-plots" + kTiny + " --epochs 3 --out " + sh(dir));
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"agree"});
  const auto config = nlohmann::json::parse(read_file(dir + "/builtin/config.json"));
  EXPECT_EQ(config.at("model").at("cell"), "gru");
  const auto summary = nlohmann::json::parse(read_file(dir + "/summary.json"));
  EXPECT_EQ(summary.at("agree"), true);
  EXPECT_LT(summary.at("max_rel_diff").get<double>(), 1e-3);
  EXPECT_EQ(summary.at("scratch").at("epochs"), 3);
  // d2l's variant is the scratch GRU's alone, refused in one line where the built-in would run it.
  o = lstm_lab("compare --cell gru --gru-reset before --quiet" + kTiny + " --out " + sh(dir + "-d2l"), true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"--gru-reset before", "--model scratch"});
  o = lstm_lab("train --cell gru --gru-reset before --quiet --no-plots" + kTiny + " --out " + sh(dir + "-train"));
  EXPECT_EQ(o.status, 0) << o.output;
}

TEST_F(Cli, TracePrintsTheGates) {
  const auto o = lstm_lab("trace");
  EXPECT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"forget gate"});
}

/// The first line of `text` containing `label` (empty when none).
std::string line_with(const std::string& text, const std::string& label) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(label) != std::string::npos) return line;
  }
  return {};
}

TEST_F(Cli, TraceRunsSeed004sOwnCall) {
  // The seed's forward(): long-term memory 2, short-term memory 1, input [1]; its printout.
  const auto o = lstm_lab("trace --sequence 1 --c0 2 --h0 1");
  ASSERT_EQ(o.status, 0) << o.output;
  const std::vector<std::pair<std::string, std::string>> seed = {
      {"forget gate", "0.9974"},         {"input gate", "0.9862"},
      {"candidate (potential", "0.9661"}, {"new long-term memory", "2.9476"},
      {"output gate", "0.9917"},         {"new short-term memory", "0.9862"}};
  for (const auto& [label, value] : seed) {
    const auto line = line_with(o.output, label);
    EXPECT_NE(line.find(value), std::string::npos) << label << " should print " << value << ":\n"
                                                   << o.output;
  }
  EXPECT_EQ(o.output.find("step 2"), std::string::npos) << o.output;

  // Its last lines: target 0.5, (output - target)^2, one step of optim.Adam at its default lr.
  const auto learn = lstm_lab("trace --sequence 1 --c0 2 --h0 1 --target 0.5");
  ASSERT_EQ(learn.status, 0) << learn.output;
  EXPECT_NE(line_with(learn.output, "loss (h - target)^2").find("0.2364"), std::string::npos)
      << learn.output;
  expect_contains(learn.output, {"lr 0.001", "wlr1", "wlr2", "blr1", "wpr1", "wp2", "bo1"});
  const auto faster = lstm_lab("trace --sequence 1 --target 0.5 --lr 0.05");
  ASSERT_EQ(faster.status, 0) << faster.output;
  expect_contains(faster.output, {"lr 0.05"});
}

TEST_F(Cli, TraceCellGruPrintsItsGatesAndRefusesC0) {
  const auto o = lstm_lab("trace --cell gru --sequence 1,-0.5 --h0 0.3 --target 0.25");
  ASSERT_EQ(o.status, 0) << o.output;
  expect_contains(o.output, {"1-unit GRU cell", "seeded init (seed 0", "reset gate", "update gate",
                             "candidate (potential new h)", "new hidden state h", "b_hn[n]"});
  EXPECT_EQ(o.output.find("long-term"), std::string::npos) << o.output;
  const auto d2l = lstm_lab("trace --cell gru --gru-reset before --sequence 1");
  ASSERT_EQ(d2l.status, 0) << d2l.output;
  expect_contains(d2l.output, {"reset gate before the recurrent product"});
  const auto c0 = lstm_lab("trace --cell gru --c0 1", true);
  EXPECT_EQ(c0.status, 2) << c0.output;
  EXPECT_EQ(line_count(c0.output), 1u) << c0.output;
  expect_contains(c0.output, {"--c0", "GRU", "--h0"});
}

TEST_F(Cli, TraceSequenceFlagIsOneSequenceAndRepeats) {
  const auto one = lstm_lab("trace --sequence 0,0.5,0.25,1");
  ASSERT_EQ(one.status, 0) << one.output;
  expect_contains(one.output, {"sequence 1: [0, 0.5, 0.25, 1]", "step 4", "output after 4 steps"});
  EXPECT_EQ(one.output.find("sequence 2"), std::string::npos) << one.output;
  const auto two = lstm_lab("trace --sequence 0,0.5 --sequence=-1");
  ASSERT_EQ(two.status, 0) << two.output;
  expect_contains(two.output, {"sequence 1: [0, 0.5]", "sequence 2: [-1]"});
  EXPECT_EQ(two.output.find("sequence 3"), std::string::npos) << two.output;
}

TEST_F(Cli, BadTraceFlagsAreOneLineNamingTheFlag) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"--sequence 1,x", {"--sequence '1,x'", "step 2", "'x'"}},
      {"--sequence '1,2;3,4'", {"--sequence", "step 1 has 2 features", "expected 1"}},
      {"--sequence '1;;2'", {"--sequence", "step 2 is empty"}},
      {"--h0 1,2", {"--h0", "2 values", "expected 1"}},
      {"--c0 abc", {"--c0 'abc'", "not a number"}},
      {"--target 0.5,1", {"--target", "one number"}},
      {"--target x", {"--target 'x'", "not a number"}},
      {"--lr 0 --target 1", {"--lr", "positive"}},
  };
  for (const auto& [args, mentions] : cases) {
    const auto o = lstm_lab("trace " + args, true);
    EXPECT_EQ(o.status, 2) << args << ": " << o.output;
    EXPECT_EQ(line_count(o.output), 1u) << args << ": " << o.output;
    for (const auto& m : mentions) {
      EXPECT_NE(o.output.find(m), std::string::npos) << args << " lacks \"" << m << "\": " << o.output;
    }
  }
  const auto help = lstm_lab("trace --help");
  EXPECT_EQ(help.status, 0) << help.output;
  expect_contains(help.output, {"--sequence", "--h0", "--c0", "--target", "--lr", "0.001", "';'"});
}


// ----- 15. The Keras preset --------------------------------------------------------------------

TEST_F(Cli, KerasPresetSetsSeed000sConfigurationAndFlagsBesideItWin) {
  const auto dir = temp_dir("preset");
  auto o = lstm_lab("train --preset keras --epochs 1 --hidden 4 --batch-size 30 --points 100 "
                    "--seq-len 5 --quiet --no-plots --out '" + dir + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  std::ifstream in(dir + "/config.json");
  const auto config = nlohmann::json::parse(in);
  const auto& m = config.at("model");
  const auto& t = config.at("train");
  EXPECT_EQ(m.at("activation"), "relu");
  EXPECT_EQ(m.at("init"), "keras");
  EXPECT_EQ(m.at("kind"), "scratch");
  EXPECT_EQ(m.at("recurrent_activation"), "sigmoid");
  EXPECT_EQ(t.at("loss"), "mae");
  EXPECT_EQ(t.at("optimizer"), "keras-adam");
  EXPECT_EQ(t.at("lr"), 0.001);
  EXPECT_EQ(t.at("adam_epsilon"), 1e-7);
  EXPECT_EQ(t.at("shuffle"), false);
  // Given beside the preset: these win over its 60 units, 30 epochs and batches of 50.
  EXPECT_EQ(m.at("hidden"), 4);
  EXPECT_EQ(t.at("epochs"), 1);
  EXPECT_EQ(t.at("batch_size"), 30);

  const auto dir60 = temp_dir("preset60");
  o = lstm_lab("train --preset keras --epochs 1 --points 100 --seq-len 5 --quiet --no-plots --out '" +
               dir60 + "'");
  ASSERT_EQ(o.status, 0) << o.output;
  std::ifstream in60(dir60 + "/config.json");
  EXPECT_EQ(nlohmann::json::parse(in60).at("model").at("hidden"), 60);
}

TEST_F(Cli, KerasPresetRefusalsAreOneLine) {
  auto o = lstm_lab("train --preset keras --model builtin --quiet --out '" + temp_dir("b") + "'", true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"relu", "--model scratch"});

  o = lstm_lab("train --preset pytorch --quiet", true);
  EXPECT_EQ(o.status, 2);
  expect_contains(o.output, {"--preset 'pytorch'", "keras"});

  o = lstm_lab("train --recurrent-activation hard_sigmoid --quiet --out '" + temp_dir("h") + "'", true);
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"hard_sigmoid", "--scratch-backward autograd"});

  o = lstm_lab("compare --preset keras --quiet --out '" + temp_dir("c") + "'", true);
  EXPECT_EQ(o.status, 2);
  expect_contains(o.output, {"relu", "built-in"});

  const auto bad = temp_dir("bad.json");
  std::ofstream(bad) << R"({"lstm.weight_ih_l0": [[1]], "lstm.weight_hh_l0": [[1]]})";
  const auto refused_dir = temp_dir("w");
  o = lstm_lab("train --init-weights '" + bad + "' --quiet --out '" + refused_dir + "'", true);
  EXPECT_EQ(o.status, 1);  // the flag is right, the file's contents are not: a runtime error
  EXPECT_EQ(line_count(o.output), 1u) << o.output;
  expect_contains(o.output, {"--init-weights", bad});
  EXPECT_FALSE(fs::exists(refused_dir)) << "a refused file must not leave a run directory";
}

}  // namespace
