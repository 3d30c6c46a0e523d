// Reading the PEM files (certificates, keys, CAs) and token files that TLS options name.
//
// Not file_io's ReadFileCapped: Kubernetes mounts secrets as symlinks (tls.crt -> ..data/tls.crt),
// which that function refuses on purpose; these paths come from the operator, not a caller.
#ifndef WORKERPAIR_LIBS_RPC_PEM_FILE_H_
#define WORKERPAIR_LIBS_RPC_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace workerpair {

// The whole file at `path` (symlinks followed). NOT_FOUND when it cannot be read,
// RESOURCE_EXHAUSTED above 1 MiB (no certificate chain or token is that large).
// `what` names the file in the message ("TLS certificate").
absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* what);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_PEM_FILE_H_
