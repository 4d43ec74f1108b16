// Letters: T time steps, B batch, I input features, H hidden units, G = 4H gate width, each row of
// G holding the gates i, f, g, o side by side.
//
// Forward, per step (the x part of every step is one product before the loop):
//   gates_t = x_t W_x + b + h_{t-1} W_h                       [B, G], activated in place and saved
//   i, f, o = sigmoid(.), g = act(.);  c_t = f c_{t-1} + i g;  h_t = o act(c_t)
// Backward, t = T-1 .. 0, with dh = dout_t + dG_{t+1} W_h^T (dh_T from the h_T grad) and dc carried
// (from the c_T grad):
//   dc += dh o act'(c_t)
//   do = dh act(c_t) o(1-o),  di = dc g i(1-i),  df = dc c_{t-1} f(1-f),  dg = dc i act'(g)
//   dc <- dc f
// then, over all T*B rows at once:
//   dW_x = x^T dG,  dW_h = h_{0..T-1}^T dG,  db = sum dG,  dx = dG W_x^T.
// act'(v) is read off a = act(v): tanh 1 - a^2, relu [a > 0] (0 at 0, as torch).

#include "models/lstm/lstm_fused.h"

#include "models/kernels/cpu_rows.h"
#include "models/kernels/gate_math.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <cmath>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <vector>

namespace lstmlab {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using LayerOutputs = std::tuple<Tensor, Tensor, Tensor>;  // out [T, B, H], h_T, c_T [B, H]

// Whether act(c_t) [T, B, H] is kept from the forward instead of recomputed in the backward.
// Measured (float32, one thread, B,T,I,H = 950,50,1,64 / 64,50,64,256): keeping tanh(c) takes
// 198 / 88 ms forward+backward against 210 / 96 ms recomputing it; relu costs nothing to recompute.
constexpr bool keeps_cell_activation(Activation act) { return act == Activation::Tanh; }

// ---- checks -------------------------------------------------------------------------------------

void check_arguments(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                     const Tensor& W_h, const Tensor& b) {
  constexpr const char* kName = "lstm_layer_fused";
  for (const auto* t : {&x, &h0, &c0, &W_x, &W_h, &b}) {
    TORCH_CHECK(t->defined(), kName, ": every argument must be a defined tensor");
  }
  TORCH_CHECK(x.dim() == 3, kName, ": expected x of shape [T, B, I], got ", x.sizes());
  const int64_t T = x.size(0);
  const int64_t B = x.size(1);
  const int64_t I = x.size(2);
  TORCH_CHECK(T > 0 && B > 0 && I > 0, kName,
              ": expected x of shape [T, B, I] with T, B, I > 0, got ", x.sizes());
  TORCH_CHECK(W_h.dim() == 2 && W_h.size(0) > 0 && W_h.size(1) == 4 * W_h.size(0), kName,
              ": expected W_h of shape [H, 4H], got ", W_h.sizes());
  const int64_t H = W_h.size(0);
  const int64_t G = 4 * H;
  TORCH_CHECK(W_x.dim() == 2 && W_x.size(0) == I && W_x.size(1) == G, kName,
              ": expected W_x of shape [I, 4H] = [", I, ", ", G, "], got ", W_x.sizes());
  TORCH_CHECK(b.dim() == 1 && b.size(0) == G, kName, ": expected b of shape [4H] = [", G, "], got ",
              b.sizes());
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == B && h0.size(1) == H, kName,
              ": expected h0 of shape [B, H] = [", B, ", ", H, "], got ", h0.sizes());
  TORCH_CHECK(c0.dim() == 2 && c0.size(0) == B && c0.size(1) == H, kName,
              ": expected c0 of shape [B, H] = [", B, ", ", H, "], got ", c0.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), kName, ": expected a floating-point x, got ",
              x.scalar_type());
  const char* names[] = {"h0", "c0", "W_x", "W_h", "b"};
  const Tensor* others[] = {&h0, &c0, &W_x, &W_h, &b};
  for (size_t k = 0; k < 5; ++k) {
    TORCH_CHECK(others[k]->scalar_type() == x.scalar_type(), kName, ": expected ", names[k],
                " of dtype ", x.scalar_type(), " (that of x), got ", others[k]->scalar_type());
    TORCH_CHECK(others[k]->device() == x.device(), kName, ": expected ", names[k], " on ",
                x.device(), " (that of x), got ", others[k]->device());
  }
}

// ---- the CPU raw loops --------------------------------------------------------------------------
// sigmoid(v) = 1 / (1 + exp(-v)); tanh(v) = 1 - 2 / (1 + exp(2v)), both through gate_exp
// (models/kernels/gate_math.h: inline and vectorized for float; std::tanh costs 11 ns a float with glibc
// 2.36), exact at +-inf, NaN passing, with an absolute error within about an ulp of 1, which is
// what the products downstream see.
// Each row runs in passes over H-long runs that stay in L1 (the exponentials; the gates and the
// cell; the cell's exponential; h): short loops that GCC vectorizes, where one pass per element
// is too long a body for it (measured with gate_exp at B,T,I,H = 64,50,64,256: the forward's
// element-wise part took 7.6 ms in one pass, 4.8 ms in these).

template <typename scalar_t>
inline scalar_t relu_of(scalar_t v) {
  return v < scalar_t(0) ? scalar_t(0) : v;  // NaN passes, as in torch::relu
}

// act'(v) from a = act(v).
template <typename scalar_t, Activation kAct>
inline scalar_t act_grad_of_output(scalar_t a) {
  if constexpr (kAct == Activation::Tanh) {
    return scalar_t(1) - a * a;
  } else {
    return a > scalar_t(0) ? scalar_t(1) : scalar_t(0);
  }
}

/// One forward step. gates: [B, G] pre-activations in, activations out; c_prev: [B, H];
/// c, h: [B, H] out; cell_act: [B, H] out, act(c) (tanh only, see keeps_cell_activation).
template <typename scalar_t>
struct ForwardStep {
  scalar_t* gates;
  const scalar_t* c_prev;
  scalar_t* c;
  scalar_t* h;
  scalar_t* cell_act;
  int64_t H;
};

/// One backward step. gates: [B, G] activations; c_prev, c: [B, H]; cell_act: [B, H] act(c) (tanh
/// only; relu recomputes it); dh_next: [B, H] dG_{t+1} W_h^T, or the h_T grad at t = T-1;
/// dout: the out grad of this step; dc: [B, H] carried, in and out; dgates: [B, G] out.
template <typename scalar_t>
struct BackwardStep {
  const scalar_t* gates;
  const scalar_t* c_prev;
  const scalar_t* c;
  const scalar_t* cell_act;
  const scalar_t* dh_next;
  StridedRows<scalar_t> dout;
  scalar_t* dc;
  scalar_t* dgates;
  int64_t H;
};

/// The forward step's rows [begin, end).
template <typename scalar_t, Activation kAct>
LSTMLAB_ALWAYS_INLINE inline void forward_rows(const ForwardStep<scalar_t>& s, int64_t begin,
                                               int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 4 * H;
  for (int64_t r = begin; r < end; ++r) {
    scalar_t* gi = s.gates + r * G;  // i and f side by side: one run of 2H
    scalar_t* gf = gi + H;
    scalar_t* gg = gf + H;
    scalar_t* go = gg + H;
    const scalar_t* cp = s.c_prev + r * H;
    scalar_t* cr = s.c + r * H;
    scalar_t* hr = s.h + r * H;
    for (int64_t j = 0; j < 2 * H; ++j) gi[j] = gate_exp(-gi[j]);
    for (int64_t j = 0; j < H; ++j) go[j] = gate_exp(-go[j]);
    if constexpr (kAct == Activation::Tanh) {
      for (int64_t j = 0; j < H; ++j) gg[j] = gate_exp(scalar_t(2) * gg[j]);
    }
    for_each_column(H, [&](int64_t j) {
      const scalar_t i = scalar_t(1) / (scalar_t(1) + gi[j]);
      const scalar_t f = scalar_t(1) / (scalar_t(1) + gf[j]);
      scalar_t g;
      if constexpr (kAct == Activation::Tanh) {
        g = scalar_t(1) - scalar_t(2) / (scalar_t(1) + gg[j]);
      } else {
        g = relu_of(gg[j]);
      }
      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = scalar_t(1) / (scalar_t(1) + go[j]);
      cr[j] = f * cp[j] + i * g;
    });
    if constexpr (kAct == Activation::Tanh) {
      scalar_t* ar = s.cell_act + r * H;
      for (int64_t j = 0; j < H; ++j) ar[j] = gate_exp(scalar_t(2) * cr[j]);
      for_each_column(H, [&](int64_t j) {
        const scalar_t a = scalar_t(1) - scalar_t(2) / (scalar_t(1) + ar[j]);
        ar[j] = a;
        hr[j] = go[j] * a;
      });
    } else {
      for_each_column(H, [&](int64_t j) { hr[j] = go[j] * relu_of(cr[j]); });
    }
  }
}

/// The backward step's rows [begin, end).
template <typename scalar_t, Activation kAct>
LSTMLAB_ALWAYS_INLINE inline void backward_rows(const BackwardStep<scalar_t>& s, int64_t begin,
                                                int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 4 * H;
  for (int64_t r = begin; r < end; ++r) {
    const scalar_t* gi = s.gates + r * G;
    const scalar_t* gf = gi + H;
    const scalar_t* gg = gf + H;
    const scalar_t* go = gg + H;
    scalar_t* di = s.dgates + r * G;
    scalar_t* df = di + H;
    scalar_t* dg = df + H;
    scalar_t* dO = dg + H;
    const scalar_t* cp = s.c_prev + r * H;
    const scalar_t* cr = s.c + r * H;
    const scalar_t* ar = kAct == Activation::Tanh ? s.cell_act + r * H : cr;
    const scalar_t* dhr = s.dh_next + r * H;
    const scalar_t* dor = s.dout.data + r * s.dout.row_stride;
    const int64_t dor_step = s.dout.col_stride;
    scalar_t* dcr = s.dc + r * H;
    for_each_column(H, [&](int64_t j) {
      const scalar_t dh = dhr[j] + dor[j * dor_step];
      const scalar_t i = gi[j];
      const scalar_t f = gf[j];
      const scalar_t g = gg[j];
      const scalar_t o = go[j];
      scalar_t a;
      if constexpr (kAct == Activation::Tanh) {
        a = ar[j];
      } else {
        a = relu_of(ar[j]);
      }
      const scalar_t dct = dcr[j] + dh * o * act_grad_of_output<scalar_t, kAct>(a);
      dO[j] = dh * a * o * (scalar_t(1) - o);
      di[j] = dct * g * i * (scalar_t(1) - i);
      df[j] = dct * cp[j] * f * (scalar_t(1) - f);
      dg[j] = dct * i * act_grad_of_output<scalar_t, kAct>(g);
      dcr[j] = dct * f;
    });
  }
}

LSTMLAB_AVX2_CLONE void forward_rows_float_tanh(const ForwardStep<float>& s, int64_t begin,
                                                int64_t end) {
  forward_rows<float, Activation::Tanh>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void forward_rows_float_relu(const ForwardStep<float>& s, int64_t begin,
                                                int64_t end) {
  forward_rows<float, Activation::Relu>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void backward_rows_float_tanh(const BackwardStep<float>& s, int64_t begin,
                                                 int64_t end) {
  backward_rows<float, Activation::Tanh>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void backward_rows_float_relu(const BackwardStep<float>& s, int64_t begin,
                                                 int64_t end) {
  backward_rows<float, Activation::Relu>(s, begin, end);
}

template <typename scalar_t, Activation kAct>
void forward_step_cpu(RowSplitter& rows, const ForwardStep<scalar_t>& step) {
  rows.run([&](int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<scalar_t, float> && kAct == Activation::Tanh) {
      forward_rows_float_tanh(step, begin, end);
    } else if constexpr (std::is_same_v<scalar_t, float>) {
      forward_rows_float_relu(step, begin, end);
    } else {
      forward_rows<scalar_t, kAct>(step, begin, end);
    }
  });
}

template <typename scalar_t, Activation kAct>
void backward_step_cpu(RowSplitter& rows, const BackwardStep<scalar_t>& step) {
  rows.run([&](int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<scalar_t, float> && kAct == Activation::Tanh) {
      backward_rows_float_tanh(step, begin, end);
    } else if constexpr (std::is_same_v<scalar_t, float>) {
      backward_rows_float_relu(step, begin, end);
    } else {
      backward_rows<scalar_t, kAct>(step, begin, end);
    }
  });
}

// ---- the ATen-op form of the same steps ---------------------------------------------------------

void act_out(Tensor& out, const Tensor& v, Activation act) {
  if (act == Activation::Tanh) {
    at::tanh_out(out, v);
  } else {
    at::clamp_min_out(out, v, 0);
  }
}

// grad_input = grad_output * act'(v), where a = act(v).
void act_backward_out(Tensor& grad_input, const Tensor& grad_output, const Tensor& a,
                      Activation act) {
  if (act == Activation::Tanh) {
    at::tanh_backward_out(grad_input, grad_output, a);
  } else {
    at::threshold_backward_out(grad_input, grad_output, a, 0);
  }
}

/// Per-step [B, H] views of the gates in a [T, B, G] buffer, made once per call so that the time
/// loops make none. i_f: [B, 2H], i and f together, for one sigmoid over both.
struct GateSteps {
  std::vector<Tensor> i, f, g, o, i_f;

  GateSteps(const Tensor& gates, int64_t H)
      : i(gates.narrow(2, 0, H).unbind(0)),
        f(gates.narrow(2, H, H).unbind(0)),
        g(gates.narrow(2, 2 * H, H).unbind(0)),
        o(gates.narrow(2, 3 * H, H).unbind(0)),
        i_f(gates.narrow(2, 0, 2 * H).unbind(0)) {}
};

/// Gates of step t: pre-activations in, activations out.
/// c_prev, c, h: [B, H]; cell_act: [B, H] out.
void forward_step_ops(const GateSteps& gates, int64_t t, const Tensor& c_prev, Tensor& c, Tensor& h,
                      Tensor& cell_act, Activation act) {
  gates.i_f[t].sigmoid_();
  gates.o[t].sigmoid_();
  if (act == Activation::Tanh) {
    gates.g[t].tanh_();
  } else {
    gates.g[t].relu_();
  }
  at::mul_out(c, gates.f[t], c_prev);
  c.addcmul_(gates.i[t], gates.g[t]);
  act_out(cell_act, c, act);
  at::mul_out(h, gates.o[t], cell_act);
}

/// As backward_step_cpu; dh: [B, H] the whole dh_t (consumed); tmp, tmp2: [B, H] scratch.
void backward_step_ops(const GateSteps& gates, GateSteps& dgates, int64_t t, const Tensor& c_prev,
                       const Tensor& cell_act, const Tensor& dh, Tensor& dc, Tensor& tmp,
                       Tensor& tmp2, Activation act) {
  at::mul_out(tmp, dh, cell_act);
  at::sigmoid_backward_out(dgates.o[t], tmp, gates.o[t]);
  at::mul_out(tmp, dh, gates.o[t]);
  act_backward_out(tmp2, tmp, cell_act, act);
  dc.add_(tmp2);
  at::mul_out(tmp, dc, gates.g[t]);
  at::sigmoid_backward_out(dgates.i[t], tmp, gates.i[t]);
  at::mul_out(tmp, dc, c_prev);
  at::sigmoid_backward_out(dgates.f[t], tmp, gates.f[t]);
  at::mul_out(tmp, dc, gates.i[t]);
  act_backward_out(dgates.g[t], tmp, gates.g[t], act);
  dc.mul_(gates.f[t]);
}

// ---- the autograd function ----------------------------------------------------------------------

// Saved tensors, in this order.
enum Saved { kX, kH0, kWx, kWh, kGates, kCells, kOut, kCellAct };

struct FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x_in, const Tensor& h0_in,
                               const Tensor& c0, const Tensor& W_x_in, const Tensor& W_h_in,
                               const Tensor& b, Activation act, bool raw_loop) {
    const int64_t T = x_in.size(0);
    const int64_t B = x_in.size(1);
    const int64_t I = x_in.size(2);
    const int64_t H = W_h_in.size(0);
    const int64_t G = 4 * H;
    const bool keep_cell_act = keeps_cell_activation(act);
    const auto options = x_in.options();

    const Tensor x = x_in.contiguous();
    const Tensor h0 = h0_in.contiguous();
    const Tensor W_x = W_x_in.contiguous();
    const Tensor W_h = W_h_in.contiguous();

    Tensor gates = at::empty({T, B, G}, options);      // pre-activations, then activations
    Tensor cells = at::empty({T + 1, B, H}, options);  // c_0 .. c_T
    Tensor out = at::empty({T, B, H}, options);        // h_1 .. h_T
    Tensor cell_act = keep_cell_act ? at::empty({T, B, H}, options) : Tensor();
    Tensor gates_2d = gates.view({T * B, G});
    at::addmm_out(gates_2d, b, x.view({T * B, I}), W_x);
    cells.select(0, 0).copy_(c0);

    // Step views made once, so that the loop allocates nothing.
    std::vector<Tensor> gate_steps = gates.unbind(0);
    std::vector<Tensor> out_steps = out.unbind(0);
    std::vector<Tensor> cell_steps = cells.unbind(0);

    if (raw_loop) {
      RowSplitter rows(B, G);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_layer_fused_forward", [&] {
        for (int64_t t = 0; t < T; ++t) {
          gate_steps[t].addmm_(t == 0 ? h0 : out_steps[t - 1], W_h);
          const ForwardStep<scalar_t> step{
              step_ptr<scalar_t>(gates, t), step_ptr<scalar_t>(cells, t),
              step_ptr<scalar_t>(cells, t + 1), step_ptr<scalar_t>(out, t),
              keep_cell_act ? step_ptr<scalar_t>(cell_act, t) : nullptr, H};
          if (act == Activation::Tanh) {
            forward_step_cpu<scalar_t, Activation::Tanh>(rows, step);
          } else {
            forward_step_cpu<scalar_t, Activation::Relu>(rows, step);
          }
        }
      });
    } else {
      const GateSteps gate_views(gates, H);
      std::vector<Tensor> act_steps;
      Tensor act_scratch;  // [B, H] when act(c) is not kept
      if (keep_cell_act) {
        act_steps = cell_act.unbind(0);
      } else {
        act_scratch = at::empty({B, H}, options);
      }
      for (int64_t t = 0; t < T; ++t) {
        gate_steps[t].addmm_(t == 0 ? h0 : out_steps[t - 1], W_h);
        forward_step_ops(gate_views, t, cell_steps[t], cell_steps[t + 1], out_steps[t],
                         keep_cell_act ? act_steps[t] : act_scratch, act);
      }
    }

    ctx->saved_data["act"] = static_cast<int64_t>(act);
    ctx->saved_data["raw_loop"] = raw_loop;
    // Undefined incoming grads stay undefined, so that an unused h_T or c_T costs nothing.
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({x, h0, W_x, W_h, gates, cells, out, cell_act});
    // h_T, c_T as tensors of their own: a view of the saved out/cells would tie the caller's
    // in-place edits of one output to the others and to backward.
    return {out, out_steps[T - 1].clone(), cell_steps[T].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // The loops below write plain buffers: nothing records them for a second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "lstm_layer_fused: double backward is not supported (backward was called with "
                "create_graph=true); its backward is differentiable once");
    const variable_list saved = ctx->get_saved_variables();
    const Tensor& x = saved[kX];
    const Tensor& h0 = saved[kH0];
    const Tensor& W_x = saved[kWx];
    const Tensor& W_h = saved[kWh];
    const Tensor& gates = saved[kGates];
    const Tensor& cells = saved[kCells];
    const Tensor& out = saved[kOut];
    const Tensor& cell_act = saved[kCellAct];  // undefined where recomputed (relu)
    const auto act = static_cast<Activation>(ctx->saved_data["act"].toInt());
    const bool raw_loop = ctx->saved_data["raw_loop"].toBool();
    const int64_t T = x.size(0);
    const int64_t B = x.size(1);
    const int64_t I = x.size(2);
    const int64_t H = W_h.size(0);
    const int64_t G = 4 * H;
    const auto options = x.options();

    // Any of the three may be undefined: zero. The out grad is read in whatever layout it came
    // (expanded from a sum, transposed from batch_first), not copied.
    const Tensor& dout = grad_outputs[0];
    const Tensor& dh_T = grad_outputs[1];
    Tensor dc = grad_outputs[2].defined() ? grad_outputs[2].clone(at::MemoryFormat::Contiguous)
                                          : at::zeros({B, H}, options);
    // dh_{t-1} less dout_{t-1}: dG_t W_h^T, and before the first step back the h_T grad.
    Tensor dh =
        dh_T.defined() ? dh_T.clone(at::MemoryFormat::Contiguous) : at::zeros({B, H}, options);

    const Tensor W_hT = W_h.t().contiguous();  // [G, H]
    Tensor dgates = raw_loop ? kept_cpu_buffer(T * B * G, x.scalar_type()).view({T, B, G})
                             : at::empty({T, B, G}, options);
    std::vector<Tensor> dgate_steps = dgates.unbind(0);
    const bool needs_dh0 = ctx->needs_input_grad(1);

    if (raw_loop) {
      RowSplitter rows(B, G);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_layer_fused_backward", [&] {
        // No out grad: every step reads one zero through zero strides.
        const scalar_t zero = 0;
        const scalar_t* dout_data = dout.defined() ? dout.data_ptr<scalar_t>() : &zero;
        const int64_t dout_t_stride = dout.defined() ? dout.stride(0) : 0;
        const int64_t dout_b_stride = dout.defined() ? dout.stride(1) : 0;
        const int64_t dout_h_stride = dout.defined() ? dout.stride(2) : 0;
        scalar_t* dh_data = dh.data_ptr<scalar_t>();
        scalar_t* dc_data = dc.data_ptr<scalar_t>();
        for (int64_t t = T - 1; t >= 0; --t) {
          const BackwardStep<scalar_t> step{
              step_ptr<scalar_t>(gates, t),
              step_ptr<scalar_t>(cells, t),
              step_ptr<scalar_t>(cells, t + 1),
              cell_act.defined() ? step_ptr<scalar_t>(cell_act, t) : nullptr,
              dh_data,
              {dout_data + t * dout_t_stride, dout_b_stride, dout_h_stride},
              dc_data,
              step_ptr<scalar_t>(dgates, t),
              H};
          if (act == Activation::Tanh) {
            backward_step_cpu<scalar_t, Activation::Tanh>(rows, step);
          } else {
            backward_step_cpu<scalar_t, Activation::Relu>(rows, step);
          }
          if (t > 0 || needs_dh0) at::mm_out(dh, dgate_steps[t], W_hT);
        }
      });
    } else {
      const GateSteps gate_views(gates, H);
      GateSteps dgate_views(dgates, H);
      const std::vector<Tensor> cell_steps = cells.unbind(0);
      std::vector<Tensor> act_steps;
      if (cell_act.defined()) act_steps = cell_act.unbind(0);
      std::vector<Tensor> dout_steps;
      if (dout.defined()) dout_steps = dout.unbind(0);
      Tensor act_scratch = cell_act.defined() ? Tensor() : at::empty({B, H}, options);
      Tensor tmp = at::empty({B, H}, options);
      Tensor tmp2 = at::empty({B, H}, options);
      for (int64_t t = T - 1; t >= 0; --t) {
        if (dout.defined()) dh.add_(dout_steps[t]);
        if (!cell_act.defined()) act_out(act_scratch, cell_steps[t + 1], act);
        backward_step_ops(gate_views, dgate_views, t, cell_steps[t],
                          cell_act.defined() ? act_steps[t] : act_scratch, dh, dc, tmp, tmp2, act);
        if (t > 0 || needs_dh0) at::mm_out(dh, dgate_steps[t], W_hT);
      }
    }

    // The parameter and input grads: one product each over all T*B rows.
    const Tensor dG = dgates.view({T * B, G});
    Tensor dx, dW_x, dW_h, db;
    if (ctx->needs_input_grad(0)) dx = at::mm(dG, W_x.t()).view({T, B, I});
    if (ctx->needs_input_grad(3)) dW_x = at::mm(x.view({T * B, I}).t(), dG);
    if (ctx->needs_input_grad(4)) {
      // h_{0..T-1}: h0 then out[0..T-2], two pieces so that nothing is copied.
      dW_h = at::mm(h0.t(), dgate_steps[0]);
      if (T > 1) {
        dW_h.addmm_(out.narrow(0, 0, T - 1).view({(T - 1) * B, H}).t(),
                    dgates.narrow(0, 1, T - 1).view({(T - 1) * B, G}));
      }
    }
    if (ctx->needs_input_grad(5)) db = dG.sum(0);
    return {dx,
            needs_dh0 ? dh : Tensor(),
            ctx->needs_input_grad(2) ? dc : Tensor(),
            dW_x,
            dW_h,
            db,
            Tensor(),
            Tensor()};
  }
};

LayerOutputs run_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x,
                       const Tensor& W_h, const Tensor& b, Activation act, bool raw_loop) {
  check_arguments(x, h0, c0, W_x, W_h, b);
  variable_list outputs = FusedLstmFunction::apply(x, h0, c0, W_x, W_h, b, act, raw_loop);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace

LayerOutputs lstm_layer_fused(const Tensor& x, const Tensor& h0, const Tensor& c0,
                              const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                              Activation act) {
  const bool raw_loop = x.defined() && x.device().is_cpu() &&
                        (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
  return run_layer(x, h0, c0, W_x, W_h, b, act, raw_loop);
}

LayerOutputs lstm_layer_fused_reference_ops(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                            const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                                            Activation act) {
  return run_layer(x, h0, c0, W_x, W_h, b, act, false);
}

}  // namespace lstmlab
