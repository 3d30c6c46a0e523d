// LightClient: the controller's client for worker-light's file calls.
//
// Every call carries a deadline; failures come back as absl::Status with the server's code and
// message, so callers (the CLI, the end-to-end flow) handle one error type.
//
//   LightClient light(CreateChannel("127.0.0.1:50051"));
//   WP_RETURN_IF_ERROR(light.CreateWorkspace("agent-7", /*exist_ok=*/true));
//   WP_ASSIGN_OR_RETURN(std::string text, light.ReadFile("agent-7", "scene.xml"));
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
#include "libs/common/grpc_status.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace workerpair::controller {

// An insecure channel to `address` with message limits that fit workerpair's payloads.
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address);

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

  v1::LightFiles::Stub& stub() { return *stub_; }

 private:
  // Makes one unary call with the client's deadline; the server's error becomes the status.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::LightFiles::Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
      const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    Response response;
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::unique_ptr<v1::LightFiles::Stub> stub_;
  absl::Duration deadline_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_LIGHT_CLIENT_H_
