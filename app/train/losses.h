#pragma once
// The losses of a regression, and the shape guard every loss passes before it is computed. LibTorch's losses broadcast: an l1_loss
// or mse_loss of predictions [N, 1] against targets [N] is silently a mean over an [N, N] matrix
// of every prediction against every target (the classic porting bug), and trains to the mean.

#include <torch/types.h>

#include <string>

namespace lstmlab {

/// A floating target must have exactly the prediction's sizes (a regression: [B, K] and [B, K]);
/// an integer target holds class indices and must have the prediction's sizes without the last,
/// the classes ([B, T] against logits [B, T, V]). Throws std::invalid_argument, one line with both
/// shapes, otherwise.
void check_loss_shapes(const torch::Tensor& prediction, const torch::Tensor& target);

/// "mse" or "mae" of prediction and target ([B, K] each): the mean over every value, as Keras'
/// losses reduce a batch. The shapes are checked first.
torch::Tensor regression_loss(const std::string& loss, const torch::Tensor& prediction,
                              const torch::Tensor& target);

}  // namespace lstmlab
