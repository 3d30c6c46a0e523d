#include "libs/scene/mjcf_zones.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/scene/scene_names.h"

namespace workerpair::scene {
namespace {

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Whitespace-separated finite decimal numbers; false on anything else (1e999, nan, inf).
bool ParseNumbers(std::string_view text, std::vector<double>* out) {
  std::string buffer(text);
  const char* p = buffer.c_str();
  while (true) {
    while (IsXmlSpace(*p)) ++p;
    if (*p == '\0') return true;
    char* end = nullptr;
    const double value = std::strtod(p, &end);
    if (end == p || !std::isfinite(value)) return false;
    out->push_back(value);
    p = end;
  }
}

}  // namespace

std::vector<ZoneProblem> ZoneSiteProblems(const XmlElement& site) {
  std::vector<ZoneProblem> found;
  const std::optional<std::string_view> name = site.Attribute("name");
  if (!name || !IsZoneName(*name)) return found;
  const std::string zone = StrCat("zone site '", TextPreview(*name), "'");
  const std::string_view type = site.Attribute("type").value_or("sphere");
  if (type != "box" && type != "sphere") {
    found.push_back({"mjcf/zone-bad-type", StrCat(zone, " is a ", TextPreview(type, 40),
                                                  "; zones must be boxes or spheres")});
  }
  const std::optional<std::string_view> size = site.Attribute("size");
  if (!size) {
    found.push_back({"mjcf/zone-without-size", StrCat(zone, " has no size")});
    return found;
  }
  std::vector<double> values;
  if (!ParseNumbers(*size, &values) || values.empty()) {
    found.push_back({"mjcf/zone-bad-size", StrCat(zone, " has size '", TextPreview(*size),
                                                  "', which is not a list of finite numbers")});
    return found;
  }
  const std::size_t needed = type == "box" ? 3 : 1;
  bool positive = values.size() >= needed;
  for (std::size_t i = 0; i < needed && i < values.size(); ++i) positive &= values[i] > 0;
  if (!positive) {
    found.push_back(
        {"mjcf/zone-bad-size",
         StrCat(zone, " needs ",
                needed == 3 ? "3 positive half-extents (box)" : "a positive radius (sphere)",
                ", got size '", TextPreview(*size), "'")});
  }
  return found;
}

}  // namespace workerpair::scene
