// The csv task's data against hand-built expectations: series_to_supervised's layout, windows
// across a dropped row, LabelEncoder's order, the scaling and its inverse, the chronological
// splits in both orders, and the one-line errors that name the file, the line and the column.

#include "data/csv_series.h"
#include "data/supervised_frame.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using lstmlab::ColumnScaler;
using lstmlab::CsvSeries;
using lstmlab::CsvSeriesOptions;
using lstmlab::LabelEncoder;
using lstmlab::ScaleKind;
using lstmlab::Split;
using lstmlab::series_to_supervised;

torch::Tensor rows_of(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

TEST(SeriesToSupervised, TwoInTwoOutTwoFeaturesMatchesAHandBuiltFrame) {
  // a = 1..5, b = 10..50; both features, both targets.
  const auto values = rows_of({{1, 10}, {2, 20}, {3, 30}, {4, 40}, {5, 50}});
  const auto frame = series_to_supervised(values, {0, 1, 2, 3, 4}, {0, 1}, {0, 1}, 2, 2);
  // pandas: var1(t-2) var2(t-2) var1(t-1) var2(t-1) | var1(t) var2(t) var1(t+1) var2(t+1)
  const auto input = torch::tensor({1., 10., 2., 20., 2., 20., 3., 30.}, torch::kDouble).view({2, 2, 2});
  const auto target = torch::tensor({3., 30., 4., 40., 4., 40., 5., 50.}, torch::kDouble).view({2, 4});
  EXPECT_TRUE(torch::equal(frame.input, input)) << frame.input;
  EXPECT_TRUE(torch::equal(frame.target, target)) << frame.target;
  EXPECT_EQ(frame.target_row, (std::vector<int64_t>{2, 3}));
}

TEST(SeriesToSupervised, WindowsAcrossADroppedRowAreDropped) {
  // File rows 0..6 with row 3 dropped: the window (2, 4) would join two stretches of time.
  const auto values = rows_of({{0}, {1}, {2}, {4}, {5}, {6}});
  const auto frame = series_to_supervised(values, {0, 1, 2, 4, 5, 6}, {0}, {0}, 1, 1);
  EXPECT_TRUE(torch::equal(frame.input.flatten(), torch::tensor({0., 1., 4., 5.}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(frame.target.flatten(), torch::tensor({1., 2., 5., 6.}, torch::kDouble)));
  EXPECT_THROW(series_to_supervised(values, {0, 1, 2, 4, 5, 6}, {0}, {0}, 0, 1), std::invalid_argument);
}

TEST(LabelEncoderOrder, ClassesSortedAsScikitLearnSortsThem) {
  // sklearn.preprocessing.LabelEncoder().fit(['SE','NW','cv','NE','SE']).classes_
  //   == ['NE', 'NW', 'SE', 'cv']: upper case sorts before lower case.
  const LabelEncoder encoder({"SE", "NW", "cv", "NE", "SE"});
  EXPECT_EQ(encoder.classes(), (std::vector<std::string>{"NE", "NW", "SE", "cv"}));
  EXPECT_EQ(encoder.code("SE"), 2);
  EXPECT_EQ(encoder.code("cv"), 3);
  EXPECT_THROW(encoder.code("SW"), std::invalid_argument);
}

TEST(Scaling, MinMaxAndStandardByHandAndTheirInverse) {
  const auto x = rows_of({{2, 7}, {4, 7}, {6, 7}});  // the second column has no spread
  const ColumnScaler minmax(ScaleKind::MinMax, x);
  EXPECT_TRUE(torch::allclose(minmax.transform(x), rows_of({{0, 0}, {0.5, 0}, {1, 0}})));
  const ColumnScaler standard(ScaleKind::Standard, x);
  const double sd = std::sqrt(8.0 / 3.0);  // population standard deviation of 2, 4, 6
  EXPECT_TRUE(torch::allclose(standard.transform(x), rows_of({{-2 / sd, 0}, {0, 0}, {2 / sd, 0}})));
  const ColumnScaler none(ScaleKind::None, x);
  EXPECT_TRUE(torch::equal(none.transform(x), x));

  torch::manual_seed(3);
  const auto y = torch::randn({50, 3}, torch::kDouble) * 100 + 20;
  for (const auto kind : {ScaleKind::MinMax, ScaleKind::Standard}) {
    const ColumnScaler s(kind, y.narrow(0, 0, 30));  // fitted on some rows, applied to all
    const auto back = s.inverse(s.transform(y), {0, 1, 2});
    EXPECT_LT((back - y).abs().max().item<double>(), 1e-10);
    // One column's values through its own scaling, as a target is inverted.
    const auto col2 = s.inverse(s.transform(y).narrow(1, 2, 1), {2});
    EXPECT_LT((col2 - y.narrow(1, 2, 1)).abs().max().item<double>(), 1e-10);
  }
}

class CsvSeriesTest : public lstmlab::test::SeededFileTest {
 protected:
  CsvSeriesOptions options_for(const std::string& text, const std::string& name = "s.csv") {
    const auto path = temp_path(name);
    write_file(path, text);
    CsvSeriesOptions o;
    o.path = path;
    o.targets = {"y"};
    return o;
  }
  static std::string error_of(const CsvSeriesOptions& o) {
    try {
      CsvSeries s(o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

// date,y,dir: ten hours, y = 10, 20, ..., 100, dir alternating.
const std::string kTen =
    "date,y,dir\n"
    "h0,10,SE\nh1,20,NW\nh2,30,SE\nh3,40,NW\nh4,50,SE\nh5,60,NW\nh6,70,SE\nh7,80,NW\nh8,90,SE\nh9,100,NW\n";

TEST_F(CsvSeriesTest, ATextColumnNotNamedIsAnErrorThatSaysToNameIt) {
  auto o = options_for(kTen);
  o.ignore = {"date"};
  const auto e = error_of(o);
  EXPECT_NE(e.find("line 2, column 3 ('dir'): 'SE' is not a number"), std::string::npos) << e;
  EXPECT_NE(e.find("--categorical"), std::string::npos) << e;
  o.ignore = {"date", "nope"};
  EXPECT_NE(error_of(o).find("--ignore 'nope' is not a column"), std::string::npos);
}

TEST_F(CsvSeriesTest, FramesScalesAndSplitsInTimeOrder) {
  auto o = options_for(kTen);
  o.ignore = {"date"};
  o.categorical = {"dir"};
  o.train_rows = 6;
  o.val_fraction = 0.2;
  CsvSeries s(o);
  // 9 samples: 6 train, round(0.2 * 9) = 2 validation, 1 test.
  EXPECT_EQ(s.size(Split::Train), 6);
  EXPECT_EQ(s.size(Split::Validation), 2);
  EXPECT_EQ(s.size(Split::Test), 1);
  EXPECT_EQ(s.input_size(), 2);
  EXPECT_EQ(s.feature_names(), (std::vector<std::string>{"y", "dir"}));
  EXPECT_EQ(s.encoders().at("dir").classes(), (std::vector<std::string>{"NW", "SE"}));
  // The training samples read rows 0..6 (y 10..70): min-max fitted there, so y = 100 scales to 1.5.
  const auto all = torch::arange(1, torch::kLong);
  const auto test = s.examples(Split::Test, all);
  EXPECT_NEAR(test.target.item<double>(), (100.0 - 10.0) / 60.0, 1e-12);
  EXPECT_NEAR(test.input[0][0][0].item<double>(), (90.0 - 10.0) / 60.0, 1e-12);
  EXPECT_NEAR(test.input[0][0][1].item<double>(), 1.0, 1e-12);  // SE is code 1 of {NW, SE}
  EXPECT_NEAR(s.to_original_scale(test.target).item<double>(), 100.0, 1e-12);
  EXPECT_EQ(s.target_lines(Split::Test), (std::vector<int64_t>{11}));
  // Fitted on all rows, as the tutorial does: y = 100 is 1.
  o.scale_fit = "all";
  EXPECT_NEAR(CsvSeries(o).examples(Split::Test, all).target.item<double>(), 1.0, 1e-12);
}

TEST_F(CsvSeriesTest, FrameAfterSplitLosesASampleAtEachSplitsStart) {
  auto o = options_for(kTen);
  o.features = {"y"};
  o.train_rows = 6;  // rows, in this order
  o.frame_after_split = true;
  CsvSeries s(o);
  EXPECT_EQ(s.size(Split::Train), 5);  // 6 rows -> 5 samples
  EXPECT_EQ(s.size(Split::Test), 3);   // 4 rows -> 3 samples: row 6 is never a target
  EXPECT_EQ(s.target_lines(Split::Test), (std::vector<int64_t>{9, 10, 11}));
}

TEST_F(CsvSeriesTest, MissingValuesAreRefusedByDefaultNamingColumnRowAndLine) {
  const std::string text = "y,x\n1,5\n2,6\nNA,7\n4,8\n5,\n6,10\n7,11\n";
  auto o = options_for(text);
  const auto e = error_of(o);
  EXPECT_NE(e.find("line 4, column 1 ('y'), data row 3: missing value 'NA'"), std::string::npos) << e;
  EXPECT_NE(e.find("--missing"), std::string::npos) << e;

  o.missing = "zero";
  EXPECT_EQ(CsvSeries(o).size(Split::Train) + CsvSeries(o).size(Split::Test), 6);

  // Dropped: data rows 3 and 5 go, and every window across them: of the pairs of kept rows
  // (1,2) (2,4) (4,6) (6,7) only (1,2) and (6,7) touch in time.
  o.missing = "drop";
  o.train_fraction = 1.0;
  CsvSeries dropped(o);
  EXPECT_EQ(dropped.dropped_rows(), 2);
  ASSERT_EQ(dropped.size(Split::Train), 2);
  const auto batch = dropped.examples(Split::Train, torch::arange(2, torch::kLong));
  EXPECT_TRUE(torch::allclose(dropped.to_original_scale(batch.target).flatten(),
                              torch::tensor({2., 7.}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(dropped.to_original_scale(batch.input.select(2, 0)).flatten(),
                              torch::tensor({1., 6.}, torch::kDouble)));
  EXPECT_EQ(dropped.target_lines(Split::Train), (std::vector<int64_t>{3, 8}));
}

TEST_F(CsvSeriesTest, ForwardFillCarriesTheLastValueAndDropsRowsBeforeTheFirst) {
  auto o = options_for("y,x\nNA,1\nNA,2\n3,3\nnan,4\n5,5\n");
  o.missing = "ffill";
  o.train_fraction = 1.0;
  o.scale = "none";
  CsvSeries s(o);
  EXPECT_EQ(s.dropped_rows(), 2);
  const auto batch = s.examples(Split::Train, torch::arange(2, torch::kLong));
  EXPECT_TRUE(torch::equal(batch.target.flatten(), torch::tensor({3., 5.}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(batch.input.select(2, 0).flatten(), torch::tensor({3., 3.}, torch::kDouble)));
}

TEST_F(CsvSeriesTest, OptionsThatDoNotFitTheFileAreOneLineNamingTheFlag) {
  auto o = options_for(kTen);
  o.features = {"y"};
  o.train_rows = 50;
  EXPECT_NE(error_of(o).find("--train-rows 50 is more than the 9 samples"), std::string::npos);
  o.train_rows = 0;
  o.targets = {"date"};
  EXPECT_NE(error_of(o).find("'h0' is not a number"), std::string::npos);
  o.targets = {"y"};
  o.n_in = 0;
  EXPECT_NE(error_of(o).find("--n-in must be at least 1"), std::string::npos);
  o.n_in = 1;
  o.missing = "guess";
  EXPECT_NE(error_of(o).find("--missing 'guess'"), std::string::npos);
}

}  // namespace
