#pragma once
// HTML to plain text through a real HTML5 parser (Gumbo, the WHATWG parsing algorithm), as a
// browser's innerText would read it, simplified: tags dropped, entities decoded (&nbsp; is
// U+00A0, &eacute; is é), <script>, <style>, <template> and <noscript> content dropped, and each
// block element (p, div, li, h1..h6, tr, br, ...) set on lines of its own.

#include <string>
#include <string_view>

namespace lstmlab {

/// UTF-8 in, UTF-8 out. Whitespace is left as the document has it (fold it afterwards); a block
/// element adds a line break before and after its content.
std::string html_to_text(std::string_view html);

}  // namespace lstmlab
