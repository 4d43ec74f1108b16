#pragma once
// The stacked-layer base every recurrent layer builds on, as LibTorch's RNNImplBase is for its
// modes: it owns the option and input checks, the initial state, batch_first and unbatched
// handling and printing; ScratchStack adds the fused parameters, weight access and the stacking
// loop with dropout between layers. A cell then supplies its gate count and state (models/cell.h),
// how its biases map (models/weight_layout.h) and one layer's run over a sequence.
//
// Letters: T time, B batch, I input features (I_k: I for layer 0, H above), H hidden units,
// L layers, G = gates * H.

#include "models/recurrent_layer.h"

#include <torch/types.h>

#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace lstmlab {

/// How a scratch layer's backward is computed: by the hand-derived backward through time (the
/// default), or by autograd through the plain loop (for teaching and checking).
enum class ScratchBackward { Autograd, Fused };
const EnumNames<ScratchBackward>& scratch_backward_names();
std::string to_string(ScratchBackward mode);
/// "autograd" or "fused"; throws std::invalid_argument naming the choices.
ScratchBackward parse_scratch_backward(const std::string& text);

class StackedLayerImpl : public RecurrentLayerImpl {
 public:
  StackedLayerImpl(std::string name, const RecurrentOptions& options, CellKind cell);

  /// Checks, then runs the stack time-major and hands the result back in the caller's layout.
  RecurrentOutput forward(const torch::Tensor& input,
                          const std::optional<RecurrentState>& state = std::nullopt) final;
  /// Token ids through the layer: gathered rows of W_x where gathers_token_rows(), else one-hot.
  RecurrentOutput forward_tokens(const torch::Tensor& ids,
                                 const std::optional<RecurrentState>& state = std::nullopt) final;
  const RecurrentOptions& options() const final { return options_; }
  CellKind cell() const final { return cell_; }
  /// "lstmlab::GRUScratch(input_size=1, hidden_size=64, ...)".
  void pretty_print(std::ostream& stream) const final;

 protected:
  /// x: [T, B, I] (or token ids [T, B] where gathers_token_rows()); initial: h [L, B, H] and,
  /// for a cell with a cell state, c [L, B, H]. Returns output [T, B, H] and the final state in
  /// the same shapes.
  virtual RecurrentOutput run(const torch::Tensor& x, const RecurrentState& initial) = 0;
  /// Whether run() takes token ids for its first layer's input.
  virtual bool gathers_token_rows() const { return false; }
  /// A parameter that the input's dtype and device are checked against.
  virtual torch::Tensor reference_weight() const = 0;
  /// What pretty_print adds after the shared options: ", backward=fused".
  virtual std::string extra_repr() const { return ""; }

  RecurrentOptions options_;

 private:
  CellKind cell_;
};

class ScratchStackImpl : public StackedLayerImpl {
 public:
  ScratchStackImpl(std::string name, const RecurrentOptions& options, CellKind cell);

  /// Registers W_x_l{k}: [I_k, G], W_h_l{k}: [H, G], b_l{k}: [G] (and b_hn_l{k}: [H] for the
  /// GRU) and draws them.
  void reset();
  /// Draws the weights again under options().init() (from the global generator).
  void reset_parameters();

  StackWeights get_weights() const final;
  void set_weights(const StackWeights& weights) final;
  StackWeights get_weight_grads() const final;

  ScratchBackward backward_mode() const { return backward_mode_; }
  void set_backward_mode(ScratchBackward mode) { backward_mode_ = mode; }
  /// One layer's canonical weights as live views (gradients flow into the parameters).
  LayerWeights layer(int64_t k) const;

 protected:
  /// One layer over the sequence. x: [T, B, I_k]; h0, c0: [B, H] (c0 undefined without a cell
  /// state). Returns {out [T, B, H], h_T [B, H], c_T [B, H] or undefined}.
  virtual std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> run_layer(
      const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& h0,
      const torch::Tensor& c0) = 0;

  /// The narrow view of gate `block` of a fused [.., G] weight: [.., H].
  torch::Tensor gate(const torch::Tensor& fused, int64_t block) const {
    return fused.narrow(-1, block * options_.hidden_size(), options_.hidden_size());
  }

  std::vector<torch::Tensor> W_x_, W_h_, b_, b_hn_;

 private:
  RecurrentOutput run(const torch::Tensor& x, const RecurrentState& initial) final;
  /// The fused backward gathers (models/kernels/token_rows.h); the autograd one reads one-hot.
  bool gathers_token_rows() const final { return backward_mode_ == ScratchBackward::Fused; }
  torch::Tensor reference_weight() const final { return W_x_.at(0); }
  std::string extra_repr() const override;

  ScratchBackward backward_mode_ = ScratchBackward::Fused;
};

}  // namespace lstmlab
