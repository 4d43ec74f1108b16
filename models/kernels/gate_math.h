#pragma once
// The exponential behind the fused layer's gates: sigmoid(v) = 1 / (1 + exp(-v)) and
// tanh(v) = 1 - 2 / (1 + exp(2v)). In float, std::exp is a call per element that the compiler
// cannot vectorize (glibc 2.36: 3.5 ns); gate_exp is inline arithmetic that it can, 4 floats an
// instruction with plain SSE2 (1.5 ns an element here), 8 with AVX2 (0.6 ns). Double keeps
// std::exp: float64 is the reference precision and its checks go to 1e-12.
//
// Float: exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln 2 / 2, ln 2 split in two for an exact
// r (Cody and Waite), exp(r) by the degree-7 polynomial of Cephes' expf. Relative error at most
// 1.1e-7, about an ulp, on [-86.9, 88.7] (tests/test_gate_math.cpp sweeps it). Below -86.9 it
// gives exp(-86.9), about 2e-38, where exp underflows to 0 or a subnormal (sigmoid and tanh come
// out the same: 1 + 2e-38 is 1); above about 88.72 it gives inf, as exp does. NaN gives NaN.
//
// The clamps compare floats: GCC if-converts them, and so vectorizes the loop, only where
// comparisons may not trap (-fno-trapping-math: CMakeLists.txt sets it for the cells' steps,
// models/lstm/lstm_step.cpp and models/gru/gru_step.cpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lstmlab {

inline float gate_exp(float x) {
  // std::min(a, b) is (b < a ? b : a): a NaN x fails both comparisons and goes on as NaN.
  x = std::min(x, 89.0f);   // k <= 128: 2^(k-1) below is a normal float, and exp(89) is inf
  x = std::max(x, -86.9f);  // k >= -125: 2^(k-1) is a normal float
  // k = round(x / ln 2) by adding 1.5 * 2^23: the sum's last mantissa bits are then k itself
  // (exact for |k| < 2^22), read off as an integer below; no float-to-int conversion, no SSE4.1.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float k = shifted - 12582912.0f;
  const float r = (x - k * 0.693359375f) - k * -2.12194440e-4f;  // ln 2 = 0.693359375 - 2.12e-4
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;  // exp(r)
  // 2^(k-1) from its exponent bits, then times 2: 2^k itself would overflow at k = 128, where
  // exp(x) is still finite for x up to ln(FLT_MAX) = 88.72. Unsigned: k < 0 wraps, as wanted.
  uint32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  const uint32_t bits = (shifted_bits - 0x4B400000u + 126u) << 23;  // 0x4B400000: 1.5 * 2^23
  float half_scale;
  std::memcpy(&half_scale, &bits, sizeof half_scale);
  return p * half_scale * 2.0f;
}

inline double gate_exp(double x) { return std::exp(x); }

}  // namespace lstmlab
