#include "services/controller/light_client.h"

namespace workerpair::controller {

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
}

LightClient::LightClient(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : stub_(v1::LightFiles::NewStub(std::move(channel))), deadline_(deadline) {}

absl::Status LightClient::Ping() {
  return Call(&v1::LightFiles::Stub::Ping, v1::PingRequest()).status();
}

absl::StatusOr<bool> LightClient::CreateWorkspace(const std::string& workspace, bool exist_ok) {
  v1::CreateWorkspaceRequest request;
  request.set_workspace(workspace);
  request.set_exist_ok(exist_ok);
  auto response = Call(&v1::LightFiles::Stub::CreateWorkspace, request);
  if (!response.ok()) return response.status();
  return response->created();
}

absl::StatusOr<std::vector<std::string>> LightClient::ListWorkspaces() {
  auto response = Call(&v1::LightFiles::Stub::ListWorkspaces, v1::ListWorkspacesRequest());
  if (!response.ok()) return response.status();
  return std::vector<std::string>(response->workspaces().begin(), response->workspaces().end());
}

absl::Status LightClient::DeleteWorkspace(const std::string& workspace) {
  v1::DeleteWorkspaceRequest request;
  request.set_workspace(workspace);
  return Call(&v1::LightFiles::Stub::DeleteWorkspace, request).status();
}

absl::StatusOr<v1::ListFilesResponse> LightClient::ListFiles(const std::string& workspace,
                                                             const std::string& path,
                                                             bool recursive,
                                                             const std::string& glob) {
  v1::ListFilesRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_recursive(recursive);
  request.set_glob(glob);
  return Call(&v1::LightFiles::Stub::ListFiles, request);
}

absl::StatusOr<v1::ReadFileResponse> LightClient::ReadFile(const v1::ReadFileRequest& request) {
  return Call(&v1::LightFiles::Stub::ReadFile, request);
}

absl::StatusOr<v1::WriteFileResponse> LightClient::WriteFile(const std::string& workspace,
                                                             const std::string& path,
                                                             std::string content,
                                                             bool overwrite) {
  v1::WriteFileRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_content(std::move(content));
  request.set_overwrite(overwrite);
  return Call(&v1::LightFiles::Stub::WriteFile, request);
}

absl::StatusOr<v1::EditFileResponse> LightClient::EditFile(const v1::EditFileRequest& request) {
  return Call(&v1::LightFiles::Stub::EditFile, request);
}

absl::StatusOr<v1::GrepResponse> LightClient::Grep(const v1::GrepRequest& request) {
  return Call(&v1::LightFiles::Stub::Grep, request);
}

absl::Status LightClient::DeleteFile(const std::string& workspace, const std::string& path,
                                     bool recursive) {
  v1::DeleteFileRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_recursive(recursive);
  return Call(&v1::LightFiles::Stub::DeleteFile, request).status();
}

}  // namespace workerpair::controller
