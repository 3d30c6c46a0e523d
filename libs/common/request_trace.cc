#include "libs/common/request_trace.h"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace workerpair {
namespace {

// The current trace of each thread: per-thread job context (see the header), never shared.
thread_local const RequestTrace* current_trace = nullptr;

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !text.empty();
}

bool AllZero(std::string_view text) { return text.find_first_not_of('0') == std::string::npos; }

constexpr std::string_view kWorkspaceKey = "workerpair.workspace";

bool BaggageSafe(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.';
}

}  // namespace

std::string RandomHex(std::size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    std::string bytes((length + 1) / 2, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()),
                   static_cast<int>(bytes.size())) != 1) {
      std::random_device device;  // OpenSSL's pool failing is unheard of; still answer
      for (char& b : bytes) b = static_cast<char>(device());
    }
    out.clear();
    for (unsigned char b : bytes) {
      out += kDigits[b >> 4];
      out += kDigits[b & 0xf];
    }
    out.resize(length);
  } while (AllZero(out));
  return out;
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

RequestTrace NewRequestTrace(std::string_view request_id, std::string_view workspace) {
  RequestTrace trace;
  trace.request_id = ValidRequestId(request_id) ? std::string(request_id) : RandomHex(32);
  trace.trace_id = RandomHex(32);
  trace.span_id = RandomHex(16);
  trace.workspace = std::string(workspace);
  return trace;
}

std::string FormatTraceparent(std::string_view trace_id, std::string_view span_id) {
  std::string out = "00-";
  out.append(trace_id).append("-").append(span_id).append("-01");
  return out;
}

std::optional<ParsedTraceparent> ParseTraceparent(std::string_view header) {
  // version "-" trace-id "-" parent-id "-" flags; a later version may append "-..." fields.
  if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-') {
    return std::nullopt;
  }
  const std::string_view version = header.substr(0, 2);
  const std::string_view trace_id = header.substr(3, 32);
  const std::string_view parent = header.substr(36, 16);
  const std::string_view flags = header.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace_id) || !IsLowerHex(parent) ||
      !IsLowerHex(flags) || AllZero(trace_id) || AllZero(parent)) {
    return std::nullopt;
  }
  if (version == "00" && header.size() != 55) return std::nullopt;
  if (header.size() > 55 && header[55] != '-') return std::nullopt;
  return ParsedTraceparent{std::string(trace_id), std::string(parent)};
}

std::string FormatWorkspaceBaggage(std::string_view workspace) {
  std::string out(kWorkspaceKey);
  out += '=';
  for (char c : workspace) {
    if (BaggageSafe(c)) {
      out += c;
    } else {
      std::array<char, 4> escaped{};
      std::snprintf(escaped.data(), escaped.size(), "%%%02X", static_cast<unsigned char>(c));
      out += escaped.data();
    }
  }
  return out;
}

std::string WorkspaceFromBaggage(std::string_view baggage) {
  // list-member *( "," list-member ); member: key "=" value *( ";" property )
  while (!baggage.empty()) {
    const std::size_t comma = baggage.find(',');
    std::string_view member = baggage.substr(0, comma);
    baggage = comma == std::string_view::npos ? std::string_view() : baggage.substr(comma + 1);
    member = member.substr(0, member.find(';'));
    const std::size_t equals = member.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view key = member.substr(0, equals);
    while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.remove_prefix(1);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    if (key != kWorkspaceKey) continue;
    std::string_view value = member.substr(equals + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    std::string decoded;
    for (std::size_t i = 0; i < value.size(); ++i) {
      char c = value[i];
      if (c == '%' && i + 2 < value.size()) {
        const std::string hex(value.substr(i + 1, 2));
        char* end = nullptr;
        const long byte = std::strtol(hex.c_str(), &end, 16);
        if (end != hex.c_str() + 2) return "";
        decoded += static_cast<char>(byte);
        i += 2;
      } else if (BaggageSafe(c)) {
        decoded += c;
      } else {
        return "";
      }
    }
    // Only names a log line can hold as they are (no control bytes, bounded).
    if (decoded.size() > 128 || !ValidRequestId(decoded)) return "";
    return decoded;
  }
  return "";
}

const RequestTrace* CurrentRequestTrace() { return current_trace; }

ScopedRequestTrace::ScopedRequestTrace(RequestTrace trace)
    : trace_(std::move(trace)), previous_(current_trace) {
  current_trace = &trace_;
}

ScopedRequestTrace::~ScopedRequestTrace() { current_trace = previous_; }

}  // namespace workerpair
