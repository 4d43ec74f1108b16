// The LSTM's step policy (models/lstm/lstm_step.h).

#include "models/lstm/lstm_step.h"

#include "models/kernels/cpu_rows.h"
#include "models/kernels/gate_math.h"
#include "models/kernels/time_loop.h"
#if LSTMLAB_WITH_CUDA
#include "models/kernels/cuda/cell_steps.h"
#endif

#include <cstdint>
#include <memory>
#include <vector>

namespace lstmlab {

using torch::Tensor;

namespace {

// Whether act(c_t) [T, B, H] is kept from the forward instead of recomputed in the backward.
// Measured (float32, one thread, B,T,I,H = 950,50,1,64 / 64,50,64,256): keeping tanh(c) takes
// 198 / 88 ms forward+backward against 210 / 96 ms recomputing it; relu costs nothing to recompute.
constexpr bool keeps_cell_activation(Activation act) { return act == Activation::Tanh; }

// ---- the CPU raw loops --------------------------------------------------------------------------
// sigmoid(v) = 1 / (1 + exp(-v)); tanh(v) = 1 - 2 / (1 + exp(2v)), both through gate_exp
// (models/kernels/gate_math.h: inline and vectorized for float; std::tanh costs 11 ns a float with
// glibc 2.36), exact at +-inf, NaN passing, with an absolute error within about an ulp of 1, which
// is what the products downstream see.
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

/// The forward step's rows [begin, end). s.saved: act(c) out (tanh only).
template <typename scalar_t, Activation kAct>
LSTMLAB_ALWAYS_INLINE inline void forward_rows_of(const ForwardRows<scalar_t>& s, int64_t begin,
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
      scalar_t* ar = s.saved + r * H;
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

/// The backward step's rows [begin, end). s.saved: act(c) (tanh; relu recomputes it);
/// s.dh: dG_{t+1} W_h^T, read only (the loop's product overwrites it next); s.dc: carried.
template <typename scalar_t, Activation kAct>
LSTMLAB_ALWAYS_INLINE inline void backward_rows_of(const BackwardRows<scalar_t>& s, int64_t begin,
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
    const scalar_t* ar = kAct == Activation::Tanh ? s.saved + r * H : cr;
    const scalar_t* dhr = s.dh + r * H;
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

LSTMLAB_AVX2_CLONE void forward_rows_float_tanh(const ForwardRows<float>& s, int64_t begin,
                                                int64_t end) {
  forward_rows_of<float, Activation::Tanh>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void forward_rows_float_relu(const ForwardRows<float>& s, int64_t begin,
                                                int64_t end) {
  forward_rows_of<float, Activation::Relu>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void backward_rows_float_tanh(const BackwardRows<float>& s, int64_t begin,
                                                 int64_t end) {
  backward_rows_of<float, Activation::Tanh>(s, begin, end);
}
LSTMLAB_AVX2_CLONE void backward_rows_float_relu(const BackwardRows<float>& s, int64_t begin,
                                                 int64_t end) {
  backward_rows_of<float, Activation::Relu>(s, begin, end);
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

class LstmStep final : public StepPolicy {
 public:
  LstmStep(int64_t hidden_size, Activation act) : H_(hidden_size), act_(act) {}

  CellWidths widths() const override {
    return {4 * H_, 4 * H_, keeps_cell_activation(act_) ? H_ : 0, true};
  }

  std::vector<ForwardProduct> forward_products(const Tensor& W_h) const override {
    return {{ProductSource::PreviousState, W_h, 0, {}}};
  }

  std::vector<BackwardProduct> backward_products(const Tensor& W_h) const override {
    return {{W_h.t().contiguous(), 0, 4 * H_, GradTarget::State, false}};
  }

  // The activation picks the build of the row loops, once a call, not per element.
  void forward_rows(int, const ForwardRows<float>& s, int64_t begin, int64_t end) const override {
    (tanh() ? forward_rows_float_tanh : forward_rows_float_relu)(s, begin, end);
  }
  void forward_rows(int, const ForwardRows<double>& s, int64_t begin, int64_t end) const override {
    (tanh() ? forward_rows_of<double, Activation::Tanh>
            : forward_rows_of<double, Activation::Relu>)(s, begin, end);
  }
  void backward_rows(int, const BackwardRows<float>& s, int64_t begin, int64_t end) const override {
    (tanh() ? backward_rows_float_tanh : backward_rows_float_relu)(s, begin, end);
  }
  void backward_rows(int, const BackwardRows<double>& s, int64_t begin,
                     int64_t end) const override {
    (tanh() ? backward_rows_of<double, Activation::Tanh>
            : backward_rows_of<double, Activation::Relu>)(s, begin, end);
  }

#if LSTMLAB_WITH_CUDA
  bool has_kernels() const override { return true; }
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
    gates_ = GateSteps(buffers.gates, H_);
    const int64_t B = buffers.gates.size(1);
    if (buffers.saved.defined()) {
      cell_act_ = buffers.saved.unbind(0);
    } else {
      act_scratch_ = at::empty({B, H_}, buffers.gates.options());
    }
  }

  void bind_backward_ops(const SequenceBuffers& buffers, const Tensor& dgates) override {
    bind_forward_ops(buffers);
    dgates_ = GateSteps(dgates, H_);
    const int64_t B = buffers.gates.size(1);
    tmp_ = at::empty({B, H_}, buffers.gates.options());
    tmp2_ = at::empty({B, H_}, buffers.gates.options());
  }

  void forward_ops(int, const StepTensors& s) override {
    const int64_t t = s.t;
    gates_.i_f[t].sigmoid_();
    gates_.o[t].sigmoid_();
    if (tanh()) {
      gates_.g[t].tanh_();
    } else {
      gates_.g[t].relu_();
    }
    Tensor c = s.c;
    Tensor h = s.h;
    Tensor& cell_act = cell_act_.empty() ? act_scratch_ : cell_act_[t];
    at::mul_out(c, gates_.f[t], s.c_prev);
    c.addcmul_(gates_.i[t], gates_.g[t]);
    act_out(cell_act, c, act_);
    at::mul_out(h, gates_.o[t], cell_act);
  }

  void backward_ops(int, const StepTensors& s) override {
    const int64_t t = s.t;
    if (cell_act_.empty()) act_out(act_scratch_, s.c, act_);
    const Tensor& cell_act = cell_act_.empty() ? act_scratch_ : cell_act_[t];
    const Tensor& dh = s.dh;
    Tensor dc = s.dc;
    at::mul_out(tmp_, dh, cell_act);
    at::sigmoid_backward_out(dgates_.o[t], tmp_, gates_.o[t]);
    at::mul_out(tmp_, dh, gates_.o[t]);
    act_backward_out(tmp2_, tmp_, cell_act, act_);
    dc.add_(tmp2_);
    at::mul_out(tmp_, dc, gates_.g[t]);
    at::sigmoid_backward_out(dgates_.i[t], tmp_, gates_.i[t]);
    at::mul_out(tmp_, dc, s.c_prev);
    at::sigmoid_backward_out(dgates_.f[t], tmp_, gates_.f[t]);
    at::mul_out(tmp_, dc, gates_.i[t]);
    act_backward_out(dgates_.g[t], tmp_, gates_.g[t], act_);
    dc.mul_(gates_.f[t]);
  }

  Tensor recurrent_weight_grad(const Tensor& h0, const SequenceBuffers& buffers,
                               const Tensor& dgates) const override {
    return prev_states_times(h0, buffers.out, dgates, 0, 4 * H_);
  }

 private:
  bool tanh() const { return act_ == Activation::Tanh; }
#if LSTMLAB_WITH_CUDA
  // s.saved is act(c) (tanh); the relu kernel recomputes it from c, as the row loops do.
  template <typename T>
  void launch_forward(const ForwardRows<T>& s, int64_t B, void* stream) const {
    const int rc = cuda::launch_lstm_step<T>({s.gates, s.c_prev, s.c, s.saved, s.h, B, H_, tanh()},
                                             stream);
    TORCH_CHECK(rc == 0, "the LSTM step's CUDA kernel failed: ", cuda::error_text(rc));
  }
  template <typename T>
  void launch_backward(const BackwardRows<T>& s, int64_t B, void* stream) const {
    const int rc = cuda::launch_lstm_step_grad<T>(
        {s.gates, s.c_prev, s.c, s.saved, s.dh, s.dout.data, s.dout.row_stride, s.dout.col_stride,
         s.dc, s.dgates, B, H_, tanh()},
        stream);
    TORCH_CHECK(rc == 0, "the LSTM step's backward CUDA kernel failed: ", cuda::error_text(rc));
  }
#endif

  /// Per-step [B, H] views of the gates in a [T, B, G] buffer. i_f: [B, 2H], i and f together,
  /// for one sigmoid over both.
  struct GateSteps {
    std::vector<torch::Tensor> i, f, g, o, i_f;
    GateSteps() = default;
    GateSteps(const torch::Tensor& gates, int64_t H)
        : i(gates.narrow(2, 0, H).unbind(0)),
          f(gates.narrow(2, H, H).unbind(0)),
          g(gates.narrow(2, 2 * H, H).unbind(0)),
          o(gates.narrow(2, 3 * H, H).unbind(0)),
          i_f(gates.narrow(2, 0, 2 * H).unbind(0)) {}
  };

  int64_t H_;
  Activation act_;
  // TensorOps: views made once per call, and [B, H] scratch.
  GateSteps gates_, dgates_;
  std::vector<torch::Tensor> cell_act_;  // act(c_t) where kept (tanh)
  torch::Tensor act_scratch_, tmp_, tmp2_;
};

}  // namespace

std::unique_ptr<StepPolicy> make_lstm_step(int64_t hidden_size, Activation act) {
  return std::make_unique<LstmStep>(hidden_size, act);
}

}  // namespace lstmlab
