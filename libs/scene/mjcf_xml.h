// A small XML element tree with source positions, parsed with expat: the one XML reader of the
// scene contract (worker-light's linter and worker-heavy's reference scan both read MJCF here).
//
// tinyxml2 reports lines only; expat reports line and column both for elements and for
// well-formedness errors, which is what lint diagnostics want. expat follows the XML rules
// exactly (only space, tab, CR and LF are whitespace; a form feed is not even a legal
// character), so a document it accepts has one reading, and attribute values arrive decoded
// (`&#47;` is '/').
//
//   absl::StatusOr<XmlParseResult> parsed = ParseXml(text);
//   if (parsed->error) { parsed->error->line ... }      // not well-formed
//   else for (const XmlElement& child : parsed->root->children) ...
#ifndef WORKERPAIR_LIBS_SCENE_MJCF_XML_H_
#define WORKERPAIR_LIBS_SCENE_MJCF_XML_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libs/common/call_budget.h"

namespace workerpair::scene {

struct XmlElement {
  std::string name;
  // Attributes in document order.
  std::vector<std::pair<std::string, std::string>> attributes;
  // 1-based position of the element's '<'.
  int line = 0;
  int column = 0;
  std::vector<std::unique_ptr<XmlElement>> children;

  // The attribute's value, or nullopt when absent.
  std::optional<std::string_view> Attribute(std::string_view key) const;
};

struct XmlError {
  int line = 0;
  int column = 0;
  std::string message;
};

struct XmlParseResult {
  // Set when the document is well-formed.
  std::unique_ptr<XmlElement> root;
  // Set when it is not (or nests deeper than the depth limit).
  std::optional<XmlError> error;
};

// What one document may hold: the tree costs ~150 bytes per element and ~80 per attribute, so
// these bound its memory (about 60 MiB) whatever the file size. MuJoCo scenes are far smaller.
struct XmlLimits {
  int max_depth = 256;
  std::size_t max_elements = 200'000;
  std::size_t max_attributes = 400'000;
};

// Parses `text`. Never fails as a call: problems with the document are in `error`. DTD
// declarations are refused (no entity expansion tricks); nesting, element and attribute counts
// are capped by `limits`. The text is fed to expat in chunks; when `budget` runs out between
// two chunks parsing stops with an error saying so (callers check the budget themselves).
XmlParseResult ParseXml(std::string_view text, const XmlLimits& limits = {},
                        const CallBudget* budget = nullptr);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MJCF_XML_H_
