// JSON weight files: exact round trips in both namings, hand-written Python-style files, Keras'
// name variants, and errors that name the file and the problem. Letters: I input features,
// H hidden units, G = 4H.

#include "models/lstm/builtin_lstm.h"
#include "models/lstm/lstm_scratch.h"
#include "app/io/weights_file.h"
#include "models/weight_layout.h"
#include "tests/test_helpers.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using lstmlab::NamedTensors;
using lstmlab::RecurrentOptions;
using lstmlab::StackWeights;
using lstmlab::WeightNaming;
using namespace lstmlab::test;

using WeightsFile = SeededFileTest;


// ----- JSON files ---------------------------------------------------------------------------------

TEST_F(WeightsFile, JsonRoundTripIsExactInBothNamings) {
  auto stack = random_lstm_stack(3, 2, 3);
  // Numbers that a lossy printer would change.
  stack[0].W_x[0][0] = 0.1;
  stack[0].W_x[0][1] = 1.0 / 3.0;
  stack[0].W_x[0][2] = -0.0;
  stack[0].W_x[0][3] = 1e-300;
  stack[0].W_x[0][4] = 123456789.123456789;
  stack[0].W_x[0][5] = std::nextafter(1.0, 2.0);
  for (WeightNaming naming : {WeightNaming::PyTorch, WeightNaming::Keras}) {
    SCOPED_TRACE(lstmlab::to_string(naming));
    const auto path = temp_path(lstmlab::to_string(naming) + ".json");
    lstmlab::save_weights_json(path, stack, naming);
    const auto file = lstmlab::load_weights_json(path);
    EXPECT_EQ(file.naming, naming);
    EXPECT_EQ(file.cell, lstmlab::CellKind::Lstm);
    ASSERT_EQ(file.stack.size(), 3u);
    EXPECT_EQ(file.stack[0].W_x.scalar_type(), torch::kDouble);
    expect_same_stack(file.stack, stack);
    std::remove(path.c_str());
  }
}

TEST_F(WeightsFile, HandWrittenPythonStyleJsonLoads) {
  // I = 2, H = 1. What Python's {k: v.tolist() for k, v in lstm.state_dict().items()} writes:
  // weight_ih_l0 [4H, I], weight_hh_l0 [4H, H], two biases; some numbers written as integers.
  const auto pytorch_path = temp_path("pytorch.json");
  write_file(pytorch_path, R"({
    "weight_ih_l0": [[1, 2], [3, 4], [5, 6], [7, 8.5]],
    "weight_hh_l0": [[0.1], [0.2], [0.3], [-0.4]],
    "bias_ih_l0": [1.0, 2.0, 3.0, 4.0],
    "bias_hh_l0": [0.5, 0.25, -1, 0]
  })");
  const auto p = lstmlab::load_weights_json(pytorch_path);
  EXPECT_EQ(p.naming, WeightNaming::PyTorch);
  ASSERT_EQ(p.stack.size(), 1u);
  EXPECT_TRUE(torch::equal(p.stack[0].W_x, torch::tensor({{1.0, 3.0, 5.0, 7.0}, {2.0, 4.0, 6.0, 8.5}},
                                                         torch::kDouble)));
  EXPECT_TRUE(torch::equal(p.stack[0].W_h, torch::tensor({{0.1, 0.2, 0.3, -0.4}}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(p.stack[0].b, torch::tensor({1.5, 2.25, 2.0, 4.0}, torch::kDouble)));

  // Keras 2: model.weights names end in ":0"; kernel is already [I, 4H].
  const auto keras_path = temp_path("keras.json");
  write_file(keras_path, R"({
    "lstm/lstm_cell/kernel:0": [[1, 3, 5, 7], [2, 4, 6, 8.5]],
    "lstm/lstm_cell/recurrent_kernel:0": [[0.1, 0.2, 0.3, -0.4]],
    "lstm/lstm_cell/bias:0": [0, 1, 0, 0],
    "lstm_1/lstm_cell/kernel:0": [[0.5, 0.5, 0.5, 0.5]],
    "lstm_1/lstm_cell/recurrent_kernel:0": [[1e-3, -2e-3, 3e+1, 4]],
    "lstm_1/lstm_cell/bias:0": [0, 1, 0, 0]
  })");
  const auto k = lstmlab::load_weights_json(keras_path);
  EXPECT_EQ(k.naming, WeightNaming::Keras);
  ASSERT_EQ(k.stack.size(), 2u);
  EXPECT_TRUE(torch::equal(k.stack[0].W_x, p.stack[0].W_x));
  EXPECT_TRUE(torch::equal(k.stack[0].W_h, p.stack[0].W_h));
  EXPECT_TRUE(torch::equal(k.stack[0].b, torch::tensor({0.0, 1.0, 0.0, 0.0}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(k.stack[1].W_h, torch::tensor({{1e-3, -2e-3, 30.0, 4.0}}, torch::kDouble)));
  std::remove(pytorch_path.c_str());
  std::remove(keras_path.c_str());
}

TEST_F(WeightsFile, KerasNameVariantsLoadAlike) {
  // TF2 Keras makes the cell name unique per layer (lstm_cell_1) and Keras 3 puts the model's name
  // in front; both must read as the plain names.
  const auto path = temp_path("keras_variants.json");
  write_file(path, R"({
    "sequential/lstm/lstm_cell/kernel": [[1, 3, 5, 7]],
    "sequential/lstm/lstm_cell/recurrent_kernel": [[0.1, 0.2, 0.3, -0.4]],
    "sequential/lstm/lstm_cell/bias": [0, 1, 0, 0],
    "lstm_1/lstm_cell_1/kernel:0": [[0.5, 0.5, 0.5, 0.5]],
    "lstm_1/lstm_cell_1/recurrent_kernel:0": [[1, 2, 3, 4]],
    "lstm_1/lstm_cell_1/bias:0": [0, 1, 0, 2]
  })");
  const auto k = lstmlab::load_weights_json(path);
  EXPECT_EQ(k.naming, WeightNaming::Keras);
  ASSERT_EQ(k.stack.size(), 2u);
  EXPECT_TRUE(torch::equal(k.stack[0].W_x, torch::tensor({{1.0, 3.0, 5.0, 7.0}}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(k.stack[1].b, torch::tensor({0.0, 1.0, 0.0, 2.0}, torch::kDouble)));
  std::remove(path.c_str());
}

TEST_F(WeightsFile, BadFilesNameTheFileAndTheProblem) {
  // A valid one-unit PyTorch file, then one defect at a time.
  const std::string ih = R"("weight_ih_l0": [[1], [2], [3], [4]])";
  const std::string hh = R"("weight_hh_l0": [[1], [2], [3], [4]])";
  const std::string bi = R"("bias_ih_l0": [1, 2, 3, 4])";
  const std::string bh = R"("bias_hh_l0": [0, 0, 0, 0])";
  auto object = [](std::vector<std::string> entries) {
    std::string s = "{";
    for (size_t n = 0; n < entries.size(); ++n) s += (n ? ", " : "") + entries[n];
    return s + "}";
  };
  const auto path = temp_path("bad.json");
  auto load_error = [&](const std::string& text) -> std::string {
    write_file(path, text);
    try {
      lstmlab::load_weights_json(path);
    } catch (const std::exception& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded without complaint:\n" << text;
    return {};
  };

  write_file(path, object({ih, hh, bi, bh}));
  ASSERT_NO_THROW(lstmlab::load_weights_json(path)) << "the base file must be valid";

  expect_contains(load_error(object({ih, hh, bi})), {path, "bias_hh_l0"});
  expect_contains(load_error(object({ih, R"("weight_hh_l0": [[1, 2], [3, 4], [5, 6], [7, 8]])",
                                     bi, bh})),
                  {path, "size"});
  expect_contains(load_error(object({ih, hh, R"("bias_ih_l0": [1, 2, 3])", bh})), {path, "size"});
  expect_contains(load_error(object({R"("weight_ih_l0": [[1], [2, 5], [3], [4]])", hh, bi, bh})),
                  {path, "weight_ih_l0", "ragged"});
  expect_contains(load_error(object({R"("weight_ih_l0": [[1], 2, [3], [4]])", hh, bi, bh})),
                  {path, "weight_ih_l0", "ragged"});
  expect_contains(load_error(R"({"weight_ih_l0": [[1], [2], [3], [4]], )"), {path, "not valid JSON"});
  expect_contains(load_error(object({ih, hh, bi, bh, R"("decoder.weight": [1, 2])"})),
                  {path, "unexpected tensor 'decoder.weight'"});
  expect_contains(load_error(object({ih, R"("weight_hh_l0": "oops")", bi, bh})),
                  {path, "weight_hh_l0", "array of numbers"});
  expect_contains(load_error("[1, 2, 3]"), {path, "JSON object"});
  std::remove(path.c_str());

  const auto missing = temp_path("does_not_exist.json");
  expect_contains(thrown_message<std::runtime_error>([&] { lstmlab::load_weights_json(missing); }),
                  {missing, "cannot open"});
}

// Files crafted to crash a reader, or read silently wrong: each is one error naming the file.
TEST_F(WeightsFile, CraftedFilesAreRefusedNamingTheFile) {
  const auto path = temp_path("crafted.json");
  const std::string hh = R"("weight_hh_l0": [[1], [2], [3], [4]])";
  const std::string bi = R"("bias_ih_l0": [1, 2, 3, 4])";
  const std::string bh = R"("bias_hh_l0": [0, 0, 0, 0])";
  auto error_of = [&](const std::string& text) -> std::string {
    write_file(path, text);
    try {
      lstmlab::load_weights_json(path);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(loaded without complaint)";
  };
  // 100000 nested arrays once overflowed the stack of the recursive reader (SIGSEGV).
  expect_contains(error_of("{\"weight_ih_l0\": " + std::string(100000, '[')), {path, "nested"});
  expect_contains(error_of(R"({"weight_ih_l0": [[[[1]]], [[[2]]], [[[3]]], [[[4]]]]})"),
                  {path, "nested"});
  // Input size 0 once divided by zero in trace (SIGFPE); hidden size 0 is as empty.
  expect_contains(error_of("{\"weight_ih_l0\": [[],[],[],[]], " + hh + ", " + bi + ", " + bh + "}"),
                  {path, "input size is 0"});
  expect_contains(error_of(R"({"weight_ih_l0": [[1], [2], [3], [4]], "weight_hh_l0": [[], [], [], []], )" +
                           bi + ", " + bh + "}"),
                  {path, "hidden size is 0"});
  // A number out of double's range, and metadata of the wrong type.
  expect_contains(error_of(R"({"weight_ih_l0": [[1e999], [2], [3], [4]], )" + hh + ", " + bi + ", " +
                           bh + "}"),
                  {path, "overflow"});
  expect_contains(error_of(R"({"lstm-lab": 5, "weight_ih_l0": [[1], [2], [3], [4]], )" + hh + ", " +
                           bi + ", " + bh + "}"),
                  {path, "'lstm-lab' must be an object"});
  expect_contains(error_of(R"({"lstm-lab": {"cell": 4}, "weight_ih_l0": [[1], [2], [3], [4]], )" + hh +
                           ", " + bi + ", " + bh + "}"),
                  {path, "'cell' must be a string"});
  // A key twice: the last one no longer wins silently.
  expect_contains(error_of(R"({"weight_ih_l0": [[1], [2], [3], [4]], "weight_ih_l0": [[5], [6], [7], [8]], )" +
                           hh + ", " + bi + ", " + bh + "}"),
                  {path, "'weight_ih_l0' appears twice"});
}

// Once known defects, now fixed:
//
// 1. A number where a row was expected, before the rows: flatten_json (app/io/weights_file.cpp) takes the
//    depth of the first leaf as the array's depth and only checks leaves against the shape once a
//    deeper level exists, so [1, [2], [3], [4]] loads silently as [[1], [2], [3], [4]], and
//    [1, [2, 3], [4, 5], [6, 7]] reaches torch's reshape ("shape '[4, 2]' is invalid for input of
//    size 7"), a message that names neither the file nor the tensor.
// 2. A PyTorch file without weight_hh_l0 is taken for a Keras file (load_weights_json guesses the
//    naming from that one name), so the error speaks of 'lstm/lstm_cell/recurrent_kernel'.
std::string load_message(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path);
    out << text;
  }
  std::string message = "(loaded without complaint)";
  try {
    lstmlab::load_weights_json(path);
  } catch (const std::exception& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  return message;
}

TEST_F(WeightsFile, RaggedArrayWithLeadingNumberNamesTheFile) {
  const std::string rest = R"("weight_hh_l0": [[1], [2], [3], [4]],
                              "bias_ih_l0": [1, 2, 3, 4], "bias_hh_l0": [0, 0, 0, 0]})";
  const auto path = temp_path("ragged_leading_number.json");
  expect_contains(load_message(path, R"({"weight_ih_l0": [1, [2], [3], [4]], )" + rest),
                  {path, "weight_ih_l0", "ragged"});
  expect_contains(load_message(path, R"({"weight_ih_l0": [1, [2, 3], [4, 5], [6, 7]], )" + rest),
                  {path, "weight_ih_l0", "ragged"});
}

TEST_F(WeightsFile, MissingRecurrentWeightOfAPyTorchFileIsNamed) {
  const auto path = temp_path("no_weight_hh.json");
  expect_contains(load_message(path, R"({"weight_ih_l0": [[1], [2], [3], [4]],
                                        "bias_ih_l0": [1, 2, 3, 4], "bias_hh_l0": [0, 0, 0, 0]})"),
                  {path, "weight_hh_l0"});
}

}  // namespace
