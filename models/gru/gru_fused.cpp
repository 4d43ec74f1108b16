// Letters: T time steps, B batch, I input features, H hidden units, G = 3H gate width, each row of
// G holding the gates r, z, n side by side. h_{t-1} is the state a step reads (h_0 = h0).
//
// Forward, per step (a_t = x_t W_x + b [B, G] of every step is one product before the loop):
//   reset after the product (reset_after = true), one product:  u = h_{t-1} W_h + [0, 0, b_hn]
//     r = sigmoid(a_r + u_r),  z = sigmoid(a_z + u_z),  n = tanh(a_n + r u_n)
//   reset before it (reset_after = false), two products:
//     r, z as above from u_rz = h_{t-1} W_h,rz;  q = r h_{t-1};  n = tanh(a_n + q W_h,n)
//   h_t = (1 - z) n + z h_{t-1}, computed as n + z (h_{t-1} - n)
// Saved: r, z, n [T, B, G]; u_n (after) or q (before) [T, B, H]; out = h_1 .. h_T.
// Backward, t = T-1 .. 0, with dh = dout_t + the grad step t+1 sent back to h_t (at t = T-1, the
// h_T grad); dr, dz, dn are the grads of the pre-activations:
//   dz = dh (h_{t-1} - n) z(1-z),  dn = dh (1-z)(1-n^2)
//   after:   dr = dn u_n r(1-r),  du_n = dn r;   dh_{t-1} = dh z + [dr, dz, du_n] W_h^T
//   before:  dq = dn W_h,n^T,  dr = dq h_{t-1} r(1-r);   dh_{t-1} = dh z + dq r + [dr, dz] W_h,rz^T
// then, over all T*B rows at once, with dA = [dr, dz, dn] the grad of a_t:
//   dW_x = x^T dA,  db = sum dA,  dx = dA W_x^T;
//   after:   dW_h = h_{0..T-1}^T [dr, dz, du_n],  db_hn = sum du_n
//   before:  dW_h = [h_{0..T-1}^T [dr, dz],  q^T dn]
//
// The after backward writes each row's grads as [du_n, dr, dz, dn] (4H): columns H..4H are dA in
// W_x's order and columns 0..3H are the grad of u in the order n, r, z, so both products read one
// buffer in place; the per-step product takes W_h^T with its rows in that order, and dW_h comes out
// in it and is put back in r, z, n order (one [H, 3H] copy).

#include "models/gru/gru_fused.h"

#include "models/kernels/cpu_rows.h"
#include "models/kernels/gate_math.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <cstdint>
#include <tuple>
#include <vector>

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
  for (const auto* t : {&x, &h0, &W_x, &W_h, &b}) {
    TORCH_CHECK(t->defined(), kName,
                ": x, h0, W_x, W_h and b must be defined tensors (only b_hn may be undefined)");
  }
  TORCH_CHECK(x.dim() == 3, kName, ": expected x of shape [T, B, I], got ", x.sizes());
  const int64_t T = x.size(0);
  const int64_t B = x.size(1);
  const int64_t I = x.size(2);
  TORCH_CHECK(T > 0 && B > 0 && I > 0, kName,
              ": expected x of shape [T, B, I] with T, B, I > 0, got ", x.sizes());
  TORCH_CHECK(W_h.dim() == 2 && W_h.size(0) > 0 && W_h.size(1) == 3 * W_h.size(0), kName,
              ": expected W_h of shape [H, 3H], got ", W_h.sizes());
  const int64_t H = W_h.size(0);
  const int64_t G = 3 * H;
  TORCH_CHECK(W_x.dim() == 2 && W_x.size(0) == I && W_x.size(1) == G, kName,
              ": expected W_x of shape [I, 3H] = [", I, ", ", G, "], got ", W_x.sizes());
  TORCH_CHECK(b.dim() == 1 && b.size(0) == G, kName, ": expected b of shape [3H] = [", G, "], got ",
              b.sizes());
  TORCH_CHECK(!b_hn.defined() || (b_hn.dim() == 1 && b_hn.size(0) == H), kName,
              ": expected b_hn of shape [H] = [", H, "] (or undefined), got ", b_hn.sizes());
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == B && h0.size(1) == H, kName,
              ": expected h0 of shape [B, H] = [", B, ", ", H, "], got ", h0.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), kName, ": expected a floating-point x, got ",
              x.scalar_type());
  const char* names[] = {"h0", "W_x", "W_h", "b", "b_hn"};
  const Tensor* others[] = {&h0, &W_x, &W_h, &b, &b_hn};
  for (size_t k = 0; k < 5; ++k) {
    if (!others[k]->defined()) continue;
    TORCH_CHECK(others[k]->scalar_type() == x.scalar_type(), kName, ": expected ", names[k],
                " of dtype ", x.scalar_type(), " (that of x), got ", others[k]->scalar_type());
    TORCH_CHECK(others[k]->device() == x.device(), kName, ": expected ", names[k], " on ",
                x.device(), " (that of x), got ", others[k]->device());
  }
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

// ---- the CPU raw loops --------------------------------------------------------------------------
// sigmoid(v) = 1 / (1 + exp(-v)); tanh(v) = 1 - 2 / (1 + exp(2v)), both through gate_exp, as in
// models/lstm/lstm_fused.cpp (exact at +-inf, NaN passing). Each row runs in passes over H-long runs
// that stay in L1, the exponentials apart from the rest, so that GCC vectorizes each pass.

/// Reset after, forward step. gates: [B, G] a_t in, r, z, n out; u: [B, G] h_{t-1} W_h +
/// [0, 0, b_hn]; h_prev: [B, H]; u_n: [B, H] out, u's n block kept for the backward; h: [B, H] out.
template <typename scalar_t>
struct AfterForwardStep {
  scalar_t* gates;
  const scalar_t* u;
  const scalar_t* h_prev;
  scalar_t* u_n;
  scalar_t* h;
  int64_t H;
};

/// Reset after, backward step. gates: [B, G] r, z, n; u_n, h_prev: [B, H]; dout: this step's out
/// grad; dh: [B, H] in: dh_t less dout_t, out: dh_t z; dgates: [B, 4H] out: du_n, dr, dz, dn.
template <typename scalar_t>
struct AfterBackwardStep {
  const scalar_t* gates;
  const scalar_t* u_n;
  const scalar_t* h_prev;
  StridedRows<scalar_t> dout;
  scalar_t* dh;
  scalar_t* dgates;
  int64_t H;
};

/// Reset before, forward step, in two halves around the n product. gates: [B, G], first r and z
/// pre-activations in (a_rz + h_{t-1} W_h,rz), r and z out, and q: [B, H] out; then n's in
/// (a_n + q W_h,n), n out, and h: [B, H] out.
template <typename scalar_t>
struct BeforeForwardStep {
  scalar_t* gates;
  const scalar_t* h_prev;
  scalar_t* q;
  scalar_t* h;
  int64_t H;
};

/// Reset before, backward step, in two halves around the dq product. First: dh in (dh_t less
/// dout_t), dh_t z out; dz, dn into dgates [B, G]. Then, with dq: [B, H] = dn W_h,n^T: dr into
/// dgates, dh += dq r.
template <typename scalar_t>
struct BeforeBackwardStep {
  const scalar_t* gates;
  const scalar_t* h_prev;
  StridedRows<scalar_t> dout;
  const scalar_t* dq;
  scalar_t* dh;
  scalar_t* dgates;
  int64_t H;
};

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void after_forward_rows(const AfterForwardStep<scalar_t>& s,
                                                     int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    scalar_t* gr = s.gates + row * G;  // r and z side by side: one run of 2H
    scalar_t* gz = gr + H;
    scalar_t* gn = gz + H;
    const scalar_t* ur = s.u + row * G;
    const scalar_t* un = ur + 2 * H;
    const scalar_t* hp = s.h_prev + row * H;
    scalar_t* un_kept = s.u_n + row * H;
    scalar_t* hr = s.h + row * H;
    for (int64_t j = 0; j < 2 * H; ++j) gr[j] = gate_exp(-(gr[j] + ur[j]));
    for_each_column(H, [&](int64_t j) {
      const scalar_t r = scalar_t(1) / (scalar_t(1) + gr[j]);
      gr[j] = r;
      gz[j] = scalar_t(1) / (scalar_t(1) + gz[j]);
      un_kept[j] = un[j];
      gn[j] = scalar_t(2) * (gn[j] + r * un[j]);
    });
    for (int64_t j = 0; j < H; ++j) gn[j] = gate_exp(gn[j]);
    for_each_column(H, [&](int64_t j) {
      const scalar_t n = scalar_t(1) - scalar_t(2) / (scalar_t(1) + gn[j]);
      gn[j] = n;
      hr[j] = n + gz[j] * (hp[j] - n);
    });
  }
}

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void after_backward_rows(const AfterBackwardStep<scalar_t>& s,
                                                      int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    const scalar_t* gr = s.gates + row * G;
    const scalar_t* gz = gr + H;
    const scalar_t* gn = gz + H;
    const scalar_t* un = s.u_n + row * H;
    const scalar_t* hp = s.h_prev + row * H;
    const scalar_t* dor = s.dout.data + row * s.dout.row_stride;
    const int64_t dor_step = s.dout.col_stride;
    scalar_t* dhr = s.dh + row * H;
    scalar_t* dun = s.dgates + row * (4 * H);
    scalar_t* dr = dun + H;
    scalar_t* dz = dr + H;
    scalar_t* dn = dz + H;
    for_each_column(H, [&](int64_t j) {
      const scalar_t dh = dhr[j] + dor[j * dor_step];
      const scalar_t r = gr[j];
      const scalar_t z = gz[j];
      const scalar_t n = gn[j];
      const scalar_t dn_pre = dh * (scalar_t(1) - z) * (scalar_t(1) - n * n);
      dz[j] = dh * (hp[j] - n) * z * (scalar_t(1) - z);
      dn[j] = dn_pre;
      dr[j] = dn_pre * un[j] * r * (scalar_t(1) - r);
      dun[j] = dn_pre * r;
      dhr[j] = dh * z;
    });
  }
}

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void before_forward_rz_rows(const BeforeForwardStep<scalar_t>& s,
                                                         int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    scalar_t* gr = s.gates + row * G;
    scalar_t* gz = gr + H;
    const scalar_t* hp = s.h_prev + row * H;
    scalar_t* qr = s.q + row * H;
    for (int64_t j = 0; j < 2 * H; ++j) gr[j] = gate_exp(-gr[j]);
    for_each_column(H, [&](int64_t j) {
      const scalar_t r = scalar_t(1) / (scalar_t(1) + gr[j]);
      gr[j] = r;
      gz[j] = scalar_t(1) / (scalar_t(1) + gz[j]);
      qr[j] = r * hp[j];
    });
  }
}

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void before_forward_n_rows(const BeforeForwardStep<scalar_t>& s,
                                                        int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    const scalar_t* gz = s.gates + row * G + H;
    scalar_t* gn = s.gates + row * G + 2 * H;
    const scalar_t* hp = s.h_prev + row * H;
    scalar_t* hr = s.h + row * H;
    for (int64_t j = 0; j < H; ++j) gn[j] = gate_exp(scalar_t(2) * gn[j]);
    for_each_column(H, [&](int64_t j) {
      const scalar_t n = scalar_t(1) - scalar_t(2) / (scalar_t(1) + gn[j]);
      gn[j] = n;
      hr[j] = n + gz[j] * (hp[j] - n);
    });
  }
}

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void before_backward_zn_rows(const BeforeBackwardStep<scalar_t>& s,
                                                          int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    const scalar_t* gz = s.gates + row * G + H;
    const scalar_t* gn = gz + H;
    const scalar_t* hp = s.h_prev + row * H;
    const scalar_t* dor = s.dout.data + row * s.dout.row_stride;
    const int64_t dor_step = s.dout.col_stride;
    scalar_t* dhr = s.dh + row * H;
    scalar_t* dz = s.dgates + row * G + H;
    scalar_t* dn = dz + H;
    for_each_column(H, [&](int64_t j) {
      const scalar_t dh = dhr[j] + dor[j * dor_step];
      const scalar_t z = gz[j];
      const scalar_t n = gn[j];
      dz[j] = dh * (hp[j] - n) * z * (scalar_t(1) - z);
      dn[j] = dh * (scalar_t(1) - z) * (scalar_t(1) - n * n);
      dhr[j] = dh * z;
    });
  }
}

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void before_backward_r_rows(const BeforeBackwardStep<scalar_t>& s,
                                                         int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    const scalar_t* gr = s.gates + row * G;
    const scalar_t* hp = s.h_prev + row * H;
    const scalar_t* dqr = s.dq + row * H;
    scalar_t* dhr = s.dh + row * H;
    scalar_t* dr = s.dgates + row * G;
    for_each_column(H, [&](int64_t j) {
      const scalar_t r = gr[j];
      const scalar_t dq = dqr[j];
      dr[j] = dq * hp[j] * r * (scalar_t(1) - r);
      dhr[j] += dq * r;
    });
  }
}

// Float: each row loop built for AVX2 and the baseline (LSTMLAB_AVX2_CLONE, models/kernels/cpu_rows.h).
// Double: the template itself. rows_of picks by overload, so run_rows below serves both.
#define LSTMLAB_GRU_ROWS(Step, rows_fn)                                                      \
  LSTMLAB_AVX2_CLONE void rows_fn##_float(const Step<float>& s, int64_t begin, int64_t end) { \
    rows_fn<float>(s, begin, end);                                                           \
  }                                                                                          \
  inline void rows_fn##_of(const Step<float>& s, int64_t begin, int64_t end) {               \
    rows_fn##_float(s, begin, end);                                                          \
  }                                                                                          \
  inline void rows_fn##_of(const Step<double>& s, int64_t begin, int64_t end) {              \
    rows_fn<double>(s, begin, end);                                                          \
  }

LSTMLAB_GRU_ROWS(AfterForwardStep, after_forward_rows)
LSTMLAB_GRU_ROWS(AfterBackwardStep, after_backward_rows)
LSTMLAB_GRU_ROWS(BeforeForwardStep, before_forward_rz_rows)
LSTMLAB_GRU_ROWS(BeforeForwardStep, before_forward_n_rows)
LSTMLAB_GRU_ROWS(BeforeBackwardStep, before_backward_zn_rows)
LSTMLAB_GRU_ROWS(BeforeBackwardStep, before_backward_r_rows)
#undef LSTMLAB_GRU_ROWS

/// rows_fn(step, begin, end) over the batch rows on the intra-op threads.
template <typename Step, typename RowsFn>
void run_rows(RowSplitter& rows, const Step& step, RowsFn rows_fn) {
  rows.run([&](int64_t begin, int64_t end) { rows_fn(step, begin, end); });
}

/// The state a step reads, h_{t-1}: h0 at t = 0, else out's step t-1.
template <typename scalar_t>
const scalar_t* h_prev_ptr(const Tensor& h0, const Tensor& out, int64_t t) {
  return t == 0 ? h0.data_ptr<scalar_t>() : step_ptr<scalar_t>(out, t - 1);
}

/// The out grad of step t, or one zero through zero strides when there is none.
template <typename scalar_t>
StridedRows<scalar_t> dout_rows(const Tensor& dout, int64_t t, const scalar_t* zero) {
  if (!dout.defined()) return {zero, 0, 0};
  return {dout.data_ptr<scalar_t>() + t * dout.stride(0), dout.stride(1), dout.stride(2)};
}

// ---- the ATen-op form of the same steps ---------------------------------------------------------

/// Per-step [B, H] views of the gates r, z, n in a [T, B, 3H] buffer, and r and z together
/// ([B, 2H], for one sigmoid over both); made once per call so that the time loops make none.
struct GateSteps {
  std::vector<Tensor> r, z, n, rz;

  GateSteps(const Tensor& gates, int64_t H)
      : r(gates.narrow(2, 0, H).unbind(0)),
        z(gates.narrow(2, H, H).unbind(0)),
        n(gates.narrow(2, 2 * H, H).unbind(0)),
        rz(gates.narrow(2, 0, 2 * H).unbind(0)) {}
};

/// Per-step views of the after backward's [T, B, 4H] grads: du_n, dr, dz, dn.
struct AfterGradSteps {
  std::vector<Tensor> du_n, dr, dz, dn;

  AfterGradSteps(const Tensor& dgates, int64_t H)
      : du_n(dgates.narrow(2, 0, H).unbind(0)),
        dr(dgates.narrow(2, H, H).unbind(0)),
        dz(dgates.narrow(2, 2 * H, H).unbind(0)),
        dn(dgates.narrow(2, 3 * H, H).unbind(0)) {}
};

/// h = n + z (h_prev - n), the same rounding as the raw loop.
void blend_out(Tensor& h, const Tensor& h_prev, const Tensor& z, const Tensor& n) {
  at::sub_out(h, h_prev, n);
  h.mul_(z).add_(n);
}

/// Reset after, forward step t: u as in AfterForwardStep, u_n [B, H] out, h [B, H] out.
void after_forward_step_ops(const GateSteps& g, int64_t t, const Tensor& u_rz, const Tensor& u_n,
                            const Tensor& h_prev, Tensor& u_n_kept, Tensor& h) {
  g.rz[t].add_(u_rz).sigmoid_();
  u_n_kept.copy_(u_n);
  g.n[t].addcmul_(g.r[t], u_n).tanh_();
  blend_out(h, h_prev, g.z[t], g.n[t]);
}

/// dz, dn of step t and dh <- dh z, the part both forms share. dh: [B, H] the whole dh_t;
/// tmp: [B, H] scratch.
void shared_backward_ops(const GateSteps& g, int64_t t, const Tensor& h_prev, Tensor& dh,
                         Tensor& dz, Tensor& dn, Tensor& tmp) {
  at::sub_out(tmp, h_prev, g.n[t]);
  tmp.mul_(dh);
  at::sigmoid_backward_out(dz, tmp, g.z[t]);
  at::mul_out(tmp, dh, g.z[t]);
  at::sub_out(tmp, dh, tmp);  // dh (1 - z)
  at::tanh_backward_out(dn, tmp, g.n[t]);
  dh.mul_(g.z[t]);
}

/// Reset after, backward step t, as AfterBackwardStep with dh the whole dh_t.
void after_backward_step_ops(const GateSteps& g, AfterGradSteps& d, int64_t t,
                             const Tensor& h_prev, const Tensor& u_n, Tensor& dh, Tensor& tmp) {
  shared_backward_ops(g, t, h_prev, dh, d.dz[t], d.dn[t], tmp);
  at::mul_out(tmp, d.dn[t], u_n);
  at::sigmoid_backward_out(d.dr[t], tmp, g.r[t]);
  at::mul_out(d.du_n[t], d.dn[t], g.r[t]);
}

// ---- the autograd function ----------------------------------------------------------------------

// Saved tensors, in this order. kKept: u_n (reset after) or q (reset before), [T, B, H].
enum Saved { kX, kH0, kWx, kWh, kGates, kKept, kOut };

struct FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x_in, const Tensor& h0_in,
                               const Tensor& W_x_in, const Tensor& W_h_in, const Tensor& b,
                               const Tensor& b_hn, bool reset_after, bool raw_loop) {
    const int64_t T = x_in.size(0);
    const int64_t B = x_in.size(1);
    const int64_t I = x_in.size(2);
    const int64_t H = W_h_in.size(0);
    const int64_t G = 3 * H;
    const auto options = x_in.options();

    const Tensor x = x_in.contiguous();
    const Tensor h0 = h0_in.contiguous();
    const Tensor W_x = W_x_in.contiguous();
    const Tensor W_h = W_h_in.contiguous();

    Tensor gates = at::empty({T, B, G}, options);  // a_t, then r, z, n
    Tensor kept = at::empty({T, B, H}, options);   // u_n or q
    Tensor out = at::empty({T, B, H}, options);    // h_1 .. h_T
    Tensor gates_2d = gates.view({T * B, G});
    at::addmm_out(gates_2d, b, x.view({T * B, I}), W_x);

    // Step views made once, so that the loop allocates nothing.
    std::vector<Tensor> out_steps = out.unbind(0);
    std::vector<Tensor> kept_steps = kept.unbind(0);
    const auto h_prev = [&](int64_t t) -> const Tensor& { return t == 0 ? h0 : out_steps[t - 1]; };

    if (reset_after) {
      // u = h_{t-1} W_h + [0, 0, b_hn]: the one product of a step, b_hn riding on its bias.
      const Tensor u_bias = at::cat({at::zeros({2 * H}, options), b_hn});
      Tensor u = at::empty({B, G}, options);
      if (raw_loop) {
        RowSplitter rows(B, G);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_layer_fused_forward", [&] {
          for (int64_t t = 0; t < T; ++t) {
            at::addmm_out(u, u_bias, h_prev(t), W_h);
            const AfterForwardStep<scalar_t> step{
                step_ptr<scalar_t>(gates, t), u.data_ptr<scalar_t>(),
                h_prev_ptr<scalar_t>(h0, out, t), step_ptr<scalar_t>(kept, t),
                step_ptr<scalar_t>(out, t), H};
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              after_forward_rows_of(s, begin, end);
            });
          }
        });
      } else {
        const GateSteps gate_views(gates, H);
        const Tensor u_rz = u.narrow(1, 0, 2 * H);
        const Tensor u_n = u.narrow(1, 2 * H, H);
        for (int64_t t = 0; t < T; ++t) {
          at::addmm_out(u, u_bias, h_prev(t), W_h);
          after_forward_step_ops(gate_views, t, u_rz, u_n, h_prev(t), kept_steps[t], out_steps[t]);
        }
      }
    } else {
      // The two products of a step accumulate into the gate pre-activations in place.
      const Tensor W_h_rz = W_h.narrow(1, 0, 2 * H);  // [H, 2H]
      const Tensor W_h_n = W_h.narrow(1, 2 * H, H);   // [H, H]
      const GateSteps gate_views(gates, H);
      if (raw_loop) {
        RowSplitter rows(B, G);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_layer_fused_forward", [&] {
          for (int64_t t = 0; t < T; ++t) {
            const BeforeForwardStep<scalar_t> step{step_ptr<scalar_t>(gates, t),
                                                   h_prev_ptr<scalar_t>(h0, out, t),
                                                   step_ptr<scalar_t>(kept, t),
                                                   step_ptr<scalar_t>(out, t), H};
            gate_views.rz[t].addmm_(h_prev(t), W_h_rz);
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              before_forward_rz_rows_of(s, begin, end);
            });
            gate_views.n[t].addmm_(kept_steps[t], W_h_n);
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              before_forward_n_rows_of(s, begin, end);
            });
          }
        });
      } else {
        for (int64_t t = 0; t < T; ++t) {
          gate_views.rz[t].addmm_(h_prev(t), W_h_rz).sigmoid_();
          at::mul_out(kept_steps[t], gate_views.r[t], h_prev(t));
          gate_views.n[t].addmm_(kept_steps[t], W_h_n).tanh_();
          blend_out(out_steps[t], h_prev(t), gate_views.z[t], gate_views.n[t]);
        }
      }
    }

    ctx->saved_data["reset_after"] = reset_after;
    ctx->saved_data["raw_loop"] = raw_loop;
    // An undefined incoming grad stays undefined, so that an unused out or h_T costs nothing.
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({x, h0, W_x, W_h, gates, kept, out});
    // h_T as a tensor of its own: a view of the saved out would tie the caller's in-place edits of
    // one output to the other and to backward.
    return {out, out_steps[T - 1].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // The loops below write plain buffers: nothing records them for a second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(), kName,
                ": double backward is not supported (backward was called with create_graph=true); "
                "its backward is differentiable once");
    const variable_list saved = ctx->get_saved_variables();
    const Tensor& x = saved[kX];
    const Tensor& h0 = saved[kH0];
    const Tensor& W_x = saved[kWx];
    const Tensor& W_h = saved[kWh];
    const Tensor& gates = saved[kGates];
    const Tensor& kept = saved[kKept];
    const Tensor& out = saved[kOut];
    const bool reset_after = ctx->saved_data["reset_after"].toBool();
    const bool raw_loop = ctx->saved_data["raw_loop"].toBool();
    const int64_t T = x.size(0);
    const int64_t B = x.size(1);
    const int64_t I = x.size(2);
    const int64_t H = W_h.size(0);
    const int64_t G = 3 * H;
    const auto options = x.options();
    const bool needs_dh0 = ctx->needs_input_grad(1);

    // Either may be undefined: zero. The out grad is read in whatever layout it came (expanded
    // from a sum, transposed from batch_first), not copied.
    const Tensor& dout = grad_outputs[0];
    const Tensor& dh_T = grad_outputs[1];
    // dh_{t-1} less dout_{t-1}, carried back; before the first step back, the h_T grad.
    Tensor dh =
        dh_T.defined() ? dh_T.clone(at::MemoryFormat::Contiguous) : at::zeros({B, H}, options);

    // Row width of the gate grads: [du_n, dr, dz, dn] after, [dr, dz, dn] before.
    const int64_t D = reset_after ? 4 * H : G;
    Tensor dgates = raw_loop ? kept_cpu_buffer(T * B * D, x.scalar_type()).view({T, B, D})
                             : at::empty({T, B, D}, options);
    const Tensor dgates_2d = dgates.view({T * B, D});

    const std::vector<Tensor> out_steps = out.unbind(0);
    const std::vector<Tensor> kept_steps = kept.unbind(0);
    std::vector<Tensor> dout_steps;
    if (dout.defined() && !raw_loop) dout_steps = dout.unbind(0);
    const auto h_prev = [&](int64_t t) -> const Tensor& { return t == 0 ? h0 : out_steps[t - 1]; };
    Tensor tmp = raw_loop ? Tensor() : at::empty({B, H}, options);

    // The grad of u (after) or of the r, z pre-activations (before), which the per-step product
    // carries back to h_{t-1}: columns [0, 3H) or [0, 2H) of each grad row.
    const int64_t dU = reset_after ? G : 2 * H;
    const std::vector<Tensor> du_steps = dgates.narrow(2, 0, dU).unbind(0);
    // W_h^T with its rows in du's column order: n, r, z (after), or r, z (before).
    const Tensor W_hT_du =
        reset_after
            ? at::cat({W_h.narrow(1, 2 * H, H), W_h.narrow(1, 0, 2 * H)}, 1).t().contiguous()
            : W_h.narrow(1, 0, 2 * H).t().contiguous();

    if (reset_after) {
      if (raw_loop) {
        RowSplitter rows(B, G);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_layer_fused_backward", [&] {
          const scalar_t zero = 0;
          for (int64_t t = T - 1; t >= 0; --t) {
            const AfterBackwardStep<scalar_t> step{
                step_ptr<scalar_t>(gates, t),      step_ptr<scalar_t>(kept, t),
                h_prev_ptr<scalar_t>(h0, out, t),  dout_rows<scalar_t>(dout, t, &zero),
                dh.data_ptr<scalar_t>(),           step_ptr<scalar_t>(dgates, t),
                H};
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              after_backward_rows_of(s, begin, end);
            });
            if (t > 0 || needs_dh0) dh.addmm_(du_steps[t], W_hT_du);
          }
        });
      } else {
        const GateSteps gate_views(gates, H);
        AfterGradSteps dgate_views(dgates, H);
        for (int64_t t = T - 1; t >= 0; --t) {
          if (dout.defined()) dh.add_(dout_steps[t]);
          after_backward_step_ops(gate_views, dgate_views, t, h_prev(t), kept_steps[t], dh, tmp);
          if (t > 0 || needs_dh0) dh.addmm_(du_steps[t], W_hT_du);
        }
      }
    } else {
      const Tensor W_hT_n = W_h.narrow(1, 2 * H, H).t().contiguous();  // [H, H]
      Tensor dq = at::empty({B, H}, options);
      GateSteps dgate_views(dgates, H);  // dr, dz, dn in the gates' own layout
      if (raw_loop) {
        RowSplitter rows(B, G);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_layer_fused_backward", [&] {
          const scalar_t zero = 0;
          for (int64_t t = T - 1; t >= 0; --t) {
            const BeforeBackwardStep<scalar_t> step{step_ptr<scalar_t>(gates, t),
                                                    h_prev_ptr<scalar_t>(h0, out, t),
                                                    dout_rows<scalar_t>(dout, t, &zero),
                                                    dq.data_ptr<scalar_t>(),
                                                    dh.data_ptr<scalar_t>(),
                                                    step_ptr<scalar_t>(dgates, t),
                                                    H};
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              before_backward_zn_rows_of(s, begin, end);
            });
            at::mm_out(dq, dgate_views.n[t], W_hT_n);
            run_rows(rows, step, [](const auto& s, int64_t begin, int64_t end) {
              before_backward_r_rows_of(s, begin, end);
            });
            if (t > 0 || needs_dh0) dh.addmm_(du_steps[t], W_hT_du);
          }
        });
      } else {
        const GateSteps gate_views(gates, H);
        for (int64_t t = T - 1; t >= 0; --t) {
          if (dout.defined()) dh.add_(dout_steps[t]);
          shared_backward_ops(gate_views, t, h_prev(t), dh, dgate_views.z[t], dgate_views.n[t],
                              tmp);
          at::mm_out(dq, dgate_views.n[t], W_hT_n);
          at::mul_out(tmp, dq, h_prev(t));
          at::sigmoid_backward_out(dgate_views.r[t], tmp, gate_views.r[t]);
          dh.addcmul_(dq, gate_views.r[t]);
          if (t > 0 || needs_dh0) dh.addmm_(du_steps[t], W_hT_du);
        }
      }
    }

    // The parameter and input grads: one product (or sum) each over all T*B rows.
    const Tensor dA = dgates_2d.narrow(1, D - G, G);  // [dr, dz, dn]: the grad of a_t
    Tensor dx, dW_x, dW_h, db, db_hn;
    if (ctx->needs_input_grad(0)) dx = at::mm(dA, W_x.t()).view({T, B, I});
    if (ctx->needs_input_grad(2)) dW_x = at::mm(x.view({T * B, I}).t(), dA);
    if (ctx->needs_input_grad(3)) {
      // h_{0..T-1}^T du: h0 then out[0..T-2], two pieces so that nothing is copied.
      Tensor dW_h_du = at::mm(h0.t(), du_steps[0]);
      if (T > 1) {
        dW_h_du.addmm_(out.narrow(0, 0, T - 1).view({(T - 1) * B, H}).t(),
                       dgates.narrow(0, 1, T - 1).view({(T - 1) * B, D}).narrow(1, 0, dU));
      }
      if (reset_after) {  // columns n, r, z back to r, z, n
        dW_h = at::cat({dW_h_du.narrow(1, H, 2 * H), dW_h_du.narrow(1, 0, H)}, 1);
      } else {  // the n block's product reads q, not h
        dW_h = at::cat(
            {dW_h_du, at::mm(kept.view({T * B, H}).t(), dgates_2d.narrow(1, 2 * H, H))}, 1);
      }
    }
    if (ctx->needs_input_grad(4)) db = dA.sum(0);
    if (reset_after && ctx->needs_input_grad(5)) db_hn = dgates_2d.narrow(1, 0, H).sum(0);
    return {dx, needs_dh0 ? dh : Tensor(), dW_x, dW_h, db, db_hn, Tensor(), Tensor()};
  }
};

LayerOutputs run_layer(const Tensor& x, const Tensor& h0, const Tensor& W_x, const Tensor& W_h,
                       const Tensor& b, const Tensor& b_hn, bool reset_after, bool raw_loop) {
  check_arguments(x, h0, W_x, W_h, b, b_hn, reset_after);
  // An undefined b_hn is zeros that nothing asks the grad of.
  const Tensor b_hn_or_zeros = b_hn.defined() ? b_hn : at::zeros({W_h.size(0)}, x.options());
  variable_list outputs =
      FusedGruFunction::apply(x, h0, W_x, W_h, b, b_hn_or_zeros, reset_after, raw_loop);
  return {outputs[0], outputs[1]};
}

}  // namespace

LayerOutputs gru_layer_fused(const Tensor& x, const Tensor& h0, const Tensor& W_x,
                             const Tensor& W_h, const Tensor& b, const Tensor& b_hn,
                             bool reset_after) {
  const bool raw_loop = x.defined() && x.device().is_cpu() &&
                        (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
  return run_layer(x, h0, W_x, W_h, b, b_hn, reset_after, raw_loop);
}

LayerOutputs gru_layer_fused_reference_ops(const Tensor& x, const Tensor& h0, const Tensor& W_x,
                                           const Tensor& W_h, const Tensor& b, const Tensor& b_hn,
                                           bool reset_after) {
  return run_layer(x, h0, W_x, W_h, b, b_hn, reset_after, false);
}

}  // namespace lstmlab
