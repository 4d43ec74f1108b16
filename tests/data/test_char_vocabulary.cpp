// The character vocabulary: its orders, <unk> for rare characters, encode/decode, vocab.tsv.

#include "data/char_vocabulary.h"
#include "data/utf8.h"
#include "tests/temp_paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace {

using lstmlab::CharVocabulary;
using lstmlab::VocabularyOrder;
constexpr int32_t kUnk = CharVocabulary::kUnknown;

TEST(CharVocabulary, FrequencyThenCodePointWithUnknownFirst) {
  const auto v = CharVocabulary::build(U"banana!", 1, VocabularyOrder::Frequency);
  EXPECT_EQ(v.code_points(), (std::vector<int32_t>{kUnk, 'a', 'n', '!', 'b'}));
  EXPECT_EQ(v.counts(), (std::vector<int64_t>{0, 3, 2, 1, 1}));
  EXPECT_EQ(v.unknown_index(), 0);
}

TEST(CharVocabulary, MinCountSendsRareCharactersToUnknown) {
  const auto v = CharVocabulary::build(U"banana!", 2, VocabularyOrder::Frequency);
  EXPECT_EQ(v.code_points(), (std::vector<int32_t>{kUnk, 'a', 'n'}));
  EXPECT_EQ(v.counts(), (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(v.encode(U"ban!"), (std::vector<int64_t>{0, 1, 2, 0}));
  EXPECT_EQ(v.decode({0, 1, 2}), "<unk>an");
}

TEST(CharVocabulary, D2lSortsTheTokensAsStringsUnknownAmongThem) {
  // d2l: sorted(set(['<unk>'] + tokens)): ' ' < ';' < '<unk>' < '=' < 'a'.
  const auto v = CharVocabulary::build(U"a=; a", 1, VocabularyOrder::D2l);
  EXPECT_EQ(v.code_points(), (std::vector<int32_t>{' ', ';', kUnk, '=', 'a'}));
  EXPECT_EQ(v.unknown_index(), 2);
}

TEST(CharVocabulary, EncodeDecodeRoundTrip) {
  const std::string text = "na\xc3\xafve caf\xc3\xa9 \xf0\x9f\x98\x80\n";
  const auto chars = lstmlab::decode_utf8(text);
  const auto v = CharVocabulary::build(chars, 1, VocabularyOrder::Frequency);
  EXPECT_EQ(v.size(), 12) << "11 distinct characters and <unk>";
  EXPECT_EQ(v.decode(v.encode(chars)), text);
  EXPECT_THROW(v.decode({12}), std::out_of_range);
}

TEST(CharVocabulary, TsvRoundTripKeepsEveryCodePointAndCount) {
  lstmlab::test::TempPaths paths;
  const auto path = paths.path("vocab.tsv");
  const auto v = CharVocabulary::build(lstmlab::decode_utf8("a\tb\nc\\ \xc3\xa9\xf0\x9f\x98\x80" "aa"), 1,
                                       VocabularyOrder::Frequency);
  {
    std::ofstream out(path);
    out << v.to_tsv();
  }
  const auto lines = v.to_tsv();
  EXPECT_EQ(lines.substr(0, lines.find('\n', lines.find('\n') + 1) + 1),
            "index\tcode_point\ttoken\tcount\n0\t<unk>\t<unk>\t0\n");
  EXPECT_NE(lines.find("\tU+000A\t\\n\t1\n"), std::string::npos) << "a newline is escaped";
  EXPECT_NE(lines.find("\tU+1F600\t\xf0\x9f\x98\x80\t1\n"), std::string::npos);
  EXPECT_TRUE(CharVocabulary::load(path) == v);
}

TEST(CharVocabulary, ABadFileNamesItsLine) {
  lstmlab::test::TempPaths paths;
  const auto path = paths.path("bad.tsv");
  {
    std::ofstream out(path);
    out << "index\tcode_point\ttoken\tcount\n0\t<unk>\t<unk>\t0\n1\tQ+41\tA\t3\n";
  }
  try {
    CharVocabulary::load(path);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3: 'Q+41' is not a code point (U+XXXX) or <unk>");
  }
}

}  // namespace
