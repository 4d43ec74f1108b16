#include "app/cli/cli.h"
#include "app/cli/dist_flags.h"
#include "app/cli/presets.h"
#include "app/dist/dist_env.h"
#include "app/dist/local_launcher.h"
#include "app/io/json_file.h"
#include "app/io/weights_file.h"
#include "app/tools/compare.h"
#include "app/platform/device.h"
#include "app/tools/forecast.h"
#include "app/tasks/registry.h"
#include "app/train/run_dir.h"
#include "app/train/train_run.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

namespace lstmlab {
namespace {

// "sine: mse (default), mae": each task's losses, for --help.
std::string task_losses() {
  std::string text;
  for (const auto& task : task_registry()) {
    std::string names;
    for (const auto& loss : task.losses) {
      names += names.empty() ? loss.name + " (default)" : ", " + loss.name;
    }
    text += (text.empty() ? "" : "; ") + task.name + ": " + names;
  }
  return text;
}

void add_run_flags(cxxopts::Options& options) {
  options.add_options("task")
      ("task", "task: " + task_names(), cxxopts::value<std::string>()->default_value("sine"));
  for (const auto& task : task_registry()) task.add_flags(options);
  options.add_options("preset")
      ("preset", "a table of defaults that the flags given beside it override: " + preset_names() +
                 " (keras: seed 000's LSTM(60, relu) + Dense(1), MAE, Keras' Adam 1e-3, 30 epochs, batch 50; "
                 "d2l: the text task's Time Machine model)",
       cxxopts::value<std::string>());
  options.add_options("model")
      ("cell", cell_names().allowed(), cxxopts::value<std::string>()->default_value("lstm"))
      ("model", layer_kind_names().allowed(), cxxopts::value<std::string>()->default_value("scratch"))
      ("hidden", "hidden units", cxxopts::value<int64_t>()->default_value("64"))
      ("layers", "stacked layers", cxxopts::value<int64_t>()->default_value("1"))
      ("dropout", "dropout between layers (training only; compare refuses it)", cxxopts::value<double>()->default_value("0"))
      ("activation", "tanh or relu (relu: scratch only)", cxxopts::value<std::string>()->default_value("tanh"))
      ("recurrent-activation", "the gates: sigmoid or hard_sigmoid (Keras <= 2.2: clip(0.2x + 0.5, 0, 1); scratch LSTM with --scratch-backward autograd)",
       cxxopts::value<std::string>()->default_value("sigmoid"))
      ("init", "torch, d2l or keras (keras: glorot/orthogonal/forget bias 1, and a Dense-initialised head)", cxxopts::value<std::string>()->default_value("torch"))
      ("init-weights", "start from this weights file: Keras {\"lstm\": ..., \"dense\": ...} or a PyTorch state_dict (lstm-lab export writes both)",
       cxxopts::value<std::string>())
      ("gru-reset", "GRU: after (PyTorch, Keras reset_after=True) or before (d2l; scratch only)",
       cxxopts::value<std::string>()->default_value("after"))
      ("scratch-backward", "fused (hand-derived BPTT) or autograd",
       cxxopts::value<std::string>()->default_value("fused"));
  options.add_options("training")
      ("loss", "the task's loss (" + task_losses() + ")", cxxopts::value<std::string>())
      ("optimizer", "adam (PyTorch's), keras-adam (Keras': epsilon on the uncorrected sqrt(v)) or sgd", cxxopts::value<std::string>()->default_value("adam"))
      ("lr", "learning rate", cxxopts::value<double>()->default_value("0.01"))
      ("adam-epsilon", "keras-adam's epsilon (Keras 2.0/2.1: 1e-8)", cxxopts::value<double>()->default_value("1e-7"))
      ("early-stopping", "stop after PATIENCE epochs without a lower validation loss; 0 = off", cxxopts::value<int64_t>()->default_value("0"))
      ("early-stopping-min-delta", "what counts as lower", cxxopts::value<double>()->default_value("0"))
      ("restore-best", "with --early-stopping: end on the best epoch's weights")
      ("lr-schedule", "none, plateau (ReduceLROnPlateau on the validation loss), step or cosine", cxxopts::value<std::string>()->default_value("none"))
      ("lr-factor", "plateau and step: lr *= factor", cxxopts::value<double>()->default_value("0.1"))
      ("lr-patience", "plateau: epochs without improvement before a cut", cxxopts::value<int64_t>()->default_value("10"))
      ("lr-min-delta", "plateau: what counts as an improvement", cxxopts::value<double>()->default_value("0.0001"))
      ("lr-cooldown", "plateau: epochs after a cut that do not count", cxxopts::value<int64_t>()->default_value("0"))
      ("lr-min", "plateau: the floor; cosine: the last epoch's lr", cxxopts::value<double>()->default_value("0"))
      ("lr-step", "step: epochs per cut", cxxopts::value<int64_t>()->default_value("10"))
      ("epochs", "epochs", cxxopts::value<int64_t>()->default_value("100"))
      ("batch-size", "examples per batch; 0 = the whole split (seed 002)", cxxopts::value<int64_t>()->default_value("0"))
      ("shuffle", "shuffle the training windows each epoch (seeded)")
      ("clip", "max gradient norm; 0 = off (the text task: 1)", cxxopts::value<double>()->default_value("0"))
      ("seed", "seed of the initial weights, shuffling and dropout", cxxopts::value<uint64_t>()->default_value("42"))
      ("device", "cpu or cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("dtype", "float32 or float64", cxxopts::value<std::string>()->default_value("float32"))
      ("out", "run directory, new or empty (default runs/<name>-<time>)", cxxopts::value<std::string>())
      ("overwrite", "with --out: replace the run already there (its files are deleted first)")
      ("quiet", "nothing on stdout (compare keeps its one verdict line); errors still on stderr")
      ("no-plots", "skip the PNG plots");
}

RunConfig config_from_flags(const cxxopts::ParseResult& flags) {
  const Preset* preset =
      flags.count("preset") ? &find_preset(flags["preset"].as<std::string>()) : nullptr;
  const FlagValues f(flags, preset);
  RunConfig c;
  c.task = f.get<std::string>("task");
  c.task_options = find_task(c.task).options_from_flags(flags);
  c.model.cell = parse_flag("cell", f.get<std::string>("cell"), parse_cell);
  c.model.reset_after = parse_flag("gru-reset", f.get<std::string>("gru-reset"), parse_gru_reset);
  c.model.kind = parse_flag("model", f.get<std::string>("model"), parse_layer_kind);
  c.model.hidden = f.get<int64_t>("hidden");
  c.model.layers = f.get<int64_t>("layers");
  c.model.dropout = f.get<double>("dropout");
  c.model.activation = parse_flag("activation", f.get<std::string>("activation"), parse_activation);
  c.model.recurrent_activation = parse_flag(
      "recurrent-activation", f.get<std::string>("recurrent-activation"), parse_gate_activation);
  c.model.init = parse_flag("init", f.get<std::string>("init"), parse_init);
  if (flags.count("init-weights")) c.model.init_weights = flags["init-weights"].as<std::string>();
  c.model.backward =
      parse_flag("scratch-backward", f.get<std::string>("scratch-backward"), parse_scratch_backward);
  const bool loss_given = flags.count("loss") || (preset && preset->flags.count("loss"));
  c.train.loss = loss_given ? f.get<std::string>("loss") : find_task(c.task).losses.at(0).name;
  c.train.optimizer = f.get<std::string>("optimizer");
  c.train.lr = f.get<double>("lr");
  c.train.adam_epsilon = f.get<double>("adam-epsilon");
  c.train.epochs = f.get<int64_t>("epochs");
  c.train.batch_size = f.get<int64_t>("batch-size");
  c.train.shuffle = f.on("shuffle");
  c.train.clip = f.get<double>("clip");
  c.train.seed = f.get<uint64_t>("seed");
  c.train.device = f.get<std::string>("device");
  c.train.dtype = f.get<std::string>("dtype");
  c.train.early_stopping = f.get<int64_t>("early-stopping");
  c.train.early_stopping_min_delta = f.get<double>("early-stopping-min-delta");
  c.train.restore_best = f.on("restore-best");
  c.train.lr_schedule = f.get<std::string>("lr-schedule");
  c.train.lr_factor = f.get<double>("lr-factor");
  c.train.lr_patience = f.get<int64_t>("lr-patience");
  c.train.lr_min_delta = f.get<double>("lr-min-delta");
  c.train.lr_cooldown = f.get<int64_t>("lr-cooldown");
  c.train.lr_min = f.get<double>("lr-min");
  c.train.lr_step = f.get<int64_t>("lr-step");
  if (const auto& entry = find_task(c.task); entry.training_defaults) entry.training_defaults(c, flags);
  validate(c);
  // A file that cannot be read is refused before any run dir; like every file a flag names whose
  // contents are wrong, it is a runtime error (exit 1), not a usage one.
  if (!c.model.init_weights.empty()) {
    try {
      load_model_weights_json(c.model.init_weights, c.model.cell);
    } catch (const c10::Error& e) {
      throw std::runtime_error("--init-weights: " + std::string(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--init-weights: ") + e.what());
    }
  }
  return c;
}

// Flags a resumed run takes; every other setting is fixed by the run's config.json.
const std::set<std::string>& resumable_flags() {
  static const std::set<std::string> flags = {"resume",  "epochs",       "quiet",
                                              "no-plots", "threads",     "nproc",
                                              "dist-backend", "dist-timeout"};
  return flags;
}

// The configuration a resumed run goes on with: its own, with --epochs applied, and its thread
// count unless --threads says otherwise (then one line warns that the result may differ).
RunConfig resumed_config(const cxxopts::ParseResult& f, const std::string& dir) {
  std::vector<std::string> fixed;
  for (const auto& given : f.arguments()) {
    const auto flag = "--" + given.key();
    if (!resumable_flags().count(given.key()) &&
        std::find(fixed.begin(), fixed.end(), flag) == fixed.end()) {
      fixed.push_back(flag);
    }
  }
  if (!fixed.empty()) {
    throw std::invalid_argument(fmt::format(
        "--resume {}: {} cannot change on a resumed run (its config.json fixes every setting but "
        "--epochs and --threads); start a new run with --out to change {}",
        dir, fmt::join(fixed, ", "), fixed.size() == 1 ? "it" : "them"));
  }
  auto config = read_run_config(dir);
  if (f.count("epochs")) {
    config.train.epochs = f["epochs"].as<int64_t>();
    if (config.train.epochs <= 0) {
      throw std::invalid_argument(fmt::format("--epochs must be positive, got {}", config.train.epochs));
    }
  }
  const int recorded = config.train.threads;
  if (recorded > 0 && !f.count("threads")) {
    set_thread_count(recorded);
  } else if (recorded > 0 && at::get_num_threads() != recorded) {
    std::cerr << fmt::format(
        "lstm-lab train: warning: resuming with {} threads where the run trained with {}; its "
        "final weights may differ in the last digits from an uninterrupted run\n",
        at::get_num_threads(), recorded);
  }
  config.train.threads = at::get_num_threads();
  return config;
}

std::optional<std::string> out_flag(const cxxopts::ParseResult& f) {
  if (!f.count("out")) return std::nullopt;
  return f["out"].as<std::string>();
}

void print_notes(const std::vector<std::string>& notes) {
  for (const auto& n : notes) std::cout << n << "\n";
}

// A resumed data-parallel run may run on another number of ranks: the global batch is
// config.json's --batch-size either way, so the run goes on as it would have (to rounding).
void note_world_size(const std::string& dir, int world_size) {
  const auto path = dir + "/config.json";
  int recorded = 1;
  try {
    const auto record = read_json_file(path);
    if (record.contains("distributed")) recorded = record.at("distributed").at("world_size").get<int>();
  } catch (const std::exception&) {
    return;  // resumed_config has read it already; nothing to add
  }
  if (recorded == world_size) return;
  std::cerr << fmt::format(
      "lstm-lab train: resuming a run of {} rank(s) on {}: its global batch (config.json's "
      "batch_size) is unchanged, so it goes on as the same run would, up to rounding\n",
      recorded, world_size);
}

// Every rank runs the whole command; one whose run fails leaves its message for the others.
RunResult train_as_rank(const RunRequest& request) {
  if (!request.comm) return train_run(request, std::cout);
  try {
    auto result = train_run(request, std::cout);
    request.comm->finish();
    return result;
  } catch (const DistError&) {
    throw;  // a reaction to another rank: that rank's own message is the news
  } catch (const c10::Error& e) {
    request.comm->report_failure(e.what_without_backtrace());
    throw;
  } catch (const std::exception& e) {
    request.comm->report_failure(e.what());
    throw;
  }
}

}  // namespace

int train_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab train", "Train one model on a task.");
  add_run_flags(options);
  options.add_options("training")("resume", "continue the stopped run in this directory",
                                  cxxopts::value<std::string>());
  add_dist_flags(options);
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;

  if (f.count("nproc")) {
    const int nproc = f["nproc"].as<int>();
    if (nproc < 1) throw std::invalid_argument(fmt::format("--nproc must be at least 1, got {}", nproc));
    if (const auto env = dist_env_from_environment()) {
      throw std::invalid_argument(fmt::format(
          "--nproc: this process is already {} ({}): start the ranks with torchrun (or srun) or "
          "with --nproc, not both",
          describe(*env), env->source));
    }
    check_backend(f["dist-backend"].as<std::string>());
    // The flags are checked once here, so that a mistake is one line rather than one per rank.
    if (f.count("resume")) {
      resumed_config(f, f["resume"].as<std::string>());
    } else {
      config_from_flags(f);
    }
    return launch_local_ranks({nproc, rank_arguments(argc, argv, nproc)}, std::cerr);
  }

  RunRequest request;
  std::optional<RunDirClaim> claim;
  if (f.count("resume")) {
    request.run_dir = f["resume"].as<std::string>();
    request.config = resumed_config(f, request.run_dir);
    request.resume = true;
  } else {
    request.config = config_from_flags(f);
    request.config.train.threads = at::get_num_threads();
    resolve_device(request.config.train.device);  // refused before a directory is made
  }
  const auto env = dist_env_from_environment();
  const bool rank0 = !env || env->rank == 0;
  if (!request.resume) {
    // Rank 0 alone claims the run directory; the others never write there.
    if (rank0) {
      claim.emplace(out_flag(f),
                    request.config.task + "-" + to_string(request.config.model.cell) + "-" +
                        to_string(request.config.model.kind),
                    f.count("overwrite") > 0);
      request.run_dir = claim->dir();
    } else {
      request.run_dir = out_flag(f).value_or("(rank 0's run directory)");
    }
  }
  request.comm = join_ranks(f);
  if (request.resume && rank0) note_world_size(request.run_dir, request.comm ? request.comm->size() : 1);
  request.quiet = f.count("quiet") > 0 || !rank0;
  request.plots = f.count("no-plots") == 0;
  install_interrupt_handler();
  const auto result = train_as_rank(request);
  if (!rank0) return result.stopped ? 130 : 0;
  if (result.stopped) {
    std::cerr << fmt::format("stopped: checkpoint saved; continue with lstm-lab train --resume {}\n",
                             request.run_dir);
    return 130;
  }
  if (request.quiet) return 0;
  std::cout << fmt::format("{} {}; run in {}\n", to_string(result.held_out),
                           describe_evaluation(result.evaluation, result.metrics), request.run_dir);
  if (result.world_size > 1) {
    std::cout << fmt::format(
        "{} ranks ({}): training steps {:.2f} s on rank 0, of which the all-reduce {:.2f} s "
        "({:.1f}%)\n",
        result.world_size, request.comm->backend(), result.step_seconds, result.collective_seconds,
        result.step_seconds > 0 ? 100.0 * result.collective_seconds / result.step_seconds : 0.0);
  }
  print_notes(result.notes);
  return 0;
}

int compare_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab compare",
                           "Train the built-in and the scratch layer from identical weights on "
                           "identical batches, and compare their trajectories and speed.");
  add_run_flags(options);
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;
  auto config = config_from_flags(f);
  if (config.model.activation == Activation::Relu) {
    throw std::invalid_argument("--activation relu: the built-in layer cannot run it, so there is "
                                "nothing to compare; use lstm-lab train --model scratch");
  }
  if (config.model.cell == CellKind::Gru && !config.model.reset_after) {
    throw std::invalid_argument("--gru-reset before: the built-in GRU cannot run it, so there is "
                                "nothing to compare; use lstm-lab train --model scratch");
  }
  if (config.model.dropout > 0 && config.model.layers > 1) {
    throw std::invalid_argument(fmt::format(
        "--dropout {:g} with --layers {}: the two layers draw different dropout masks, so their "
        "trajectories cannot agree; compare with --dropout 0, or train each with lstm-lab train",
        config.model.dropout, config.model.layers));
  }
  config.train.threads = at::get_num_threads();
  resolve_device(config.train.device);
  const RunDirClaim claim(out_flag(f), "compare-" + config.task, f.count("overwrite") > 0);
  const auto& dir = claim.dir();
  const bool quiet = f.count("quiet") > 0;
  install_interrupt_handler();
  const auto result = run_compare(config, dir, quiet, f.count("no-plots") == 0, std::cout);
  if (result.builtin.stopped || result.scratch.stopped) {
    std::cerr << "stopped: each model's checkpoint is in its run directory under " << dir << "\n";
    return 130;
  }
  if (quiet) {  // the one line --quiet keeps: the verdict
    std::cout << compare_verdict(result, config) << "\n";
    return result.pass() ? 0 : 1;
  }
  print_compare(result, config, std::cout);
  std::cout << fmt::format("runs: {}/builtin, {}/scratch; per-epoch table: {}/compare.csv\n", dir,
                           dir, dir);
  print_notes(result.builtin.notes);
  print_notes(result.scratch.notes);
  return result.pass() ? 0 : 1;
}

int predict_command(int argc, const char* const* argv) {
  cxxopts::Options options("lstm-lab predict",
                           "Roll a trained sine model forward past the end of its data; for a csv run, "
                           "forecast its test split in the data's units.");
  options.add_options()
      ("checkpoint", "a run directory written by train", cxxopts::value<std::string>())
      ("steps", "sine: steps to forecast", cxxopts::value<int64_t>()->default_value("100"))
      ("quiet", "nothing on stdout; errors still on stderr");
  add_common_flags(options);
  cxxopts::ParseResult f;
  if (parse_common(options, argc, argv, f)) return 0;
  if (!f.count("checkpoint")) throw std::invalid_argument("--checkpoint DIR is required");
  const bool quiet = f.count("quiet") > 0;
  const auto forecast =
      run_forecast(f["checkpoint"].as<std::string>(), f["steps"].as<int64_t>(), std::cout, quiet);
  if (!quiet) std::cout << "forecast: " << forecast.csv_path << "\n" << forecast.note << "\n";
  return 0;
}

}  // namespace lstmlab
