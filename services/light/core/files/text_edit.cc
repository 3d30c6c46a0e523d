#include "services/light/core/files/text_edit.h"

#include <algorithm>

#include "libs/common/str_cat.h"
#include "absl/strings/str_join.h"

namespace workerpair::light {
namespace {

std::vector<std::size_t> FindAll(std::string_view haystack, std::string_view needle) {
  std::vector<std::size_t> offsets;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    offsets.push_back(at);
  }
  return offsets;
}

std::size_t LineOf(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

absl::StatusOr<EditOutcome> ApplyEdits(std::string content, const std::vector<TextEdit>& edits,
                                       std::string_view display_path) {
  EditOutcome outcome;
  outcome.replacements.reserve(edits.size());
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const TextEdit& edit = edits[i];
    if (edit.old_text.empty()) {
      return absl::InvalidArgumentError(
          StrCat("edit ", i, " on '", display_path, "' has an empty old_text"));
    }
    const std::vector<std::size_t> offsets = FindAll(content, edit.old_text);
    if (offsets.empty()) {
      return absl::FailedPreconditionError(StrCat(
          "edit ", i, " on '", display_path, "': old_text not found; no edit was applied"));
    }
    if (offsets.size() > 1 && !edit.replace_all) {
      std::vector<std::size_t> lines;
      for (std::size_t k = 0; k < std::min<std::size_t>(offsets.size(), 5); ++k) {
        lines.push_back(LineOf(content, offsets[k]));
      }
      return absl::FailedPreconditionError(StrCat(
          "edit ", i, " on '", display_path, "': old_text matches ", offsets.size(),
          " times (lines ", absl::StrJoin(lines, ", "), offsets.size() > 5 ? ", ..." : "",
          "); add surrounding text to make it unique or set replace_all; no edit was applied"));
    }
    // Rebuild in one pass so replacements never see their own output.
    std::string next;
    next.reserve(content.size() + offsets.size() * edit.new_text.size());
    std::size_t from = 0;
    for (std::size_t at : offsets) {
      next.append(content, from, at - from);
      next.append(edit.new_text);
      from = at + edit.old_text.size();
    }
    next.append(content, from, std::string::npos);
    content = std::move(next);
    outcome.replacements.push_back(static_cast<std::uint32_t>(offsets.size()));
  }
  outcome.content = std::move(content);
  return outcome;
}

}  // namespace workerpair::light
