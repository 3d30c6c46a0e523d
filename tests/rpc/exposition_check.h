// What `promtool check metrics` checks on a /metrics page, for machines without promtool: the
// text format parses (HELP/TYPE once per family, before its samples; names, label syntax and
// escapes; numeric values), no series appears twice, and promtool's lint rules hold (counters
// end in _total and nothing else does; _bucket/_sum/_count and `le` only on histograms;
// histogram buckets cumulative with +Inf equal to _count). Beyond promtool: `le` values are in
// their shortest round-trip form (0.05, not 0.050000000000000003), with no exponent.
//
//   std::vector<std::string> problems = CheckExposition(page_body);
//   CHECK(problems.empty());
#ifndef WORKERPAIR_TESTS_COMMON_SERVER_EXPOSITION_CHECK_H_
#define WORKERPAIR_TESTS_COMMON_SERVER_EXPOSITION_CHECK_H_

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace workerpair::testing {

namespace exposition_internal {

inline bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool ParseValue(const std::string& text, double* value) {
  if (text == "+Inf") { *value = INFINITY; return true; }
  if (text == "-Inf") { *value = -INFINITY; return true; }
  if (text == "NaN") { *value = NAN; return true; }
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

// The shortest round-trip text of `value`, without an exponent when that fits in 32 characters.
inline std::string Shortest(double value) {
  char fixed[32];
  const auto plain = std::to_chars(fixed, fixed + sizeof(fixed), value, std::chars_format::fixed);
  if (plain.ec == std::errc()) return std::string(fixed, plain.ptr);
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// Parses `{a="x",b="y"}` at text[*pos]; appends (name, unescaped value) pairs.
inline bool ParseLabels(const std::string& text, std::size_t* pos,
                        std::vector<std::pair<std::string, std::string>>* labels,
                        std::string* error) {
  static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
  std::size_t i = *pos + 1;  // after '{'
  while (i < text.size() && text[i] != '}') {
    const std::size_t eq = text.find('=', i);
    if (eq == std::string::npos) { *error = "label without '='"; return false; }
    const std::string name = text.substr(i, eq - i);
    if (!std::regex_match(name, kLabelName)) { *error = "bad label name '" + name + "'"; return false; }
    if (eq + 1 >= text.size() || text[eq + 1] != '"') { *error = "unquoted label value"; return false; }
    std::string value;
    std::size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\') {
        if (j + 1 >= text.size()) { *error = "dangling escape"; return false; }
        const char next = text[++j];
        if (next == 'n') value += '\n';
        else if (next == '\\' || next == '"') value += next;
        else { *error = std::string("bad escape \\") + next; return false; }
      } else if (text[j] == '\n') {
        *error = "raw newline in label value"; return false;
      } else {
        value += text[j];
      }
    }
    if (j >= text.size()) { *error = "unterminated label value"; return false; }
    labels->emplace_back(name, value);
    i = j + 1;
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) { *error = "unterminated label set"; return false; }
  *pos = i + 1;
  return true;
}

}  // namespace exposition_internal

inline std::vector<std::string> CheckExposition(const std::string& page) {
  using namespace exposition_internal;
  static const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  std::vector<std::string> problems;
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helps, families_with_samples, series_seen;
  // histogram series (labels without le) -> bucket counts in order, and _count
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  std::map<std::string, double> counts;

  const auto family_of = [&](const std::string& name) -> std::string {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (EndsWith(name, suffix)) {
        const std::string base = name.substr(0, name.size() - std::string(suffix).size());
        auto it = types.find(base);
        if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
      }
    }
    return name;
  };

  std::istringstream in(page);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = "line " + std::to_string(number) + " '" + line + "': ";
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a comment
      if (!std::regex_match(name, kMetricName)) problems.push_back(where + "bad metric name");
      if (families_with_samples.count(name)) problems.push_back(where + keyword + " after samples");
      if (keyword == "HELP") {
        if (!helps.insert(name).second) problems.push_back(where + "second HELP");
        std::string text;
        std::getline(words, text);
        if (text.size() <= 1) problems.push_back(where + "empty HELP");
      } else {
        std::string type;
        words >> type;
        if (types.count(name)) problems.push_back(where + "second TYPE");
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(type)) problems.push_back(where + "unknown type");
        types[name] = type;
        const bool total = EndsWith(name, "_total");
        if (type == "counter" && !total) problems.push_back(where + "counter without _total suffix");
        if (type != "counter" && total) problems.push_back(where + "non-counter with _total suffix");
        if (type != "histogram" && type != "summary") {
          for (const char* suffix : {"_bucket", "_count", "_sum"}) {
            if (EndsWith(name, suffix)) problems.push_back(where + "reserved suffix " + suffix);
          }
        }
      }
      continue;
    }
    std::size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    const std::string name = line.substr(0, pos);
    if (!std::regex_match(name, kMetricName)) { problems.push_back(where + "bad metric name"); continue; }
    std::vector<std::pair<std::string, std::string>> labels;
    if (pos < line.size() && line[pos] == '{') {
      std::string error;
      if (!ParseLabels(line, &pos, &labels, &error)) { problems.push_back(where + error); continue; }
    }
    if (pos >= line.size() || line[pos] != ' ') { problems.push_back(where + "no value"); continue; }
    std::istringstream rest(line.substr(pos + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    double value = 0;
    if (!ParseValue(value_text, &value)) problems.push_back(where + "bad value");
    if (!extra.empty()) problems.push_back(where + "trailing text");
    const std::string family = family_of(name);
    families_with_samples.insert(family);
    const auto type = types.find(family);
    if (type == types.end()) problems.push_back(where + "sample without TYPE");
    if (!helps.count(family)) problems.push_back(where + "sample without HELP");
    std::set<std::string> label_names;
    std::string le;
    std::string key_without_le = family;
    for (const auto& [label, label_value] : labels) {
      if (!label_names.insert(label).second) problems.push_back(where + "label '" + label + "' twice");
      if (label == "le") { le = label_value; continue; }
      key_without_le += "\x1f" + label + "=" + label_value;
    }
    std::vector<std::pair<std::string, std::string>> sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    std::string series = name;
    for (const auto& [label, label_value] : sorted) series += "\x1f" + label + "=" + label_value;
    if (!series_seen.insert(series).second) problems.push_back(where + "duplicate series");
    const bool histogram = type != types.end() && type->second == "histogram";
    if (!histogram && label_names.count("le")) problems.push_back(where + "le outside a histogram");
    if (histogram && EndsWith(name, "_bucket") && name != family) {
      double bound = 0;
      if (le.empty() || !ParseValue(le, &bound)) {
        problems.push_back(where + "bucket without a numeric le");
      } else {
        if (!std::isinf(bound) && Shortest(bound) != le) {
          problems.push_back(where + "le not in shortest form (" + Shortest(bound) + ")");
        }
        buckets[key_without_le].emplace_back(bound, value);
      }
    }
    if (histogram && EndsWith(name, "_count") && name != family) counts[key_without_le] = value;
  }
  for (const auto& [key, list] : buckets) {
    for (std::size_t i = 1; i < list.size(); ++i) {
      if (list[i].first <= list[i - 1].first) problems.push_back(key + ": le not increasing");
      if (list[i].second < list[i - 1].second) problems.push_back(key + ": buckets not cumulative");
    }
    if (list.empty() || !std::isinf(list.back().first)) {
      problems.push_back(key + ": no +Inf bucket");
    } else if (!counts.count(key) || counts[key] != list.back().second) {
      problems.push_back(key + ": +Inf bucket differs from _count");
    }
  }
  return problems;
}

// `promtool check metrics` (Debian's prometheus package; scripts/setup.sh installs it) on `page`:
// its exit status, 0 when it passed; -1 when promtool is not installed, which callers treat as a
// failure (the check must never be skipped silently). Its findings go to stderr.
inline int PromtoolCheckMetrics(const std::string& page, const std::string& scratch_file) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return -1;
  {
    std::ofstream out(scratch_file, std::ios::binary | std::ios::trunc);
    out << page;
  }
  const int status = std::system(("promtool check metrics < '" + scratch_file + "' >&2").c_str());
  return status == 0 ? 0 : (status < 0 ? status : 1);
}

}  // namespace workerpair::testing

#endif  // WORKERPAIR_TESTS_COMMON_SERVER_EXPOSITION_CHECK_H_
