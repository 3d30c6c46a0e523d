// TextPreview: a caller's text as it may appear inside an error message: bounded in length,
// control characters escaped, never cut inside a UTF-8 sequence.
//
//   StrCat("unknown key '", TextPreview(key), "'")   // "unknown key 'a\nb'" -> 'a\\nb'
//   TextPreview(std::string(100000, 'x'))            // "xxx...xxx... (100000 bytes)"
//
// Messages carry what was wrong, not the caller's data back at any length: a megabyte-long key
// or attribute would otherwise become a megabyte-long diagnostic, and a newline in a name could
// forge a second line in a log. Header-only, no dependencies.
#ifndef WORKERPAIR_LIBS_COMMON_TEXT_PREVIEW_H_
#define WORKERPAIR_LIBS_COMMON_TEXT_PREVIEW_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace workerpair {

// Longest preview by default, in bytes of the original text.
inline constexpr std::size_t kDefaultPreviewBytes = 80;

// `text` cut to at most `max_bytes` bytes (at a UTF-8 character boundary), with bytes below
// 0x20 and 0x7f written as \n, \t, \r or \xNN, and " ... (N bytes)" appended when cut.
inline std::string TextPreview(std::string_view text,
                               std::size_t max_bytes = kDefaultPreviewBytes) {
  std::size_t keep = text.size();
  if (keep > max_bytes) {
    keep = max_bytes;
    // Back up over UTF-8 continuation bytes so no character is split.
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  }
  std::string out;
  out.reserve(keep + 16);
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < keep; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (keep < text.size()) {
    out += "... (";
    out += std::to_string(text.size());
    out += " bytes)";
  }
  return out;
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_TEXT_PREVIEW_H_
