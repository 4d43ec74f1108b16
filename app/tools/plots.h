#pragma once
// Plots drawn by gnuplot (Debian's gnuplot-nox): each plot is a data file plus a .gp script in the
// run directory, so a user can restyle and redraw it; lstm-lab runs the script when gnuplot is
// installed and otherwise says how to get it. No drawing code of our own.
//
// A script is a program, so nothing a user typed is ever printed into one as code: scripts name
// their files relative to the run directory (gnuplot runs there, started without a shell), and
// every text (titles, labels) goes in as a gnuplot string with its control characters blanked, so
// no newline can end the string and start a command.

#include <string>
#include <vector>

namespace lstmlab {

struct PlotSeries {
  std::string data_file;  ///< a CSV with a header line, named relative to the run directory
  int x_column;           ///< 1-based
  int y_column;
  std::string title;
  std::string style = "lines";  ///< gnuplot "with" style
  /// A gnuplot expression in place of y_column ("(exp($2))"); written by lstm-lab, never a user.
  std::string y_expression = {};
};

struct PlotSpec {
  std::string dir;   ///< the run directory: the script, its data and the PNG are here
  std::string name;  ///< "loss": the script loss.gp draws loss.png
  std::string title, xlabel, ylabel;
  bool log_y = false;
  std::vector<PlotSeries> series;
};

/// Where gnuplot is, or empty.
std::string find_gnuplot();

/// `text` as a single-quoted gnuplot string: quotes doubled, control characters made spaces.
std::string gnuplot_string(const std::string& text);

/// The script that draws `spec`, as written to dir/name.gp.
std::string plot_script(const PlotSpec& spec);

/// Writes the script and, when gnuplot is present, runs it in the run directory. Returns a line
/// for the user: where the PNG is, or how to get plots.
std::string draw_plot(const PlotSpec& spec);

}  // namespace lstmlab
