// The GRU's step policy (models/gru/gru_step.h).

#include "models/gru/gru_step.h"

#include "models/kernels/cpu_rows.h"
#include "models/kernels/gate_math.h"
#if LSTMLAB_WITH_CUDA
#include "models/kernels/cuda/cell_steps.h"
#endif
#include "models/kernels/time_loop.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace lstmlab {

using torch::Tensor;

namespace {

// ---- the CPU raw loops --------------------------------------------------------------------------
// sigmoid(v) = 1 / (1 + exp(-v)); tanh(v) = 1 - 2 / (1 + exp(2v)), both through gate_exp, as in
// models/lstm/lstm_step.cpp (exact at +-inf, NaN passing). Each row runs in passes over H-long runs
// that stay in L1, the exponentials apart from the rest, so that GCC vectorizes each pass.
// Reset after: s.u is h_{t-1} W_h + [0, 0, b_hn] and s.saved gets u_n; s.dh goes from dh_t less
// dout_t to dh_t z, and s.dgates [B, 4H] gets du_n, dr, dz, dn. Reset before: phase 0 makes r, z
// and q = r h_{t-1} (s.saved), phase 1 n and h; backward, phase 0 dz, dn and dh_t z, phase 1 (with
// s.dq = dn W_h,n^T) dr and dh += dq r, into s.dgates [B, 3H].

template <typename scalar_t>
LSTMLAB_ALWAYS_INLINE inline void after_forward_rows(const ForwardRows<scalar_t>& s,
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
    scalar_t* un_kept = s.saved + row * H;
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
LSTMLAB_ALWAYS_INLINE inline void after_backward_rows(const BackwardRows<scalar_t>& s,
                                                      int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    const scalar_t* gr = s.gates + row * G;
    const scalar_t* gz = gr + H;
    const scalar_t* gn = gz + H;
    const scalar_t* un = s.saved + row * H;
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
LSTMLAB_ALWAYS_INLINE inline void before_forward_rz_rows(const ForwardRows<scalar_t>& s,
                                                         int64_t begin, int64_t end) {
  const int64_t H = s.H;
  const int64_t G = 3 * H;
  for (int64_t row = begin; row < end; ++row) {
    scalar_t* gr = s.gates + row * G;
    scalar_t* gz = gr + H;
    const scalar_t* hp = s.h_prev + row * H;
    scalar_t* qr = s.saved + row * H;
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
LSTMLAB_ALWAYS_INLINE inline void before_forward_n_rows(const ForwardRows<scalar_t>& s,
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
LSTMLAB_ALWAYS_INLINE inline void before_backward_zn_rows(const BackwardRows<scalar_t>& s,
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
LSTMLAB_ALWAYS_INLINE inline void before_backward_r_rows(const BackwardRows<scalar_t>& s,
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

LSTMLAB_GRU_ROWS(ForwardRows, after_forward_rows)
LSTMLAB_GRU_ROWS(BackwardRows, after_backward_rows)
LSTMLAB_GRU_ROWS(ForwardRows, before_forward_rz_rows)
LSTMLAB_GRU_ROWS(ForwardRows, before_forward_n_rows)
LSTMLAB_GRU_ROWS(BackwardRows, before_backward_zn_rows)
LSTMLAB_GRU_ROWS(BackwardRows, before_backward_r_rows)
#undef LSTMLAB_GRU_ROWS


/// h = n + z (h_prev - n), the same rounding as the raw loop.
void blend_out(Tensor& h, const Tensor& h_prev, const Tensor& z, const Tensor& n) {
  at::sub_out(h, h_prev, n);
  h.mul_(z).add_(n);
}

/// dz, dn and dh <- dh z, the part both forms share. dh: [B, H] the whole dh_t; tmp: [B, H].
void shared_backward_ops(const Tensor& z, const Tensor& n, const Tensor& h_prev, Tensor& dh,
                         Tensor& dz, Tensor& dn, Tensor& tmp) {
  at::sub_out(tmp, h_prev, n);
  tmp.mul_(dh);
  at::sigmoid_backward_out(dz, tmp, z);
  at::mul_out(tmp, dh, z);
  at::sub_out(tmp, dh, tmp);  // dh (1 - z)
  at::tanh_backward_out(dn, tmp, n);
  dh.mul_(z);
}

/// Phase `phase` of a step's rows: reset after has one phase each way, reset before two.
template <typename scalar_t>
void forward_rows_at(bool reset_after, int phase, const ForwardRows<scalar_t>& s, int64_t begin,
                     int64_t end) {
  if (reset_after) {
    after_forward_rows_of(s, begin, end);
  } else if (phase == 0) {
    before_forward_rz_rows_of(s, begin, end);
  } else {
    before_forward_n_rows_of(s, begin, end);
  }
}

template <typename scalar_t>
void backward_rows_at(bool reset_after, int phase, const BackwardRows<scalar_t>& s, int64_t begin,
                      int64_t end) {
  if (reset_after) {
    after_backward_rows_of(s, begin, end);
  } else if (phase == 0) {
    before_backward_zn_rows_of(s, begin, end);
  } else {
    before_backward_r_rows_of(s, begin, end);
  }
}

class GruStep final : public StepPolicy {
 public:
  GruStep(int64_t hidden_size, bool reset_after, torch::Tensor b_hn)
      : H_(hidden_size), reset_after_(reset_after), b_hn_(std::move(b_hn)) {}

  CellWidths widths() const override {
    return {3 * H_, reset_after_ ? 4 * H_ : 3 * H_, H_, false};
  }

  std::vector<ForwardProduct> forward_products(const Tensor& W_h) const override {
    if (reset_after_) {
      // u = h_{t-1} W_h + [0, 0, b_hn]: the one product of a step, b_hn riding on its bias.
      const Tensor u_bias = at::cat({at::zeros({2 * H_}, W_h.options()), b_hn_});
      return {{ProductSource::PreviousState, W_h, 0, u_bias}};
    }
    // The two products of a step accumulate into the gate pre-activations in place.
    return {{ProductSource::PreviousState, W_h.narrow(1, 0, 2 * H_), 0, {}},
            {ProductSource::Saved, W_h.narrow(1, 2 * H_, H_), 2 * H_, {}}};
  }

  std::vector<BackwardProduct> backward_products(const Tensor& W_h) const override {
    if (reset_after_) {
      // W_h^T with its rows in the grad's column order n, r, z.
      const Tensor W_hT_nrz =
          at::cat({W_h.narrow(1, 2 * H_, H_), W_h.narrow(1, 0, 2 * H_)}, 1).t().contiguous();
      return {{W_hT_nrz, 0, 3 * H_, GradTarget::State, true}};
    }
    return {{W_h.narrow(1, 2 * H_, H_).t().contiguous(), 2 * H_, H_, GradTarget::Scratch, false},
            {W_h.narrow(1, 0, 2 * H_).t().contiguous(), 0, 2 * H_, GradTarget::State, true}};
  }

  void forward_rows(int phase, const ForwardRows<float>& s, int64_t begin,
                    int64_t end) const override {
    forward_rows_at(reset_after_, phase, s, begin, end);
  }
  void forward_rows(int phase, const ForwardRows<double>& s, int64_t begin,
                    int64_t end) const override {
    forward_rows_at(reset_after_, phase, s, begin, end);
  }
  void backward_rows(int phase, const BackwardRows<float>& s, int64_t begin,
                     int64_t end) const override {
    backward_rows_at(reset_after_, phase, s, begin, end);
  }
  void backward_rows(int phase, const BackwardRows<double>& s, int64_t begin,
                     int64_t end) const override {
    backward_rows_at(reset_after_, phase, s, begin, end);
  }

#if LSTMLAB_WITH_CUDA
  // Kernels for the reset-after step (one phase each way); d2l's two-phase step runs TensorOps.
  bool has_kernels() const override { return reset_after_; }
  void forward_kernel(int, const ForwardRows<float>& s, int64_t B, void* stream) const override {
    launch_forward(s, B, stream);
  }
  void forward_kernel(int, const ForwardRows<double>& s, int64_t B, void* stream) const override {
    launch_forward(s, B, stream);
  }
  void backward_kernel(int, const BackwardRows<float>& s, int64_t B, void* stream) const override {
    launch_backward(s, B, stream);
  }
  void backward_kernel(int, const BackwardRows<double>& s, int64_t B, void* stream) const override {
    launch_backward(s, B, stream);
  }
#endif

  void bind_forward_ops(const SequenceBuffers& buffers) override {
    gates_ = GateSteps(buffers.gates, 0, H_);
    saved_ = buffers.saved.unbind(0);
  }

  void bind_backward_ops(const SequenceBuffers& buffers, const Tensor& dgates) override {
    bind_forward_ops(buffers);
    // Reset after: [du_n, dr, dz, dn]; before: [dr, dz, dn].
    dgates_ = GateSteps(dgates, reset_after_ ? H_ : 0, H_);
    if (reset_after_) du_n_ = dgates.narrow(2, 0, H_).unbind(0);
    tmp_ = at::empty({buffers.gates.size(1), H_}, buffers.gates.options());
  }

  void forward_ops(int phase, const StepTensors& s) override {
    const int64_t t = s.t;
    Tensor h = s.h;
    if (reset_after_) {
      const Tensor u_n = s.u.narrow(1, 2 * H_, H_);
      gates_.rz[t].add_(s.u.narrow(1, 0, 2 * H_)).sigmoid_();
      saved_[t].copy_(u_n);
      gates_.n[t].addcmul_(gates_.r[t], u_n).tanh_();
      blend_out(h, s.h_prev, gates_.z[t], gates_.n[t]);
    } else if (phase == 0) {
      gates_.rz[t].sigmoid_();
      at::mul_out(saved_[t], gates_.r[t], s.h_prev);
    } else {
      gates_.n[t].tanh_();
      blend_out(h, s.h_prev, gates_.z[t], gates_.n[t]);
    }
  }

  void backward_ops(int phase, const StepTensors& s) override {
    const int64_t t = s.t;
    Tensor dh = s.dh;
    if (phase == 0) {
      shared_backward_ops(gates_.z[t], gates_.n[t], s.h_prev, dh, dgates_.z[t], dgates_.n[t], tmp_);
    }
    if (reset_after_) {
      at::mul_out(tmp_, dgates_.n[t], saved_[t]);
      at::sigmoid_backward_out(dgates_.r[t], tmp_, gates_.r[t]);
      at::mul_out(du_n_[t], dgates_.n[t], gates_.r[t]);
    } else if (phase == 1) {
      at::mul_out(tmp_, s.dq, s.h_prev);
      at::sigmoid_backward_out(dgates_.r[t], tmp_, gates_.r[t]);
      dh.addcmul_(s.dq, gates_.r[t]);
    }
  }

  Tensor recurrent_weight_grad(const Tensor& h0, const SequenceBuffers& buffers,
                               const Tensor& dgates) const override {
    const int64_t T = dgates.size(0);
    const int64_t B = dgates.size(1);
    if (reset_after_) {  // columns n, r, z back to r, z, n
      const Tensor nrz = prev_states_times(h0, buffers.out, dgates, 0, 3 * H_);
      return at::cat({nrz.narrow(1, H_, 2 * H_), nrz.narrow(1, 0, H_)}, 1);
    }
    // The n block's product reads q, not h.
    const Tensor dn = dgates.view({T * B, 3 * H_}).narrow(1, 2 * H_, H_);
    return at::cat({prev_states_times(h0, buffers.out, dgates, 0, 2 * H_),
                    at::mm(buffers.saved.view({T * B, H_}).t(), dn)},
                   1);
  }

  Tensor recurrent_bias_grad(const Tensor& dgates) const override {
    if (!reset_after_) return {};
    return dgates.view({dgates.size(0) * dgates.size(1), 4 * H_}).narrow(1, 0, H_).sum(0);
  }

 private:
#if LSTMLAB_WITH_CUDA
  // s.u is the apart product u, s.saved u_n.
  template <typename T>
  void launch_forward(const ForwardRows<T>& s, int64_t B, void* stream) const {
    const int rc = cuda::launch_gru_step<T>({s.gates, s.u, s.h_prev, s.h, s.saved, B, H_}, stream);
    TORCH_CHECK(rc == 0, "the GRU step's CUDA kernel failed: ", cuda::error_text(rc));
  }
  template <typename T>
  void launch_backward(const BackwardRows<T>& s, int64_t B, void* stream) const {
    const int rc = cuda::launch_gru_step_grad<T>({s.gates, s.saved, s.h_prev, s.dout.data,
                                                  s.dout.row_stride, s.dout.col_stride, s.dh,
                                                  s.dgates, B, H_},
                                                 stream);
    TORCH_CHECK(rc == 0, "the GRU step's backward CUDA kernel failed: ", cuda::error_text(rc));
  }
#endif

  /// Per-step [B, H] views of r, z, n in a [T, B, >= 3H] buffer from column `offset`, and r and z
  /// together ([B, 2H], for one sigmoid over both).
  struct GateSteps {
    std::vector<torch::Tensor> r, z, n, rz;
    GateSteps() = default;
    GateSteps(const torch::Tensor& gates, int64_t offset, int64_t H)
        : r(gates.narrow(2, offset, H).unbind(0)),
          z(gates.narrow(2, offset + H, H).unbind(0)),
          n(gates.narrow(2, offset + 2 * H, H).unbind(0)),
          rz(gates.narrow(2, offset, 2 * H).unbind(0)) {}
  };

  int64_t H_;
  bool reset_after_;
  torch::Tensor b_hn_;
  // TensorOps: views made once per call, and [B, H] scratch.
  GateSteps gates_, dgates_;
  std::vector<torch::Tensor> saved_, du_n_;  // u_n or q; du_n (after)
  torch::Tensor tmp_;
};

}  // namespace

std::unique_ptr<StepPolicy> make_gru_step(int64_t hidden_size, bool reset_after,
                                          torch::Tensor b_hn) {
  return std::make_unique<GruStep>(hidden_size, reset_after, std::move(b_hn));
}

}  // namespace lstmlab
