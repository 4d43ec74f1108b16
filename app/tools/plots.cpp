#include "app/tools/plots.h"

#include "app/io/atomic_file.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace lstmlab {
namespace {

// A file a script names: ours, in the run directory. Refused, not escaped, if it were anything
// else, since it goes into the script unchanged in meaning.
const std::string& plain_file_name(const std::string& name) {
  const bool plain = !name.empty() && name.find('/') == std::string::npos &&
                     std::all_of(name.begin(), name.end(), [](unsigned char ch) {
                       return ch >= 0x20 && ch != 0x7f;
                     });
  if (!plain) throw std::logic_error("plot: '" + name + "' is not a plain file name");
  return name;
}

// Runs `gnuplot SCRIPT` in `dir` without a shell; its own output goes to /dev/null. True on exit 0.
bool run_gnuplot(const std::string& gnuplot, const std::string& dir, const std::string& script) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string arg0 = "gnuplot", arg1 = script;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
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

std::string gnuplot_string(const std::string& text) {
  std::string q = "'";
  for (unsigned char ch : text) {
    if (ch == '\'') {
      q += "''";
    } else if (ch < 0x20 || ch == 0x7f) {
      q += ' ';
    } else {
      q += static_cast<char>(ch);
    }
  }
  return q + "'";
}

std::string plot_script(const PlotSpec& spec) {
  const auto& name = plain_file_name(spec.name);
  std::string gp =
      fmt::format("# Drawn by lstm-lab; edit it and run `gnuplot {}.gp` in this directory to redraw.\n",
                  name);
  gp += "set terminal pngcairo size 1000,600 enhanced font 'sans,11'\n";
  gp += "set output " + gnuplot_string(plain_file_name(name + ".png")) + "\n";
  gp += "set datafile separator ','\nset key outside right top\nset grid\n";
  gp += "set title " + gnuplot_string(spec.title) + "\n";
  gp += "set xlabel " + gnuplot_string(spec.xlabel) + "\n";
  gp += "set ylabel " + gnuplot_string(spec.ylabel) + "\n";
  if (spec.log_y) gp += "set logscale y\n";
  gp += "plot ";
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    gp += fmt::format("{}{} skip 1 using {}:{} with {} title {}", i ? ", \\\n     " : "",
                      gnuplot_string(plain_file_name(s.data_file)), s.x_column,
                      s.y_expression.empty() ? std::to_string(s.y_column) : s.y_expression,
                      s.style, gnuplot_string(s.title));
  }
  return gp + "\n";
}

std::string draw_plot(const PlotSpec& spec) {
  const auto script = spec.name + ".gp";
  const auto script_path = (std::filesystem::path(spec.dir) / script).string();
  try {
    write_file_atomically(script_path, plot_script(spec));
  } catch (const std::exception& e) {
    return fmt::format("no plot: {}", e.what());
  }
  const auto gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    return fmt::format("no plot: gnuplot is not installed (apt-get install gnuplot-nox); then run "
                       "`gnuplot {}` in {}",
                       script, spec.dir);
  }
  if (!run_gnuplot(gnuplot, spec.dir, script)) {
    return fmt::format("no plot: gnuplot failed on {} (run `gnuplot {}` in {} to see why); the "
                       "data is in place",
                       script_path, script, spec.dir);
  }
  return fmt::format("plot: {}", (std::filesystem::path(spec.dir) / (spec.name + ".png")).string());
}

}  // namespace lstmlab
