#include "app/tools/compare.h"

#include "app/io/atomic_file.h"
#include "app/tasks/registry.h"
#include "app/tools/plots.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>

namespace lstmlab {
namespace {

}  // namespace

double compare_tolerance(const std::string& dtype) { return dtype == "float64" ? 1e-9 : 1e-3; }

CompareResult run_compare(const RunConfig& config, const std::string& out_dir, bool quiet,
                          bool plots, std::ostream& log) {
  RunConfig builtin_config = config;
  builtin_config.model.kind = LayerKind::Builtin;
  RunConfig scratch_config = config;
  scratch_config.model.kind = LayerKind::Scratch;
  const auto task = make_task(builtin_config);

  // The built-in model draws first, as the seed's Python would; the scratch model then takes its
  // weights through the map. bias_hh is held at zero so both train one bias per gate.
  torch::manual_seed(config.train.seed);
  auto builtin = task->make_model(builtin_config.model);
  builtin->recurrent().hold_recurrent_bias_at_zero();
  load_init_weights(config.model, *builtin);  // a file's two PyTorch biases arrive summed in bias_ih
  auto scratch = task->make_model(scratch_config.model);
  scratch->recurrent().set_weights(builtin->recurrent().get_weights());
  {
    torch::NoGradGuard no_grad;
    auto from = builtin->named_parameters();
    for (auto& item : scratch->named_parameters()) {
      // The head, and an embedding where the task has one: all but the recurrent layer.
      if (item.key().rfind("rnn.", 0) != 0) item.value().copy_(from[item.key()]);
    }
  }

  CompareResult result;
  result.tolerance = compare_tolerance(config.train.dtype);
  // One after the other, each in its own run directory under out_dir.
  const auto train = [&](const RunConfig& run_config, const SequenceModelPtr& model,
                         const std::string& name) {
    RunRequest request;
    request.quiet = quiet;
    request.plots = plots;
    request.config = run_config;
    request.run_dir = out_dir + "/" + name;
    request.model = model;
    request.label = name + ": ";
    return train_run(request, log);
  };
  result.builtin = train(builtin_config, builtin, "builtin");
  if (result.builtin.stopped) return result;
  result.scratch = train(scratch_config, scratch, "scratch");
  if (result.scratch.stopped) return result;

  AtomicFile csv_file(out_dir + "/compare.csv");
  auto& csv = csv_file.stream();
  csv << "epoch,builtin_train_loss,scratch_train_loss,rel_diff,builtin_val_loss,scratch_val_loss\n";
  const auto& hb = result.builtin.history;
  const auto& hs = result.scratch.history;
  for (size_t i = 0; i < std::min(hb.size(), hs.size()); ++i) {
    const double scale = std::max(std::abs(hb[i].train_loss), 1e-300);
    const double rel = std::abs(hs[i].train_loss - hb[i].train_loss) / scale;
    result.rel_diffs.push_back(rel);
    if (result.first_epoch_over == 0 && !(rel <= result.tolerance)) result.first_epoch_over = hb[i].epoch;
    if (!(rel <= result.max_rel_diff)) {  // NaN counts as the worst
      result.max_rel_diff = std::isnan(rel) ? std::numeric_limits<double>::infinity() : rel;
      result.worst_epoch = hb[i].epoch;
    }
    csv << fmt::format("{},{:.17g},{:.17g},{:.3e},{:.17g},{:.17g}\n", hb[i].epoch,
                       hb[i].train_loss, hs[i].train_loss, rel, hb[i].val_loss, hs[i].val_loss);
  }
  csv_file.commit();
  result.builtin_epoch_seconds = median_epoch_seconds(hb);
  result.scratch_epoch_seconds = median_epoch_seconds(hs);
  write_file_atomically(out_dir + "/summary.json",
                        nlohmann::json{{"builtin", run_summary(result.builtin, task->count_unit())},
                                       {"scratch", run_summary(result.scratch, task->count_unit())},
                                       {"max_rel_diff", result.max_rel_diff},
                                       {"worst_epoch", result.worst_epoch},
                                       {"first_epoch_over", result.first_epoch_over},
                                       {"tolerance", result.tolerance},
                                       {"agree", result.pass()}}
                                .dump(2) +
                            "\n");

  if (!plots) return result;
  PlotSpec plot{out_dir, "loss", "train loss per epoch: built-in vs scratch", "epoch",
                result.builtin.loss.label, true, {}};
  plot.series.push_back({"compare.csv", 1, 2, "builtin", "lines lw 4"});
  plot.series.push_back({"compare.csv", 1, 3, "scratch", "lines lw 1.5 dt 2"});
  result.scratch.notes.push_back(draw_plot(plot));
  const auto specs = task->metrics();
  if (std::any_of(specs.begin(), specs.end(), [](const auto& s) { return s.name == "perplexity"; })) {
    PlotSpec ppl{out_dir, "perplexity", "perplexity per epoch: built-in vs scratch", "epoch",
                 "perplexity", true, {}};
    ppl.series.push_back({"compare.csv", 1, 2, "builtin train", "lines lw 4", "(exp($2))"});
    ppl.series.push_back({"compare.csv", 1, 3, "scratch train", "lines lw 1.5 dt 2", "(exp($3))"});
    ppl.series.push_back({"compare.csv", 1, 5, "builtin validation", "lines lw 4", "(exp($5))"});
    ppl.series.push_back({"compare.csv", 1, 6, "scratch validation", "lines lw 1.5 dt 2", "(exp($6))"});
    result.scratch.notes.push_back(draw_plot(ppl));
  }
  return result;
}

std::string compare_verdict(const CompareResult& r, const RunConfig& config) {
  return fmt::format("largest per-epoch train-loss difference: {:.3e} relative{}; tolerance for "
                     "{} {:.0e}: {}",
                     r.max_rel_diff,
                     r.worst_epoch > 0 ? fmt::format(" (epoch {})", r.worst_epoch) : std::string(),
                     config.train.dtype, r.tolerance,
                     r.pass() ? "agree"
                              : fmt::format("DIVERGED from epoch {} (within the tolerance before it)",
                                            r.first_epoch_over));
}

void print_compare(const CompareResult& r, const RunConfig& config, std::ostream& out) {
  const auto& hb = r.builtin.history;
  const auto& hs = r.scratch.history;
  out << fmt::format("\n{:>6} {:>16} {:>16} {:>10}\n", "epoch", "builtin loss", "scratch loss",
                     "rel diff");
  const size_t n = r.rel_diffs.size();
  for (size_t i = 0; i < n; ++i) {
    // Every epoch of a short run; the first, every tenth and the last of a long one.
    if (n > 20 && i != 0 && (i + 1) % 10 != 0 && i + 1 != n) continue;
    out << fmt::format("{:>6} {:>16.9g} {:>16.9g} {:>10.2e}\n", hb[i].epoch, hb[i].train_loss,
                       hs[i].train_loss, r.rel_diffs[i]);
  }
  out << "\n" << compare_verdict(r, config) << "\n";
  const auto split = to_string(r.builtin.held_out);
  out << fmt::format("\n{:<28} {:>14} {:>14}\n", "", "builtin", "scratch");
  if (!hb.empty() && !hs.empty()) {
    out << fmt::format("{:<28} {:>14.6g} {:>14.6g}\n", "final train loss", hb.back().train_loss,
                       hs.back().train_loss);
    // The last epoch's validation figures, unless the held-out split printed below is validation.
    if (!r.builtin.metrics.empty() && r.builtin.held_out != Split::Validation) {
      const auto& first = r.builtin.metrics.front();
      out << fmt::format("{:<28} {:>14.6g} {:>14.6g}\n", "final validation " + first.label,
                         metric_value(hb.back().val_metrics, first.name),
                         metric_value(hs.back().val_metrics, first.name));
    }
  }
  for (const auto& spec : r.builtin.metrics) {
    out << fmt::format("{:<28} {:>14.6g} {:>14.6g}\n", split + " " + spec.label,
                       metric_value(r.builtin.evaluation.metrics, spec.name),
                       metric_value(r.scratch.evaluation.metrics, spec.name));
  }
  out << fmt::format("{:<28} {:>13.4f}s {:>13.4f}s\n", "train time per epoch (median)",
                     r.builtin_epoch_seconds, r.scratch_epoch_seconds);
  if (r.scratch_epoch_seconds > 0) {
    out << fmt::format("speed: scratch ({} backward) is {:.2f}x the built-in\n",
                       to_string(config.model.backward),
                       r.builtin_epoch_seconds / r.scratch_epoch_seconds);
  }
}

}  // namespace lstmlab
