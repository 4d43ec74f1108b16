// run_forecast on a tiny trained run: the x values continue the series past x_end at its spacing,
// the truth is sin(x), the predictions are the trained model rolled forward on its own output,
// and forecast.csv holds them; a directory that is not a run is named in the error.

#include "app/tools/forecast.h"
#include "app/train/run_config.h"
#include "app/train/train_run.h"
#include "data/sine_waves.h"
#include "tests/sine_config.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

class Forecast : public ::testing::Test {
 protected:
  std::string fresh_dir() { return paths_.path("forecast"); }

 private:
  lstmlab::test::TempPaths paths_;
};

TEST_F(Forecast, ContinuesTheSeriesWithTheTrainedModel) {
  lstmlab::RunConfig c;
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.points = 120; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.x_start = 0; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.x_end = 30; });
  lstmlab::test::edit_sine(c, [&](lstmlab::SineOptions& s) { s.seq_len = 10; });
  c.model.hidden = 8;
  c.train.epochs = 3;
  c.train.dtype = "float64";
  lstmlab::RunRequest request;
  request.config = c;
  request.run_dir = fresh_dir();
  request.quiet = true;
  request.plots = false;
  std::ostringstream log;
  const auto trained = lstmlab::train_run(request, log);
  ASSERT_EQ(trained.history.size(), 3u);

  const auto f = lstmlab::run_forecast(request.run_dir, 7, log);
  ASSERT_EQ(f.x.size(), 7u);
  ASSERT_EQ(f.prediction.size(), 7u);
  ASSERT_EQ(f.truth.size(), 7u);
  const double dx = (lstmlab::sine_options(c).x_end - lstmlab::sine_options(c).x_start) / static_cast<double>(lstmlab::sine_options(c).points - 1);
  for (size_t k = 0; k < 7; ++k) {
    const double x = lstmlab::sine_options(c).x_end + static_cast<double>(k + 1) * dx;
    EXPECT_NEAR(f.x[k], x, 1e-12) << "step " << k + 1;
    EXPECT_DOUBLE_EQ(f.truth[k], std::sin(f.x[k])) << "step " << k + 1;
  }
  EXPECT_NEAR(f.x[1] - f.x[0], dx, 1e-12);

  // The trained model itself, rolled forward on its own predictions from the last window.
  auto model = trained.model;
  model->eval();
  torch::NoGradGuard no_grad;
  const lstmlab::SineWaves data(lstmlab::sine_options(c));
  const auto window =
      data.series().narrow(0, lstmlab::sine_options(c).points - lstmlab::sine_options(c).seq_len, lstmlab::sine_options(c).seq_len).contiguous();
  std::vector<double> values(window.data_ptr<double>(), window.data_ptr<double>() + window.numel());
  double se = 0;
  for (size_t k = 0; k < 7; ++k) {
    const auto input = torch::tensor(std::vector<double>(values.end() - lstmlab::sine_options(c).seq_len, values.end()),
                                     torch::kDouble)
                           .view({1, lstmlab::sine_options(c).seq_len, 1});
    const double next = model->forward(input).item<double>();
    EXPECT_NEAR(f.prediction[k], next, 1e-12) << "step " << k + 1;
    values.push_back(next);
    se += std::pow(f.prediction[k] - f.truth[k], 2);
  }
  EXPECT_NEAR(f.rmse, std::sqrt(se / 7), 1e-12);

  EXPECT_EQ(f.csv_path, request.run_dir + "/forecast.csv");
  std::ifstream csv(f.csv_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 8u) << "a header and 7 steps";
  EXPECT_EQ(lines[0], "step,x,prediction,truth");
  EXPECT_EQ(lines[1].rfind("1,", 0), 0u) << lines[1];
  EXPECT_FALSE(f.note.empty());
}

TEST_F(Forecast, MissingRunDirectoryNamesConfigJson) {
  const auto dir = fresh_dir();
  std::ostringstream log;
  try {
    lstmlab::run_forecast(dir, 7, log);
    ADD_FAILURE() << "forecast of a missing run";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir + "/config.json"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(dir + "/forecast.csv"));
}

}  // namespace
