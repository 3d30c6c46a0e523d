// Prometheus metrics: a small registry rendering the text exposition format (0.0.4).
//
// Metric families are created once (usually at start-up) and updated from any thread:
//
//   MetricsRegistry& metrics = MetricsRegistry::Default();
//   auto* calls = metrics.AddCounter("workerpair_light_calls_total", "Calls served.",
//                                    {"method", "code"});
//   calls->Increment({"ReadFile", "OK"});
//   metrics.AddGaugeCallback("workerpair_heavy_jobs_running", "Jobs running.",
//                            [&] { return scheduler.running(); });
//   std::string page = metrics.Render();
//
// Names and labels follow docs/PORTS_AND_METRICS.md. Label values are escaped on output.
#ifndef WORKERPAIR_LIBS_COMMON_METRICS_H_
#define WORKERPAIR_LIBS_COMMON_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace workerpair {

using LabelValues = std::vector<std::string>;

// A monotonically increasing value per label set.
class CounterFamily {
 public:
  void Increment(const LabelValues& labels, double amount = 1.0);
  double Value(const LabelValues& labels) const;

 private:
  friend class MetricsRegistry;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;
};

// A value that goes up and down, per label set.
class GaugeFamily {
 public:
  void Set(const LabelValues& labels, double value);
  void Add(const LabelValues& labels, double amount);

 private:
  friend class MetricsRegistry;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;
};

// Observations counted into cumulative buckets, per label set.
class HistogramFamily {
 public:
  explicit HistogramFamily(std::vector<double> bounds) : bounds_(std::move(bounds)) {}
  void Observe(const LabelValues& labels, double value);
  // Number of observations recorded for `labels`.
  std::uint64_t Count(const LabelValues& labels) const;

 private:
  friend class MetricsRegistry;
  struct Series {
    std::vector<std::uint64_t> buckets;  // per bound, non-cumulative; +Inf is `count`
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

class MetricsRegistry {
 public:
  // The process-wide registry the services export on /metrics.
  static MetricsRegistry& Default();

  // Each Add* returns the family, owned by the registry; adding a name twice returns the first.
  CounterFamily* AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names);
  GaugeFamily* AddGauge(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names);
  HistogramFamily* AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // A label-less gauge read when the page is rendered.
  void AddGaugeCallback(const std::string& name, const std::string& help,
                        std::function<double()> read);
  // A label-less counter kept elsewhere (it must only grow), read when the page is rendered.
  void AddCounterCallback(const std::string& name, const std::string& help,
                          std::function<double()> read);

  // The text exposition of every family, sorted by name.
  std::string Render() const;

  // Latency buckets in seconds, 100 us .. 10 min.
  static std::vector<double> LatencyBuckets();

 private:
  struct Family {
    std::string type;  // counter, gauge, histogram
    std::string help;
    std::vector<std::string> label_names;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
    std::function<double()> callback;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_METRICS_H_
