// Test support: a plain HTTP/1.0 GET on loopback, for scraping /metrics.
#ifndef WORKERPAIR_TESTS_SUPPORT_HTTP_GET_H_
#define WORKERPAIR_TESTS_SUPPORT_HTTP_GET_H_

#include <string>

namespace workerpair::testing {

// GETs `path` from 127.0.0.1:`port`; returns the whole response (status line, headers, body),
// or an empty string when the connection fails.
std::string HttpGet(int port, const std::string& path);

}  // namespace workerpair::testing

#endif  // WORKERPAIR_TESTS_SUPPORT_HTTP_GET_H_
