// ASCII-only character and string helpers, safe on any `char` (the <cctype> functions are
// undefined for negative values, which a plain `char` holding UTF-8 bytes has).
//
//   if (ascii::EndsWithIgnoreCase(path, ".stl")) ...
//   std::string lower = ascii::ToLower("Mesh.OBJ");   // "mesh.obj"; non-ASCII bytes unchanged
#ifndef WORKERPAIR_LIBS_COMMON_ASCII_H_
#define WORKERPAIR_LIBS_COMMON_ASCII_H_

#include <algorithm>
#include <string>
#include <string_view>

namespace workerpair::ascii {

inline constexpr char ToLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
inline constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline constexpr bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

inline std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLower(c);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ToLower(x) == ToLower(y); });
}

inline bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         EqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

}  // namespace workerpair::ascii

#endif  // WORKERPAIR_LIBS_COMMON_ASCII_H_
