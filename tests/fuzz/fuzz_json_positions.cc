// Fuzzes the JSON position indexer and the bounded JSON parser on arbitrary bytes (the indexer
// is meant for valid JSON, but must terminate on anything).
#include <cstdlib>

#include "libs/common/json_limits.h"
#include "libs/scene/json_positions.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  const std::string_view text = fuzz::AsText(data, size);
  const scene::JsonPositions positions = scene::IndexJsonPositions(text, 32);
  for (const auto& [pointer, offset] : positions.offsets) {
    if (offset > text.size()) std::abort();
  }
  nlohmann::json doc;
  if (const std::optional<JsonProblem> problem = ParseJsonWithin(text, JsonLimits{}, &doc)) {
    if (problem->offset > text.size() || problem->message.size() > 1024) std::abort();
  } else if (JsonPreview(doc).size() > 1024) {
    std::abort();
  }
  return 0;
}
