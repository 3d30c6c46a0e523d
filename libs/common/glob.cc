#include "libs/common/glob.h"

#include <cstddef>

namespace workerpair {
namespace {

// Matches a character class starting at pattern[p] == '['. On success sets `next` past the
// closing ']' and returns whether `c` is in the class; a class with no ']' is a literal '['.
bool MatchClass(std::string_view pattern, std::size_t p, char c, std::size_t& next, bool& valid) {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  for (; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
    char lo = pattern[i];
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      char hi = pattern[i + 2];
      if (lo <= c && c <= hi) matched = true;
      i += 3;
    } else {
      if (lo == c) matched = true;
      ++i;
    }
  }
  if (i >= pattern.size()) {
    valid = false;
    return false;
  }
  valid = true;
  next = i + 1;
  return matched != negate;
}

// Matches one path segment (no '/') against one pattern segment, with backtracking on '*'.
bool MatchSegment(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t next = 0;
        bool valid = false;
        bool in_class = MatchClass(pattern, p, text[t], next, valid);
        if (valid && in_class) {
          p = next;
          ++t;
          continue;
        }
        if (!valid && text[t] == '[') {
          ++p;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view NextSegment(std::string_view& rest) {
  std::size_t slash = rest.find('/');
  std::string_view segment = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  return segment;
}

// Matches whole paths segment by segment; `**` may swallow any number of segments.
bool MatchPath(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return path.empty();
  std::string_view pattern_rest = pattern;
  std::string_view segment = NextSegment(pattern_rest);
  if (segment == "**") {
    if (pattern_rest.empty()) return true;
    std::string_view path_rest = path;
    while (true) {
      if (MatchPath(pattern_rest, path_rest)) return true;
      if (path_rest.empty()) return false;
      NextSegment(path_rest);
    }
  }
  if (path.empty()) return false;
  std::string_view path_rest = path;
  std::string_view name = NextSegment(path_rest);
  if (!MatchSegment(segment, name)) return false;
  if (pattern_rest.empty()) return path_rest.empty() && path.find('/') == std::string_view::npos;
  return MatchPath(pattern_rest, path_rest);
}

}  // namespace

bool GlobMatches(std::string_view pattern, std::string_view relative_path) {
  if (pattern.empty()) return true;
  if (pattern.find('/') == std::string_view::npos) {
    std::size_t slash = relative_path.rfind('/');
    std::string_view name =
        slash == std::string_view::npos ? relative_path : relative_path.substr(slash + 1);
    return MatchSegment(pattern, name);
  }
  return MatchPath(pattern, relative_path);
}

}  // namespace workerpair
