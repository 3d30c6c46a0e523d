// RequestTrace's parsing of what callers send: W3C traceparent, baggage, request ids. What a
// caller sends is replaced when malformed, never trusted as is.
#include "libs/common/request_trace.h"

#include <catch2/catch.hpp>

#include <string>

namespace workerpair {
namespace {

TEST_CASE("A well-formed traceparent gives its trace id and parent span") {
  auto parsed = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  REQUIRE(parsed.has_value());
  CHECK(parsed->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(parsed->parent_span_id == "00f067aa0ba902b7");
  // A later version may append fields.
  CHECK(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST_CASE("A malformed, all-zero or version ff traceparent is refused") {
  for (const char* bad : {"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"}) {
    INFO(bad);
    CHECK_FALSE(ParseTraceparent(bad).has_value());
  }
}

TEST_CASE("Traceparent and baggage written are read back") {
  const RequestTrace trace = NewRequestTrace("req-1", "agent-7");
  auto parsed = ParseTraceparent(FormatTraceparent(trace.trace_id, trace.span_id));
  REQUIRE(parsed.has_value());
  CHECK(parsed->trace_id == trace.trace_id);
  CHECK(WorkspaceFromBaggage(FormatWorkspaceBaggage("agent-7")) == "agent-7");
  CHECK(WorkspaceFromBaggage("other=1, workerpair.workspace = agent-8 ;prop") == "agent-8");
  CHECK(WorkspaceFromBaggage("other=1") == "");
  CHECK(WorkspaceFromBaggage("workerpair.workspace=a%0Ab") == "");  // a newline: not a name
}

TEST_CASE("A caller's request id is kept when valid and replaced otherwise") {
  CHECK(NewRequestTrace("req-7f3a").request_id == "req-7f3a");
  for (const std::string bad : {std::string(), std::string("has space"), std::string("a\nb"),
                                std::string(129, 'a'), std::string("quote\"")}) {
    const std::string id = NewRequestTrace(bad).request_id;
    CHECK(id != bad);
    CHECK(id.size() == 32);
  }
}

TEST_CASE("The current trace is the innermost scope of this thread") {
  CHECK(CurrentRequestTrace() == nullptr);
  {
    ScopedRequestTrace outer(NewRequestTrace("outer"));
    CHECK(CurrentRequestTrace()->request_id == "outer");
    {
      ScopedRequestTrace inner(NewRequestTrace("inner"));
      CHECK(CurrentRequestTrace()->request_id == "inner");
    }
    CHECK(CurrentRequestTrace()->request_id == "outer");
  }
  CHECK(CurrentRequestTrace() == nullptr);
}

}  // namespace
}  // namespace workerpair
