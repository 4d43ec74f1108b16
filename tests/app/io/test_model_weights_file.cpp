// Whole-model weights files (--init-weights, lstm-lab export): Keras' layout and PyTorch's
// state_dict, both ways, exactly; a state_dict under a module prefix; every missing part named; the
// shapes checked against the model; and a run started from a file trains exactly as the run whose
// weights the file holds, then exports the same numbers in either layout.

#include "app/cli/cli.h"
#include "app/io/weights_file.h"
#include "app/tasks/registry.h"
#include "app/train/train_run.h"
#include "models/heads/sequence_regressor.h"
#include "models/layer_factory.h"
#include "tests/run_helpers.h"
#include "tests/sine_config.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

namespace {

using lstmlab::CellKind;
using lstmlab::ModelWeights;
using lstmlab::WeightNaming;
using lstmlab::test::expect_contains;
using lstmlab::test::thrown_message;

std::shared_ptr<lstmlab::SequenceRegressorImpl> model_of(CellKind cell, int64_t I, int64_t H,
                                                         int64_t L, int64_t K) {
  return std::make_shared<lstmlab::SequenceRegressorImpl>(
      lstmlab::make_recurrent_layer(cell, lstmlab::LayerKind::Scratch,
                                    lstmlab::RecurrentOptions(I, H).num_layers(L).batch_first(true)),
      K);
}

void expect_same(const ModelWeights& a, const ModelWeights& b) {
  ASSERT_EQ(a.stack.size(), b.stack.size());
  for (size_t k = 0; k < a.stack.size(); ++k) {
    EXPECT_TRUE(torch::equal(a.stack[k].W_x, b.stack[k].W_x)) << "W_x " << k;
    EXPECT_TRUE(torch::equal(a.stack[k].W_h, b.stack[k].W_h)) << "W_h " << k;
    EXPECT_TRUE(torch::equal(a.stack[k].b, b.stack[k].b)) << "b " << k;
    if (a.stack[k].b_hn.defined()) {
      EXPECT_TRUE(torch::equal(a.stack[k].b_hn, b.stack[k].b_hn));
    }
  }
  EXPECT_TRUE(torch::equal(a.head_weight, b.head_weight));
  EXPECT_TRUE(torch::equal(a.head_bias, b.head_bias));
}

class ModelWeightsFile : public lstmlab::test::SeededFileTest {};

TEST_F(ModelWeightsFile, RoundTripsExactlyInBothLayoutsForBothCells) {
  for (auto cell : {CellKind::Lstm, CellKind::Gru}) {
    for (int64_t layers : {1, 2}) {
      SCOPED_TRACE(lstmlab::to_string(cell) + " x" + std::to_string(layers));
      auto model = model_of(cell, 3, 4, layers, 2);
      const auto original = model->get_model_weights();
      for (auto naming : {WeightNaming::Keras, WeightNaming::PyTorch}) {
        const auto path = temp_path(lstmlab::to_string(naming) + ".json");
        lstmlab::save_model_weights_json(path, original, naming, cell);
        auto other = model_of(cell, 3, 4, layers, 2);
        other->set_model_weights(lstmlab::load_model_weights_json(path, cell));
        expect_same(other->get_model_weights(), original);
      }
    }
  }
}

// Keras -> model -> PyTorch -> model -> Keras gives back the first file byte for byte.
TEST_F(ModelWeightsFile, KerasToPyTorchAndBackIsTheSameFile) {
  auto model = model_of(CellKind::Lstm, 2, 3, 2, 1);
  const auto keras = temp_path("a.json"), pytorch = temp_path("b.json"), again = temp_path("c.json");
  lstmlab::save_model_weights_json(keras, model->get_model_weights(), WeightNaming::Keras, CellKind::Lstm);
  lstmlab::save_model_weights_json(pytorch, lstmlab::load_model_weights_json(keras, CellKind::Lstm),
                                   WeightNaming::PyTorch, CellKind::Lstm);
  lstmlab::save_model_weights_json(again, lstmlab::load_model_weights_json(pytorch, CellKind::Lstm),
                                   WeightNaming::Keras, CellKind::Lstm);
  std::ifstream a(keras), c(again);
  std::stringstream sa, sc;
  sa << a.rdbuf();
  sc << c.rdbuf();
  EXPECT_EQ(sa.str(), sc.str());
  const auto doc = nlohmann::json::parse(sa.str());
  ASSERT_TRUE(doc.at("lstm").is_array());  // a stack: first layer first
  EXPECT_EQ(doc.at("lstm").size(), 2u);
  EXPECT_EQ(doc.at("dense").at("kernel").size(), 3u);  // [H, K]
}

TEST_F(ModelWeightsFile, AKerasFileByHandLandsWhereKerasMeansIt) {
  // I = 1, H = 1: kernel [1, 4] in i, f, c, o; Dense kernel [1, 1].
  const auto path = temp_path("keras.json");
  write_file(path, R"({"lstm": {"kernel": [[1, 2, 3, 4]], "recurrent_kernel": [[5, 6, 7, 8]],
                                "bias": [0.1, 1, 0.3, 0.4]},
                       "dense": {"kernel": [[2.5]], "bias": [-1]}})");
  const auto w = lstmlab::load_model_weights_json(path, CellKind::Lstm);
  EXPECT_TRUE(torch::equal(w.stack[0].W_x, torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble).view({1, 4})));
  EXPECT_TRUE(torch::equal(w.stack[0].W_h, torch::tensor({5.0, 6.0, 7.0, 8.0}, torch::kDouble).view({1, 4})));
  EXPECT_EQ(w.stack[0].b[1].item<double>(), 1.0);
  EXPECT_EQ(w.head_weight.item<double>(), 2.5);
  EXPECT_EQ(w.head_bias.item<double>(), -1.0);
}

TEST_F(ModelWeightsFile, AStateDictUnderAModulePrefixLoadsWithItsBiasesSummed) {
  const auto path = temp_path("state_dict.json");
  // model.lstm = nn.LSTM(1, 1), model.out = nn.Linear(1, 1), as json.dump(state_dict) writes it.
  write_file(path, R"({"model.lstm.weight_ih_l0": [[1], [2], [3], [4]],
                       "model.lstm.weight_hh_l0": [[5], [6], [7], [8]],
                       "model.lstm.bias_ih_l0": [1, 1, 1, 1],
                       "model.lstm.bias_hh_l0": [0.5, 0.25, 0, -1],
                       "model.out.weight": [[3]], "model.out.bias": [0.5]})");
  const auto w = lstmlab::load_model_weights_json(path, CellKind::Lstm);
  EXPECT_TRUE(torch::equal(w.stack[0].b, torch::tensor({1.5, 1.25, 1.0, 0.0}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(w.stack[0].W_x, torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble).view({1, 4})));
  EXPECT_EQ(w.head_weight.item<double>(), 3.0);
  auto model = model_of(CellKind::Lstm, 1, 1, 1, 1);
  model->set_model_weights(w);
  EXPECT_EQ(model->head->bias.item<float>(), 0.5f);
}

TEST_F(ModelWeightsFile, EveryMissingPartIsNamed) {
  const auto no_head = temp_path("no_head.json");
  write_file(no_head, R"({"lstm.weight_ih_l0": [[1], [2], [3], [4]], "lstm.weight_hh_l0": [[5], [6], [7], [8]],
                          "lstm.bias_ih_l0": [1, 1, 1, 1], "lstm.bias_hh_l0": [0, 0, 0, 0]})");
  auto message = thrown_message([&] { lstmlab::load_model_weights_json(no_head, CellKind::Lstm); });
  expect_contains(message, {no_head, "head is missing", "fc.weight"});

  const auto no_bias = temp_path("no_bias.json");
  write_file(no_bias, R"({"rnn.weight_ih_l0": [[1], [2], [3], [4]], "rnn.weight_hh_l0": [[5], [6], [7], [8]],
                          "rnn.bias_ih_l0": [1, 1, 1, 1], "fc.weight": [[1]], "fc.bias": [0]})");
  message = thrown_message([&] { lstmlab::load_model_weights_json(no_bias, CellKind::Lstm); });
  expect_contains(message, {no_bias, "bias_hh_l0"});

  const auto no_layer = temp_path("no_layer.json");
  write_file(no_layer, R"({"fc.weight": [[1]], "fc.bias": [0]})");
  message = thrown_message([&] { lstmlab::load_model_weights_json(no_layer, CellKind::Lstm); });
  expect_contains(message, {no_layer, "no recurrent layer", "lstm.weight_ih_l0"});

  const auto no_dense = temp_path("no_dense.json");
  write_file(no_dense, R"({"lstm": {"kernel": [[1, 2, 3, 4]], "recurrent_kernel": [[5, 6, 7, 8]], "bias": [0, 1, 0, 0]}})");
  message = thrown_message([&] { lstmlab::load_model_weights_json(no_dense, CellKind::Lstm); });
  expect_contains(message, {no_dense, "\"dense\"", "missing"});

  const auto gru_file = temp_path("gru.json");
  write_file(gru_file, R"({"gru": {"kernel": [[1, 2, 3]], "recurrent_kernel": [[5, 6, 7]], "bias": [0, 1, 0]},
                           "dense": {"kernel": [[1]], "bias": [0]}})");
  message = thrown_message([&] { lstmlab::load_model_weights_json(gru_file, CellKind::Lstm); });
  expect_contains(message, {gru_file, "'gru'", "lstm"});
}

TEST_F(ModelWeightsFile, ShapesAreCheckedAgainstTheModel) {
  auto small = model_of(CellKind::Lstm, 3, 4, 1, 1);
  const auto path = temp_path("h4.json");
  lstmlab::save_model_weights_json(path, small->get_model_weights(), WeightNaming::Keras, CellKind::Lstm);
  auto wide = model_of(CellKind::Lstm, 3, 5, 1, 1);
  auto message = thrown_message([&] { wide->set_model_weights(lstmlab::load_model_weights_json(path, CellKind::Lstm)); });
  expect_contains(message, {"[3, 16]", "[3, 20]"});
  auto two_outputs = model_of(CellKind::Lstm, 3, 4, 1, 2);
  message = thrown_message([&] { two_outputs->set_model_weights(lstmlab::load_model_weights_json(path, CellKind::Lstm)); });
  expect_contains(message, {"head", "[1, 4]", "[2, 4]"});
}

// Run A draws its weights from seed 42; run B, seed 7, starts from a file of A's initial weights:
// the two histories are one, and `lstm-lab export` of each, in either layout, holds the same numbers.
TEST_F(ModelWeightsFile, ARunFromAFileTrainsAsTheRunItCameFromAndExportsTheSameWeights) {
  lstmlab::RunConfig c;
  lstmlab::test::edit_sine(c, [](lstmlab::SineOptions& s) {
    s.points = 80;
    s.seq_len = 8;
  });
  c.model.hidden = 5;
  c.model.init = lstmlab::InitScheme::Keras;
  c.train.epochs = 2;
  c.train.batch_size = 16;
  c.train.optimizer = "keras-adam";
  c.train.loss = "mae";
  c.train.seed = 42;
  const auto task = lstmlab::make_task(c);
  torch::manual_seed(c.train.seed);
  const auto initial = task->make_model(c.model)->get_model_weights();
  const auto file = temp_path("initial.json");
  lstmlab::save_model_weights_json(file, initial, WeightNaming::PyTorch, CellKind::Lstm);

  const auto dir_a = temp_path("a");
  const auto a = lstmlab::test::quiet_run(c, dir_a);
  auto from_file = c;
  from_file.train.seed = 7;
  from_file.model.init_weights = file;
  const auto dir_b = temp_path("b");
  const auto b = lstmlab::test::quiet_run(from_file, dir_b);
  ASSERT_EQ(a.history.size(), 2u);
  for (size_t e = 0; e < 2; ++e) EXPECT_EQ(a.history[e].train_loss, b.history[e].train_loss);

  const auto export_a = temp_path("a.json"), export_b = temp_path("b.json");
  for (const auto& [dir, out, format] : {std::tuple{dir_a, export_a, "keras"}, std::tuple{dir_b, export_b, "pytorch"}}) {
    std::vector<std::string> args = {"export", dir, "--format", format, "--out", out};
    std::vector<const char*> argv;
    for (const auto& s : args) argv.push_back(s.c_str());
    testing::internal::CaptureStdout();
    EXPECT_EQ(lstmlab::export_command(static_cast<int>(argv.size()), argv.data()), 0);
    testing::internal::GetCapturedStdout();
  }
  auto model_a = model_of(CellKind::Lstm, 1, 5, 1, 1);
  model_a->set_model_weights(lstmlab::load_model_weights_json(export_a, CellKind::Lstm));
  auto model_b = model_of(CellKind::Lstm, 1, 5, 1, 1);
  model_b->set_model_weights(lstmlab::load_model_weights_json(export_b, CellKind::Lstm));
  expect_same(model_a->get_model_weights(), model_b->get_model_weights());
  expect_same(model_a->get_model_weights(), a.model->get_model_weights());
  // Trained: not the initial weights any more.
  EXPECT_FALSE(torch::equal(model_a->get_model_weights().head_weight, initial.head_weight));

  // An existing --out is not written over.
  std::vector<const char*> again = {"export", dir_a.c_str(), "--format", "keras", "--out", export_a.c_str()};
  expect_contains(thrown_message<std::invalid_argument>([&] {
                    lstmlab::export_command(static_cast<int>(again.size()), again.data());
                  }),
                  {"exists", "--overwrite"});
}

}  // namespace
