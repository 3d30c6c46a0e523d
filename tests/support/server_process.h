// Tests start real servers with libs/common's ServerProcess; this header keeps the tests' names.
#ifndef WORKERPAIR_TESTS_SUPPORT_SERVER_PROCESS_H_
#define WORKERPAIR_TESTS_SUPPORT_SERVER_PROCESS_H_

#include "libs/rpc/server_process.h"

namespace workerpair::testing {
using ::workerpair::ServerProcess;
using ::workerpair::TempDir;
}  // namespace workerpair::testing

#endif  // WORKERPAIR_TESTS_SUPPORT_SERVER_PROCESS_H_
