#include "libs/common/job_log.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair {
namespace {

constexpr char kFieldSeparator = '\x1f';
constexpr char kStringValue = '\x1e';
constexpr char kNumberValue = '\x1d';

void AppendClean(std::string& out, std::string_view text) {
  for (char c : text) {
    out += (c == kFieldSeparator || c == kStringValue || c == kNumberValue) ? ' ' : c;
  }
}

// The logger job lines go through: the default logger's sinks and level under the name the
// formatters recognise. Without InitLogging (a test, a library user) there is no formatter that
// knows the encoding, so the line is written as plain text through the default logger.
void Write(spdlog::level::level_enum level, std::string_view message,
           const std::vector<JobLogField>& fields) {
  std::shared_ptr<spdlog::logger> main = spdlog::default_logger();
  if (!main || !main->should_log(level)) return;
  if (main->name() != "workerpair") {
    std::string line(message);
    for (const auto& [key, value] : fields) line += StrCat(" ", key, "=", value.text);
    main->log(level, "{}", line);
    return;
  }
  auto job = std::make_shared<spdlog::logger>(kJobLoggerName, main->sinks().begin(),
                                              main->sinks().end());
  job->set_level(main->level());
  job->flush_on(spdlog::level::info);
  job->log(level, "{}", EncodeJobLine(message, fields));
}

}  // namespace

JobLogValue JobLogValue::Number(double value) {
  JobLogValue out;
  out.number = std::isfinite(value);
  out.text = out.number ? FixedDecimals(value, 3) : (std::isnan(value) ? "NaN" : "Infinity");
  return out;
}
JobLogValue JobLogValue::Number(std::int64_t value) {
  JobLogValue out;
  out.number = true;
  out.text = std::to_string(value);
  return out;
}
JobLogValue JobLogValue::Number(std::uint64_t value) {
  JobLogValue out;
  out.number = true;
  out.text = std::to_string(value);
  return out;
}

JobLog::JobLog(Identity identity) : trace_(identity.trace), identity_(std::move(identity)) {}

void JobLog::SetJobId(std::string job_id) {
  std::lock_guard lock(mu_);
  identity_.job_id = std::move(job_id);
}
void JobLog::SetPayloadSha256(std::string sha256) {
  std::lock_guard lock(mu_);
  identity_.payload_sha256 = std::move(sha256);
}
void JobLog::SetWorkspace(std::string workspace) {
  std::lock_guard lock(mu_);
  identity_.trace.workspace = std::move(workspace);
}
void JobLog::SetReplica(std::string replica) {
  std::lock_guard lock(mu_);
  identity_.replica = std::move(replica);
}

void JobLog::Log(spdlog::level::level_enum level, std::string_view event,
                 std::initializer_list<JobLogField> fields) const {
  Log(level, event, std::vector<JobLogField>(fields));
}

void JobLog::Log(spdlog::level::level_enum level, std::string_view event,
                 const std::vector<JobLogField>& extra) const {
  std::vector<JobLogField> fields;
  {
    std::lock_guard lock(mu_);
    fields = {{"event", std::string(event)},
              {"service", identity_.service},
              {"job_id", identity_.job_id},
              {"request_id", identity_.trace.request_id},
              {"trace_id", identity_.trace.trace_id},
              {"span_id", identity_.trace.span_id},
              {"parent_span_id", identity_.trace.parent_span_id},
              {"workspace", identity_.trace.workspace},
              {"payload_sha256", identity_.payload_sha256},
              {"replica", identity_.replica},
              {"kind", identity_.kind}};
  }
  // An event's field of the same name as an identity field replaces it (one key per object).
  for (const JobLogField& field : extra) {
    auto same = std::find_if(fields.begin(), fields.end(),
                             [&](const JobLogField& f) { return f.first == field.first; });
    if (same != fields.end()) {
      same->second = field.second;
    } else {
      fields.push_back(field);
    }
  }
  Write(level, StrCat("job ", event), fields);
}

void JobLog::Finished(const absl::Status& status,
                      std::initializer_list<JobLogField> extra) const {
  std::vector<JobLogField> fields{
      {"seconds", JobLogValue::Number(absl::ToDoubleSeconds(elapsed()))}};
  for (JobLogField& field : StatusFields(status)) fields.push_back(std::move(field));
  fields.insert(fields.end(), extra.begin(), extra.end());
  Log(status.ok() ? spdlog::level::info : spdlog::level::warn, "finished", fields);
}

std::vector<JobLogField> StatusFields(const absl::Status& status) {
  std::vector<JobLogField> fields{{"code", absl::StatusCodeToString(status.code())}};
  if (!status.ok()) {
    fields.emplace_back("error", std::string(status.message()));
    if (ReasonOf(status) != ErrorReason::kUnspecified) {
      fields.emplace_back("reason", std::string(ErrorReasonName(ReasonOf(status))));
    }
  }
  return fields;
}

std::string HostName() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return std::string(name.data());
}

std::string EncodeJobLine(std::string_view message, const std::vector<JobLogField>& fields) {
  std::string out;
  AppendClean(out, message);
  for (const auto& [key, value] : fields) {
    out += kFieldSeparator;
    AppendClean(out, key);
    out += value.number ? kNumberValue : kStringValue;
    AppendClean(out, value.text);
  }
  return out;
}

DecodedJobLine DecodeJobLine(std::string_view payload) {
  DecodedJobLine line;
  std::size_t next = payload.find(kFieldSeparator);
  line.message = payload.substr(0, next);
  while (next != std::string_view::npos) {
    const std::size_t start = next + 1;
    next = payload.find(kFieldSeparator, start);
    std::string_view field = payload.substr(start, next == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : next - start);
    const std::size_t mark = field.find_first_of("\x1e\x1d");
    if (mark == std::string_view::npos) continue;
    JobLogValue value;
    value.text = std::string(field.substr(mark + 1));
    value.number = field[mark] == kNumberValue;
    line.fields.emplace_back(field.substr(0, mark), std::move(value));
  }
  return line;
}

}  // namespace workerpair
