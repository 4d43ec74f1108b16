#pragma once
// Plots drawn by gnuplot (Debian's gnuplot-nox): each plot is a data file plus a .gp script in the
// run directory, so a user can restyle and redraw it; lstm-lab runs the script when gnuplot is
// installed and otherwise says how to get it. No drawing code of our own.

#include <string>
#include <vector>

namespace lstmlab {

struct PlotSeries {
  std::string data_file;  ///< CSV with a header line, in the run directory
  int x_column;           ///< 1-based
  int y_column;
  std::string title;
  std::string style = "lines";  ///< gnuplot "with" style
};

struct PlotSpec {
  std::string png;     ///< output path
  std::string script;  ///< the .gp path written beside it
  std::string title, xlabel, ylabel;
  bool log_y = false;
  std::vector<PlotSeries> series;
};

/// Where gnuplot is, or empty.
std::string find_gnuplot();

/// Writes the script and, when gnuplot is present, runs it. Returns a line for the user: where the
/// PNG is, or how to get plots.
std::string draw_plot(const PlotSpec& spec);

}  // namespace lstmlab
