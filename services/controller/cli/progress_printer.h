// ProgressPrinter: progress of long calls on stderr, so stdout keeps only the result.
//
// On a terminal it draws one line that redraws in place with '\r':
//   [#####-----] 2.0/4.0 s  replica 127.0.0.1:50052
// Elsewhere (a log, a pipe, CI) every update is a plain line, which stays readable in a file.
// With --quiet nothing is printed. Safe to call from several threads (verify parts report at
// once).
//
//   ProgressPrinter& progress = context.progress();
//   auto run = heavy.Simulate(payload, options, progress.SimulateCallback());
//   progress.Finish();
//   progress.Line("bundled 3 files");                  // a permanent line
//   progress.Bar(2, 8, "runs", "replica 10.0.0.5:50052");
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_PROGRESS_PRINTER_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_PROGRESS_PRINTER_H_

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "services/controller/heavy_client.h"

namespace workerpair::controller::cli {

class ProgressPrinter {
 public:
  enum class Style {
    kBar,    // one line redrawn with '\r' (a terminal)
    kLines,  // a plain line per update
    kOff,    // nothing
  };
  // kOff when `quiet`, kBar when stderr is a terminal, kLines otherwise.
  static Style StyleForStderr(bool quiet);

  explicit ProgressPrinter(Style style, std::FILE* out = stderr);
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  Style style() const { return style_; }

  // A line that stays (a step done, a retry): ends a drawn bar first.
  void Line(std::string_view text);
  // Transient state ("queued at 2", "started"): drawn in place on a terminal, a line elsewhere.
  void Status(std::string_view text);
  // A bar `done` of `total` (total <= 0: no bar, only the numbers), e.g. 2.0/4.0 s.
  void Bar(double done, double total, std::string_view unit, std::string_view note);
  // Ends a drawn line with a newline, so the next output starts clean. Idempotent.
  void Finish();

  // One HeavyClient job's events: "simulated A/B s" summaries become a bar; a change of
  // replica (failover) leaves a permanent line; anything else is a status.
  ProgressCallback JobCallback();
  // A job that reports a count of finished items (verify runs, rendered views): a bar of
  // `total` `unit`, advanced by each "run N ..." / "rendered view ..." summary.
  ProgressCallback CountCallback(std::uint32_t total, std::string unit);

 private:
  void DrawLocked(const std::string& text);
  void PrintLineLocked(std::string_view text);

  Style style_;
  std::FILE* out_;
  std::mutex mu_;
  std::size_t drawn_ = 0;  // characters of the line drawn in place; 0: none
  std::string last_line_;  // kLines: the previous line, to drop exact repeats
};

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_PROGRESS_PRINTER_H_
