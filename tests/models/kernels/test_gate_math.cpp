// gate_exp (models/kernels/gate_math.h) against exp in double, and the gate functions built on it at the
// ends of the float range, where the fused layer promises exact 0, 1 and -1 and NaN passing.

#include "models/kernels/gate_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace lstmlab {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float sigmoid_via_gate_exp(float v) { return 1.0f / (1.0f + gate_exp(-v)); }
float tanh_via_gate_exp(float v) { return 1.0f - 2.0f / (1.0f + gate_exp(2.0f * v)); }

/// Floats in number-line order as integers: the bits of |x|, negated for negative x.
int32_t ordinal(float x) {
  const float magnitude = std::fabs(x);
  int32_t bits;
  std::memcpy(&bits, &magnitude, sizeof bits);
  return x < 0 ? -bits : bits;
}

float from_ordinal(int32_t k) {
  const int32_t bits = k < 0 ? -k : k;
  float magnitude;
  std::memcpy(&magnitude, &bits, sizeof magnitude);
  return k < 0 ? -magnitude : magnitude;
}

/// Largest |gate_exp(x) - exp(x)| / exp(x) over [lo, hi], visiting every `stride`-th float.
double worst_relative_error(float lo, float hi, int32_t stride) {
  double worst = 0;
  for (int64_t k = ordinal(lo); k <= ordinal(hi); k += stride) {
    const float x = from_ordinal(static_cast<int32_t>(k));
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(static_cast<double>(gate_exp(x)) - exact) / exact);
  }
  return worst;
}

TEST(GateExp, WithinAboutAnUlpOfExpOverTheWholeRange) {
  // Every 997th float of the range the function promises (2 million), and every float near
  // both ends, where the scaling by 2^k is at its limits.
  EXPECT_LE(worst_relative_error(-86.9f, 88.7f, 997), 1.2e-7);
  EXPECT_LE(worst_relative_error(-86.9f, -86.0f, 1), 1.2e-7);
  EXPECT_LE(worst_relative_error(88.0f, 88.72f, 1), 1.2e-7);
}

TEST(GateExp, OneAtZero) {
  EXPECT_EQ(gate_exp(0.0f), 1.0f);
  EXPECT_EQ(gate_exp(-0.0f), 1.0f);
  EXPECT_NEAR(gate_exp(1.0f), std::exp(1.0), 3e-7);
}

TEST(GateExp, OverflowUnderflowAndNaN) {
  EXPECT_EQ(gate_exp(kInf), kInf);
  EXPECT_EQ(gate_exp(89.0f), kInf);
  EXPECT_TRUE(std::isfinite(gate_exp(88.72f)));  // just below ln(FLT_MAX): still finite
  // Below -86.9 it holds at exp(-86.9), a normal float near 2e-38, never negative or NaN.
  for (const float x : {-86.95f, -100.0f, -1e30f, -kInf}) {
    const float y = gate_exp(x);
    EXPECT_GT(y, 0.0f) << x;
    EXPECT_LE(y, 2.0e-38f) << x;
    EXPECT_TRUE(std::isnormal(y)) << x;
  }
  EXPECT_TRUE(std::isnan(gate_exp(std::numeric_limits<float>::quiet_NaN())));
}

TEST(GateExp, GateFunctionsExactAtTheEndsAndNaNPassing) {
  EXPECT_EQ(sigmoid_via_gate_exp(kInf), 1.0f);
  EXPECT_EQ(sigmoid_via_gate_exp(-kInf), 0.0f);
  EXPECT_EQ(sigmoid_via_gate_exp(200.0f), 1.0f);
  EXPECT_EQ(sigmoid_via_gate_exp(0.0f), 0.5f);
  EXPECT_EQ(tanh_via_gate_exp(kInf), 1.0f);
  EXPECT_EQ(tanh_via_gate_exp(-kInf), -1.0f);
  EXPECT_EQ(tanh_via_gate_exp(0.0f), 0.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(sigmoid_via_gate_exp(nan)));
  EXPECT_TRUE(std::isnan(tanh_via_gate_exp(nan)));
  // Against the library functions at ordinary values, to the absolute error the layer promises.
  for (float v = -10.0f; v <= 10.0f; v += 0.0625f) {
    EXPECT_NEAR(sigmoid_via_gate_exp(v), 1.0 / (1.0 + std::exp(-static_cast<double>(v))), 2.5e-7)
        << v;
    EXPECT_NEAR(tanh_via_gate_exp(v), std::tanh(static_cast<double>(v)), 2.5e-7) << v;
  }
}

// Double is the reference precision: exp to the last bit, against values written out here.
TEST(GateExp, DoubleIsExactToTheLastDigits) {
  const struct { double x, exp_x; } cases[] = {
      {0.0, 1.0},
      {1.0, 2.718281828459045},
      {-1.5, 0.22313016014842982},
      {2.5, 12.182493960703473},
      {-20.0, 2.061153622438558e-09},
  };
  for (const auto& c : cases) EXPECT_NEAR(gate_exp(c.x), c.exp_x, 2e-16 * c.exp_x) << c.x;
}

}  // namespace
}  // namespace lstmlab
