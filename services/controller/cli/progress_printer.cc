#include "services/controller/cli/progress_printer.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "libs/common/str_cat.h"

namespace workerpair::controller::cli {
namespace {

constexpr int kBarCells = 10;

// Columns of the terminal on stderr; a drawn line must not wrap, or '\r' redraws only its
// last row and the screen fills with stale rows.
std::size_t TerminalColumns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace

ProgressPrinter::Style ProgressPrinter::StyleForStderr(bool quiet) {
  if (quiet) return Style::kOff;
  return isatty(STDERR_FILENO) ? Style::kBar : Style::kLines;
}

ProgressPrinter::ProgressPrinter(Style style, std::FILE* out) : style_(style), out_(out) {}

ProgressPrinter::~ProgressPrinter() { Finish(); }

void ProgressPrinter::DrawLocked(const std::string& text) {
  std::string shown = text.substr(0, TerminalColumns() - 1);
  const std::size_t length = shown.size();
  // Blank out what the previous, longer drawing left behind.
  if (drawn_ > length) shown.append(drawn_ - length, ' ');
  std::fprintf(out_, "\r%s", shown.c_str());
  std::fflush(out_);
  drawn_ = std::max<std::size_t>(length, 1);
}

void ProgressPrinter::PrintLineLocked(std::string_view text) {
  if (text == last_line_) return;
  last_line_ = std::string(text);
  std::fprintf(out_, "%s\n", last_line_.c_str());
  std::fflush(out_);
}

void ProgressPrinter::Line(std::string_view text) {
  if (style_ == Style::kOff) return;
  std::lock_guard lock(mu_);
  if (drawn_ > 0) {
    std::fputc('\n', out_);
    drawn_ = 0;
  }
  last_line_.clear();  // a permanent line is never a repeat to drop
  PrintLineLocked(text);
}

void ProgressPrinter::Status(std::string_view text) {
  if (style_ == Style::kOff) return;
  std::lock_guard lock(mu_);
  if (style_ == Style::kBar) {
    DrawLocked(std::string(text));
  } else {
    PrintLineLocked(text);
  }
}

void ProgressPrinter::Bar(double done, double total, std::string_view unit,
                          std::string_view note) {
  if (style_ == Style::kOff) return;
  const bool whole = done == static_cast<double>(static_cast<long long>(done)) &&
                     total == static_cast<double>(static_cast<long long>(total));
  std::string numbers =
      whole ? StrCat(static_cast<long long>(done), "/", static_cast<long long>(total))
            : StrCat(FixedDecimals(done, 1), "/", FixedDecimals(total, 1));
  std::string text = StrCat(numbers, " ", unit, note.empty() ? "" : "  ", note);
  std::lock_guard lock(mu_);
  if (style_ == Style::kLines) {
    PrintLineLocked(text);
    return;
  }
  if (total > 0) {
    const int filled =
        std::clamp(static_cast<int>(done / total * kBarCells + 1e-9), 0, kBarCells);
    text = StrCat("[", std::string(filled, '#'), std::string(kBarCells - filled, '-'), "] ",
                  text);
  }
  DrawLocked(text);
}

void ProgressPrinter::Finish() {
  if (style_ == Style::kOff) return;
  std::lock_guard lock(mu_);
  if (drawn_ > 0) {
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = 0;
  }
}

ProgressCallback ProgressPrinter::JobCallback() {
  struct State {
    std::mutex mu;
    std::string replica;
    int attempt = 0;
  };
  auto state = std::make_shared<State>();
  return [this, state](const HeavyProgress& progress) {
    if (progress.replica.empty()) {
      // About the pool, not a replica ("pool full: ..., waiting 2.0 s").
      Status(progress.summary);
      return;
    }
    if (progress.summary.rfind("attempt ", 0) == 0) {
      // HeavyClient's "attempt N after: <why the previous one failed>": worth keeping.
      Line(StrCat(progress.summary, "  replica ", progress.replica));
      std::lock_guard lock(state->mu);
      state->replica = progress.replica;
      state->attempt = progress.attempt;
      return;
    }
    {
      std::lock_guard lock(state->mu);
      if (state->attempt != 0 && progress.attempt != state->attempt) {
        Line(StrCat("attempt ", progress.attempt, " on replica ", progress.replica));
      }
      state->replica = progress.replica;
      state->attempt = progress.attempt;
    }
    const std::string note = StrCat("replica ", progress.replica);
    double done = 0, total = 0;
    // HeavyClient's summary of a progress event: "simulated 1.2/4.0 s, 36 frames".
    if (std::sscanf(progress.summary.c_str(), "simulated %lf/%lf s", &done, &total) == 2) {
      Bar(done, total, "s", note);
    } else {
      Status(StrCat(progress.summary, "  ", note));
    }
  };
}

ProgressCallback ProgressPrinter::CountCallback(std::uint32_t total, std::string unit) {
  struct State {
    std::mutex mu;
    std::uint32_t done = 0;
    std::uint32_t total = 0;
  };
  auto state = std::make_shared<State>();
  state->total = total;
  return [this, state, unit = std::move(unit)](const HeavyProgress& progress) {
    const bool finished_item = progress.summary.rfind("run ", 0) == 0 ||
                               progress.summary.rfind("rendered view ", 0) == 0;
    if (progress.replica.empty()) {
      Status(progress.summary);  // about the pool ("pool full: ...")
      return;
    }
    if (progress.summary.rfind("attempt ", 0) == 0) {
      Line(StrCat(progress.summary, "  replica ", progress.replica));
      return;
    }
    if (!finished_item) {
      Status(StrCat(progress.summary, "  replica ", progress.replica));
      return;
    }
    std::uint32_t done = 0, all = 0;
    {
      std::lock_guard lock(state->mu);
      done = ++state->done;
      state->total = std::max(state->total, done);  // the server may render more than asked
      all = state->total;
    }
    if (style_ == Style::kLines) {
      // A log keeps each item's own line (which run failed, which view is done).
      Line(StrCat(done, "/", all, " ", unit, ": ", progress.summary, "  replica ",
                  progress.replica));
    } else {
      Bar(done, all, unit, StrCat(progress.summary, "  replica ", progress.replica));
    }
  };
}

}  // namespace workerpair::controller::cli
