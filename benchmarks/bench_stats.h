// Small statistics every benchmark reports: percentiles of a set of samples, and the timing of
// a closed loop of calls from several threads. Header-only; no gRPC in here (a benchmark passes
// its own call).
//
//   const double p50 = workerpair::bench::Percentile(latencies_ms, 0.5);
//   auto figures = workerpair::bench::RunClosedLoop(16, 3.0, [&](int thread) { ... });
//   // figures.p50_us, figures.p99_us, figures.calls_per_s, figures.failed
#ifndef WORKERPAIR_BENCHMARKS_BENCH_STATS_H_
#define WORKERPAIR_BENCHMARKS_BENCH_STATS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace workerpair::bench {

using Clock = std::chrono::steady_clock;

inline double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The value below which `fraction` (0..1) of the samples lie (nearest rank); 0 for none.
inline double Percentile(std::vector<double> samples, double fraction) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(samples.size()));
  return samples[std::min(samples.size() - 1, rank)];
}

inline double Median(std::vector<double> samples) { return Percentile(std::move(samples), 0.5); }

inline double Mean(const std::vector<double>& samples) {
  double sum = 0;
  for (double s : samples) sum += s;
  return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
}

// The median of `runs` results of `measure()`.
template <typename Measure>
double MedianOf(int runs, Measure&& measure) {
  std::vector<double> values;
  for (int i = 0; i < runs; ++i) values.push_back(measure());
  return Median(std::move(values));
}

struct LoopFigures {
  double p50_us = 0, p99_us = 0, calls_per_s = 0;
  bool failed = false;  // some call returned false
};

// Each of `threads` threads first calls `prepare(thread)` once (e.g. its own channel), makes
// one untimed warm-up call, then calls `call(thread, round)` back to back until `seconds` have
// passed since the start. Latencies of every timed call, pooled.
template <typename Prepare, typename Call>
LoopFigures RunClosedLoop(int threads, double seconds, Prepare&& prepare, Call&& call) {
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto state = prepare(t);
      int round = 0;
      call(state, t, round++);
      while (Clock::now() < deadline) {
        const auto start = Clock::now();
        if (!call(state, t, round++)) failed = true;
        latencies[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  LoopFigures figures;
  figures.failed = failed;
  if (all.empty()) return figures;
  figures.p50_us = Percentile(all, 0.5);
  figures.p99_us = Percentile(all, 0.99);
  figures.calls_per_s = static_cast<double>(all.size()) / seconds;
  return figures;
}

}  // namespace workerpair::bench

#endif  // WORKERPAIR_BENCHMARKS_BENCH_STATS_H_
