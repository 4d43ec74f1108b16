#pragma once
// UTF-8 and code points: the unit of a text corpus is the Unicode code point, never the byte
// ("naïve café" is 10 characters in 12 bytes).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lstmlab {

/// Bytes that are not UTF-8 (a stray continuation byte, a truncated or overlong sequence, a
/// surrogate, a value past U+10FFFF): `offset` is the first byte of the bad sequence.
class InvalidUtf8 : public std::invalid_argument {
 public:
  InvalidUtf8(int64_t offset, unsigned char byte);
  int64_t offset() const { return offset_; }

 private:
  int64_t offset_;
};

enum class InvalidUtf8Policy {
  Error,    ///< throw InvalidUtf8
  Replace,  ///< each bad sequence becomes U+FFFD, as Python's errors="replace"
};

/// The code points of `bytes`.
std::u32string decode_utf8(std::string_view bytes, InvalidUtf8Policy policy = InvalidUtf8Policy::Error);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t code_point);
/// Code points in valid UTF-8 (throws InvalidUtf8 otherwise).
int64_t count_code_points(std::string_view bytes);

}  // namespace lstmlab
