// Plot scripts are programs: no name a user typed may become a line of one. Hostile text (newlines,
// quotes, backslashes, gnuplot's system()) goes through every part of a script, and gnuplot, run
// for real where it is installed, executes none of it.

#include "app/tools/plots.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

const std::string kHostile = "a\nsystem(\"touch PWNED\")\n#'b\\'\r\x01";

size_t lines_of(const std::string& text) {
  size_t n = 0;
  for (char ch : text) n += ch == '\n';
  return n;
}

TEST(Plots, GnuplotStringsHoldNoLineBreakAndDoubleTheirQuotes) {
  EXPECT_EQ(lstmlab::gnuplot_string("it's"), "'it''s'");
  EXPECT_EQ(lstmlab::gnuplot_string("a\nb\rc\td"), "'a b c d'");
  EXPECT_EQ(lstmlab::gnuplot_string("C:\\dir"), "'C:\\dir'");  // gnuplot reads '\' literally in ''
}

TEST(Plots, HostileTitlesStayInsideTheirStrings) {
  lstmlab::PlotSpec spec{"unused", "loss", kHostile, kHostile, kHostile, true, {}};
  spec.series.push_back({"metrics.csv", 1, 2, kHostile});
  spec.series.push_back({"metrics.csv", 1, 3, kHostile});
  const auto script = lstmlab::plot_script(spec);
  // The same lines a plot with plain titles has: nothing was added.
  lstmlab::PlotSpec plain{"unused", "loss", "t", "x", "y", true, {}};
  plain.series.push_back({"metrics.csv", 1, 2, "a"});
  plain.series.push_back({"metrics.csv", 1, 3, "b"});
  EXPECT_EQ(lines_of(script), lines_of(lstmlab::plot_script(plain))) << script;
  for (size_t start = 0; start < script.size();) {
    const auto end = script.find('\n', start);
    const auto line = script.substr(start, end - start);
    EXPECT_NE(line.rfind("system", 0), 0u) << "a line of its own: " << line;
    start = end + 1;
  }
  // A file name is ours and plain: anything else is a bug, refused rather than escaped.
  spec.series[0].data_file = "../elsewhere.csv";
  EXPECT_THROW(lstmlab::plot_script(spec), std::logic_error);
}

TEST(Plots, GnuplotRunsInAHostileDirectoryAndExecutesNothing) {
  lstmlab::test::TempPaths paths;
  const auto dir = paths.path("plot") + kHostile;
  fs::create_directories(dir);
  std::ofstream(dir + "/metrics.csv") << "epoch,loss\n1,0.5\n2,0.25\n3,0.125\n";
  lstmlab::PlotSpec spec{dir, "loss", kHostile, kHostile, kHostile, true, {}};
  spec.series.push_back({"metrics.csv", 1, 2, kHostile});
  const auto note = lstmlab::draw_plot(spec);
  EXPECT_TRUE(fs::exists(dir + "/loss.gp"));
  EXPECT_FALSE(fs::exists(dir + "/PWNED"));
  EXPECT_FALSE(fs::exists("PWNED"));
  if (lstmlab::find_gnuplot().empty()) {
    EXPECT_NE(note.find("gnuplot-nox"), std::string::npos) << note;
  } else {
    EXPECT_EQ(note, "plot: " + dir + "/loss.png");
    EXPECT_TRUE(fs::exists(dir + "/loss.png")) << note;
  }
}

}  // namespace
