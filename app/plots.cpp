#include "app/plots.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lstmlab {
namespace {

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("''") : std::string(1, ch);
  return q + "'";
}

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / "gnuplot";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
  }
  return "";
}

std::string draw_plot(const PlotSpec& spec) {
  std::ofstream gp(spec.script);
  gp << "# Drawn by lstm-lab; edit and run `gnuplot " << spec.script << "` to redraw.\n"
     << "set terminal pngcairo size 1000,600 enhanced font 'sans,11'\n"
     << "set output " << quoted(spec.png) << "\n"
     << "set datafile separator ','\n"
     << "set key outside right top\n"
     << "set grid\n"
     << "set title " << quoted(spec.title) << "\n"
     << "set xlabel " << quoted(spec.xlabel) << "\n"
     << "set ylabel " << quoted(spec.ylabel) << "\n";
  if (spec.log_y) gp << "set logscale y\n";
  gp << "plot ";
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    gp << (i ? ", \\\n     " : "") << quoted(s.data_file) << " skip 1 using " << s.x_column
       << ":" << s.y_column << " with " << s.style << " title " << quoted(s.title);
  }
  gp << "\n";
  gp.close();
  if (!gp) return fmt::format("could not write the plot script {}", spec.script);

  const auto gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    return fmt::format("no plot: gnuplot is not installed (apt-get install gnuplot-nox), then run "
                       "`gnuplot {}`",
                       spec.script);
  }
  const auto command = fmt::format("{} {} 2>&1", shell_quoted(gnuplot), shell_quoted(spec.script));
  if (std::system(command.c_str()) != 0) {
    return fmt::format("gnuplot failed on {}; the data is in place", spec.script);
  }
  return fmt::format("plot: {}", spec.png);
}

}  // namespace lstmlab
