#pragma once
// The cleaning steps between a source's text and a character corpus, in the order they run:
// HTML to text, URLs removed, emoji and pictographs removed, whitespace folded, lower case; or, in
// their place, d2l's Time Machine preprocessing. Each is a switch of its own.

#include "data/utf8.h"

#include <string>
#include <string_view>

namespace lstmlab {

struct CleaningOptions {
  /// HTML to text (data/html_text.h).
  bool html = false;
  /// Removes "http..." and "www." up to the next whitespace (the seed's `http\S+`, and www.).
  bool urls = true;
  /// Removes every code point with Unicode's Extended_Pictographic or Emoji_Presentation property
  /// (ICU), and the variation selectors, zero-width joiners, keycap marks and tag characters that
  /// are joined to one: a skin-toned or ZWJ family emoji leaves nothing behind.
  bool emoji = true;
  /// Each run of whitespace becomes one line break when it holds one, one space otherwise; none
  /// at the start or the end.
  bool fold_whitespace = true;
  bool lower = false;
  /// d2l's `re.sub('[^A-Za-z]+', ' ', text).lower()`, after HTML; it stands for the URL, emoji,
  /// whitespace and case steps, which are then skipped.
  bool d2l = false;
  InvalidUtf8Policy on_invalid = InvalidUtf8Policy::Error;
};

/// `text` (UTF-8) cleaned. Invalid UTF-8 throws InvalidUtf8 (offset into `text`) unless the policy
/// replaces it.
std::u32string clean_text(std::string_view text, const CleaningOptions& options);

// The steps alone, on code points.
std::u32string remove_urls(std::u32string_view text);
std::u32string remove_emoji(std::u32string_view text);
std::u32string fold_whitespace(std::u32string_view text);
std::u32string to_lower(std::u32string_view text);
std::u32string d2l_preprocess(std::u32string_view text);

}  // namespace lstmlab
