#include "app/trainer.h"

#include "app/atomic_file.h"
#include "app/device.h"
#include "app/progress.h"

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

constexpr int64_t kHistoryColumns = 7;

torch::Tensor history_tensor(const std::vector<EpochMetrics>& history) {
  auto t = torch::empty({static_cast<int64_t>(history.size()), kHistoryColumns}, torch::kDouble);
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& m = history[i];
    const double row[] = {static_cast<double>(m.epoch), m.train_loss, m.val_loss, m.val_rmse,
                          m.val_mae, m.train_seconds, m.samples_per_s};
    for (int64_t j = 0; j < kHistoryColumns; ++j) t[static_cast<int64_t>(i)][j] = row[j];
  }
  return t;
}

std::vector<EpochMetrics> history_from(const torch::Tensor& t) {
  std::vector<EpochMetrics> history;
  for (int64_t i = 0; i < t.size(0); ++i) {
    const auto row = t[i].contiguous();
    const double* a = row.data_ptr<double>();
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(a[0]);
    m.train_loss = a[1];
    m.val_loss = a[2];
    m.val_rmse = a[3];
    m.val_mae = a[4];
    m.train_seconds = a[5];
    m.samples_per_s = a[6];
    history.push_back(m);
  }
  return history;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(t.lr));
  }
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(t.lr));
}

std::string format_metrics(const EpochMetrics& m) {
  std::string s = fmt::format("train loss {:.6g}", m.train_loss);
  if (!std::isnan(m.val_loss)) {
    s += fmt::format("  val loss {:.6g}  val RMSE {:.6g}  val MAE {:.6g}", m.val_loss, m.val_rmse,
                     m.val_mae);
  }
  return s + fmt::format("  {:.2f}s  {:.0f} samples/s", m.train_seconds, m.samples_per_s);
}

}  // namespace

void request_stop() { g_stop = true; }
void clear_stop_request() { g_stop = false; }
void install_interrupt_handler() { std::signal(SIGINT, on_interrupt); }

Split held_out_split(const Dataset& data) {
  if (data.size(Split::Test) > 0) return Split::Test;
  if (data.size(Split::Validation) > 0) return Split::Validation;
  return Split::Train;
}

Trainer::Trainer(SequenceModelPtr model, const Dataset& data, RunConfig config,
                 std::string run_dir, std::ostream& log, bool quiet, std::string label,
                 TrainerHooks hooks)
    : model_(std::move(model)),
      data_(data),
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
                                  config_.train.seed, device_, dtype_}) {
  validate(config_);
  // The run directory first: a user should learn it cannot be made before any training.
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  if (ec || !std::filesystem::is_directory(run_dir_)) {
    throw std::runtime_error("cannot create run directory '" + run_dir_ + "': " + ec.message());
  }
  model_->to(device_, dtype_);
  optimizer_ = make_optimizer(config_.train, model_->parameters());
}

void Trainer::write_config() const {
  auto record = to_json(config_);
  record["libtorch"] = TORCH_VERSION;
  record["runtime"] = describe_runtime(device_);
  std::ostringstream summary;
  summary << *model_;
  record["model_summary"] = summary.str();
  try {
    write_file_atomically(run_dir_ + "/config.json", record.dump(2) + "\n");
  } catch (const std::exception& e) {
    throw std::runtime_error("run directory '" + run_dir_ + "' is not writable: " + e.what());
  }
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
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(extras.rng_state);
}

torch::Tensor Trainer::loss(const torch::Tensor& prediction, const torch::Tensor& target) const {
  return config_.train.loss == "mae" ? torch::l1_loss(prediction, target)
                                     : torch::mse_loss(prediction, target);
}

void Trainer::save(const TrainPosition& position) {
  save_checkpoint(checkpoint_path(), *model_, *optimizer_,
                  {position, at::detail::getDefaultCPUGenerator().get_state(),
                   history_tensor(history_)});
}

void Trainer::write_metrics_csv() const {
  std::string csv = "epoch,train_loss,val_loss,val_rmse,val_mae,train_seconds,samples_per_s\n";
  for (const auto& m : history_) {
    csv += fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g},{:.6f},{:.3f}\n", m.epoch, m.train_loss,
                       m.val_loss, m.val_rmse, m.val_mae, m.train_seconds, m.samples_per_s);
  }
  write_file_atomically(run_dir_ + "/metrics.csv", csv);
}

Evaluation Trainer::evaluate(Split split) {
  Evaluation e;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  e.loss = e.rmse = e.mae = nan;
  const BatchLoader& loader =
      eval_loaders_
          .try_emplace(split, data_, split,
                       LoaderOptions{config_.train.batch_size, false, 0, device_, dtype_})
          .first->second;
  if (loader.size() == 0) return e;
  torch::NoGradGuard no_grad;
  model_->eval();
  std::vector<torch::Tensor> predictions, targets;
  for (const auto& batch : loader.epoch(0)) {
    predictions.push_back(model_->forward(batch.input));
    targets.push_back(batch.target);
  }
  model_->train();
  const auto prediction = torch::cat(predictions);
  const auto target = torch::cat(targets);
  e.loss = loss(prediction, target).item<double>();
  e.prediction = data_.to_original_scale(prediction.to(torch::kCPU, torch::kDouble));
  e.target = data_.to_original_scale(target.to(torch::kCPU, torch::kDouble));
  const auto error = e.prediction - e.target;
  e.rmse = error.pow(2).mean().sqrt().item<double>();
  e.mae = error.abs().mean().item<double>();
  return e;
}

const std::vector<EpochMetrics>& Trainer::fit() {
  stopped_ = false;
  write_config();
  const int64_t epochs = config_.train.epochs;
  const auto mode = Progress::detect(quiet_);
  Progress progress(log_, mode, label_, epochs);
  model_->train();
  for (int64_t epoch = position_.epoch; epoch < epochs; ++epoch) {
    const auto batches = train_loader_.epoch(epoch);
    const int64_t n_batches = static_cast<int64_t>(batches.size());
    progress.start_epoch(epoch, n_batches);
    // A resumed epoch counts the seconds its batches took before the stop as well.
    const auto start = std::chrono::steady_clock::now();
    const double seconds_before = position_.seconds;
    const auto epoch_seconds = [&] {
      return seconds_before +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    for (int64_t step = position_.step; step < n_batches; ++step) {
      const auto& batch = batches[static_cast<size_t>(step)];
      const auto prediction = model_->forward(batch.input);
      const auto batch_loss = loss(prediction, batch.target);
      const double value = batch_loss.item<double>();
      if (!std::isfinite(value)) {
        throw NonFiniteLoss(fmt::format(
            "epoch {}, step {}: the loss is {}; training stopped. Nothing was saved over the last "
            "good checkpoint ({}; {} epochs complete). Try a lower --lr or --clip 1.",
            epoch + 1, step + 1, value, checkpoint_path(), history_.size()));
      }
      optimizer_->zero_grad();
      batch_loss.backward();
      if (config_.train.clip > 0) {
        torch::nn::utils::clip_grad_norm_(model_->parameters(), config_.train.clip);
      }
      optimizer_->step();

      const int64_t n = batch.input.size(0);
      position_.loss_sum += value * static_cast<double>(n);
      position_.loss_count += n;
      position_.step = step + 1;
      progress.step(step + 1, position_.loss_sum / static_cast<double>(position_.loss_count),
                    position_.loss_count);
      if (hooks_.after_step) hooks_.after_step(epoch, step + 1);
      if (g_stop) {
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
    m.val_rmse = val.rmse;
    m.val_mae = val.mae;
    m.train_seconds = seconds;
    m.samples_per_s = seconds > 0 ? static_cast<double>(position_.loss_count) / seconds : 0.0;
    history_.push_back(m);
    position_ = TrainPosition{epoch + 1, 0, 0.0, 0, 0.0};
    save(position_);
    write_metrics_csv();
    progress.end_epoch(format_metrics(m));
  }
  return history_;
}

}  // namespace lstmlab
