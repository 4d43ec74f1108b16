#include "data/utf8.h"

#include <fmt/format.h>

namespace lstmlab {
namespace {

// The length of a well-formed sequence at `i`, and its code point; 0 when it is not one.
// Follows the table of well-formed byte sequences in Unicode's chapter 3 (D92).
int sequence_at(std::string_view s, size_t i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  int n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + static_cast<size_t>(n) > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    const unsigned char b = byte(i + static_cast<size_t>(k));
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return n;
}

}  // namespace

InvalidUtf8::InvalidUtf8(int64_t offset, unsigned char byte)
    : std::invalid_argument(fmt::format("invalid UTF-8 at byte offset {} (0x{:02x})", offset, static_cast<unsigned>(byte))),
      offset_(offset) {}

std::u32string decode_utf8(std::string_view bytes, InvalidUtf8Policy policy) {
  std::u32string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    char32_t cp = 0;
    const int n = sequence_at(bytes, i, cp);
    if (n > 0) {
      out.push_back(cp);
      i += static_cast<size_t>(n);
      continue;
    }
    if (policy == InvalidUtf8Policy::Error) {
      throw InvalidUtf8(static_cast<int64_t>(i), static_cast<unsigned char>(bytes[i]));
    }
    out.push_back(U'\uFFFD');
    ++i;  // one replacement per bad byte, then resynchronise on the next
    while (i < bytes.size() && (static_cast<unsigned char>(bytes[i]) & 0xC0) == 0x80) ++i;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : text) append_utf8(out, cp);
  return out;
}

int64_t count_code_points(std::string_view bytes) {
  return static_cast<int64_t>(decode_utf8(bytes).size());
}

}  // namespace lstmlab
