// Exact-text edits applied all or nothing, the way an agent edits a file it has read.
//
//   WP_ASSIGN_OR_RETURN(EditOutcome out, ApplyEdits(content, edits, "src/a.py"));
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_TEXT_EDIT_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_TEXT_EDIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::light {

struct TextEdit {
  std::string old_text;
  std::string new_text;
  // Replace every occurrence instead of requiring exactly one.
  bool replace_all = false;
};

struct EditOutcome {
  std::string content;
  // Replacements made by each edit, in order.
  std::vector<std::uint32_t> replacements;
};

// Applies `edits` in order, each to the previous result. INVALID_ARGUMENT for an empty
// old_text; FAILED_PRECONDITION when an edit's old_text is missing, or occurs more than once
// without replace_all. Messages name the edit by index and the file by `display_path`.
absl::StatusOr<EditOutcome> ApplyEdits(std::string content, const std::vector<TextEdit>& edits,
                                       std::string_view display_path);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_TEXT_EDIT_H_
