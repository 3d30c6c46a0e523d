// LightClient: the controller's client for worker-light (files, git, lint, topology, bundle).
//
// Every call carries a deadline; failures come back as absl::Status with the server's code and
// message, so callers (the CLI, the end-to-end flow) handle one error type. The common file calls
// have named methods; any other unary call goes through Call() with the service's stub:
//
//   LightClient light(CreateChannel("127.0.0.1:50051"));
//   WP_RETURN_IF_ERROR(light.CreateWorkspace("agent-7", /*exist_ok=*/true).status());
//   v1::GitStatusRequest request;
//   request.set_workspace("agent-7");
//   WP_ASSIGN_OR_RETURN(auto status, light.Call(light.git(), &v1::LightGitService::Stub::GitStatus,
//                                               request));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_LIGHT_CLIENT_H_
#define WORKERPAIR_SERVICES_CONTROLLER_LIGHT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/grpc_status.h"
#include "workerpair/v1/light_bundle.grpc.pb.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"
#include "workerpair/v1/light_lint.grpc.pb.h"
#include "workerpair/v1/light_topology.grpc.pb.h"

namespace workerpair::controller {

// An insecure channel to `address` with message limits that fit workerpair's payloads.
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address);

// A workspace bundle as BundleWorkspace streamed it: the gzipped tar and its summary.
struct Bundle {
  std::string bytes;
  v1::BundleSummary summary;
};

class LightClient {
 public:
  explicit LightClient(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration deadline = absl::Seconds(30));

  absl::Status Ping();
  absl::StatusOr<bool> CreateWorkspace(const std::string& workspace, bool exist_ok);
  absl::StatusOr<std::vector<std::string>> ListWorkspaces();
  absl::Status DeleteWorkspace(const std::string& workspace);
  absl::StatusOr<v1::ListFilesResponse> ListFiles(const std::string& workspace,
                                                  const std::string& path, bool recursive,
                                                  const std::string& glob);
  absl::StatusOr<v1::ReadFileResponse> ReadFile(const v1::ReadFileRequest& request);
  absl::StatusOr<v1::WriteFileResponse> WriteFile(const std::string& workspace,
                                                  const std::string& path, std::string content,
                                                  bool overwrite);
  absl::StatusOr<v1::EditFileResponse> EditFile(const v1::EditFileRequest& request);
  absl::StatusOr<v1::GrepResponse> Grep(const v1::GrepRequest& request);
  absl::Status DeleteFile(const std::string& workspace, const std::string& path, bool recursive);

  // Streams BundleWorkspace into memory, checking the archive against the summary's sha256
  // and refusing more than `max_bytes`.
  absl::StatusOr<Bundle> BundleWorkspace(const v1::BundleWorkspaceRequest& request,
                                         std::size_t max_bytes = std::size_t{256} << 20);
  // Uploads files (path -> bytes) in one UploadFiles stream: all are published or none.
  absl::StatusOr<v1::UploadFilesResponse> UploadFiles(
      const std::string& workspace, const std::vector<std::pair<std::string, std::string>>& files,
      bool overwrite);

  v1::LightFilesService::Stub& files() { return *files_; }
  v1::LightGitService::Stub& git() { return *git_; }
  v1::LightLintService::Stub& lint() { return *lint_; }
  v1::LightTopologyService::Stub& topology() { return *topology_; }
  // Backwards-compatible name of files().
  v1::LightFilesService::Stub& stub() { return *files_; }

  // Makes one unary call on `stub` with the client's deadline; the server's error becomes the
  // status.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    Response response;
    grpc::Status status = (stub.*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::LightFilesService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
      const Request& request) {
    return Call(*files_, method, request);
  }

  std::unique_ptr<v1::LightFilesService::Stub> files_;
  std::unique_ptr<v1::LightGitService::Stub> git_;
  std::unique_ptr<v1::LightLintService::Stub> lint_;
  std::unique_ptr<v1::LightTopologyService::Stub> topology_;
  std::unique_ptr<v1::LightBundleService::Stub> bundle_;
  absl::Duration deadline_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_LIGHT_CLIENT_H_
