#include "services/controller/light_client.h"

#include "libs/common/grpc_status.h"

namespace workerpair::controller {

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
}

LightClient::LightClient(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : stub_(v1::LightFiles::NewStub(std::move(channel))), deadline_(deadline) {}

std::unique_ptr<grpc::ClientContext> LightClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  return context;
}

absl::Status LightClient::Ping() {
  v1::PingResponse response;
  return FromGrpcStatus(stub_->Ping(NewContext().get(), v1::PingRequest(), &response));
}

absl::StatusOr<bool> LightClient::CreateWorkspace(const std::string& workspace, bool exist_ok) {
  v1::CreateWorkspaceRequest request;
  request.set_workspace(workspace);
  request.set_exist_ok(exist_ok);
  v1::CreateWorkspaceResponse response;
  absl::Status status =
      FromGrpcStatus(stub_->CreateWorkspace(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response.created();
}

absl::StatusOr<std::vector<std::string>> LightClient::ListWorkspaces() {
  v1::ListWorkspacesResponse response;
  absl::Status status = FromGrpcStatus(
      stub_->ListWorkspaces(NewContext().get(), v1::ListWorkspacesRequest(), &response));
  if (!status.ok()) return status;
  return std::vector<std::string>(response.workspaces().begin(), response.workspaces().end());
}

absl::Status LightClient::DeleteWorkspace(const std::string& workspace) {
  v1::DeleteWorkspaceRequest request;
  request.set_workspace(workspace);
  v1::DeleteWorkspaceResponse response;
  return FromGrpcStatus(stub_->DeleteWorkspace(NewContext().get(), request, &response));
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
  v1::ListFilesResponse response;
  absl::Status status = FromGrpcStatus(stub_->ListFiles(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ReadFileResponse> LightClient::ReadFile(const v1::ReadFileRequest& request) {
  v1::ReadFileResponse response;
  absl::Status status = FromGrpcStatus(stub_->ReadFile(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
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
  v1::WriteFileResponse response;
  absl::Status status = FromGrpcStatus(stub_->WriteFile(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::EditFileResponse> LightClient::EditFile(const v1::EditFileRequest& request) {
  v1::EditFileResponse response;
  absl::Status status = FromGrpcStatus(stub_->EditFile(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::GrepResponse> LightClient::Grep(const v1::GrepRequest& request) {
  v1::GrepResponse response;
  absl::Status status = FromGrpcStatus(stub_->Grep(NewContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::Status LightClient::DeleteFile(const std::string& workspace, const std::string& path,
                                     bool recursive) {
  v1::DeleteFileRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_recursive(recursive);
  v1::DeleteFileResponse response;
  return FromGrpcStatus(stub_->DeleteFile(NewContext().get(), request, &response));
}

}  // namespace workerpair::controller
