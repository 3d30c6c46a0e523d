#include "services/controller/light_client.h"

#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"
#include "libs/rpc/trace_metadata.h"

namespace workerpair::controller {

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), arguments, TraceInterceptors());
}

LightClient::LightClient(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : files_(v1::LightFilesService::NewStub(channel)),
      git_(v1::LightGitService::NewStub(channel)),
      lint_(v1::LightLintService::NewStub(channel)),
      topology_(v1::LightTopologyService::NewStub(channel)),
      bundle_(v1::LightBundleService::NewStub(channel)),
      deadline_(deadline) {}

absl::Status LightClient::Ping() {
  return Call(&v1::LightFilesService::Stub::Ping, v1::PingRequest()).status();
}

absl::StatusOr<bool> LightClient::CreateWorkspace(const std::string& workspace, bool exist_ok) {
  v1::CreateWorkspaceRequest request;
  request.set_workspace(workspace);
  request.set_exist_ok(exist_ok);
  auto response = Call(&v1::LightFilesService::Stub::CreateWorkspace, request);
  if (!response.ok()) return response.status();
  return response->created();
}

absl::StatusOr<std::vector<std::string>> LightClient::ListWorkspaces() {
  auto response = Call(&v1::LightFilesService::Stub::ListWorkspaces, v1::ListWorkspacesRequest());
  if (!response.ok()) return response.status();
  return std::vector<std::string>(response->workspaces().begin(), response->workspaces().end());
}

absl::Status LightClient::DeleteWorkspace(const std::string& workspace) {
  v1::DeleteWorkspaceRequest request;
  request.set_workspace(workspace);
  return Call(&v1::LightFilesService::Stub::DeleteWorkspace, request).status();
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
  return Call(&v1::LightFilesService::Stub::ListFiles, request);
}

absl::StatusOr<v1::ReadFileResponse> LightClient::ReadFile(const v1::ReadFileRequest& request) {
  return Call(&v1::LightFilesService::Stub::ReadFile, request);
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
  return Call(&v1::LightFilesService::Stub::WriteFile, request);
}

absl::StatusOr<v1::EditFileResponse> LightClient::EditFile(const v1::EditFileRequest& request) {
  return Call(&v1::LightFilesService::Stub::EditFile, request);
}

absl::StatusOr<v1::GrepResponse> LightClient::Grep(const v1::GrepRequest& request) {
  return Call(&v1::LightFilesService::Stub::Grep, request);
}

absl::Status LightClient::DeleteFile(const std::string& workspace, const std::string& path,
                                     bool recursive) {
  v1::DeleteFileRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_recursive(recursive);
  return Call(&v1::LightFilesService::Stub::DeleteFile, request).status();
}

absl::StatusOr<Bundle> LightClient::BundleWorkspace(const v1::BundleWorkspaceRequest& request,
                                                    std::size_t max_bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  auto reader = bundle_->BundleWorkspace(&context, request);
  Bundle bundle;
  bool got_summary = false;
  v1::BundleWorkspaceResponse chunk;
  while (reader->Read(&chunk)) {
    if (chunk.has_summary()) {
      bundle.summary = chunk.summary();
      got_summary = true;
    } else if (bundle.bytes.size() + chunk.data().size() > max_bytes) {
      context.TryCancel();
      reader->Finish();
      return absl::ResourceExhaustedError(
          StrCat("bundle of workspace '", request.workspace(), "' is over ", max_bytes, " bytes"));
    } else {
      bundle.bytes.append(chunk.data());
    }
  }
  if (grpc::Status status = reader->Finish(); !status.ok()) return FromGrpcStatus(status);
  if (!got_summary) return absl::UnavailableError("BundleWorkspace stream ended without a summary");
  if (Sha256Hex(bundle.bytes) != bundle.summary.sha256()) {
    return absl::DataLossError(
        StrCat("bundle of workspace '", request.workspace(), "' does not match its sha256"));
  }
  return bundle;
}

absl::StatusOr<v1::UploadFilesResponse> LightClient::UploadFiles(
    const std::string& workspace, const std::vector<std::pair<std::string, std::string>>& files,
    bool overwrite) {
  constexpr std::size_t kChunkBytes = 1 << 20;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  v1::UploadFilesResponse response;
  auto writer = files_->UploadFiles(&context, &response);
  bool first = true;
  for (const auto& [path, bytes] : files) {
    std::size_t offset = 0;
    do {
      v1::UploadFilesRequest message;
      if (first) {
        message.set_workspace(workspace);
        message.set_overwrite(overwrite);
        first = false;
      }
      if (offset == 0) message.set_path(path);
      message.set_data(bytes.substr(offset, kChunkBytes));
      offset += kChunkBytes;
      if (!writer->Write(message)) break;
    } while (offset < bytes.size());
  }
  writer->WritesDone();
  if (grpc::Status status = writer->Finish(); !status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace workerpair::controller
