#include "services/controller/cli/error_hints.h"

#include <string>
#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller::cli {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string_view ServerName(ServerKind kind) {
  return kind == ServerKind::kHeavy ? "worker-heavy" : "worker-light";
}

std::string_view AddressFlags(ServerKind kind) {
  return kind == ServerKind::kHeavy ? "--heavy=HOST:PORT or WORKERPAIR_HEAVY"
                                    : "--light=HOST:PORT or WORKERPAIR_LIGHT";
}

// The same code and payloads (the error reason travels as one) with a new message.
absl::Status WithMessage(const absl::Status& status, const std::string& message) {
  absl::Status rewritten(status.code(), message);
  status.ForEachPayload([&rewritten](absl::string_view type_url, const absl::Cord& payload) {
    rewritten.SetPayload(type_url, payload);
  });
  return rewritten;
}

}  // namespace

bool IsUnreachable(const absl::Status& status) {
  if (!absl::IsUnavailable(status)) return false;
  const std::string message(status.message());
  // gRPC 1.51's texts for a connection that never came up (chttp2 connector, resolver).
  return Contains(message, "failed to connect") || Contains(message, "Failed to connect") ||
         Contains(message, "Connection refused") || Contains(message, "DNS resolution failed") ||
         Contains(message, "No route to host") || Contains(message, "connections to all backends failing") ||
         Contains(message, "empty address list") || Contains(message, "Network is unreachable") ||
         // HeavyClient's own words for a replica whose channel never came up.
         Contains(message, "did not connect within");
}

absl::Status WithServerHint(const absl::Status& status, ServerKind kind) {
  if (kind == ServerKind::kNone) return status;
  if (IsUnreachable(status)) {
    return WithMessage(status, StrCat("cannot reach ", ServerName(kind),
                                      ": the server may not be running, or runs at another "
                                      "address (", AddressFlags(kind), " sets it): ",
                                      std::string(status.message())));
  }
  // A server without the called service answers UNIMPLEMENTED with an empty message; our own
  // services' UNIMPLEMENTED always say what is not implemented.
  if (absl::IsUnimplemented(status) && status.message().empty()) {
    return WithMessage(status, StrCat("that port serves another service, not ", ServerName(kind),
                                      " (", AddressFlags(kind), " sets ", ServerName(kind),
                                      "'s address)"));
  }
  return status;
}

}  // namespace workerpair::controller::cli
