#include "app/train/losses.h"

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <stdexcept>

namespace lstmlab {

void check_loss_shapes(const torch::Tensor& prediction, const torch::Tensor& target) {
  const auto p = prediction.sizes();
  const auto t = target.sizes();
  if (at::isFloatingType(target.scalar_type())) {
    if (p == t) return;
    throw std::invalid_argument(fmt::format(
        "the loss got predictions of shape {} and targets of shape {}: they must be equal (a "
        "target of shape [N] against predictions [N, 1] would broadcast to [N, N] and compare every "
        "prediction with every target)",
        c10::str(p), c10::str(t)));
  }
  if (p.size() == t.size() + 1 && p.slice(0, t.size()) == t) return;
  throw std::invalid_argument(fmt::format(
      "the loss got logits of shape {} and class targets of shape {}: the targets must have the "
      "logits' shape without its last (class) dimension",
      c10::str(p), c10::str(t)));
}

torch::Tensor regression_loss(const std::string& loss, const torch::Tensor& prediction,
                              const torch::Tensor& target) {
  check_loss_shapes(prediction, target);
  return loss == "mae" ? torch::l1_loss(prediction, target) : torch::mse_loss(prediction, target);
}

}  // namespace lstmlab
