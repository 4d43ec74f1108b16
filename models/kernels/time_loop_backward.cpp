// The fused time loop's backward through time (models/kernels/time_loop.h), for any StepPolicy.

#include "models/kernels/time_loop.h"

#include "models/kernels/time_loop_steps.h"
#include "models/kernels/token_rows.h"

#include <ATen/Dispatch.h>

#include <cstdint>
#include <vector>

namespace lstmlab {

using torch::Tensor;

namespace {

/// The out grad of step t, or one zero through zero strides when there is none.
template <typename scalar_t>
StridedRows<scalar_t> dout_rows(const Tensor& dout, int64_t t, const scalar_t* zero) {
  if (!dout.defined()) return {zero, 0, 0};
  return {dout.data_ptr<scalar_t>() + t * dout.stride(0), dout.stride(1), dout.stride(2)};
}

}  // namespace

Tensor prev_states_times(const Tensor& h0, const Tensor& out, const Tensor& dgates, int64_t offset,
                         int64_t width) {
  const int64_t T = out.size(0);
  const int64_t B = out.size(1);
  const int64_t H = out.size(2);
  const int64_t D = dgates.size(2);
  Tensor product = at::mm(h0.t(), dgates.select(0, 0).narrow(1, offset, width));
  if (T > 1) {
    product.addmm_(out.narrow(0, 0, T - 1).view({(T - 1) * B, H}).t(),
                   dgates.narrow(0, 1, T - 1).view({(T - 1) * B, D}).narrow(1, offset, width));
  }
  return product;
}

LayerGrads time_loop_backward(StepPolicy& policy, StepExecutor requested, const LayerInputs& in,
                              const SequenceBuffers& buf, const OutputGrads& grads,
                              const GradsWanted& wanted) {
  const StepExecutor executor = executor_for(requested, policy);
  const LoopSizes sizes(policy, in);
  const int64_t T = sizes.T, B = sizes.B, H = sizes.H;
  const int64_t G = sizes.widths.gates, D = sizes.widths.grad_width;
  const CellWidths& w = sizes.widths;
  const auto options = in.W_h.options();
  const bool raw = executor == StepExecutor::RawRows;

  // dh: the grad carried to h_t less dout_t; before the first step back, the h_T grad. dc: the
  // grad carried to c_t. Undefined incoming grads are zeros.
  Tensor dh = grads.dh_T.defined() ? grads.dh_T.clone(at::MemoryFormat::Contiguous)
                                   : at::zeros({B, H}, options);
  Tensor dc;
  if (w.has_cell_state) {
    dc = grads.dc_T.defined() ? grads.dc_T.clone(at::MemoryFormat::Contiguous)
                              : at::zeros({B, H}, options);
  }
  Tensor dgates = raw ? kept_cpu_buffer(T * B * D, in.W_h.scalar_type()).view({T, B, D})
                      : at::empty({T, B, D}, options);

  const std::vector<BackwardProduct> products = policy.backward_products(in.W_h);
  const int phases = static_cast<int>(products.size());
  std::vector<std::vector<Tensor>> product_sources(phases);  // per phase: dgates_t's columns
  Tensor dq;                                                 // [B, H] for a Scratch product
  for (int p = 0; p < phases; ++p) {
    const BackwardProduct& product = products[p];
    product_sources[p] = dgates.narrow(2, product.grad_offset, product.width).unbind(0);
    if (product.target == GradTarget::Scratch) dq = at::empty({B, H}, options);
  }
  const auto multiply = [&](int p, int64_t t) {
    const BackwardProduct& product = products[p];
    if (product.target == GradTarget::State && t == 0 && !wanted.h0) return;
    Tensor& target = product.target == GradTarget::State ? dh : dq;
    if (product.accumulate) {
      target.addmm_(product_sources[p][t], product.weight_t);
    } else {
      at::mm_out(target, product_sources[p][t], product.weight_t);
    }
  };

  // The out grad is read in whatever layout it came (expanded from a sum, transposed from
  // batch_first), not copied.
  const Tensor& dout = grads.dout;
  // The executor decides only how each phase's element-wise pass runs: the row loops and the CUDA
  // kernels read the same step pointers (host or device), the ATen ops the step's tensors.
  if (executor != StepExecutor::TensorOps) {
    const bool kernels = executor == StepExecutor::CudaKernels;
    void* stream = kernels ? cuda_stream_of(in.W_h) : nullptr;
    RowSplitter rows(B, G);
    // Where there is no out grad, each step reads one zero through zero strides, on the device the
    // pass runs on.
    const Tensor no_dout = at::zeros({1}, options);
    AT_DISPATCH_FLOATING_TYPES(in.W_h.scalar_type(), "time_loop_backward", [&] {
      const scalar_t* zero = no_dout.data_ptr<scalar_t>();
      for (int64_t t = T - 1; t >= 0; --t) {
        const BackwardRows<scalar_t> step{
            step_ptr<scalar_t>(buf.gates, t),
            previous_state<scalar_t>(in, buf, t),
            step_or_null<scalar_t>(buf.cells, t),
            step_or_null<scalar_t>(buf.cells, t + 1),
            step_or_null<scalar_t>(buf.saved, t),
            dout_rows<scalar_t>(dout, t, zero),
            dh.data_ptr<scalar_t>(),
            dc.defined() ? dc.data_ptr<scalar_t>() : nullptr,
            dq.defined() ? dq.data_ptr<scalar_t>() : nullptr,
            step_ptr<scalar_t>(dgates, t),
            H};
        for (int p = 0; p < phases; ++p) {
          if (kernels) {
            policy.backward_kernel(p, step, B, stream);
          } else {
            rows.run([&](int64_t begin, int64_t end) { policy.backward_rows(p, step, begin, end); });
          }
          multiply(p, t);
        }
      }
    });
  } else {
    policy.bind_backward_ops(buf, dgates);
    const std::vector<Tensor> out_steps = buf.out.unbind(0);
    std::vector<Tensor> cell_steps, dout_steps;
    if (buf.cells.defined()) cell_steps = buf.cells.unbind(0);
    if (dout.defined()) dout_steps = dout.unbind(0);
    for (int64_t t = T - 1; t >= 0; --t) {
      if (dout.defined()) dh.add_(dout_steps[t]);
      StepTensors step =
          step_tensors(t, t == 0 ? in.h0 : out_steps[t - 1], out_steps[t], cell_steps);
      step.dh = dh;
      step.dc = dc;
      step.dq = dq;
      for (int p = 0; p < phases; ++p) {
        policy.backward_ops(p, step);
        multiply(p, t);
      }
    }
  }

  // The parameter and input grads: one product (or sum) each over all T*B rows. Token ids have
  // no grad; their W_x grad sums dA's rows per id, and b's grad, every row's sum, is its column sum.
  const Tensor dA = dgates.view({T * B, D}).narrow(1, D - G, G);
  const bool tokens = is_token_ids(in.x);
  LayerGrads out;
  if (wanted.x && !tokens) out.x = at::mm(dA, in.W_x.t()).view({T, B, sizes.I});
  if (tokens && (wanted.W_x || wanted.b)) {
    const Tensor id_rows_grad = token_rows_grad(in.x.view(-1), dA, sizes.I);
    if (wanted.W_x) out.W_x = id_rows_grad;
    if (wanted.b) out.b = id_rows_grad.sum(0);
  } else {
    if (wanted.W_x) out.W_x = at::mm(in.x.view({T * B, sizes.I}).t(), dA);
    if (wanted.b) out.b = dA.sum(0);
  }
  if (wanted.W_h) out.W_h = policy.recurrent_weight_grad(in.h0, buf, dgates);
  if (wanted.recurrent_bias) out.recurrent_bias = policy.recurrent_bias_grad(dgates);
  if (wanted.h0) out.h0 = dh;
  if (wanted.c0) out.c0 = dc;
  return out;
}

}  // namespace lstmlab
