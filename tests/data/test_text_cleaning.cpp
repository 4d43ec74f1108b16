// The cleaning steps on HTML-laden fields as a CSV column of write-ups holds them (multi-line,
// quoted commas and quotes, entities, script and style, URLs, emoji with skin tones and ZWJ
// sequences), each step on and off, and d2l's preprocessing; expectations written out by hand.

#include "data/corpus_source.h"
#include "data/text_cleaning.h"
#include "data/utf8.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using lstmlab::CleaningOptions;
using lstmlab::encode_utf8;
using lstmlab::FieldsSource;

// U+1F389 party popper, twice.
const std::string kParty = "\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89";
// U+1F44D thumbs up + U+1F3FD medium skin tone.
const std::string kThumbsMedium = "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd";
// man ZWJ woman ZWJ girl.
const std::string kFamily = "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7";
// U+2764 heavy heart + VS16; U+263A smiling face + VS16.
const std::string kHeart = "\xe2\x9d\xa4\xef\xb8\x8f";
const std::string kSmile = "\xe2\x98\xba\xef\xb8\x8f";

std::vector<std::string> writeup_fields() {
  return {
      "<h2>1st place</h2><p>Thanks&nbsp;to Kaggle &amp; the hosts! It&#39;s been fun "
      "&eacute;t&eacute; " + kParty + "</p>\n"
      "<script>var x = \"<p>no</p>\";</script><style>p { color: red; }</style>\n"
      "<p>Code: https://github.com/a/b?x=1, see www.example.com too.</p>",
      "She wrote: \"use 5-fold CV, then ensemble\"\n<br>Thumbs " + kThumbsMedium + " up, family " +
          kFamily + " here\n" + kHeart + " love " + kSmile + " end",
      "<p>" + kParty + "</p>",  // nothing left: no empty line for it
  };
}

std::string clean(const std::vector<std::string>& fields, CleaningOptions options) {
  return encode_utf8(lstmlab::read_corpus(FieldsSource("writeups.csv column Writeup", fields), options));
}

CleaningOptions html_on() {
  CleaningOptions o;
  o.html = true;
  return o;
}

TEST(TextCleaning, HtmlFieldsComeOutExactly) {
  EXPECT_EQ(clean(writeup_fields(), html_on()),
            "1st place\n"
            "Thanks to Kaggle & the hosts! It's been fun \xc3\xa9t\xc3\xa9\n"
            "Code: see too.\n"
            "She wrote: \"use 5-fold CV, then ensemble\"\n"
            "Thumbs up, family here\n"
            "love end");
}

TEST(TextCleaning, EachStepSwitchesOff) {
  const std::vector<std::string> one = {"<b>Hi</b>  there https://x.y/z " + kThumbsMedium + "!"};
  auto o = html_on();
  EXPECT_EQ(clean(one, o), "Hi there !");
  o.html = false;
  EXPECT_EQ(clean(one, o), "<b>Hi</b> there !");
  o = html_on();
  o.urls = false;
  EXPECT_EQ(clean(one, o), "Hi there https://x.y/z !");
  o = html_on();
  o.emoji = false;
  EXPECT_EQ(clean(one, o), "Hi there " + kThumbsMedium + "!");
  o = html_on();
  o.fold_whitespace = false;
  EXPECT_EQ(clean(one, o), "Hi  there  !");
  o = html_on();
  o.lower = true;
  EXPECT_EQ(clean({"<p>CAF\xc3\x89 Time</p>"}, o), "caf\xc3\xa9 time") << "lower case beyond ASCII";
}

TEST(TextCleaning, EmojiGoByPropertyWithTheirJoinersAndOthersStay) {
  using lstmlab::decode_utf8;
  // A keycap digit keeps its digit; a regional-indicator flag goes whole; text symbols stay.
  EXPECT_EQ(encode_utf8(lstmlab::remove_emoji(decode_utf8("1\xef\xb8\x8f\xe2\x83\xa3 ok"))), "1\xef\xb8\x8f\xe2\x83\xa3 ok")
      << "a digit is not a pictograph, so its keycap stays with it";
  EXPECT_EQ(encode_utf8(lstmlab::remove_emoji(decode_utf8("go \xf0\x9f\x87\xab\xf0\x9f\x87\xb7!"))), "go !");
  EXPECT_EQ(encode_utf8(lstmlab::remove_emoji(decode_utf8("a\xe2\x80\x8d" "b 5% \xc3\xa9"))), "a\xe2\x80\x8d" "b 5% \xc3\xa9")
      << "a ZWJ between letters is not an emoji's";
}

TEST(TextCleaning, D2lPresetKeepsLettersOnlyLowerCased) {
  CleaningOptions o;
  o.d2l = true;
  EXPECT_EQ(encode_utf8(lstmlab::clean_text("The Time-Traveller's 2nd, na\xc3\xafve!", o)),
            "the time traveller s nd na ve ");
  EXPECT_EQ(encode_utf8(lstmlab::clean_text("\n\nI\n\nThe", o)), " i the");
}

TEST(TextCleaning, AnEmptyCorpusAfterCleaningIsOneClearError) {
  try {
    clean({"<p>" + kParty + "</p>", "<script>x()</script>"}, html_on());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "writeups.csv column Writeup: the corpus is empty after cleaning (2 document(s), "
                 "35 bytes before); check the cleaning flags");
  }
}

TEST(TextCleaning, InvalidUtf8NamesTheFieldAndTheByte) {
  try {
    clean({"fine", "ab\xff" "c"}, html_on());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "writeups.csv column Writeup: invalid UTF-8 at field 2, byte offset 2 of the field "
                 "(0xff); fix the file or pass --on-invalid-utf8 replace");
  }
  auto o = html_on();
  o.on_invalid = lstmlab::InvalidUtf8Policy::Replace;
  EXPECT_EQ(clean({"ab\xff" "c"}, o), "ab\xef\xbf\xbd" "c");
}

}  // namespace
