// lstm-lab against real Keras (tests/fixtures/keras/reference.json, made by make_reference.py
// beside it, which records its Keras and TensorFlow versions): seed 000's model, LSTM(10, relu) ->
// Dense(1), MAE, Adam, batches of 50 in order, on a slice of pollution.csv, from Keras' own
// initial weights, trained through the project's trainer. The loss history must agree to 1e-5
// for the preset and for each semantic point (hard_sigmoid gates, epsilon 1e-8, a partial last
// batch); the test predictions and final weights to 1e-4, which the epsilon variant alone moves by
// 4e-3 in the weights, and torch::optim::Adam by more.

#include "app/io/weights_file.h"
#include "app/train/trainer.h"
#include "tests/tensor_task.h"
#include "tests/temp_paths.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <iostream>
#include <sstream>

namespace {

using lstmlab::Split;
using nlohmann::json;

const json& reference() {
  static const json doc = [] {
    // tests/app/train/ -> tests/fixtures/keras/
    const auto here = std::filesystem::path(__FILE__).parent_path();
    std::ifstream in(here / ".." / ".." / "fixtures" / "keras" / "reference.json");
    if (!in) throw std::runtime_error("cannot open the Keras fixture beside " + here.string());
    return json::parse(in);
  }();
  return doc;
}

torch::Tensor tensor(const json& j) {
  const auto v = j.get<std::vector<double>>();
  return torch::tensor(v, torch::kDouble);
}

torch::Tensor matrix(const json& rows) {
  std::vector<torch::Tensor> r;
  for (const auto& row : rows) r.push_back(tensor(row));
  return torch::stack(r);
}

// Keras' layout -> the model's, through the project's own reader of such files.
lstmlab::ModelWeights keras_weights(const json& layout, lstmlab::test::TempPaths& paths,
                                    const std::string& tag) {
  const auto path = paths.path(tag + ".json");
  std::ofstream(path) << layout.dump();
  return lstmlab::load_model_weights_json(path, lstmlab::CellKind::Lstm);
}

struct Outcome {
  std::vector<double> losses;
  torch::Tensor predictions;
  lstmlab::ModelWeights weights;
};

Outcome train_like_keras(const json& variant, const std::string& optimizer,
                         lstmlab::test::TempPaths& paths, const std::string& tag) {
  const auto& ref = reference();
  const auto x = matrix(ref["x"]).unsqueeze(1);  // [n, 1, 8]: n_in = 1
  const auto y = tensor(ref["y"]).unsqueeze(1);  // [n, 1]
  const int64_t train = variant["train_samples"];
  const int64_t test_from = ref["test_from"];
  lstmlab::test::TensorTask task({{Split::Train, {x.narrow(0, 0, train), y.narrow(0, 0, train)}}},
                                 "mae");
  lstmlab::RunConfig config;
  config.model.hidden = ref["units"];
  config.model.activation = lstmlab::Activation::Relu;
  config.model.init = lstmlab::InitScheme::Keras;
  config.model.recurrent_activation =
      lstmlab::parse_gate_activation(variant["recurrent_activation"].get<std::string>());
  if (config.model.recurrent_activation == lstmlab::GateActivation::HardSigmoid) {
    config.model.backward = lstmlab::ScratchBackward::Autograd;
  }
  config.train.loss = "mae";
  config.train.optimizer = optimizer;
  config.train.lr = ref["lr"];
  config.train.adam_epsilon = variant["epsilon"];
  config.train.epochs = ref["epochs"];
  config.train.batch_size = ref["batch_size"];
  config.train.dtype = "float32";
  auto model = task.make_model(config.model);
  model->set_model_weights(keras_weights(ref["initial_weights"], paths, tag + "_initial"));
  std::ostringstream log;
  lstmlab::Trainer trainer(model, task, config, paths.path(tag), log, true);
  Outcome out;
  for (const auto& m : trainer.fit()) out.losses.push_back(m.train_loss);
  torch::NoGradGuard no_grad;
  model->eval();
  out.predictions = model->forward(x.narrow(0, test_from, x.size(0) - test_from).to(torch::kFloat))
                        .squeeze(1)
                        .to(torch::kDouble);
  out.weights = model->get_model_weights();
  return out;
}

double weights_diff(const lstmlab::ModelWeights& a, const lstmlab::ModelWeights& b) {
  using lstmlab::test::max_abs_diff;
  return std::max({max_abs_diff(a.stack[0].W_x, b.stack[0].W_x),
                   max_abs_diff(a.stack[0].W_h, b.stack[0].W_h),
                   max_abs_diff(a.stack[0].b, b.stack[0].b), max_abs_diff(a.head_weight, b.head_weight),
                   max_abs_diff(a.head_bias, b.head_bias)});
}

TEST(KerasReference, LossHistoryPredictionsAndWeightsAgreeWithKerasForEverySemanticPoint) {
  lstmlab::clear_stop_request();
  lstmlab::test::TempPaths paths;
  const auto& ref = reference();
  for (const std::string name : {"preset", "hard_sigmoid", "epsilon_1e-8", "partial_batch"}) {
    SCOPED_TRACE(name);
    const auto& variant = ref["variants"][name];
    const auto out = train_like_keras(variant, "keras-adam", paths, name);
    const auto expected = variant["loss_history"].get<std::vector<double>>();
    ASSERT_EQ(out.losses.size(), expected.size());
    double loss_diff = 0;
    for (size_t e = 0; e < expected.size(); ++e) {
      loss_diff = std::max(loss_diff, std::abs(out.losses[e] - expected[e]));
      EXPECT_NEAR(out.losses[e], expected[e], 1e-5) << "epoch " << e + 1;
    }
    const auto keras_final = keras_weights(variant["final_weights"], paths, name + "_final");
    const double w_diff = weights_diff(out.weights, keras_final);
    const double p_diff =
        lstmlab::test::max_abs_diff(out.predictions, tensor(variant["test_predictions"]));
    EXPECT_LT(w_diff, 1e-4);
    EXPECT_LT(p_diff, 1e-4);
    std::cout << "[ keras " << ref["keras_version"].get<std::string>() << " ] " << name
              << ": loss history within " << loss_diff << ", predictions " << p_diff
              << ", weights " << w_diff << "\n";
  }
}

// The fixture can tell the semantic points apart, and torch::optim::Adam from Keras' Adam.
TEST(KerasReferenceFixture, EachVariantIsFartherFromThePresetThanTheTolerance) {
  const auto& v = reference()["variants"];
  const auto loss = [&](const char* name) { return v[name]["loss_history"].get<std::vector<double>>(); };
  EXPECT_GT(std::abs(loss("hard_sigmoid")[0] - loss("preset")[0]), 1e-4);
  EXPECT_GT(std::abs(loss("partial_batch")[0] - loss("preset")[0]), 1e-4);
  lstmlab::test::TempPaths paths;
  const double eps_moves = weights_diff(keras_weights(v["preset"]["final_weights"], paths, "a"),
                                        keras_weights(v["epsilon_1e-8"]["final_weights"], paths, "b"));
  EXPECT_GT(eps_moves, 1e-3) << "epsilon 1e-8 must move some weight past the 1e-4 tolerance";
}

TEST(KerasReferenceFixture, TorchAdamFromTheSameWeightsLandsElsewhere) {
  lstmlab::test::TempPaths paths;
  const auto& variant = reference()["variants"]["preset"];
  const auto out = train_like_keras(variant, "adam", paths, "torch_adam");
  const auto keras_final = keras_weights(variant["final_weights"], paths, "final");
  const double diff = weights_diff(out.weights, keras_final);
  std::cout << "[ torch::optim::Adam ] final weights differ from Keras' by up to " << diff << "\n";
  EXPECT_GT(diff, 1e-3);
}

}  // namespace
