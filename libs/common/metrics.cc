#include "libs/common/metrics.h"

#include <charconv>
#include <system_error>
#include <cmath>

#include "libs/common/str_cat.h"

namespace workerpair {
namespace {

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// The shortest text that reads back as exactly `value` (0.05, not 0.050000000000000003), written
// without an exponent when that fits in 32 characters (0.0001, 20783104, 1796128913.59), so `le`
// labels match what people write in queries and values read easily.
std::string FormatNumber(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char fixed[32];
  const auto plain = std::to_chars(fixed, fixed + sizeof(fixed), value, std::chars_format::fixed);
  if (plain.ec == std::errc()) return std::string(fixed, plain.ptr);
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// `{a="x",b="y"}` with an optional extra label (for histogram `le`); empty when no labels.
std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += StrCat(out.empty() ? "" : ",", names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra_name.empty()) {
    out += StrCat(out.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  return out.empty() ? out : StrCat("{", out, "}");
}

}  // namespace

void CounterFamily::Increment(const LabelValues& labels, double amount) {
  std::lock_guard lock(mu_);
  values_[labels] += amount;
}

double CounterFamily::Value(const LabelValues& labels) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0.0 : it->second;
}

void GaugeFamily::Set(const LabelValues& labels, double value) {
  std::lock_guard lock(mu_);
  values_[labels] = value;
}

void GaugeFamily::Add(const LabelValues& labels, double amount) {
  std::lock_guard lock(mu_);
  values_[labels] += amount;
}

void HistogramFamily::Observe(const LabelValues& labels, double value) {
  std::lock_guard lock(mu_);
  Series& series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.sum += value;
}

std::uint64_t HistogramFamily::Count(const LabelValues& labels) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

MetricsRegistry& MetricsRegistry::Default() {
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600};
}

CounterFamily* MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Family& family = families_[name];
  if (!family.counter) {
    family = Family{"counter", help, std::move(label_names), std::make_unique<CounterFamily>(),
                    nullptr, nullptr, nullptr};
  }
  return family.counter.get();
}

GaugeFamily* MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Family& family = families_[name];
  if (!family.gauge) {
    family = Family{"gauge", help, std::move(label_names), nullptr,
                    std::make_unique<GaugeFamily>(), nullptr, nullptr};
  }
  return family.gauge.get();
}

HistogramFamily* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Family& family = families_[name];
  if (!family.histogram) {
    family = Family{"histogram", help, std::move(label_names), nullptr, nullptr,
                    std::make_unique<HistogramFamily>(std::move(bounds)), nullptr};
  }
  return family.histogram.get();
}

void MetricsRegistry::AddGaugeCallback(const std::string& name, const std::string& help,
                                       std::function<double()> read) {
  std::lock_guard lock(mu_);
  families_[name] = Family{"gauge", help, {}, nullptr, nullptr, nullptr, std::move(read)};
}

void MetricsRegistry::AddCounterCallback(const std::string& name, const std::string& help,
                                         std::function<double()> read) {
  std::lock_guard lock(mu_);
  families_[name] = Family{"counter", help, {}, nullptr, nullptr, nullptr, std::move(read)};
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += StrCat("# HELP ", name, " ", family.help, "\n# TYPE ", name, " ", family.type, "\n");
    if (family.callback) {
      out += StrCat(name, " ", FormatNumber(family.callback()), "\n");
    } else if (family.counter || family.gauge) {
      const auto& holder = family.counter ? family.counter->values_ : family.gauge->values_;
      std::mutex& mu = family.counter ? family.counter->mu_ : family.gauge->mu_;
      std::lock_guard values_lock(mu);
      for (const auto& [labels, value] : holder) {
        out += StrCat(name, LabelSet(family.label_names, labels), " ", FormatNumber(value), "\n");
      }
    } else if (family.histogram) {
      const HistogramFamily& histogram = *family.histogram;
      std::lock_guard values_lock(histogram.mu_);
      for (const auto& [labels, series] : histogram.series_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < histogram.bounds_.size(); ++i) {
          cumulative += series.buckets[i];
          out += StrCat(name, "_bucket",
                        LabelSet(family.label_names, labels, "le",
                                 FormatNumber(histogram.bounds_[i])),
                        " ", cumulative, "\n");
        }
        out += StrCat(name, "_bucket", LabelSet(family.label_names, labels, "le", "+Inf"), " ",
                      series.count, "\n");
        out += StrCat(name, "_sum", LabelSet(family.label_names, labels), " ",
                      FormatNumber(series.sum), "\n");
        out += StrCat(name, "_count", LabelSet(family.label_names, labels), " ", series.count,
                      "\n");
      }
    }
  }
  return out;
}

}  // namespace workerpair
