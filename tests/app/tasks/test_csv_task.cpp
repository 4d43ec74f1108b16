// The csv task through the commands a user types (train, resume, predict, compare), run in this
// process on the first 300 hours of pollution.csv: it learns, it resumes bit for bit, its summary
// reports the test split in the target's units, and what cannot run is one line naming the flag.

#include "app/cli/cli.h"
#include "app/tasks/registry.h"
#include "app/train/checkpoint.h"
#include "app/train/run_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Beside the tests' sources (CMake compiles them by absolute path): tests/data/fixtures/.
const std::string kPollution =
    (fs::path(__FILE__).parent_path().parent_path().parent_path() / "data/fixtures/pollution_head300.csv")
        .string();
// 299 samples of n_in 1: 200 train, 99 test. Tiny, so that it runs twice in CI (once sanitized).
const std::string kCsvFlags = "--task csv --csv " + kPollution +
                              " --target pollution --ignore date --categorical wnd_dir "
                              "--train-rows 200 --hidden 8 --batch-size 25 --lr 0.01 --threads 1 "
                              "--quiet --no-plots";

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// `lstm-lab <command> <args>` in this process; its errors arrive as exceptions.
int run(int (*command)(int, const char* const*), const std::string& name, const std::string& args) {
  auto list = words(args);
  list.insert(list.begin(), name);
  std::vector<const char*> argv;
  for (const auto& w : list) argv.push_back(w.c_str());
  return command(static_cast<int>(argv.size()), argv.data());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// metrics.csv without its timing columns (the last two): what must repeat exactly.
std::vector<std::string> metric_rows(const std::string& dir) {
  std::istringstream in(read_file(dir + "/metrics.csv"));
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    for (int k = 0; k < 2; ++k) line = line.substr(0, line.rfind(','));
    rows.push_back(line);
  }
  return rows;
}

std::vector<double> train_losses(const std::string& dir) {
  std::vector<double> losses;
  const auto rows = metric_rows(dir);
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto first = rows[i].find(',');
    losses.push_back(std::stod(rows[i].substr(first + 1)));
  }
  return losses;
}

std::vector<torch::Tensor> trained_parameters(const std::string& dir) {
  const auto config = lstmlab::read_run_config(dir);
  const auto task = lstmlab::make_task(config);
  auto model = task->make_model(config.model);
  lstmlab::load_checkpoint(dir + "/checkpoint.pt", *model, nullptr);
  return model->parameters();
}

// A resumed run ended where the straight one did: the same metrics rows and the same weights, bit
// for bit.
void expect_bit_identical_runs(const std::string& straight, const std::string& resumed) {
  EXPECT_EQ(metric_rows(resumed), metric_rows(straight));
  const auto a = trained_parameters(straight);
  const auto b = trained_parameters(resumed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
}

class CsvTaskCli : public ::testing::Test {
 protected:
  std::string temp_dir(const std::string& name) { return paths_.path(name); }

 private:
  lstmlab::test::TempPaths paths_;
};

TEST_F(CsvTaskCli, TrainLearnsReportsTheTestSplitAndPredicts) {
  const auto dir = temp_dir("run");
  ASSERT_EQ(run(lstmlab::train_command, "train", kCsvFlags + " --epochs 8 --out " + dir), 0);
  const auto losses = train_losses(dir);
  ASSERT_EQ(losses.size(), 8u);
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << "the train loss did not halve in 8 epochs";

  const auto summary = nlohmann::json::parse(read_file(dir + "/summary.json"));
  EXPECT_EQ(summary.at("held_out"), "test");
  const auto& test = summary.at("splits").at("test");
  EXPECT_EQ(test.at("count"), 99);
  // In micrograms per cubic metre: the test hours' pollution ranges over tens to hundreds, so a
  // scaled figure (below 1) would mean the inverse scaling was skipped.
  EXPECT_GT(test.at("rmse").get<double>(), 1.0);
  EXPECT_LT(test.at("rmse").get<double>(), 200.0);

  // predictions.csv: the file's own values and lines. The first test sample's target is data row
  // 202 of the fixture, on line 203; its pollution is the line's second field.
  std::istringstream predictions(read_file(dir + "/predictions.csv"));
  std::string header, first;
  std::getline(predictions, header);
  std::getline(predictions, first);
  EXPECT_EQ(header, "index,pollution,pollution_prediction,line");
  std::istringstream fixture(read_file(kPollution));
  std::string line;
  for (int i = 0; i < 203; ++i) std::getline(fixture, line);
  const auto fields = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  };
  const auto row = fields(first);
  ASSERT_EQ(row.size(), 4u) << first;
  EXPECT_EQ(row[0], "0");
  // The batch holds float32 copies: the truth comes back to the file's value within float32.
  EXPECT_NEAR(std::stod(row[1]), std::stod(fields(line)[1]), 1e-4) << line;
  EXPECT_EQ(row[3], "203");

  ASSERT_EQ(run(lstmlab::predict_command, "predict", "--quiet --checkpoint " + dir), 0);
  EXPECT_EQ(read_file(dir + "/forecast.csv"), read_file(dir + "/predictions.csv"));
}

TEST_F(CsvTaskCli, AResumedRunIsBitIdenticalToAStraightOne) {
  const auto straight = temp_dir("straight");
  const auto resumed = temp_dir("resumed");
  ASSERT_EQ(run(lstmlab::train_command, "train", kCsvFlags + " --epochs 4 --out " + straight), 0);
  ASSERT_EQ(run(lstmlab::train_command, "train", kCsvFlags + " --epochs 2 --out " + resumed), 0);
  ASSERT_EQ(run(lstmlab::train_command, "train", "--resume " + resumed + " --epochs 4 --quiet --no-plots"), 0);

  expect_bit_identical_runs(straight, resumed);
  const auto sa = nlohmann::json::parse(read_file(straight + "/summary.json")).at("splits");
  const auto sb = nlohmann::json::parse(read_file(resumed + "/summary.json")).at("splits");
  EXPECT_EQ(sa, sb);

  // The csv section of config.json is the run's: its settings are checked, unknown ones refused.
  auto config = nlohmann::json::parse(read_file(resumed + "/config.json"));
  EXPECT_EQ(config.at("csv").at("targets"), nlohmann::json::array({"pollution"}));
  EXPECT_EQ(config.at("csv").at("train_rows"), 200);
  config["csv"]["window"] = 3;
  EXPECT_THROW(lstmlab::run_config_from_json(config, "config.json"), std::runtime_error);
}

// Seed 000's whole configuration (--preset keras: 60 relu units, Keras's init and Adam, MAE,
// batches of 50 in order) on a slice of pollution.csv, with a larger step so that a few epochs
// show it learning: the test MAE in micrograms falls to under half of the first epoch's, and a
// run stopped halfway resumes to the same weights bit for bit (Keras's Adam state included).
TEST_F(CsvTaskCli, KerasPresetOnASliceLearnsAndResumesBitIdentically) {
  const std::string preset = kCsvFlags + " --preset keras --lr 0.01";
  const auto test_mae = [&](const std::string& dir) {
    return nlohmann::json::parse(read_file(dir + "/summary.json"))
        .at("splits").at("test").at("mae").get<double>();
  };
  const auto first = temp_dir("first");
  const auto straight = temp_dir("straight");
  const auto resumed = temp_dir("resumed");
  ASSERT_EQ(run(lstmlab::train_command, "train", preset + " --epochs 1 --out " + first), 0);
  ASSERT_EQ(run(lstmlab::train_command, "train", preset + " --epochs 15 --out " + straight), 0);
  EXPECT_LT(test_mae(straight), 0.5 * test_mae(first));

  ASSERT_EQ(run(lstmlab::train_command, "train", preset + " --epochs 8 --out " + resumed), 0);
  ASSERT_EQ(run(lstmlab::train_command, "train", "--resume " + resumed + " --epochs 15 --quiet --no-plots"), 0);
  expect_bit_identical_runs(straight, resumed);
  const auto config = nlohmann::json::parse(read_file(resumed + "/config.json"));
  EXPECT_EQ(config.at("train").at("optimizer"), "keras-adam");
  EXPECT_EQ(config.at("model").at("activation"), "relu");
  EXPECT_EQ(config.at("model").at("hidden"), 8) << "--hidden beside the preset wins";
}

TEST_F(CsvTaskCli, CompareTrainsBothLayersAndReluIsOneLine) {
  const auto dir = temp_dir("compare");
  EXPECT_EQ(run(lstmlab::compare_command, "compare", kCsvFlags + " --epochs 2 --out " + dir), 0);
  const auto summary = nlohmann::json::parse(read_file(dir + "/summary.json"));
  EXPECT_TRUE(summary.at("agree").get<bool>());
  EXPECT_GT(summary.at("scratch").at("splits").at("test").at("rmse").get<double>(), 1.0);

  try {
    run(lstmlab::compare_command, "compare", kCsvFlags + " --activation relu --epochs 2 --out " + dir + "x");
    ADD_FAILURE() << "compare ran with --activation relu";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--activation relu"), std::string::npos) << what;
    EXPECT_NE(what.find("scratch"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(dir + "x"));
}

TEST_F(CsvTaskCli, FlagsThatCannotWorkAreOneLineNamingThem) {
  const auto expect_refused = [&](const std::string& args, const std::string& part) {
    try {
      run(lstmlab::train_command, "train", args + " --epochs 1 --out " + temp_dir("refused"));
      ADD_FAILURE() << "ran: " << args;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  };
  expect_refused("--task csv --target pollution --quiet", "--csv FILE");
  expect_refused("--task csv --csv " + kPollution + " --quiet", "--target");
  expect_refused("--task csv --csv " + kPollution + " --target pm --quiet", "--target 'pm' is not a column");
  expect_refused("--task csv --csv " + kPollution + " --target pollution --ignore date --quiet",
                 "'SE' is not a number");
  expect_refused(kCsvFlags + " --train-fraction 0.5", "--train-rows and --train-fraction");
}

}  // namespace
