// LightFilesService: the gRPC adapter for workspaces and their files.
//
// Each handler converts the request to core types, calls WorkspaceStore / WorkspaceFiles / Grep
// / UploadSession, and converts the result back; errors are mapped to gRPC codes in one place.
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_FILES_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_FILES_SERVICE_H_

#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/light_call_policy.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace workerpair::light {

class LightFilesService final : public workerpair::v1::LightFilesService::Service {
 public:
  // `policy` admits Grep, the one expensive call here (time limit, cancellation, caps).
  LightFilesService(WorkspaceStore* store, WorkspaceFiles* files, LightCallPolicy* policy)
      : store_(store), files_(files), policy_(policy) {}

  grpc::Status Ping(grpc::ServerContext*, const v1::PingRequest*, v1::PingResponse*) override;
  grpc::Status CreateWorkspace(grpc::ServerContext*, const v1::CreateWorkspaceRequest*,
                               v1::CreateWorkspaceResponse*) override;
  grpc::Status ListWorkspaces(grpc::ServerContext*, const v1::ListWorkspacesRequest*,
                              v1::ListWorkspacesResponse*) override;
  grpc::Status DeleteWorkspace(grpc::ServerContext*, const v1::DeleteWorkspaceRequest*,
                               v1::DeleteWorkspaceResponse*) override;
  grpc::Status ListFiles(grpc::ServerContext*, const v1::ListFilesRequest*,
                         v1::ListFilesResponse*) override;
  grpc::Status StatFile(grpc::ServerContext*, const v1::StatFileRequest*,
                        v1::StatFileResponse*) override;
  grpc::Status ReadFile(grpc::ServerContext*, const v1::ReadFileRequest*,
                        v1::ReadFileResponse*) override;
  grpc::Status ReadFiles(grpc::ServerContext*, const v1::ReadFilesRequest*,
                         v1::ReadFilesResponse*) override;
  grpc::Status WriteFile(grpc::ServerContext*, const v1::WriteFileRequest*,
                         v1::WriteFileResponse*) override;
  grpc::Status EditFile(grpc::ServerContext*, const v1::EditFileRequest*,
                        v1::EditFileResponse*) override;
  grpc::Status UploadFiles(grpc::ServerContext*, grpc::ServerReader<v1::UploadFilesRequest>*,
                           v1::UploadFilesResponse*) override;
  grpc::Status MoveFile(grpc::ServerContext*, const v1::MoveFileRequest*,
                        v1::MoveFileResponse*) override;
  grpc::Status DeleteFile(grpc::ServerContext*, const v1::DeleteFileRequest*,
                          v1::DeleteFileResponse*) override;
  grpc::Status Grep(grpc::ServerContext*, const v1::GrepRequest*, v1::GrepResponse*) override;

 private:
  WorkspaceStore* store_;
  WorkspaceFiles* files_;
  LightCallPolicy* policy_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_FILES_SERVICE_H_
