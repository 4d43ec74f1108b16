#include "data/text_cleaning.h"

#include "data/html_text.h"

#include <unicode/uchar.h>

#include <vector>

namespace lstmlab {
namespace {

bool is_space(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

bool is_line_break(char32_t c) {
  return c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f' || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

bool is_pictograph(char32_t c) {
  const auto cp = static_cast<UChar32>(c);
  return u_hasBinaryProperty(cp, UCHAR_EXTENDED_PICTOGRAPHIC) ||
         u_hasBinaryProperty(cp, UCHAR_EMOJI_PRESENTATION);
}

// What only means something joined to an emoji: ZWJ, the variation selectors, the combining
// keycap, the tag characters of subdivision flags.
bool is_emoji_joiner(char32_t c) {
  return c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || c == 0x20E3 || (c >= 0xE0020 && c <= 0xE007F);
}

bool starts_with(std::u32string_view text, size_t i, std::u32string_view prefix) {
  return text.substr(i, prefix.size()) == prefix;
}

}  // namespace

std::u32string remove_urls(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (starts_with(text, i, U"http") || starts_with(text, i, U"www.")) {
      while (i < text.size() && !is_space(text[i])) ++i;
      continue;
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::u32string remove_emoji(std::u32string_view text) {
  const size_t n = text.size();
  std::vector<bool> drop(n, false);
  for (size_t i = 0; i < n; ++i) drop[i] = is_pictograph(text[i]);
  // A joiner goes with the emoji on either side of it, through any joiners between.
  for (size_t i = 0; i < n; ++i) {
    if (!is_emoji_joiner(text[i])) continue;
    size_t before = i, after = i;
    while (before > 0 && is_emoji_joiner(text[before - 1])) --before;
    while (after < n && is_emoji_joiner(text[after])) ++after;
    const bool joined = (before > 0 && is_pictograph(text[before - 1])) ||
                        (after < n && is_pictograph(text[after]));
    if (joined) drop[i] = true;
  }
  std::u32string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!drop[i]) out.push_back(text[i]);
  }
  return out;
}

std::u32string fold_whitespace(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!is_space(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    bool line = false;
    for (; i < text.size() && is_space(text[i]); ++i) line = line || is_line_break(text[i]);
    if (!out.empty() && i < text.size()) out.push_back(line ? U'\n' : U' ');
  }
  return out;
}

std::u32string to_lower(std::u32string_view text) {
  std::u32string out(text);
  for (auto& c : out) c = static_cast<char32_t>(u_tolower(static_cast<UChar32>(c)));
  return out;
}

std::u32string d2l_preprocess(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char32_t c = text[i];
    if ((c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z')) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + (U'a' - U'A') : c);
      ++i;
      continue;
    }
    while (i < text.size() &&
           !((text[i] >= U'A' && text[i] <= U'Z') || (text[i] >= U'a' && text[i] <= U'z'))) {
      ++i;
    }
    out.push_back(U' ');
  }
  return out;
}

std::u32string clean_text(std::string_view text, const CleaningOptions& o) {
  // Decoded first, so an offset names a byte of the source, not of a cleaned copy.
  std::u32string chars = decode_utf8(text, o.on_invalid);
  if (o.html) chars = decode_utf8(html_to_text(encode_utf8(chars)));
  if (o.d2l) return d2l_preprocess(chars);
  if (o.urls) chars = remove_urls(chars);
  if (o.emoji) chars = remove_emoji(chars);
  if (o.fold_whitespace) chars = fold_whitespace(chars);
  if (o.lower) chars = to_lower(chars);
  return chars;
}

}  // namespace lstmlab
