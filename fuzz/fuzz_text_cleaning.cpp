// The text cleaner (data/text_cleaning.h, data/html_text.h, data/utf8.h) on any bytes. The first
// byte picks the switches; the rest is the text. Checks what holds for every input: valid UTF-8
// decodes and re-encodes to itself; U+FFFD replacement always yields valid code points; the
// cleaned text is valid Unicode; HTML to text never fails.

#include "data/html_text.h"
#include "data/text_cleaning.h"
#include "data/utf8.h"
#include "fuzz/fuzz_input.h"

#include <cstdlib>
#include <string>

namespace {

bool valid_code_points(const std::u32string& text) {
  for (const char32_t c : text) {
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lstmlab;
  if (size == 0) return 0;
  const uint8_t switches = data[0];
  const auto text = fuzz::text_of(data + 1, size - 1);

  bool valid = true;
  try {
    const auto decoded = decode_utf8(text);
    if (encode_utf8(decoded) != text) std::abort();
    if (count_code_points(text) != static_cast<int64_t>(decoded.size())) std::abort();
  } catch (const InvalidUtf8& e) {
    valid = false;
    if (e.offset() < 0 || e.offset() >= static_cast<int64_t>(text.size())) std::abort();
  }
  const auto replaced = decode_utf8(text, InvalidUtf8Policy::Replace);
  if (!valid_code_points(replaced)) std::abort();
  if (valid && encode_utf8(replaced) != text) std::abort();
  decode_utf8(encode_utf8(replaced));  // replacement output is valid UTF-8: throws otherwise

  (void)html_to_text(text);

  CleaningOptions options;
  options.html = switches & 1;
  options.urls = switches & 2;
  options.emoji = switches & 4;
  options.fold_whitespace = switches & 8;
  options.lower = switches & 16;
  options.d2l = switches & 32;
  options.on_invalid = (switches & 64) ? InvalidUtf8Policy::Replace : InvalidUtf8Policy::Error;
  try {
    const auto cleaned = clean_text(text, options);
    if (!valid_code_points(cleaned)) std::abort();
  } catch (const InvalidUtf8&) {
    if (options.on_invalid == InvalidUtf8Policy::Replace) std::abort();
  }
  return 0;
}
