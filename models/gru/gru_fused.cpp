// The fused GRU layer's autograd function: the argument checks, and the glue between autograd and
// the fused time loop (models/kernels/time_loop.h) run over the GRU's step (models/gru/gru_step.h).

#include "models/gru/gru_fused.h"

#include "models/gru/gru_step.h"
#include "models/kernels/layer_checks.h"
#include "models/kernels/time_loop.h"
#include "models/kernels/token_rows.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <cstdint>
#include <tuple>

namespace lstmlab {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using LayerOutputs = std::tuple<Tensor, Tensor>;  // out [T, B, H], h_T [B, H]

constexpr const char* kName = "gru_layer_fused";

// ---- checks -------------------------------------------------------------------------------------

void check_arguments(const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                     const Tensor& b, const Tensor& b_hn, bool reset_after) {
  check_layer_inputs(kName, 3, false, {x, h0, Tensor(), W_x, W_h, b});
  const int64_t H = W_h.size(0);
  TORCH_CHECK(!b_hn.defined() || (b_hn.dim() == 1 && b_hn.size(0) == H), kName,
              ": expected b_hn of shape [H] = [", H, "] (or undefined), got ", b_hn.sizes());
  check_like_x(kName, "b_hn", b_hn, W_h);
  if (!reset_after && b_hn.defined()) {
    // With the reset gate before the product there is no r * (h W_hn + b_hn) for b_hn to sit in;
    // adding it to b_in instead would be a second, silent meaning.
    torch::NoGradGuard no_grad;
    TORCH_CHECK(!b_hn.any().item<bool>(), kName,
                ": reset_after=false has no place for b_hn (fold it into b's n block): expected "
                "b_hn undefined or all zeros, got max |b_hn| = ",
                b_hn.abs().max().item<double>());
  }
}

// Saved tensors, in this order. kKept: u_n (reset after) or q (reset before), [T, B, H].
enum Saved { kX, kH0, kWx, kWh, kGates, kKept, kOut };

struct FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& h0,
                               const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                               const Tensor& b_hn, bool reset_after, StepExecutor executor) {
    const LayerInputs in{contiguous_layer_input(x), h0.contiguous(), Tensor(),
                         W_x.contiguous(), W_h.contiguous(), b};
    const auto step = make_gru_step(in.W_h.size(0), reset_after, b_hn);
    const SequenceBuffers buf = time_loop_forward(*step, executor, in);

    ctx->saved_data["reset_after"] = reset_after;
    ctx->saved_data["executor"] = static_cast<int64_t>(executor);
    // An undefined incoming grad stays undefined, so that an unused out or h_T costs nothing.
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({in.x, in.h0, in.W_x, in.W_h, buf.gates, buf.saved, buf.out});
    // h_T as a tensor of its own: a view of the saved out would tie the caller's in-place edits of
    // one output to the other and to backward.
    return {buf.out, buf.out.select(0, in.x.size(0) - 1).clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // The time loop writes plain buffers: nothing records them for a second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(), kName,
                ": double backward is not supported (backward was called with create_graph=true); "
                "its backward is differentiable once");
    const variable_list saved = ctx->get_saved_variables();
    const LayerInputs in{saved[kX], saved[kH0], Tensor(), saved[kWx], saved[kWh], Tensor()};
    const SequenceBuffers buf{saved[kGates], saved[kOut], Tensor(), saved[kKept]};
    const bool reset_after = ctx->saved_data["reset_after"].toBool();
    const auto executor = static_cast<StepExecutor>(ctx->saved_data["executor"].toInt());
    GradsWanted wanted;
    wanted.x = ctx->needs_input_grad(0);
    wanted.h0 = ctx->needs_input_grad(1);
    wanted.c0 = false;
    wanted.W_x = ctx->needs_input_grad(2);
    wanted.W_h = ctx->needs_input_grad(3);
    wanted.b = ctx->needs_input_grad(4);
    wanted.recurrent_bias = ctx->needs_input_grad(5);
    const auto step = make_gru_step(in.W_h.size(0), reset_after);
    const LayerGrads g =
        time_loop_backward(*step, executor, in, buf, {grad_outputs[0], grad_outputs[1], {}}, wanted);
    return {g.x, g.h0, g.W_x, g.W_h, g.b, g.recurrent_bias, Tensor(), Tensor()};
  }
};

LayerOutputs run_layer(const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                       const Tensor& b, const Tensor& b_hn, bool reset_after,
                       StepExecutor executor) {
  check_arguments(x, h0, W_x, W_h, b, b_hn, reset_after);
  // An undefined b_hn is zeros that nothing asks the grad of.
  const Tensor b_hn_or_zeros = b_hn.defined() ? b_hn : at::zeros({W_h.size(0)}, x.options());
  variable_list outputs =
      FusedGruFunction::apply(x, h0, W_x, W_h, b, b_hn_or_zeros, reset_after, executor);
  return {outputs[0], outputs[1]};
}

}  // namespace

LayerOutputs gru_layer_fused(const Tensor& x, const Tensor& h0, const Tensor& W_x,
                             const Tensor& W_h, const Tensor& b, const Tensor& b_hn,
                             bool reset_after) {
  return run_layer(x, h0, W_x, W_h, b, b_hn, reset_after, default_executor(W_h));
}

LayerOutputs gru_layer_fused_reference_ops(const Tensor& x, const Tensor& h0, const Tensor& W_x,
                                           const Tensor& W_h, const Tensor& b, const Tensor& b_hn,
                                           bool reset_after) {
  return run_layer(x, h0, W_x, W_h, b, b_hn, reset_after, StepExecutor::TensorOps);
}

}  // namespace lstmlab
