// The fused LSTM layer's autograd function: the argument checks, and the glue between autograd
// and the fused time loop (models/kernels/time_loop.h) over the LSTM's step
// (models/lstm/lstm_step.h).

#include "models/lstm/lstm_fused.h"

#include "models/kernels/layer_checks.h"
#include "models/kernels/time_loop.h"
#include "models/kernels/token_rows.h"
#include "models/lstm/lstm_step.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <cstdint>
#include <tuple>

namespace lstmlab {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using LayerOutputs = std::tuple<Tensor, Tensor, Tensor>;  // out [T, B, H], h_T, c_T [B, H]

// Saved tensors, in this order.
enum Saved { kX, kH0, kWx, kWh, kGates, kCells, kOut, kCellAct };

struct FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& h0,
                               const Tensor& c0, const Tensor& W_x, const Tensor& W_h,
                               const Tensor& b, Activation act, StepExecutor executor) {
    const LayerInputs in{contiguous_layer_input(x), h0.contiguous(), c0,
                         W_x.contiguous(), W_h.contiguous(), b};
    const auto step = make_lstm_step(in.W_h.size(0), act);
    const SequenceBuffers buf = time_loop_forward(*step, executor, in);

    ctx->saved_data["act"] = static_cast<int64_t>(act);
    ctx->saved_data["executor"] = static_cast<int64_t>(executor);
    // Undefined incoming grads stay undefined, so that an unused h_T or c_T costs nothing.
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({in.x, in.h0, in.W_x, in.W_h, buf.gates, buf.cells, buf.out, buf.saved});
    // h_T, c_T as tensors of their own: a view of the saved out/cells would tie the caller's
    // in-place edits of one output to the others and to backward.
    const int64_t T = in.x.size(0);
    return {buf.out, buf.out.select(0, T - 1).clone(), buf.cells.select(0, T).clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // The time loop writes plain buffers: nothing records them for a second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "lstm_layer_fused: double backward is not supported (backward was called with "
                "create_graph=true); its backward is differentiable once");
    const variable_list saved = ctx->get_saved_variables();
    const LayerInputs in{saved[kX], saved[kH0], Tensor(), saved[kWx], saved[kWh], Tensor()};
    const SequenceBuffers buf{saved[kGates], saved[kOut], saved[kCells], saved[kCellAct]};
    const auto act = static_cast<Activation>(ctx->saved_data["act"].toInt());
    const auto executor = static_cast<StepExecutor>(ctx->saved_data["executor"].toInt());
    GradsWanted wanted;
    wanted.x = ctx->needs_input_grad(0);
    wanted.h0 = ctx->needs_input_grad(1);
    wanted.c0 = ctx->needs_input_grad(2);
    wanted.W_x = ctx->needs_input_grad(3);
    wanted.W_h = ctx->needs_input_grad(4);
    wanted.b = ctx->needs_input_grad(5);
    wanted.recurrent_bias = false;
    const auto step = make_lstm_step(in.W_h.size(0), act);
    const LayerGrads g = time_loop_backward(
        *step, executor, in, buf, {grad_outputs[0], grad_outputs[1], grad_outputs[2]}, wanted);
    return {g.x, g.h0, g.c0, g.W_x, g.W_h, g.b, Tensor(), Tensor()};
  }
};

LayerOutputs run_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                       const Tensor& W_h, const Tensor& b, Activation act,
                       StepExecutor executor) {
  check_layer_inputs("lstm_layer_fused", 4, true, {x, h0, c0, W_x, W_h, b});
  variable_list outputs = FusedLstmFunction::apply(x, h0, c0, W_x, W_h, b, act, executor);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace

LayerOutputs lstm_layer_fused(const Tensor& x, const Tensor& h0, const Tensor& c0,
                              const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                              Activation act) {
  return run_layer(x, h0, c0, W_x, W_h, b, act, default_executor(W_h));
}

LayerOutputs lstm_layer_fused_reference_ops(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                            const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                                            Activation act) {
  return run_layer(x, h0, c0, W_x, W_h, b, act, StepExecutor::TensorOps);
}

}  // namespace lstmlab
