// StrCat: concatenation for messages, taking std::string_view.
//
// Debian's abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// which std::string_view does not convert to, so StrCat cannot take our C++20 views.
//
//   std::string message = StrCat("'", path, "' is ", size, " bytes");
#ifndef WORKERPAIR_LIBS_COMMON_STR_CAT_H_
#define WORKERPAIR_LIBS_COMMON_STR_CAT_H_

#include <charconv>
#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace workerpair {
namespace str_cat_internal {

inline void Append(std::string& out, std::string_view piece) { out.append(piece); }
// String literals: take the array's length as known, so no null check is generated.
template <std::size_t N>
void Append(std::string& out, const char (&literal)[N]) {
  out.append(literal, N > 0 && literal[N - 1] == '\0' ? N - 1 : N);
}
inline void Append(std::string& out, const char* text) { out.append(text); }
inline void Append(std::string& out, char c) { out.push_back(c); }
inline void Append(std::string& out, bool b) { out.append(b ? "true" : "false"); }

template <typename T>
  requires(std::integral<T> && !std::same_as<T, char> && !std::same_as<T, bool>)
void Append(std::string& out, T value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

template <typename T>
  requires std::floating_point<T>
void Append(std::string& out, T value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (str_cat_internal::Append(out, args), ...);
  return out;
}

// `value` with exactly `decimals` digits after the point, rounded as printf rounds:
// FixedDecimals(2.0, 1) == "2.0", FixedDecimals(3.14159, 2) == "3.14".
inline std::string FixedDecimals(double value, int decimals) {
  const int length = std::snprintf(nullptr, 0, "%.*f", decimals, value);
  if (length <= 0) return std::string();
  std::string out(static_cast<std::size_t>(length) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", decimals, value);
  out.pop_back();
  return out;
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_STR_CAT_H_
