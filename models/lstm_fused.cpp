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
// then, over all T*B rows at once: dW_x = x^T dG, dW_h = h_{0..T-1}^T dG, db = sum dG, dx = dG W_x^T.
// act'(v) is read off a = act(v): tanh 1 - a^2, relu [a > 0] (0 at 0, as torch).

#include "models/lstm_fused.h"

#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace lstmlab {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Element-wise work (gate elements) a parallel task should at least get before a second thread
// pays off: a fork/join costs a few microseconds, a gate element a few nanoseconds.
constexpr int64_t kMinGateElementsPerTask = 16384;

/// Runs fn(begin, end) over slices of the batch rows [0, B) on the intra-op threads, in slices of at
/// least kMinGateElementsPerTask / 4H rows, so that a small batch runs inline.
///
/// at::parallel_for is a header template: with the OpenMP backend it runs threads only in a
/// translation unit compiled with -fopenmp, and silently runs serially in one compiled without.
/// Lacking that, the rows go through TensorIterator::for_each, whose at::parallel_for is compiled
/// inside libtorch and so uses its thread pool whatever flags this file was built with.
class RowSplitter {
 public:
  RowSplitter(int64_t B, int64_t H)
      : rows_(B), grain_(std::max<int64_t>(1, kMinGateElementsPerTask / (4 * H))) {
#ifndef INTRA_OP_PARALLEL
    if (rows_ > grain_ && at::get_num_threads() > 1) {
      row_ids_ = at::arange(rows_, at::TensorOptions().dtype(at::kLong));
      iter_.emplace(at::TensorIteratorConfig()
                        .add_output(row_ids_)
                        .resize_outputs(false)
                        .check_all_same_dtype(false)
                        .build());
    }
#endif
  }

  template <typename F>
  void run(const F& fn) {
#ifdef INTRA_OP_PARALLEL
    at::parallel_for(0, rows_, grain_, fn);
#else
    if (!iter_) {
      fn(int64_t{0}, rows_);
      return;
    }
    // data[0]: row ids (int64), strides[0] apart within a run, strides[1] between runs.
    const auto loop = [&fn](char** data, const int64_t* strides, int64_t size0, int64_t size1) {
      for (int64_t outer = 0; outer < size1; ++outer) {
        const char* ids = data[0] + outer * strides[1];
        for (int64_t k = 0; k < size0; ++k) {
          const int64_t row = *reinterpret_cast<const int64_t*>(ids + k * strides[0]);
          fn(row, row + 1);
        }
      }
    };
    iter_->for_each(at::TensorIteratorBase::loop2d_t(loop), grain_);
#endif
  }

 private:
  int64_t rows_;
  int64_t grain_;
#ifndef INTRA_OP_PARALLEL
  Tensor row_ids_;  // [B] 0 .. B-1
  std::optional<at::TensorIterator> iter_;
#endif
};

// Whether act(c_t) [T, B, H] is kept from the forward instead of recomputed in the backward.
// Measured (tools in the report): keeping tanh(c) saves a tanh per element in the backward at the
// price of one more [T, B, H] store and load, a net gain; relu is cheaper to recompute than to load.
bool keeps_cell_activation(Activation act) {
#ifdef LSTMLAB_KEEP_ACT
  return LSTMLAB_KEEP_ACT;
#endif
  return act == Activation::Tanh;
}

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
  TORCH_CHECK(T > 0 && B > 0 && I > 0, kName, ": expected x of shape [T, B, I] with T, B, I > 0, got ",
              x.sizes());
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

template <typename scalar_t>
inline scalar_t sigmoid_of(scalar_t v) {
  return scalar_t(1) / (scalar_t(1) + std::exp(-v));
}

// tanh through std::exp, a third the cost of std::tanh here (glibc 2.36, scalar: 3.5 vs 11 ns in
// float). Exact at +-inf, NaN passes; the absolute error stays within about an ulp of 1 (relative
// error grows only where |v| << 1, where the absolute error is what the products downstream see).
template <typename scalar_t>
inline scalar_t tanh_of(scalar_t v) {
  return scalar_t(1) - scalar_t(2) / (scalar_t(1) + std::exp(scalar_t(2) * v));
}

template <typename scalar_t, Activation kAct>
inline scalar_t act_of(scalar_t v) {
  if constexpr (kAct == Activation::Tanh) {
#ifdef LSTMLAB_STD_TANH
    return std::tanh(v);
#else
    return tanh_of(v);
#endif
  } else {
    return v < scalar_t(0) ? scalar_t(0) : v;  // NaN passes, as in torch::relu
  }
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
/// c, h: [B, H] out; cell_act: [B, H] out, act(c), or null when not kept.
template <typename scalar_t, Activation kAct>
void forward_step_cpu(RowSplitter& rows, scalar_t* gates, const scalar_t* c_prev, scalar_t* c,
                      scalar_t* h, scalar_t* cell_act, int64_t H) {
  const int64_t G = 4 * H;
  rows.run([&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      scalar_t* gi = gates + r * G;
      scalar_t* gf = gi + H;
      scalar_t* gg = gf + H;
      scalar_t* go = gg + H;
      const scalar_t* cp = c_prev + r * H;
      scalar_t* cr = c + r * H;
      scalar_t* hr = h + r * H;
      scalar_t* ar = cell_act != nullptr ? cell_act + r * H : nullptr;
      for (int64_t j = 0; j < H; ++j) {
        const scalar_t i = sigmoid_of(gi[j]);
        const scalar_t f = sigmoid_of(gf[j]);
        const scalar_t g = act_of<scalar_t, kAct>(gg[j]);
        const scalar_t o = sigmoid_of(go[j]);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        const scalar_t cn = f * cp[j] + i * g;
        const scalar_t a = act_of<scalar_t, kAct>(cn);
        cr[j] = cn;
        hr[j] = o * a;
        if (ar != nullptr) ar[j] = a;
      }
    }
  });
}

/// One backward step. gates: [B, G] activations; c_prev, c: [B, H]; cell_act: [B, H] act(c) or null
/// (recomputed); dh_next: [B, H] dG_{t+1} W_h^T or null (zero); dout: [B, H] or null (zero);
/// dc: [B, H] carried, in and out; dgates: [B, G] out.
template <typename scalar_t, Activation kAct>
void backward_step_cpu(RowSplitter& rows, const scalar_t* gates, const scalar_t* c_prev,
                       const scalar_t* c, const scalar_t* cell_act, const scalar_t* dh_next,
                       const scalar_t* dout, scalar_t* dc, scalar_t* dgates, int64_t H) {
  const int64_t G = 4 * H;
  rows.run([&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const scalar_t* gi = gates + r * G;
      const scalar_t* gf = gi + H;
      const scalar_t* gg = gf + H;
      const scalar_t* go = gg + H;
      scalar_t* di = dgates + r * G;
      scalar_t* df = di + H;
      scalar_t* dg = df + H;
      scalar_t* dO = dg + H;
      const scalar_t* cp = c_prev + r * H;
      const scalar_t* cr = c + r * H;
      const scalar_t* ar = cell_act != nullptr ? cell_act + r * H : nullptr;
      const scalar_t* dhr = dh_next != nullptr ? dh_next + r * H : nullptr;
      const scalar_t* dor = dout != nullptr ? dout + r * H : nullptr;
      scalar_t* dcr = dc + r * H;
      for (int64_t j = 0; j < H; ++j) {
        const scalar_t dh =
            (dhr != nullptr ? dhr[j] : scalar_t(0)) + (dor != nullptr ? dor[j] : scalar_t(0));
        const scalar_t i = gi[j];
        const scalar_t f = gf[j];
        const scalar_t g = gg[j];
        const scalar_t o = go[j];
        const scalar_t a = ar != nullptr ? ar[j] : act_of<scalar_t, kAct>(cr[j]);
        const scalar_t dct = dcr[j] + dh * o * act_grad_of_output<scalar_t, kAct>(a);
        dO[j] = dh * a * o * (scalar_t(1) - o);
        di[j] = dct * g * i * (scalar_t(1) - i);
        df[j] = dct * cp[j] * f * (scalar_t(1) - f);
        dg[j] = dct * i * act_grad_of_output<scalar_t, kAct>(g);
        dcr[j] = dct * f;
      }
    }
  });
}

template <typename scalar_t>
scalar_t* step_ptr(const Tensor& t, int64_t step) {
  // t: [S, B, W] contiguous; the [B, W] block of one step.
  return t.data_ptr<scalar_t>() + step * t.stride(0);
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

/// gates_t: [B, G] pre-activations in, activations out; c_prev, c, h: [B, H]; cell_act: [B, H] out.
void forward_step_ops(Tensor& gates_t, const Tensor& c_prev, Tensor& c, Tensor& h, Tensor& cell_act,
                      int64_t H, Activation act) {
  gates_t.narrow(1, 0, 2 * H).sigmoid_();
  gates_t.narrow(1, 3 * H, H).sigmoid_();
  Tensor g = gates_t.narrow(1, 2 * H, H);
  if (act == Activation::Tanh) {
    g.tanh_();
  } else {
    g.relu_();
  }
  at::mul_out(c, gates_t.narrow(1, H, H), c_prev);
  c.addcmul_(gates_t.narrow(1, 0, H), g);
  act_out(cell_act, c, act);
  at::mul_out(h, gates_t.narrow(1, 3 * H, H), cell_act);
}

/// As backward_step_cpu; dh: [B, H] the whole dh_t (consumed); tmp, tmp2: [B, H] scratch.
void backward_step_ops(const Tensor& gates_t, const Tensor& c_prev, const Tensor& cell_act,
                       const Tensor& dh, Tensor& dc, Tensor& dgates_t, Tensor& tmp, Tensor& tmp2,
                       int64_t H, Activation act) {
  const Tensor i = gates_t.narrow(1, 0, H);
  const Tensor f = gates_t.narrow(1, H, H);
  const Tensor g = gates_t.narrow(1, 2 * H, H);
  const Tensor o = gates_t.narrow(1, 3 * H, H);
  Tensor di = dgates_t.narrow(1, 0, H);
  Tensor df = dgates_t.narrow(1, H, H);
  Tensor dg = dgates_t.narrow(1, 2 * H, H);
  Tensor dO = dgates_t.narrow(1, 3 * H, H);
  at::mul_out(tmp, dh, cell_act);
  at::sigmoid_backward_out(dO, tmp, o);
  at::mul_out(tmp, dh, o);
  act_backward_out(tmp2, tmp, cell_act, act);
  dc.add_(tmp2);
  at::mul_out(tmp, dc, g);
  at::sigmoid_backward_out(di, tmp, i);
  at::mul_out(tmp, dc, c_prev);
  at::sigmoid_backward_out(df, tmp, f);
  at::mul_out(tmp, dc, i);
  act_backward_out(dg, tmp, g, act);
  dc.mul_(f);
}

// ---- the autograd function ----------------------------------------------------------------------

// Saved tensors, in this order.
enum Saved { kX, kH0, kWx, kWh, kGates, kCells, kOut, kCellAct, kSavedCount };

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

    Tensor gates = at::empty({T, B, G}, options);   // pre-activations, then activations
    Tensor cells = at::empty({T + 1, B, H}, options);  // c_0 .. c_T
    Tensor out = at::empty({T, B, H}, options);       // h_1 .. h_T
    Tensor cell_act = keep_cell_act ? at::empty({T, B, H}, options) : Tensor();
    Tensor gates_2d = gates.view({T * B, G});
    at::addmm_out(gates_2d, b, x.view({T * B, I}), W_x);
    cells.select(0, 0).copy_(c0);

    // Step views made once, so that the loop allocates nothing.
    std::vector<Tensor> gate_steps = gates.unbind(0);
    std::vector<Tensor> out_steps = out.unbind(0);
    std::vector<Tensor> cell_steps = cells.unbind(0);

    if (raw_loop) {
      RowSplitter rows(B, H);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_layer_fused_forward", [&] {
        for (int64_t t = 0; t < T; ++t) {
          gate_steps[t].addmm_(t == 0 ? h0 : out_steps[t - 1], W_h);
          scalar_t* a = keep_cell_act ? step_ptr<scalar_t>(cell_act, t) : nullptr;
          if (act == Activation::Tanh) {
            forward_step_cpu<scalar_t, Activation::Tanh>(
                rows, step_ptr<scalar_t>(gates, t), step_ptr<scalar_t>(cells, t),
                step_ptr<scalar_t>(cells, t + 1), step_ptr<scalar_t>(out, t), a, H);
          } else {
            forward_step_cpu<scalar_t, Activation::Relu>(
                rows, step_ptr<scalar_t>(gates, t), step_ptr<scalar_t>(cells, t),
                step_ptr<scalar_t>(cells, t + 1), step_ptr<scalar_t>(out, t), a, H);
          }
        }
      });
    } else {
      std::vector<Tensor> act_steps;
      Tensor act_scratch;  // [B, H] when act(c) is not kept
      if (keep_cell_act) {
        act_steps = cell_act.unbind(0);
      } else {
        act_scratch = at::empty({B, H}, options);
      }
      for (int64_t t = 0; t < T; ++t) {
        gate_steps[t].addmm_(t == 0 ? h0 : out_steps[t - 1], W_h);
        forward_step_ops(gate_steps[t], cell_steps[t], cell_steps[t + 1], out_steps[t],
                         keep_cell_act ? act_steps[t] : act_scratch, H, act);
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
    const Tensor& cell_act = saved[kCellAct];  // undefined when recomputed
    const auto act = static_cast<Activation>(ctx->saved_data["act"].toInt());
    const bool raw_loop = ctx->saved_data["raw_loop"].toBool();
    const int64_t T = x.size(0);
    const int64_t B = x.size(1);
    const int64_t I = x.size(2);
    const int64_t H = W_h.size(0);
    const int64_t G = 4 * H;
    const auto options = x.options();

    // Any of the three may be undefined: zero.
    const Tensor dout = grad_outputs[0].defined() ? grad_outputs[0].contiguous() : Tensor();
    const Tensor dh_T = grad_outputs[1].defined() ? grad_outputs[1].contiguous() : Tensor();
    Tensor dc = grad_outputs[2].defined() ? grad_outputs[2].clone(at::MemoryFormat::Contiguous)
                                          : at::zeros({B, H}, options);

    const Tensor W_hT = W_h.t().contiguous();  // [G, H]
    Tensor dgates = at::empty({T, B, G}, options);
    Tensor dh = at::empty({B, H}, options);  // dG_t W_h^T: dh_{t-1} less dout_{t-1}
    std::vector<Tensor> dgate_steps = dgates.unbind(0);
    const bool needs_dh0 = ctx->needs_input_grad(1);

    if (raw_loop) {
      RowSplitter rows(B, H);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_layer_fused_backward", [&] {
        for (int64_t t = T - 1; t >= 0; --t) {
          const scalar_t* dh_next =
              t == T - 1 ? (dh_T.defined() ? dh_T.data_ptr<scalar_t>() : nullptr)
                         : dh.data_ptr<scalar_t>();
          const scalar_t* dout_t = dout.defined() ? step_ptr<scalar_t>(dout, t) : nullptr;
          const scalar_t* a = cell_act.defined() ? step_ptr<scalar_t>(cell_act, t) : nullptr;
          if (act == Activation::Tanh) {
            backward_step_cpu<scalar_t, Activation::Tanh>(
                rows, step_ptr<scalar_t>(gates, t), step_ptr<scalar_t>(cells, t),
                step_ptr<scalar_t>(cells, t + 1), a, dh_next, dout_t, dc.data_ptr<scalar_t>(),
                step_ptr<scalar_t>(dgates, t), H);
          } else {
            backward_step_cpu<scalar_t, Activation::Relu>(
                rows, step_ptr<scalar_t>(gates, t), step_ptr<scalar_t>(cells, t),
                step_ptr<scalar_t>(cells, t + 1), a, dh_next, dout_t, dc.data_ptr<scalar_t>(),
                step_ptr<scalar_t>(dgates, t), H);
          }
          if (t > 0 || needs_dh0) at::mm_out(dh, dgate_steps[t], W_hT);
        }
      });
    } else {
      const std::vector<Tensor> gate_steps = gates.unbind(0);
      const std::vector<Tensor> cell_steps = cells.unbind(0);
      std::vector<Tensor> act_steps;
      if (cell_act.defined()) act_steps = cell_act.unbind(0);
      std::vector<Tensor> dout_steps;
      if (dout.defined()) dout_steps = dout.unbind(0);
      Tensor act_scratch = cell_act.defined() ? Tensor() : at::empty({B, H}, options);
      Tensor tmp = at::empty({B, H}, options);
      Tensor tmp2 = at::empty({B, H}, options);
      if (dh_T.defined()) {
        dh.copy_(dh_T);
      } else {
        dh.zero_();
      }
      for (int64_t t = T - 1; t >= 0; --t) {
        if (dout.defined()) dh.add_(dout_steps[t]);
        if (!cell_act.defined()) act_out(act_scratch, cell_steps[t + 1], act);
        backward_step_ops(gate_steps[t], cell_steps[t], cell_act.defined() ? act_steps[t] : act_scratch,
                          dh, dc, dgate_steps[t], tmp, tmp2, H, act);
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

std::tuple<Tensor, Tensor, Tensor> run_layer(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                             const Tensor& W_x, const Tensor& W_h, const Tensor& b,
                                             Activation act, bool raw_loop) {
  check_arguments(x, h0, c0, W_x, W_h, b);
  variable_list outputs = FusedLstmFunction::apply(x, h0, c0, W_x, W_h, b, act, raw_loop);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> lstm_layer_fused(const Tensor& x, const Tensor& h0,
                                                    const Tensor& c0, const Tensor& W_x,
                                                    const Tensor& W_h, const Tensor& b,
                                                    Activation act) {
  const bool raw_loop = x.defined() && x.device().is_cpu() &&
                        (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
  return run_layer(x, h0, c0, W_x, W_h, b, act, raw_loop);
}

std::tuple<Tensor, Tensor, Tensor> lstm_layer_fused_reference_ops(
    const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& W_x, const Tensor& W_h,
    const Tensor& b, Activation act) {
  return run_layer(x, h0, c0, W_x, W_h, b, act, false);
}

}  // namespace lstmlab
