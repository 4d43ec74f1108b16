#pragma once
// What the trainer needs of a model: batch-first input and an optional initial recurrent state
// in, a prediction and the final state out.

#include "models/recurrent_layer.h"
#include "models/weight_layout.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <optional>

namespace lstmlab {

struct SequenceOutput {
  torch::Tensor prediction;  ///< task-shaped: [B, K] for a regressor, [B, T, V] for a tagger
  RecurrentState state;      ///< the recurrent layer's final (h_n, c_n): [L, B, H] each
};

class SequenceModelImpl : public torch::nn::Module {
 public:
  explicit SequenceModelImpl(std::string name) : torch::nn::Module(std::move(name)) {}

  /// input: [B, T, I]; state: the initial (h, c), zeros when absent.
  virtual SequenceOutput run(const torch::Tensor& input,
                             const std::optional<RecurrentState>& state) = 0;
  /// The prediction from a zero initial state.
  torch::Tensor forward(const torch::Tensor& input) { return run(input, std::nullopt).prediction; }
  virtual RecurrentLayerImpl& recurrent() = 0;
  /// Every weight of the model, copies in the canonical layout. Throws c10::Error for a model
  /// without a recurrent layer and a Linear head.
  virtual ModelWeights get_model_weights() const;
  /// Checks every shape against the model (c10::Error naming the part, expected and got), then
  /// copies. Throws for a model without a recurrent layer and a Linear head.
  virtual void set_model_weights(const ModelWeights& weights);
};

using SequenceModelPtr = std::shared_ptr<SequenceModelImpl>;

/// A recurrent layer and a Linear head on its output, the shape every model here has; the heads
/// differ only in which steps the Linear reads (the last, or every one).
class RecurrentWithHeadImpl : public SequenceModelImpl {
 public:
  /// `rnn` must be batch_first. It is registered first and the head second, the order in which a
  /// seed's Python module draws its initial weights, so the same seed gives the same numbers.
  RecurrentWithHeadImpl(std::string name, RecurrentLayerPtr rnn, int64_t output_size);
  RecurrentLayerImpl& recurrent() override { return *rnn; }
  ModelWeights get_model_weights() const override;
  void set_model_weights(const ModelWeights& weights) override;
  void pretty_print(std::ostream& stream) const override { stream << "lstmlab::" << name(); }

  RecurrentLayerPtr rnn;
  torch::nn::Linear head{nullptr};
};

}  // namespace lstmlab
