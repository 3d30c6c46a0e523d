#include "libs/scene/json_positions.h"

#include <cctype>

namespace workerpair::scene {
namespace {

class Indexer {
 public:
  Indexer(std::string_view text, int max_depth, std::size_t max_descend_pointer_bytes,
          JsonPositions* out)
      : text_(text), max_depth_(max_depth), max_pointer_(max_descend_pointer_bytes), out_(out) {}

  void Run() {
    SkipSpace();
    out_->offsets.emplace("", pos_);
    Value("", 0);
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }

  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // Skips a string starting at its opening quote; returns its content with \" and \\ decoded
  // (other escapes are kept as written, which is enough to name keys).
  std::string String() {
    std::string decoded;
    ++pos_;
    while (!AtEnd() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '"' || next == '\\' || next == '/') {
          decoded.push_back(next);
        } else {
          decoded.append(text_.substr(pos_, 2));
        }
        pos_ += 2;
        continue;
      }
      decoded.push_back(text_[pos_++]);
    }
    ++pos_;  // closing quote
    return decoded;
  }

  void Value(const std::string& pointer, int depth) {
    SkipSpace();
    if (AtEnd()) return;
    const char c = text_[pos_];
    if ((c == '{' || c == '[') && (depth >= max_depth_ || pointer.size() > max_pointer_)) {
      SkipContainer();
      return;
    }
    if (c == '{') {
      Object(pointer, depth);
    } else if (c == '[') {
      Array(pointer, depth);
    } else if (c == '"') {
      String();
    } else {
      // number, true, false, null
      while (!AtEnd() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
             !std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
    }
  }

  void Object(const std::string& pointer, int depth) {
    ++pos_;
    while (true) {
      SkipSpace();
      if (AtEnd() || text_[pos_] == '}') break;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      const std::size_t key_offset = pos_;
      const std::string child = pointer + "/" + JsonPointerToken(String());
      if (!out_->offsets.emplace(child, key_offset).second) {
        out_->duplicates.push_back(child);
        out_->duplicate_offsets.push_back(key_offset);
      }
      SkipSpace();
      if (!AtEnd() && text_[pos_] == ':') ++pos_;
      Value(child, depth + 1);
    }
    ++pos_;
  }

  void Array(const std::string& pointer, int depth) {
    ++pos_;
    for (std::size_t index = 0;; ++index) {
      SkipSpace();
      if (AtEnd() || text_[pos_] == ']') break;
      if (text_[pos_] == ',') {
        ++pos_;
        SkipSpace();
      }
      const std::string child = pointer + "/" + std::to_string(index);
      const std::size_t before = pos_;
      out_->offsets.emplace(child, pos_);
      Value(child, depth + 1);
      // On text that is not JSON (a stray '}'), step over the byte rather than loop on it.
      if (pos_ == before) ++pos_;
    }
    ++pos_;
  }

  // Skips a container without indexing it, iteratively (no recursion on deep input).
  void SkipContainer() {
    int depth = 0;
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c == '"') {
        String();
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return;
    }
  }

  std::string_view text_;
  int max_depth_;
  std::size_t max_pointer_;
  JsonPositions* out_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string JsonPointerToken(std::string_view key) {
  std::string token;
  for (char c : key) {
    if (c == '~') {
      token += "~0";
    } else if (c == '/') {
      token += "~1";
    } else {
      token.push_back(c);
    }
  }
  return token;
}

JsonPositions IndexJsonPositions(std::string_view text, int max_depth,
                                 std::size_t max_descend_pointer_bytes) {
  JsonPositions positions;
  Indexer(text, max_depth, max_descend_pointer_bytes, &positions).Run();
  return positions;
}

}  // namespace workerpair::scene
