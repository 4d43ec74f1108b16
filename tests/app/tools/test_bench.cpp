// `lstm-lab bench`: the FLOP count it divides by, its --size parser, and one tiny run through the
// library whose report and JSON are checked field by field. Speed itself is never asserted.

#include "app/tools/bench.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace lstmlab {
namespace {

TEST(Bench, GateFlopsCountedByHand) {
  // T 3, B 2, I 5, H 4 (G 16): 2 * (T*B) * (I+H) * G = 2 * 6 * 9 * 16 = 1728 for the first layer;
  // a second layer reads H inputs: 2 * 6 * 8 * 16 = 1536 more.
  const BenchSize s{"hand", 2, 3, 5, 4};
  EXPECT_DOUBLE_EQ(gate_flops_forward(s, 1), 1728.0);
  EXPECT_DOUBLE_EQ(gate_flops_forward(s, 2), 1728.0 + 1536.0);
}

TEST(Bench, SizeParserNamesTheFlag) {
  const BenchSize s = parse_bench_size("64,50,64,256");
  EXPECT_EQ(s.B, 64);
  EXPECT_EQ(s.T, 50);
  EXPECT_EQ(s.I, 64);
  EXPECT_EQ(s.H, 256);
  for (const char* bad : {"64,50,64", "64,50,64,256,1", "64,x,64,256", "64,0,64,256", ""}) {
    try {
      parse_bench_size(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--size"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("B,T,I,H"), std::string::npos) << e.what();
    }
  }
}

TEST(Bench, TinyRunReportsEveryVariantAndValidJson) {
  BenchOptions o;
  o.sizes = {parse_bench_size("3,4,2,5")};
  o.repeats = 1;
  o.layers = 2;
  const BenchReport report = run_bench(o);
  EXPECT_GT(report.matmul_gflops, 0.0);
  ASSERT_EQ(report.rows.size(), o.variants.size());

  // Through text, as a reader of the file gets it.
  const auto j = nlohmann::json::parse(bench_json(report).dump());
  EXPECT_EQ(j.at("repeats"), 1);
  EXPECT_GT(j.at("matmul_gflops").get<double>(), 0.0);
  EXPECT_TRUE(j.at("runtime").is_string());
  EXPECT_TRUE(j.at("heap_kept").is_boolean());
  EXPECT_EQ(j.at("clock"), "wall clock");  // on the CPU
  std::set<std::string> variants;
  const double gflop = gate_flops_forward(o.sizes[0], 2) / 1e9;
  for (const auto& row : j.at("rows")) {
    variants.insert(row.at("variant").get<std::string>());
    EXPECT_EQ(row.at("size"), "custom");
    EXPECT_EQ(row.at("B"), 3);
    EXPECT_EQ(row.at("T"), 4);
    EXPECT_EQ(row.at("I"), 2);
    EXPECT_EQ(row.at("H"), 5);
    EXPECT_DOUBLE_EQ(row.at("gflop_forward").get<double>(), gflop);
    EXPECT_DOUBLE_EQ(row.at("gflop_forward_backward").get<double>(), 3 * gflop);
    for (const char* phase : {"forward", "forward_backward"}) {
      const auto& t = row.at(phase);
      const double lo = t.at("min_s"), mid = t.at("median_s"), hi = t.at("max_s");
      EXPECT_GT(lo, 0.0) << phase;
      EXPECT_LE(lo, mid) << phase;
      EXPECT_LE(mid, hi) << phase;
    }
    // % of the matrix-product rate follows from the fields beside it.
    const double pct = row.at("pct_of_matmul_forward");
    EXPECT_NEAR(pct,
                100.0 * gflop / row.at("forward").at("median_s").get<double>() /
                    j.at("matmul_gflops").get<double>(),
                1e-9 * pct);
  }
  EXPECT_EQ(variants, (std::set<std::string>{"builtin", "scratch-autograd", "scratch-fused",
                                             "products-only"}));
}

TEST(Bench, RatiosPairEachLayerWithTheBuiltInOfItsOwnSize) {
  // Two custom sizes share the name "custom": each ratio must still use its own size's built-in.
  BenchReport r;
  r.matmul_gflops = 1;
  r.repeats = 1;
  const BenchSize a = parse_bench_size("3,4,2,5");
  const BenchSize b = parse_bench_size("2,2,2,2");
  const auto row = [](const BenchSize& s, const std::string& variant, double seconds) {
    BenchRow out;
    out.size = s;
    out.variant = variant;
    out.forward = out.forward_backward = Timing{seconds, seconds, seconds};
    return out;
  };
  r.rows = {row(a, "builtin", 2.0), row(a, "scratch-fused", 0.5), row(b, "builtin", 3.0),
            row(b, "scratch-fused", 1.0)};
  std::ostringstream out;
  print_bench(r, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("4.00x"), std::string::npos) << text;  // 2.0 / 0.5
  EXPECT_NE(text.find("3.00x"), std::string::npos) << text;  // 3.0 / 1.0
}

}  // namespace
}  // namespace lstmlab
