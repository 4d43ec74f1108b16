// config.json's format: files that `lstm-lab train --epochs 1` wrote before the reader and writer
// became one table (tests/fixtures/config_*_main.json) read back to the settings they were
// written with and are written again key for key; unknown keys, bad values and runs recorded
// before a key existed; the loss is the task's.

#include "app/io/json_file.h"
#include "app/train/run_config.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace {

using lstmlab::RunConfig;
using nlohmann::json;
using namespace lstmlab::test;

const std::string kFixtures = LSTMLAB_FIXTURES;

// What the run recorded beside its settings; not read back.
json settings_of(json j) {
  for (const char* key : {"libtorch", "runtime", "model_summary"}) j.erase(key);
  return j;
}

// Written again, every key of the file comes back with the file's value, in the file's text; the
// settings added since (absent from the file) are written with their defaults.
void expect_written_again(const RunConfig& c, const json& file) {
  const auto written = lstmlab::to_json(c);
  const auto recorded = settings_of(file);
  for (const auto& section : recorded.items()) {
    ASSERT_TRUE(written.contains(section.key())) << section.key();
    if (!section.value().is_object()) {
      EXPECT_EQ(written.at(section.key()), section.value()) << section.key();
      continue;
    }
    for (const auto& item : section.value().items()) {
      EXPECT_EQ(written.at(section.key()).at(item.key()).dump(), item.value().dump())
          << section.key() << "." << item.key();
    }
  }
  const RunConfig defaults;
  EXPECT_EQ(written.at("train").at("adam_epsilon"), defaults.train.adam_epsilon);
  EXPECT_EQ(written.at("train").at("lr_schedule"), "none");
  EXPECT_EQ(written.at("model").at("recurrent_activation"), "sigmoid");
}

class RunConfigFile : public SeededFileTest {
 protected:
  /// `j` as a run directory's config.json; returns that file's path.
  std::string as_run(const json& j) {
    const auto dir = temp_path("run");
    std::filesystem::create_directories(dir);
    write_file(dir + "/config.json", j.dump(2));
    return dir + "/config.json";
  }

  /// Reading `j` fails with one line naming its file; returns that line.
  std::string refused(const json& j) {
    const auto path = as_run(j);
    const auto dir = path.substr(0, path.rfind('/'));
    try {
      lstmlab::read_run_config(dir);
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << "the file is named: " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    }
    ADD_FAILURE() << "read without an error:\n" << j.dump(2);
    return {};
  }
};

TEST_F(RunConfigFile, GruRunWrittenOnMainReadsBackToItsFlags) {
  // train --epochs 1 --points 120 --seq-len 10 --hidden 3 --cell gru --gru-reset before
  //       --init d2l --loss mae --batch-size 16 --clip 1.5
  const auto path = kFixtures + "/config_gru_main.json";
  const auto file = lstmlab::read_json_file(path);
  const RunConfig c = lstmlab::run_config_from_json(file, path);
  EXPECT_EQ(c.task, "sine");
  EXPECT_EQ(c.task_options.at("points"), 120);
  EXPECT_EQ(c.task_options.at("seq_len"), 10);
  EXPECT_EQ(c.model.cell, lstmlab::CellKind::Gru);
  EXPECT_FALSE(c.model.reset_after);
  EXPECT_EQ(c.model.kind, lstmlab::LayerKind::Scratch);
  EXPECT_EQ(c.model.hidden, 3);
  EXPECT_EQ(c.model.layers, 1);
  EXPECT_EQ(c.model.dropout, 0.0);
  EXPECT_EQ(c.model.activation, lstmlab::Activation::Tanh);
  EXPECT_EQ(c.model.init, lstmlab::InitScheme::D2l);
  EXPECT_EQ(c.model.backward, lstmlab::ScratchBackward::Fused);
  EXPECT_EQ(c.train.loss, "mae");
  EXPECT_EQ(c.train.optimizer, "adam");
  EXPECT_EQ(c.train.lr, 0.01);
  EXPECT_EQ(c.train.epochs, 1);
  EXPECT_EQ(c.train.batch_size, 16);
  EXPECT_FALSE(c.train.shuffle);
  EXPECT_EQ(c.train.clip, 1.5);
  EXPECT_EQ(c.train.seed, 42u);
  EXPECT_EQ(c.train.device, "cpu");
  EXPECT_EQ(c.train.dtype, "float32");
  EXPECT_EQ(c.train.threads, 2);
  expect_written_again(c, file);
}

TEST_F(RunConfigFile, BuiltinLstmRunWrittenOnMainReadsBackToItsFlags) {
  // train --epochs 1 --points 120 --seq-len 10 --hidden 4 --layers 2 --dropout 0.25
  //       --model builtin --init keras --optimizer sgd --shuffle --dtype float64
  const auto path = kFixtures + "/config_lstm_main.json";
  const auto file = lstmlab::read_json_file(path);
  const RunConfig c = lstmlab::run_config_from_json(file, path);
  EXPECT_EQ(c.model.cell, lstmlab::CellKind::Lstm);
  EXPECT_TRUE(c.model.reset_after);
  EXPECT_EQ(c.model.kind, lstmlab::LayerKind::Builtin);
  EXPECT_EQ(c.model.hidden, 4);
  EXPECT_EQ(c.model.layers, 2);
  EXPECT_EQ(c.model.dropout, 0.25);
  EXPECT_EQ(c.model.init, lstmlab::InitScheme::Keras);
  EXPECT_EQ(c.train.loss, "mse");
  EXPECT_EQ(c.train.optimizer, "sgd");
  EXPECT_TRUE(c.train.shuffle);
  EXPECT_EQ(c.train.batch_size, 0);
  EXPECT_EQ(c.train.dtype, "float64");
  expect_written_again(c, file);
}

TEST_F(RunConfigFile, RunsRecordedBeforeTheCellAxisAndThreadsAreLstmsWithNoThreadCount) {
  auto j = lstmlab::read_json_file(kFixtures + "/config_lstm_main.json");
  j["model"].erase("cell");
  j["model"].erase("gru_reset");
  j["train"].erase("threads");
  const auto path = as_run(j);
  const auto c = lstmlab::read_run_config(path.substr(0, path.rfind('/')));
  EXPECT_EQ(c.model.cell, lstmlab::CellKind::Lstm);
  EXPECT_TRUE(c.model.reset_after);
  EXPECT_EQ(c.train.threads, 0);
}

TEST_F(RunConfigFile, UnknownKeysAndBadValuesAreRefusedNamingTheFile) {
  const auto good = lstmlab::read_json_file(kFixtures + "/config_gru_main.json");
  struct Case {
    const char* section;
    const char* key;
    json value;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"model", "colour", "red", {"model", "'colour'", "hidden", "scratch_backward"}},
      {"train", "momentum", 0.9, {"train", "'momentum'", "optimizer"}},
      {"model", "init", "xavier", {"model.init", "'xavier'", "torch, d2l, keras"}},
      {"model", "cell", "rnn", {"model.cell", "'rnn'", "lstm, gru"}},
      {"model", "gru_reset", "sideways", {"model.gru_reset", "'sideways'", "after, before"}},
      {"model", "kind", 3, {"model.kind"}},
      {"model", "hidden", "three", {"model.hidden"}},
      {"train", "shuffle", "yes", {"train.shuffle"}},
      {"train", "loss", "cross_entropy", {"--loss 'cross_entropy'", "sine", "mse, mae"}},
      // An integer setting from a float: nlohmann alone would cast 1e300 (undefined behaviour,
      // found by fuzz_run_config) or truncate 2.5.
      {"model", "hidden", 1e300, {"model.hidden", "an integer from -9223372036854775808", "1e+300"}},
      {"train", "epochs", 2.5, {"train.epochs", "an integer", "2.5"}},
      {"train", "seed", -1, {"train.seed", "an integer from 0 to 18446744073709551615", "-1"}},
      {"train", "threads", 1e10, {"train.threads", "an integer", "10000000000"}},
      {"train", "shuffle", 1, {"train.shuffle", "true or false", "1"}},
      {"train", "lr", "0.1", {"train.lr"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.section) + "." + c.key);
    auto j = good;
    j[c.section][c.key] = c.value;
    const auto message = refused(j);
    for (const auto& m : c.mentions) expect_contains(message, {m});
  }
  auto missing = good;
  missing["model"].erase("hidden");
  expect_contains(refused(missing), {"\"model\" lacks 'hidden'"});
  auto no_train = good;
  no_train.erase("train");
  expect_contains(refused(no_train), {"no \"train\" section"});
  auto bad_task_key = good;
  bad_task_key["sine"]["wavelength"] = 2;
  expect_contains(refused(bad_task_key), {"sine", "'wavelength'"});
  auto float_points = good;
  float_points["sine"]["points"] = -1e300;
  expect_contains(refused(float_points), {"sine.points", "an integer", "-1e+300"});
}

}  // namespace
