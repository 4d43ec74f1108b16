// The fused time loop's forward (models/kernels/time_loop.h), for any StepPolicy.

#include "models/kernels/time_loop.h"

#include "models/kernels/time_loop_steps.h"
#include "models/kernels/token_rows.h"

#include <ATen/Dispatch.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

using torch::Tensor;

StepExecutor default_executor(const Tensor& x) {
  const bool float_or_double =
      x.defined() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
  if (float_or_double && x.device().is_cpu()) return StepExecutor::RawRows;
#if LSTMLAB_WITH_CUDA
  if (float_or_double && x.device().is_cuda()) return StepExecutor::CudaKernels;
#endif
  return StepExecutor::TensorOps;
}

SequenceBuffers time_loop_forward(StepPolicy& policy, StepExecutor requested,
                                  const LayerInputs& in) {
  const StepExecutor executor = executor_for(requested, policy);
  const LoopSizes sizes(policy, in);
  const int64_t T = sizes.T, B = sizes.B, H = sizes.H, G = sizes.widths.gates;
  const CellWidths& w = sizes.widths;
  const auto options = in.W_h.options();
  const bool tokens = is_token_ids(in.x);

  SequenceBuffers buf;
  buf.gates = at::empty({T, B, G}, options);  // pre-activations, then activations
  buf.out = at::empty({T, B, H}, options);    // h_1 .. h_T
  if (w.has_cell_state) {
    buf.cells = at::empty({T + 1, B, H}, options);  // c_0 .. c_T
    buf.cells.select(0, 0).copy_(in.c0);
  }
  if (w.saved_width > 0) buf.saved = at::empty({T, B, w.saved_width}, options);
  // The input projection x W_x + b over all T*B rows at once; for token ids on the CPU row loops
  // each step's rows are gathered just before its product instead, while they are in cache.
  Tensor gates_2d = buf.gates.view({T * B, G});
  const bool gather_per_step = tokens && executor == StepExecutor::RawRows;
  if (!tokens) {
    at::addmm_out(gates_2d, in.b, in.x.view({T * B, sizes.I}), in.W_x);
  } else if (!gather_per_step) {
    gather_token_rows(in.x.view(-1), in.W_x, in.b, gates_2d);
  }

  const std::vector<ForwardProduct> products = policy.forward_products(in.W_h);
  const int phases = static_cast<int>(products.size());

  // Step views made once, so that the loop allocates nothing.
  const std::vector<Tensor> out_steps = buf.out.unbind(0);
  std::vector<Tensor> cell_steps, saved_steps;
  if (buf.cells.defined()) cell_steps = buf.cells.unbind(0);
  if (buf.saved.defined()) saved_steps = buf.saved.unbind(0);
  std::vector<std::vector<Tensor>> product_targets(phases);  // per phase: gates_t's columns
  Tensor apart;                                              // [B, N] for an apart product
  for (int p = 0; p < phases; ++p) {
    const ForwardProduct& product = products[p];
    if (product.bias.defined()) {
      apart = at::empty({B, product.weight.size(1)}, options);
    } else {
      product_targets[p] =
          buf.gates.narrow(2, product.gate_offset, product.weight.size(1)).unbind(0);
    }
  }
  const auto h_prev = [&](int64_t t) -> const Tensor& { return t == 0 ? in.h0 : out_steps[t - 1]; };
  const auto multiply = [&](int p, int64_t t) {
    const ForwardProduct& product = products[p];
    const Tensor& source = product.source == ProductSource::PreviousState ? h_prev(t)
                                                                          : saved_steps[t];
    if (product.bias.defined()) {
      at::addmm_out(apart, product.bias, source, product.weight);
    } else {
      product_targets[p][t].addmm_(source, product.weight);
    }
  };

  // The executor decides only how each phase's element-wise pass runs: the row loops and the CUDA
  // kernels read the same step pointers (host or device), the ATen ops the step's tensors.
  if (executor != StepExecutor::TensorOps) {
    const bool kernels = executor == StepExecutor::CudaKernels;
    void* stream = kernels ? cuda_stream_of(in.W_h) : nullptr;
    RowSplitter rows(B, G);
    AT_DISPATCH_FLOATING_TYPES(in.W_h.scalar_type(), "time_loop_forward", [&] {
      for (int64_t t = 0; t < T; ++t) {
        if (gather_per_step) {
          const int64_t* ids = in.x.data_ptr<int64_t>() + t * B;
          scalar_t* target = step_ptr<scalar_t>(buf.gates, t);
          rows.run([&](int64_t begin, int64_t end) {
            gather_token_rows(ids, in.W_x.data_ptr<scalar_t>(), in.b.data_ptr<scalar_t>(), target, G,
                              begin, end);
          });
        }
        const ForwardRows<scalar_t> step{
            step_ptr<scalar_t>(buf.gates, t),
            apart.defined() ? apart.data_ptr<scalar_t>() : nullptr,
            previous_state<scalar_t>(in, buf, t),
            step_ptr<scalar_t>(buf.out, t),
            step_or_null<scalar_t>(buf.cells, t),
            step_or_null<scalar_t>(buf.cells, t + 1),
            step_or_null<scalar_t>(buf.saved, t),
            H};
        for (int p = 0; p < phases; ++p) {
          multiply(p, t);
          if (kernels) {
            policy.forward_kernel(p, step, B, stream);
          } else {
            rows.run([&](int64_t begin, int64_t end) { policy.forward_rows(p, step, begin, end); });
          }
        }
      }
    });
  } else {
    policy.bind_forward_ops(buf);
    for (int64_t t = 0; t < T; ++t) {
      StepTensors step = step_tensors(t, h_prev(t), out_steps[t], cell_steps);
      step.u = apart;
      for (int p = 0; p < phases; ++p) {
        multiply(p, t);
        policy.forward_ops(p, step);
      }
    }
  }
  return buf;
}

}  // namespace lstmlab
