// The text task's commands as a user meets them: corpus, train --task text, compare --task text,
// generate; and their refusals, each one line on stderr naming what is wrong. Tiny runs only.

#include "tests/cli_run.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using lstmlab::test::lstm_lab;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class CliText : public ::testing::Test {
 protected:
  std::string file(const std::string& name, const std::string& text) {
    const auto path = paths_.path(name);
    std::ofstream(path) << text;
    return path;
  }
  std::string dir(const std::string& name) { return paths_.path(name); }

  // A refusal: exit status 2 (bad input) or 1, one line on stderr that holds `expected`.
  static void expect_one_line_error(const std::string& args, const std::string& expected) {
    SCOPED_TRACE(args);
    const auto o = lstm_lab(args, true);
    EXPECT_NE(o.status, 0);
    EXPECT_EQ(std::count(o.output.begin(), o.output.end(), '\n'), 1) << o.output;
    EXPECT_NE(o.output.find(expected), std::string::npos) << o.output;
  }

 private:
  lstmlab::test::TempPaths paths_;
};

TEST_F(CliText, RefusalsAreOneLineNamingTheProblem) {
  const auto csv = file("w.csv", "Id,Writeup\n1,<p>hi</p>\n");
  expect_one_line_error("train --task text --csv '" + csv + "' --column Notes --quiet",
                        "no column 'Notes' (the columns: Id, Writeup)");
  // The column read through the CSV reader, its HTML cleaned as a CSV column's is by default.
  const auto column = dir("column");
  ASSERT_EQ(lstm_lab("corpus --csv '" + csv + "' --column Writeup --out '" + column + "'").status, 0);
  EXPECT_EQ(read_file(column + "/corpus.txt"), "hi");
  expect_one_line_error("corpus --csv '" + csv + "' --out '" + dir("c") + "'",
                        "--csv needs --column NAME");
  const auto emoji = file("emoji.txt", "\xf0\x9f\x8e\x89 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\n");
  expect_one_line_error("corpus --text '" + emoji + "' --out '" + dir("e") + "'",
                        "the corpus is empty after cleaning");
  const auto bad = file("bad.txt", "time\xff traveller");
  expect_one_line_error("corpus --text '" + bad + "' --out '" + dir("b") + "'",
                        "invalid UTF-8 at byte offset 4 (0xff)");
  const auto abc = file("abc.txt", "abc");
  expect_one_line_error("train --task text --text '" + abc + "' --seq-len 10 --quiet --out '" +
                            dir("s") + "'",
                        "--seq-len 10 is longer than the corpus allows: it holds 3 characters");
  expect_one_line_error("train --task text --text '" + abc + "' --loss mse --quiet --out '" + dir("m") + "'",
                        "--loss 'mse' is not a loss the text task takes (allowed: cross-entropy)");
  expect_one_line_error("train --task sine --loss cross-entropy --quiet --out '" + dir("x") + "'",
                        "--loss 'cross-entropy' is not a loss the sine task takes (allowed: mse, mae)");
  const auto sine = dir("sine");
  ASSERT_EQ(lstm_lab("train --task sine --points 40 --seq-len 5 --epochs 1 --hidden 4 --quiet "
                     "--no-plots --out '" + sine + "'").status, 0);
  expect_one_line_error("generate '" + sine + "' --prompt 'the '",
                        "is a run of the sine task, which has no vocabulary");
}

TEST_F(CliText, CorpusTrainCompareAndGenerate) {
  const auto text = file("t.txt", "Abc  abc\n\nabc abc abc abc abc abc abc abc abc abc abc abc\n");
  const auto out = dir("corpus");
  const auto c = lstm_lab("corpus --text '" + text + "' --lower --out '" + out + "'");
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(read_file(out + "/corpus.txt"), "abc abc\nabc abc abc abc abc abc abc abc abc abc abc abc");
  EXPECT_EQ(read_file(out + "/vocab.tsv"),
            "index\tcode_point\ttoken\tcount\n0\t<unk>\t<unk>\t0\n1\tU+0061\ta\t14\n"
            "2\tU+0062\tb\t14\n3\tU+0063\tc\t14\n4\tU+0020\t \t12\n5\tU+000A\t\\n\t1\n");
  const auto again = lstm_lab("corpus --text '" + text + "' --out '" + out + "'", true);
  EXPECT_EQ(again.status, 2) << "a corpus already there is not written over";

  const auto run = dir("run");
  const auto t = lstm_lab("train --task text --text '" + text + "' --seq-len 6 --hidden 8 --epochs 2 "
                          "--train-windows 32 --val-windows 8 --sample-every 1 --quiet --no-plots --out '" +
                          run + "'");
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_TRUE(std::filesystem::exists(run + "/samples.txt"));
  const auto config = read_file(run + "/config.json");
  EXPECT_NE(config.find("\"loss\": \"cross-entropy\""), std::string::npos);
  EXPECT_NE(config.find("\"clip\": 1.0"), std::string::npos) << "the text task clips by default";
  EXPECT_NE(read_file(run + "/metrics.csv").find("val_perplexity,lr,train_seconds,tokens_per_s"),
            std::string::npos);
  const auto g = lstm_lab("generate '" + run + "' --prompt 'abc ' --length 5", true);
  EXPECT_EQ(g.status, 0) << g.output;
  const auto g_out = lstm_lab("generate '" + run + "' --prompt 'abc ' --length 5 --temperature 0.8 --seed 1");
  EXPECT_EQ(g_out.output.rfind("abc ", 0), 0u) << g_out.output;
  expect_one_line_error("generate '" + run + "' --prompt 'xyz'", "'x' (U+0078), 'y' (U+0079), 'z' (U+007A) not in");
  const auto mapped = lstm_lab("generate '" + run + "' --prompt 'xa' --length 2 --unknown map", true);
  EXPECT_EQ(mapped.status, 0);
  EXPECT_NE(mapped.output.find("warning: --prompt: 'x' (U+0078) not in"), std::string::npos) << mapped.output;

  const auto cmp = dir("compare");
  for (const char* cell : {"lstm", "gru"}) {
    SCOPED_TRACE(cell);
    std::filesystem::remove_all(cmp);
    const auto o = lstm_lab(std::string("compare --task text --cell ") + cell + " --text '" + text +
                            "' --seq-len 6 --hidden 8 --epochs 2 --train-windows 32 --val-windows 8 "
                            "--quiet --no-plots --out '" + cmp + "'");
    EXPECT_EQ(o.status, 0) << o.output;
    EXPECT_NE(o.output.find("agree"), std::string::npos) << o.output;
  }
}

}  // namespace
