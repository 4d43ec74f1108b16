// Code points, not bytes; invalid UTF-8 refused at the offset of its first bad byte.

#include "data/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using lstmlab::count_code_points;
using lstmlab::decode_utf8;
using lstmlab::InvalidUtf8;
using lstmlab::InvalidUtf8Policy;

TEST(Utf8, CountsCodePointsNotBytes) {
  const std::string cafe = "na\xc3\xafve caf\xc3\xa9";  // "naïve café"
  EXPECT_EQ(cafe.size(), 12u);
  EXPECT_EQ(count_code_points(cafe), 10);
  EXPECT_EQ(count_code_points("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), 2) << "thumbs up + skin tone";
  EXPECT_EQ(count_code_points("e\xcc\x81"), 2) << "e + combining acute is two code points";
  EXPECT_EQ(count_code_points(""), 0);
  EXPECT_EQ(decode_utf8("\xe2\x82\xac"), std::u32string(1, U'\u20AC'));
  EXPECT_EQ(lstmlab::encode_utf8(decode_utf8(cafe)), cafe);
}

int64_t bad_offset(const std::string& bytes) {
  try {
    decode_utf8(bytes);
  } catch (const InvalidUtf8& e) {
    return e.offset();
  }
  return -1;
}

TEST(Utf8, InvalidBytesAreRefusedAtTheirOffset) {
  EXPECT_EQ(bad_offset("ab\xff" "cd"), 2) << "a byte that never starts a sequence";
  EXPECT_EQ(bad_offset("abc\xe2\x82"), 3) << "a sequence cut short by the end";
  EXPECT_EQ(bad_offset("\xc0\x80"), 0) << "an overlong NUL";
  EXPECT_EQ(bad_offset("x\xed\xa0\x80"), 1) << "a surrogate";
  EXPECT_EQ(bad_offset("xy\xf4\x90\x80\x80"), 2) << "past U+10FFFF";
  EXPECT_EQ(bad_offset("\xc3\xa9\x80"), 2) << "a stray continuation byte";
  EXPECT_EQ(bad_offset("\xc3\xa9t\xc3\xa9"), -1);
  try {
    decode_utf8("ab\xff");
    FAIL() << "no error";
  } catch (const InvalidUtf8& e) {
    EXPECT_STREQ(e.what(), "invalid UTF-8 at byte offset 2 (0xff)");
  }
}

TEST(Utf8, ReplaceTurnsEachBadSequenceIntoOneReplacementCharacter) {
  EXPECT_EQ(decode_utf8("ab\xff" "cd", InvalidUtf8Policy::Replace), U"ab\uFFFDcd");
  EXPECT_EQ(decode_utf8("a\xe2\x82", InvalidUtf8Policy::Replace), U"a\uFFFD");
}

}  // namespace
