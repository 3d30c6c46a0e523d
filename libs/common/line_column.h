// 1-based line and column of a byte offset in a text, for diagnostics that point into a file.
//
//   LineColumn at = LineColumnAt("ab\ncd", 4);   // {2, 2}
//   TextLines lines(text);                       // many offsets into one large text:
//   LineColumn at = lines.At(offset);            // O(log lines) each, not O(offset)
//
// Columns count bytes. An offset past the end gives the position just after the last byte.
#ifndef WORKERPAIR_LIBS_COMMON_LINE_COLUMN_H_
#define WORKERPAIR_LIBS_COMMON_LINE_COLUMN_H_

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace workerpair {

struct LineColumn {
  int line = 1;
  int column = 1;
};

inline LineColumn LineColumnAt(std::string_view text, std::size_t offset) {
  LineColumn position;
  const std::size_t end = std::min(offset, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      position.column = 1;
    } else {
      ++position.column;
    }
  }
  return position;
}

class TextLines {
 public:
  explicit TextLines(std::string_view text) : size_(text.size()) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  LineColumn At(std::size_t offset) const {
    offset = std::min(offset, size_);
    // The last line start at or before `offset`.
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    return LineColumn{static_cast<int>(next - line_starts_.begin()),
                      static_cast<int>(offset - *(next - 1)) + 1};
  }

 private:
  std::size_t size_;
  std::vector<std::size_t> line_starts_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_LINE_COLUMN_H_
