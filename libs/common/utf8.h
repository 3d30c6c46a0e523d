// UTF-8 checks for text that leaves the service in proto3 `string` fields, which must be valid
// UTF-8: a file name or a line of a file that is not (Latin-1 text, a binary file, a name made by
// git) would otherwise make the whole reply fail to serialise on the client.
//
//   if (!IsValidUtf8(name)) continue;          // no call can name it anyway
//   match.line = ToValidUtf8(line);           // lossy, and only for display
//
// Header-only, no dependencies.
#ifndef WORKERPAIR_LIBS_COMMON_UTF8_H_
#define WORKERPAIR_LIBS_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace workerpair {

// Length of the valid UTF-8 sequence at text[i] (1-4), or 0 when the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF included).
inline std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

inline bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `text` with every byte that does not start a valid sequence replaced by U+FFFD.
inline std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_UTF8_H_
