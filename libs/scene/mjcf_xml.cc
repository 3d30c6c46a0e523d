#include "libs/scene/mjcf_xml.h"

#include <expat.h>

#include <algorithm>
#include <climits>

#include "libs/common/str_cat.h"

namespace workerpair::scene {
namespace {

// Bytes handed to expat at a time, so a long document can stop between chunks.
constexpr std::size_t kChunkBytes = 1u << 20;

struct BuildState {
  XML_Parser parser = nullptr;
  XmlLimits limits;
  std::size_t elements = 0;
  std::size_t attributes = 0;
  std::unique_ptr<XmlElement> root;
  // Open elements, innermost last (pointers into the tree under `root`).
  std::vector<XmlElement*> open;
  // Our own reason for stopping the parser, with the position where it happened.
  std::optional<XmlError> abort;
};

void Abort(BuildState* state, std::string message) {
  state->abort = XmlError{static_cast<int>(XML_GetCurrentLineNumber(state->parser)),
                          static_cast<int>(XML_GetCurrentColumnNumber(state->parser)) + 1,
                          std::move(message)};
  XML_StopParser(state->parser, XML_FALSE);
}

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
  auto* state = static_cast<BuildState*>(data);
  if (static_cast<int>(state->open.size()) >= state->limits.max_depth) {
    Abort(state, StrCat("elements nest deeper than ", state->limits.max_depth, " levels"));
    return;
  }
  if (++state->elements > state->limits.max_elements) {
    Abort(state, StrCat("the document has more than ", state->limits.max_elements,
                        " elements, the limit"));
    return;
  }
  auto element = std::make_unique<XmlElement>();
  element->name = name;
  element->line = static_cast<int>(XML_GetCurrentLineNumber(state->parser));
  element->column = static_cast<int>(XML_GetCurrentColumnNumber(state->parser)) + 1;
  for (const XML_Char** a = attributes; a[0] != nullptr; a += 2) {
    if (++state->attributes > state->limits.max_attributes) {
      Abort(state, StrCat("the document has more than ", state->limits.max_attributes,
                          " attributes, the limit"));
      return;
    }
    element->attributes.emplace_back(a[0], a[1]);
  }
  XmlElement* raw = element.get();
  if (state->open.empty()) {
    state->root = std::move(element);
  } else {
    state->open.back()->children.push_back(std::move(element));
  }
  state->open.push_back(raw);
}

void XMLCALL OnEnd(void* data, const XML_Char*) {
  auto* state = static_cast<BuildState*>(data);
  if (!state->open.empty()) state->open.pop_back();
}

void XMLCALL OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  Abort(static_cast<BuildState*>(data), "DOCTYPE declarations are not allowed");
}

}  // namespace

std::optional<std::string_view> XmlElement::Attribute(std::string_view key) const {
  for (const auto& [name, value] : attributes) {
    if (name == key) return std::string_view(value);
  }
  return std::nullopt;
}

XmlParseResult ParseXml(std::string_view text, const XmlLimits& limits,
                        const CallBudget* budget) {
  XmlParseResult result;
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    result.error = XmlError{0, 0, "document too large to parse"};
    return result;
  }
  BuildState state;
  state.parser = XML_ParserCreate(nullptr);
  state.limits = limits;
  XML_SetUserData(state.parser, &state);
  XML_SetElementHandler(state.parser, OnStart, OnEnd);
  XML_SetStartDoctypeDeclHandler(state.parser, OnDoctype);
  XML_Status status = XML_STATUS_OK;
  std::size_t offset = 0;
  do {
    if (budget != nullptr && offset > 0 && budget->Exhausted()) {
      Abort(&state, "stopped: the call ran out of time or was cancelled");
      break;
    }
    const std::size_t size = std::min(kChunkBytes, text.size() - offset);
    const bool last = offset + size == text.size();
    status = XML_Parse(state.parser, text.data() + offset, static_cast<int>(size), last ? 1 : 0);
    offset += size;
    if (last) break;
  } while (status == XML_STATUS_OK && !state.abort);
  if (state.abort) {
    result.error = std::move(state.abort);
  } else if (status != XML_STATUS_OK) {
    result.error = XmlError{static_cast<int>(XML_GetCurrentLineNumber(state.parser)),
                            static_cast<int>(XML_GetCurrentColumnNumber(state.parser)) + 1,
                            XML_ErrorString(XML_GetErrorCode(state.parser))};
  } else {
    result.root = std::move(state.root);
  }
  XML_ParserFree(state.parser);
  return result;
}

}  // namespace workerpair::scene
