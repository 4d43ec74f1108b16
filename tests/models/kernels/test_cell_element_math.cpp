// The per-element step math that the CUDA kernels run (models/kernels/cell_element_math.h), held
// on the CPU to LibTorch's own ops and autograd in float64: the forward to the cell's equations
// written with torch::sigmoid and torch::tanh, the backward to the grads autograd takes through
// them, for the LSTM (tanh and relu) and the PyTorch GRU, over whole [B, H] steps.

#include "models/kernels/cell_element_math.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>

namespace {

using lstmlab::cell_math::gru_backward;
using lstmlab::cell_math::gru_forward;
using lstmlab::cell_math::lstm_backward;
using lstmlab::cell_math::lstm_forward;
using torch::Tensor;

constexpr int64_t B = 3;
constexpr int64_t H = 5;

Tensor randn(std::initializer_list<int64_t> shape) {
  return torch::randn(shape, torch::dtype(torch::kFloat64)) * 2;
}

void expect_close(const Tensor& got, const Tensor& want, const char* what) {
  EXPECT_TRUE(torch::allclose(got, want, 1e-12, 1e-13))
      << what << ": largest difference " << (got - want).abs().max().item<double>();
}

class LstmElementMath : public ::testing::TestWithParam<bool> {};

TEST_P(LstmElementMath, ForwardAndBackwardEqualAutogradThroughTheCellEquations) {
  const bool use_tanh = GetParam();
  torch::manual_seed(7);
  const auto pre = randn({B, 4 * H}).requires_grad_();
  const auto c_prev = randn({B, H}).requires_grad_();
  const auto act = [&](const Tensor& v) { return use_tanh ? torch::tanh(v) : torch::relu(v); };
  const auto parts = pre.chunk(4, 1);
  const auto i = torch::sigmoid(parts[0]), f = torch::sigmoid(parts[1]);
  const auto g = act(parts[2]), o = torch::sigmoid(parts[3]);
  const auto c = f * c_prev + i * g;
  const auto h = o * act(c);

  auto gates = pre.detach().clone();
  auto c_out = torch::empty({B, H}, gates.options());
  auto act_c = torch::empty({B, H}, gates.options());
  auto h_out = torch::empty({B, H}, gates.options());
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t j = 0; j < H; ++j) {
      lstm_forward(gates.data_ptr<double>(), c_prev.data_ptr<double>(), c_out.data_ptr<double>(),
                   use_tanh ? act_c.data_ptr<double>() : nullptr, h_out.data_ptr<double>(), H, r, j,
                   use_tanh);
    }
  }
  expect_close(gates, torch::cat({i, f, g, o}, 1).detach(), "gate activations");
  expect_close(c_out, c.detach(), "c");
  expect_close(h_out, h.detach(), "h");
  if (use_tanh) expect_close(act_c, torch::tanh(c).detach(), "tanh(c)");

  // The grads of h_t and c_t arrive; the pre-activations' and c_{t-1}'s leave.
  const auto dh_carried = randn({B, H});
  const auto dout = randn({H, B}).t();  // a strided output grad, as a batch-first output gives
  const auto dc_in = randn({B, H});
  torch::autograd::backward({h, c}, {dh_carried + dout, dc_in});
  auto dgates = torch::empty({B, 4 * H}, gates.options());
  auto dc = dc_in.clone();
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t j = 0; j < H; ++j) {
      lstm_backward(gates.data_ptr<double>(), c_prev.data_ptr<double>(), c_out.data_ptr<double>(),
                    use_tanh ? act_c.data_ptr<double>() : nullptr, dh_carried.data_ptr<double>(),
                    dout[r][j].item<double>(), dc.data_ptr<double>(), dgates.data_ptr<double>(), H,
                    r, j, use_tanh);
    }
  }
  expect_close(dgates, pre.grad(), "pre-activation grads");
  expect_close(dc, c_prev.grad(), "grad of c_{t-1}");
}

INSTANTIATE_TEST_SUITE_P(TanhAndRelu, LstmElementMath, ::testing::Values(true, false));

TEST(GruElementMath, ForwardAndBackwardEqualAutogradThroughTheCellEquations) {
  torch::manual_seed(11);
  const auto x_part = randn({B, 3 * H}).requires_grad_();  // x W_x + b
  const auto u = randn({B, 3 * H}).requires_grad_();       // h_{t-1} W_h + [0, 0, b_hn]
  const auto h_prev = randn({B, H}).requires_grad_();
  const auto xs = x_part.chunk(3, 1);
  const auto us = u.chunk(3, 1);
  const auto r = torch::sigmoid(xs[0] + us[0]);
  const auto z = torch::sigmoid(xs[1] + us[1]);
  const auto n = torch::tanh(xs[2] + r * us[2]);
  const auto h = (1 - z) * n + z * h_prev;

  auto gates = x_part.detach().clone();
  auto h_out = torch::empty({B, H}, gates.options());
  auto u_n = torch::empty({B, H}, gates.options());
  for (int64_t row = 0; row < B; ++row) {
    for (int64_t j = 0; j < H; ++j) {
      gru_forward(gates.data_ptr<double>(), u.data_ptr<double>(), h_prev.data_ptr<double>(),
                  h_out.data_ptr<double>(), u_n.data_ptr<double>(), H, row, j);
    }
  }
  expect_close(gates, torch::cat({r, z, n}, 1).detach(), "gate activations");
  expect_close(h_out, h.detach(), "h");
  expect_close(u_n, us[2].detach(), "u_n");

  const auto dh_carried = randn({B, H});
  const auto dout = randn({B, H});
  torch::autograd::backward({h}, {dh_carried + dout});
  auto dgates = torch::empty({B, 4 * H}, gates.options());
  auto dh = dh_carried.clone();
  for (int64_t row = 0; row < B; ++row) {
    for (int64_t j = 0; j < H; ++j) {
      gru_backward(gates.data_ptr<double>(), u_n.data_ptr<double>(), h_prev.data_ptr<double>(),
                   dh.data_ptr<double>(), dout[row][j].item<double>(), dgates.data_ptr<double>(), H,
                   row, j);
    }
  }
  const auto d = dgates.chunk(4, 1);  // du_n, dr, dz, dn
  const auto dx = x_part.grad().chunk(3, 1);
  const auto du = u.grad().chunk(3, 1);
  expect_close(d[0], du[2], "du_n");
  expect_close(d[1], dx[0], "dr (the pre-activation of r)");
  expect_close(d[2], dx[1], "dz");
  expect_close(d[3], dx[2], "dn");
  // The grad of h_{t-1} is dh_t z plus what the product dgates W_h^T carries; the z part is here.
  expect_close(dh, (dh_carried + dout) * z.detach(), "dh_t z");
}

}  // namespace
