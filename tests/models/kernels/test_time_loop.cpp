// The fused time loop (models/kernels/time_loop.h) driven by a cell it was not written for: an
// Elman RNN, h_t = tanh(x_t W_x + b + h_{t-1} W_h), whose whole step policy is below. Its forward
// and every grad, from both executors, against the same recurrence written as plain autograd ops
// in float64. Letters: T time steps, B batch, I input features, H hidden units, G = H.

#include "models/kernels/time_loop.h"
#include "tests/test_helpers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace lstmlab {
namespace {

using torch::Tensor;

/// All a cell writes to run on the fused time loop: widths, products, its step both ways.
class ElmanStep final : public StepPolicy {
 public:
  explicit ElmanStep(int64_t H) : H_(H) {}

  CellWidths widths() const override { return {H_, H_, 0, false}; }
  std::vector<ForwardProduct> forward_products(const Tensor& W_h) const override {
    return {{ProductSource::PreviousState, W_h, 0, {}}};
  }
  std::vector<BackwardProduct> backward_products(const Tensor& W_h) const override {
    // h_{t-1} reaches the loss only through the product: dh_{t-1} = dA W_h^T, overwriting dh.
    return {{W_h.t().contiguous(), 0, H_, GradTarget::State, false}};
  }

  void forward_rows(int, const ForwardRows<float>& s, int64_t b, int64_t e) const override {
    forward(s, b, e);
  }
  void forward_rows(int, const ForwardRows<double>& s, int64_t b, int64_t e) const override {
    forward(s, b, e);
  }
  void backward_rows(int, const BackwardRows<float>& s, int64_t b, int64_t e) const override {
    backward(s, b, e);
  }
  void backward_rows(int, const BackwardRows<double>& s, int64_t b, int64_t e) const override {
    backward(s, b, e);
  }

  void bind_forward_ops(const SequenceBuffers& buffers) override {
    gates_ = buffers.gates.unbind(0);
  }
  void bind_backward_ops(const SequenceBuffers& buffers, const Tensor& dgates) override {
    bind_forward_ops(buffers);
    dgates_ = dgates.unbind(0);
  }
  void forward_ops(int, const StepTensors& s) override {
    gates_[s.t].tanh_();
    Tensor h = s.h;
    h.copy_(gates_[s.t]);
  }
  void backward_ops(int, const StepTensors& s) override {
    at::tanh_backward_out(dgates_[s.t], s.dh, gates_[s.t]);
  }

  Tensor recurrent_weight_grad(const Tensor& h0, const SequenceBuffers& buffers,
                               const Tensor& dgates) const override {
    return prev_states_times(h0, buffers.out, dgates, 0, H_);
  }

 private:
  template <typename scalar_t>
  void forward(const ForwardRows<scalar_t>& s, int64_t begin, int64_t end) const {
    for (int64_t k = begin * H_; k < end * H_; ++k) {
      s.gates[k] = std::tanh(s.gates[k]);
      s.h[k] = s.gates[k];
    }
  }
  template <typename scalar_t>
  void backward(const BackwardRows<scalar_t>& s, int64_t begin, int64_t end) const {
    for (int64_t row = begin; row < end; ++row) {
      for (int64_t j = 0; j < H_; ++j) {
        const int64_t k = row * H_ + j;
        const scalar_t dh = s.dh[k] + s.dout.data[row * s.dout.row_stride + j * s.dout.col_stride];
        s.dgates[k] = dh * (scalar_t(1) - s.gates[k] * s.gates[k]);
      }
    }
  }

  int64_t H_;
  std::vector<Tensor> gates_, dgates_;
};

class TimeLoopTest : public test::SeededTest {};

TEST_F(TimeLoopTest, AnElmanCellOnTheLoopMatchesAutogradInEveryGrad) {
  const int64_t T = 5, B = 3, I = 4, H = 6;
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const Tensor x = torch::randn({T, B, I}, opts);
  const Tensor h0 = torch::randn({B, H}, opts) * 0.5;
  const Tensor W_x = torch::randn({I, H}, opts) * 0.5;
  const Tensor W_h = torch::randn({H, H}, opts) * 0.5;
  const Tensor b = torch::randn({H}, opts) * 0.1;
  const Tensor dout = torch::randn({T, B, H}, opts);
  const Tensor dh_T = torch::randn({B, H}, opts);

  // The reference: the recurrence as autograd ops, and the grads of sum(out dout) + sum(h_T dh_T).
  std::vector<Tensor> leaves;
  for (const Tensor& t : {x, h0, W_x, W_h, b}) leaves.push_back(t.clone().requires_grad_(true));
  Tensor h = leaves[1];
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < T; ++t) {
    h = torch::tanh(torch::mm(leaves[0][t], leaves[2]) + leaves[4] + torch::mm(h, leaves[3]));
    hs.push_back(h);
  }
  const Tensor expected_out = torch::stack(hs).detach();
  ((torch::stack(hs) * dout).sum() + (h * dh_T).sum()).backward();

  // A cell without CUDA kernels (this one) asked for them runs its ATen ops instead.
  for (const StepExecutor executor :
       {StepExecutor::RawRows, StepExecutor::TensorOps, StepExecutor::CudaKernels}) {
    SCOPED_TRACE(executor == StepExecutor::RawRows     ? "raw rows"
                 : executor == StepExecutor::TensorOps ? "tensor ops"
                                                       : "cuda kernels asked, none: tensor ops");
    ElmanStep step(H);
    const LayerInputs in{x, h0, Tensor(), W_x, W_h, b};
    const SequenceBuffers buf = time_loop_forward(step, executor, in);
    EXPECT_LT(test::max_rel_diff(buf.out, expected_out), 1e-13);
    // dout read through its transposed strides, as a batch_first caller hands it.
    const Tensor dout_strided = dout.transpose(0, 1).contiguous().transpose(0, 1);
    const LayerGrads g =
        time_loop_backward(step, executor, in, buf, {dout_strided, dh_T, {}}, GradsWanted{});
    const Tensor got[] = {g.x, g.h0, g.W_x, g.W_h, g.b};
    const char* names[] = {"x", "h0", "W_x", "W_h", "b"};
    for (size_t k = 0; k < 5; ++k) {
      ASSERT_TRUE(got[k].defined()) << names[k];
      EXPECT_LT(test::max_rel_diff(got[k], leaves[k].grad()), 1e-12) << names[k];
    }
    EXPECT_FALSE(g.c0.defined());
    EXPECT_FALSE(g.recurrent_bias.defined());
  }
}

TEST_F(TimeLoopTest, GradsNobodyWantsAreNotComputed) {
  const int64_t T = 3, B = 2, I = 2, H = 3;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  ElmanStep step(H);
  const LayerInputs in{torch::randn({T, B, I}, opts), torch::zeros({B, H}, opts), Tensor(),
                       torch::randn({I, H}, opts), torch::randn({H, H}, opts),
                       torch::zeros({H}, opts)};
  const SequenceBuffers buf = time_loop_forward(step, StepExecutor::RawRows, in);
  const OutputGrads grads{torch::randn({T, B, H}, opts), torch::ones({B, H}, opts), {}};
  const LayerGrads all = time_loop_backward(step, StepExecutor::RawRows, in, buf, grads, {});
  GradsWanted wanted;
  wanted.x = wanted.h0 = wanted.b = false;
  const LayerGrads g = time_loop_backward(step, StepExecutor::RawRows, in, buf, grads, wanted);
  EXPECT_FALSE(g.x.defined());
  EXPECT_FALSE(g.h0.defined());
  EXPECT_FALSE(g.b.defined());
  ASSERT_TRUE(g.W_h.defined() && g.W_x.defined());
  // Skipping the last product back (to h0) changes no weight grad.
  EXPECT_TRUE(torch::equal(g.W_h, all.W_h));
  EXPECT_TRUE(torch::equal(g.W_x, all.W_x));
  ASSERT_TRUE(all.h0.defined());
  EXPECT_GT(all.h0.abs().max().item<float>(), 0.0f);
}

}  // namespace
}  // namespace lstmlab
