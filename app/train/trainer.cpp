#include "app/train/trainer.h"

#include "app/dist/communicator.h"
#include "app/dist/data_parallel.h"
#include "app/io/atomic_file.h"
#include "app/platform/device.h"
#include "app/platform/platform_report.h"
#include "app/train/keras_adam.h"
#include "app/train/losses.h"
#include "app/train/progress.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <torch/version.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lstmlab {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  if (g_stop.exchange(true)) std::_Exit(130);  // second Ctrl-C: leave now
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(t.lr));
  }
  if (t.optimizer == "keras-adam") {
    return std::make_unique<KerasAdam>(params, KerasAdamOptions(t.lr).epsilon(t.adam_epsilon));
  }
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(t.lr));
}

std::string format_metrics(const EpochMetrics& m, const std::vector<MetricSpec>& specs,
                           const std::string& unit) {
  std::string s = fmt::format("train loss {:.6g}", m.train_loss);
  if (!std::isnan(m.val_loss)) {
    s += fmt::format("  val loss {:.6g}", m.val_loss);
    for (const auto& spec : specs) {
      s += fmt::format("  val {} {:.6g}", spec.label, metric_value(m.val_metrics, spec.name));
    }
  }
  return s + fmt::format("  {:.2f}s  {:.0f} {}/s", m.train_seconds, m.examples_per_s, unit);
}

// The state a batch hands the next: the same values, cut from the graph of the batch before.
RecurrentState detached(const RecurrentState& state) {
  return {state.h.defined() ? state.h.detach() : state.h,
          state.c.defined() ? state.c.detach() : state.c};
}

// A split's last batch may hold fewer streams than the ones before: it continues the first of them.
std::optional<RecurrentState> fitted(const std::optional<RecurrentState>& state, int64_t batch) {
  if (!state || !state->h.defined() || state->h.dim() < 2 || state->h.size(1) == batch) return state;
  return RecurrentState{state->h.narrow(1, 0, batch),
                        state->c.defined() ? state->c.narrow(1, 0, batch) : state->c};
}

}  // namespace

double metric_value(const MetricValues& values, const std::string& name) {
  for (const auto& [key, value] : values) {
    if (key == name) return value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

void request_stop() { g_stop = true; }
void clear_stop_request() { g_stop = false; }
void install_interrupt_handler() { std::signal(SIGINT, on_interrupt); }

Split held_out_split(const Dataset& data) {
  if (data.size(Split::Test) > 0) return Split::Test;
  if (data.size(Split::Validation) > 0) return Split::Validation;
  return Split::Train;
}

Trainer::Trainer(SequenceModelPtr model, const Task& task, RunConfig config,
                 std::string run_dir, std::ostream& log, bool quiet, std::string label,
                 TrainerHooks hooks, std::shared_ptr<Communicator> comm)
    : model_(std::move(model)),
      task_(task),
      data_(task.data()),
      config_(std::move(config)),
      run_dir_(std::move(run_dir)),
      log_(log),
      quiet_(quiet),
      label_(std::move(label)),
      hooks_(std::move(hooks)),
      device_(resolve_device(config_.train.device)),
      dtype_(parse_dtype(config_.train.dtype)),
      train_loader_(data_, Split::Train,
                    LoaderOptions{config_.train.batch_size, config_.train.shuffle,
                                  config_.train.seed, device_, dtype_}),
      callbacks_(config_.train),
      comm_(std::move(comm)) {
  validate_settings(config_);
  find_loss(task_.losses(), config_.train.loss, "this task");
  if (callbacks_.needs_validation() && data_.size(Split::Validation) == 0) {
    throw std::invalid_argument(
        "--early-stopping and --lr-schedule plateau watch the validation loss, and this run's data "
        "has no validation split: give the task one (its validation fraction)");
  }
  if (task_.carries_state() && config_.train.shuffle) {
    throw std::invalid_argument(
        "--shuffle: this task's consecutive batches continue one another and carry the recurrent "
        "state across; a shuffled order would hand each batch an unrelated state");
  }
  if (comm_ && task_.carries_state() && config_.train.batch_size < comm_->size()) {
    throw std::invalid_argument(fmt::format(
        "--batch-size {}: this task's batch is its parallel streams and each of the {} ranks "
        "carries its own, so the batch needs at least one stream per rank",
        config_.train.batch_size, comm_->size()));
  }
  model_->to(device_, dtype_);
  optimizer_ = make_optimizer(config_.train, model_->parameters());
  if (!writes()) return;  // rank 0 alone makes the run directory
  // The run directory first: a user should learn it cannot be made before any training.
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  if (ec || !std::filesystem::is_directory(run_dir_)) {
    throw std::runtime_error("cannot create run directory '" + run_dir_ + "': " + ec.message());
  }
}

bool Trainer::writes() const { return !comm_ || comm_->rank() == 0; }

void Trainer::write_config() const {
  if (!writes()) return;
  auto record = to_json(config_);
  // Not read back as a setting: a resumed run may run on another world size (the global batch is
  // config.train.batch_size either way).
  record["distributed"] = {{"world_size", comm_ ? comm_->size() : 1},
                           {"backend", comm_ ? comm_->backend() : std::string("none")}};
  record["libtorch"] = TORCH_VERSION;
  record["runtime"] = describe_runtime(device_);
  record["platform"] = platform_json();  // CPU, BLAS and its core: not read back by resume
  std::ostringstream summary;
  summary << *model_;
  record["model_summary"] = summary.str();
  try {
    write_file_atomically(run_dir_ + "/config.json", record.dump(2) + "\n");
  } catch (const std::exception& e) {
    throw std::runtime_error("run directory '" + run_dir_ + "' is not writable: " + e.what());
  }
  task_.write_run_files(run_dir_);
}

void Trainer::resume() {
  auto extras = load_checkpoint(checkpoint_path(), *model_, optimizer_.get());
  const auto& at = extras.position;
  const int64_t needed = at.epoch + (at.step > 0 ? 1 : 0);
  if (config_.train.epochs < needed) {
    throw std::invalid_argument(fmt::format(
        "--epochs {}: the run in {} has done {} epoch(s){}; give --epochs {} or more",
        config_.train.epochs, run_dir_, at.epoch,
        at.step > 0 ? fmt::format(" and {} batch(es) of the next", at.step) : std::string(),
        needed));
  }
  position_ = extras.position;
  history_ = history_from(extras.history);
  if (extras.callbacks.defined()) {
    std::vector<torch::Tensor> best;
    for (const auto& p : extras.best_parameters) best.push_back(p.to(device_, dtype_));
    callbacks_.load_state(extras.callbacks, std::move(best));
  }
  if (extras.state.h.defined()) {
    carried_ = RecurrentState{extras.state.h.to(device_, dtype_),
                              extras.state.c.defined() ? extras.state.c.to(device_, dtype_)
                                                       : extras.state.c};
    // The checkpoint holds every stream's state; a rank goes on with its own.
    carried_rows_ = carried_->h.size(1);
    if (comm_) carried_ = shard(*carried_, shard_rows(carried_rows_, comm_->rank(), comm_->size()));
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(extras.rng_state);
}

std::vector<std::string> Trainer::history_columns() const {
  std::vector<std::string> columns = {"epoch", "train_loss", "val_loss"};
  for (const auto& spec : task_.metrics()) columns.push_back("val_" + spec.name);
  columns.push_back("lr");
  columns.push_back("train_seconds");
  columns.push_back(task_.count_unit() + "_per_s");
  return columns;
}

// The checkpoint's history: one float64 row an epoch, in history_columns() order.
torch::Tensor Trainer::history_tensor() const {
  const auto specs = task_.metrics();
  const auto columns = static_cast<int64_t>(history_columns().size());
  auto t = torch::empty({static_cast<int64_t>(history_.size()), columns}, torch::kDouble);
  double* row = t.data_ptr<double>();
  for (const auto& m : history_) {
    *row++ = static_cast<double>(m.epoch);
    *row++ = m.train_loss;
    *row++ = m.val_loss;
    for (const auto& spec : specs) *row++ = metric_value(m.val_metrics, spec.name);
    *row++ = m.lr;
    *row++ = m.train_seconds;
    *row++ = m.examples_per_s;
  }
  return t;
}

std::vector<EpochMetrics> Trainer::history_from(const torch::Tensor& t) const {
  const auto specs = task_.metrics();
  const auto columns = static_cast<int64_t>(history_columns().size());
  // Checkpoints written before the lr column have one column less.
  const bool has_lr = t.dim() == 2 && t.size(1) == columns;
  if (t.dim() != 2 || (t.size(1) != columns && t.size(1) != columns - 1)) {
    throw std::runtime_error(fmt::format(
        "checkpoint '{}' holds a history of {} columns where this task has {}: it was saved by "
        "another task",
        checkpoint_path(), t.dim() == 2 ? t.size(1) : 0, columns));
  }
  const auto c = t.to(torch::kDouble).contiguous();
  const double* row = c.data_ptr<double>();
  std::vector<EpochMetrics> history;
  for (int64_t i = 0; i < c.size(0); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(*row++);
    m.train_loss = *row++;
    m.val_loss = *row++;
    for (const auto& spec : specs) m.val_metrics.emplace_back(spec.name, *row++);
    m.lr = has_lr ? *row++ : std::numeric_limits<double>::quiet_NaN();
    m.train_seconds = *row++;
    m.examples_per_s = *row++;
    history.push_back(m);
  }
  return history;
}

void Trainer::save(const TrainPosition& position) {
  CheckpointExtras extras{position, at::detail::getDefaultCPUGenerator().get_state(),
                          history_tensor(), {}, callbacks_.state(), callbacks_.best_parameters()};
  // Mid-epoch, a carrying task's state is part of where the run stands: every rank's streams.
  if (position.step > 0 && carried_) {
    extras.state = *carried_;
    if (comm_) {
      const auto whole = [&](const torch::Tensor& t) {
        return t.defined() ? gather_rows(*comm_, t, carried_rows_, "the carried state") : t;
      };
      extras.state = {whole(carried_->h), whole(carried_->c)};
    }
  }
  if (!writes()) return;
  save_checkpoint(checkpoint_path(), *model_, *optimizer_, extras);
}

void Trainer::write_metrics_csv() const {
  if (!writes()) return;
  const auto columns = history_columns();
  std::string csv;
  for (size_t i = 0; i < columns.size(); ++i) csv += (i ? "," : "") + columns[i];
  csv += "\n";
  for (const auto& m : history_) {
    csv += fmt::format("{},{:.17g},{:.17g}", m.epoch, m.train_loss, m.val_loss);
    for (const auto& [name, value] : m.val_metrics) csv += fmt::format(",{:.17g}", value);
    csv += fmt::format(",{:.9g},{:.6f},{:.3f}\n", m.lr, m.train_seconds, m.examples_per_s);
  }
  write_file_atomically(run_dir_ + "/metrics.csv", csv);
}

Trainer::StepSums Trainer::sum_over_ranks(double loss_sum, int64_t count,
                                          const std::string& where) {
  auto sums = torch::tensor({loss_sum, static_cast<double>(count), g_stop ? 1.0 : 0.0},
                            torch::kDouble);
  comm_->all_reduce_sum(sums, "the loss " + where);
  const double* v = sums.data_ptr<double>();
  return {v[0], static_cast<int64_t>(v[1]), v[2] > 0};
}

Evaluation Trainer::evaluate(Split split, PredictionWriter* predictions, bool whole) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Evaluation e;
  e.loss = nan;
  for (const auto& spec : task_.metrics()) e.metrics.emplace_back(spec.name, nan);
  const BatchLoader& loader =
      eval_loaders_
          .try_emplace(split, data_, split,
                       LoaderOptions{config_.train.batch_size, false, 0, device_, dtype_})
          .first->second;
  if (loader.size() == 0) return e;
  torch::NoGradGuard no_grad;
  model_->eval();
  auto metrics = task_.make_metrics();
  // Each rank its rows, the sums added after, when every metric is a function of sums.
  const bool sharded = comm_ && !whole && std::all_of(metrics.begin(), metrics.end(), [](const auto& m) {
                         return !m->sums().empty();
                       });
  double loss_sum = 0;
  std::optional<RecurrentState> state;  // a split is one continuous stream for a carrying task
  for (const auto& global : loader.epoch(0)) {
    const Batch batch =
        sharded ? shard(global, shard_rows(global.input.size(0), comm_->rank(), comm_->size()))
                : global;
    if (batch.input.size(0) == 0) continue;
    auto out = model_->run(batch.input, fitted(state, batch.input.size(0)));
    if (task_.carries_state()) state = out.state;
    check_loss_shapes(out.prediction, batch.target);
    const auto loss = task_.loss(out.prediction, batch);
    loss_sum += loss.mean.item<double>() * static_cast<double>(loss.count);
    e.count += loss.count;
    for (auto& metric : metrics) metric->update(out.prediction, batch.target);
    if (predictions) predictions->write(out.prediction, batch.target);
  }
  model_->train();
  if (sharded) {
    std::vector<double> sums = {loss_sum, static_cast<double>(e.count)};
    for (const auto& m : metrics) {
      const auto s = m->sums();
      sums.insert(sums.end(), s.begin(), s.end());
    }
    auto t = torch::tensor(sums, torch::kDouble);
    comm_->all_reduce_sum(t, "the " + to_string(split) + " metrics");
    const double* v = t.data_ptr<double>();
    loss_sum = v[0];
    e.count = static_cast<int64_t>(v[1]);
    size_t at = 2;
    for (auto& m : metrics) {
      const auto n = m->sums().size();
      m->set_sums(std::vector<double>(v + at, v + at + n));
      at += n;
    }
  }
  e.loss = e.count > 0 ? loss_sum / static_cast<double>(e.count) : nan;
  for (size_t i = 0; i < metrics.size(); ++i) e.metrics[i].second = metrics[i]->compute();
  return e;
}

const std::vector<EpochMetrics>& Trainer::fit() {
  stopped_ = false;
  write_config();
  // A run killed between its last checkpoint and metrics.csv gets the file back on resume.
  if (!history_.empty()) write_metrics_csv();
  const int64_t epochs = config_.train.epochs;
  const auto mode = Progress::detect(quiet_);
  Progress progress(log_, mode, label_, epochs, task_.count_unit());
  model_->train();
  // Every rank starts from rank 0's weights (DistributedDataParallel's first broadcast).
  if (comm_) broadcast_from_rank0(*comm_, model_->parameters(), "the initial weights");
  for (int64_t epoch = position_.epoch; epoch < epochs && !callbacks_.stopped_early(); ++epoch) {
    const double lr = callbacks_.lr_for_epoch(epoch);
    set_lr(lr);
    const auto batches = train_loader_.epoch(epoch);
    const int64_t n_batches = static_cast<int64_t>(batches.size());
    progress.start_epoch(epoch, n_batches);
    if (position_.step == 0) carried_.reset();  // every epoch starts from zeros
    // A resumed epoch counts the seconds its batches took before the stop as well.
    const auto start = std::chrono::steady_clock::now();
    const double seconds_before = position_.seconds;
    const auto epoch_seconds = [&] {
      return seconds_before +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    for (int64_t step = position_.step; step < n_batches; ++step) {
      const auto step_start = std::chrono::steady_clock::now();
      const auto since = [](std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      };
      const auto& global = batches[static_cast<size_t>(step)];
      const int64_t rows = global.input.size(0);
      // A rank trains on its rows of the global batch (all of them in one process).
      const Batch batch =
          comm_ ? shard(global, shard_rows(rows, comm_->rank(), comm_->size())) : global;
      BatchLoss batch_loss;
      if (batch.input.size(0) > 0) {
        auto out = model_->run(batch.input, fitted(carried_, batch.input.size(0)));
        if (task_.carries_state()) {
          carried_ = detached(out.state);
          carried_rows_ = rows;
        }
        check_loss_shapes(out.prediction, batch.target);
        batch_loss = task_.loss(out.prediction, batch);
      }
      const double local_mean = batch_loss.mean.defined() ? batch_loss.mean.item<double>() : 0.0;
      // The global batch's loss sum and count; a stop asked on any rank stops every rank here.
      const auto where = comm_ ? fmt::format("(epoch {}, step {})", epoch + 1, step + 1) : "";
      auto collective_start = std::chrono::steady_clock::now();
      const StepSums sums =
          comm_ ? sum_over_ranks(local_mean * static_cast<double>(batch_loss.count),
                                 batch_loss.count, where)
                : StepSums{local_mean * static_cast<double>(batch_loss.count), batch_loss.count,
                           false};
      if (comm_) collective_seconds_ += since(collective_start);
      const double value =
          comm_ ? sums.loss_sum / static_cast<double>(std::max<int64_t>(sums.count, 1)) : local_mean;
      if (!std::isfinite(value)) {
        throw NonFiniteLoss(fmt::format(
            "epoch {}, step {}: the loss is {}; training stopped. Nothing was saved over the last "
            "good checkpoint ({}; {} epochs complete). Try a lower --lr or --clip 1.",
            epoch + 1, step + 1, value, checkpoint_path(), history_.size()));
      }
      optimizer_->zero_grad();
      if (batch_loss.mean.defined()) {
        // Weighted by the rank's share of the global count, the ranks' gradients add up to the
        // gradient of the global batch's mean (unequal shards included).
        if (comm_) {
          (batch_loss.mean * (static_cast<double>(batch_loss.count) /
                              static_cast<double>(sums.count)))
              .backward();
        } else {
          batch_loss.mean.backward();
        }
      }
      if (comm_) {
        collective_start = std::chrono::steady_clock::now();
        all_reduce_gradients(*comm_, model_->parameters(), "the gradients " + where);
        collective_seconds_ += since(collective_start);
      }
      if (config_.train.clip > 0) {
        torch::nn::utils::clip_grad_norm_(model_->parameters(), config_.train.clip);
      }
      optimizer_->step();
      step_seconds_ += since(step_start);

      const int64_t n = sums.count;
      position_.loss_sum += comm_ ? sums.loss_sum : value * static_cast<double>(n);
      position_.loss_count += n;
      position_.step = step + 1;
      progress.step(step + 1, position_.loss_sum / static_cast<double>(position_.loss_count),
                    position_.loss_count);
      if (hooks_.after_step) hooks_.after_step(epoch, step + 1);
      if (comm_ ? sums.stop : g_stop.load()) {
        position_.seconds = epoch_seconds();
        save(position_);
        stopped_ = true;
        if (mode != Progress::Mode::Quiet) log_ << "\n";
        return history_;
      }
    }
    const double seconds = epoch_seconds();

    EpochMetrics m;
    m.epoch = epoch + 1;
    m.train_loss = position_.loss_count > 0
                       ? position_.loss_sum / static_cast<double>(position_.loss_count)
                       : std::numeric_limits<double>::quiet_NaN();
    const auto val = evaluate(Split::Validation);
    m.val_loss = val.loss;
    m.val_metrics = val.metrics;
    m.lr = lr;
    m.train_seconds = seconds;
    m.examples_per_s = seconds > 0 ? static_cast<double>(position_.loss_count) / seconds : 0.0;
    history_.push_back(m);
    const bool stop_now = callbacks_.end_epoch(epoch, m.val_loss, model_->parameters());
    position_ = TrainPosition{epoch + 1, 0, 0.0, 0, 0.0};
    save(position_);
    write_metrics_csv();
    progress.end_epoch(format_metrics(m, task_.metrics(), task_.count_unit()));
    if (writes()) {
      task_.after_epoch(*model_, epoch + 1, run_dir_,
                        mode == Progress::Mode::Quiet ? nullptr : &log_);
    }
    if (stop_now && !quiet_) {
      log_ << label_
           << fmt::format("early stopping: {} epoch(s) without improvement; the best was epoch {}\n",
                          config_.train.early_stopping, callbacks_.best_epoch());
    }
  }
  restore_best();
  return history_;
}

void Trainer::set_lr(double lr) {
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
}

void Trainer::restore_best() {
  const auto& best = callbacks_.best_parameters();
  if (!config_.train.restore_best || best.empty()) return;
  auto params = model_->parameters();
  TORCH_CHECK(params.size() == best.size(), "restore_best: ", best.size(),
              " parameters kept for ", params.size(), " in the model");
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  save(position_);  // the run's weights, for predict and export, are the best epoch's
}

}  // namespace lstmlab
