#include "services/light/light_files_service.h"

#include "libs/common/str_cat.h"
#include "libs/rpc/grpc_status.h"
#include "services/light/core/files/grep.h"
#include "services/light/core/files/upload_session.h"

namespace workerpair::light {
namespace {

v1::FileType ToProto(EntryType type) {
  switch (type) {
    case EntryType::kFile: return v1::FILE_TYPE_FILE;
    case EntryType::kDirectory: return v1::FILE_TYPE_DIRECTORY;
    case EntryType::kSymlink: return v1::FILE_TYPE_SYMLINK;
    case EntryType::kOther: return v1::FILE_TYPE_OTHER;
  }
  return v1::FILE_TYPE_UNSPECIFIED;
}

void ToProto(const FileEntry& entry, v1::FileInfo* info) {
  info->set_path(entry.path);
  info->set_type(ToProto(entry.type));
  info->set_size(entry.size);
  info->set_modified_unix_nanos(entry.modified_unix_nanos);
}

ReadRange ToCore(const v1::ReadFileRequest& request) {
  switch (request.range_case()) {
    case v1::ReadFileRequest::kBytes:
      return ByteRange{request.bytes().offset(), request.bytes().length()};
    case v1::ReadFileRequest::kLines:
      return LineRange{request.lines().start_line(), request.lines().line_count()};
    case v1::ReadFileRequest::RANGE_NOT_SET:
      break;
  }
  return std::monostate{};
}

}  // namespace

grpc::Status LightFilesService::Ping(grpc::ServerContext*, const v1::PingRequest*,
                                     v1::PingResponse*) {
  return grpc::Status::OK;
}

grpc::Status LightFilesService::CreateWorkspace(grpc::ServerContext*,
                                                const v1::CreateWorkspaceRequest* request,
                                                v1::CreateWorkspaceResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(bool created, store_->Create(request->workspace(), request->exist_ok()));
  response->set_created(created);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::ListWorkspaces(grpc::ServerContext*,
                                               const v1::ListWorkspacesRequest*,
                                               v1::ListWorkspacesResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(std::vector<std::string> names, store_->List());
  for (std::string& name : names) response->add_workspaces(std::move(name));
  return grpc::Status::OK;
}

grpc::Status LightFilesService::DeleteWorkspace(grpc::ServerContext*,
                                                const v1::DeleteWorkspaceRequest* request,
                                                v1::DeleteWorkspaceResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(std::uint64_t removed, store_->Delete(request->workspace()));
  response->set_removed_entries(removed);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::ListFiles(grpc::ServerContext*,
                                          const v1::ListFilesRequest* request,
                                          v1::ListFilesResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  ListOptions options{request->path(), request->recursive(), request->glob(),
                      request->max_entries()};
  WP_GRPC_ASSIGN_OR_RETURN(ListResult result, files_->List(ws, options));
  for (const FileEntry& entry : result.entries) ToProto(entry, response->add_entries());
  response->set_truncated(result.truncated);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::StatFile(grpc::ServerContext*, const v1::StatFileRequest* request,
                                         v1::StatFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(std::optional<FileEntry> entry, files_->Stat(ws, request->path()));
  response->set_exists(entry.has_value());
  if (entry) ToProto(*entry, response->mutable_info());
  return grpc::Status::OK;
}

grpc::Status LightFilesService::ReadFile(grpc::ServerContext*, const v1::ReadFileRequest* request,
                                         v1::ReadFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ReadResult result, files_->Read(ws, request->path(), ToCore(*request)));
  response->set_content(std::move(result.content));
  response->set_file_size(result.file_size);
  response->set_sha256(std::move(result.sha256));
  response->set_total_lines(result.total_lines);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::ReadFiles(grpc::ServerContext*,
                                          const v1::ReadFilesRequest* request,
                                          v1::ReadFilesResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  std::vector<std::string> paths(request->paths().begin(), request->paths().end());
  WP_GRPC_ASSIGN_OR_RETURN(BatchReadResult result, files_->ReadMany(ws, paths));
  for (BatchReadResult::Found& found : result.files) {
    v1::ReadFilesResponse::Found* out = response->add_files();
    out->set_path(std::move(found.path));
    out->set_content(std::move(found.content));
    out->set_sha256(std::move(found.sha256));
  }
  for (std::string& missing : result.missing) response->add_missing(std::move(missing));
  return grpc::Status::OK;
}

grpc::Status LightFilesService::WriteFile(grpc::ServerContext*,
                                          const v1::WriteFileRequest* request,
                                          v1::WriteFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WriteOptions options{request->overwrite(), request->expected_sha256()};
  WP_GRPC_ASSIGN_OR_RETURN(WriteResult result,
                           files_->Write(ws, request->path(), request->content(), options));
  response->set_sha256(std::move(result.sha256));
  response->set_size(result.size);
  response->set_created(result.created);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::EditFile(grpc::ServerContext*, const v1::EditFileRequest* request,
                                         v1::EditFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  std::vector<TextEdit> edits;
  edits.reserve(request->edits_size());
  for (const v1::Edit& edit : request->edits()) {
    edits.push_back({edit.old_text(), edit.new_text(), edit.replace_all()});
  }
  WP_GRPC_ASSIGN_OR_RETURN(EditResult result, files_->Edit(ws, request->path(), edits,
                                                           request->expected_sha256()));
  response->set_sha256(std::move(result.sha256));
  response->set_size(result.size);
  for (std::uint32_t count : result.replacements) response->add_replacements(count);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::UploadFiles(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::UploadFilesRequest>* reader,
                                            v1::UploadFilesResponse* response) {
  v1::UploadFilesRequest message;
  if (!reader->Read(&message)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "upload stream was empty"};
  }
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(message.workspace()));
  // The session removes its staged files unless Commit succeeds, whatever happens below.
  UploadSession upload(ws, *files_, message.overwrite());
  do {
    if (!message.path().empty()) {
      if (absl::Status status = upload.StartFile(message.path()); !status.ok()) {
        return ToGrpcStatus(status);
      }
    }
    if (!message.data().empty() || !message.path().empty()) {
      if (absl::Status status = upload.Append(message.data()); !status.ok()) {
        return ToGrpcStatus(status);
      }
    }
  } while (reader->Read(&message));
  // A cancelled stream also ends Read; publish only what a client finished sending.
  if (context->IsCancelled()) {
    return {grpc::StatusCode::CANCELLED, "upload cancelled by the client; no file was written"};
  }
  WP_GRPC_ASSIGN_OR_RETURN(std::vector<FileEntry> written, upload.Commit());
  for (const FileEntry& entry : written) ToProto(entry, response->add_files());
  response->set_total_bytes(upload.total_bytes());
  return grpc::Status::OK;
}

grpc::Status LightFilesService::MoveFile(grpc::ServerContext*, const v1::MoveFileRequest* request,
                                         v1::MoveFileResponse*) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  return ToGrpcStatus(
      files_->Move(ws, request->from_path(), request->to_path(), request->overwrite()));
}

grpc::Status LightFilesService::DeleteFile(grpc::ServerContext*,
                                           const v1::DeleteFileRequest* request,
                                           v1::DeleteFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(std::uint64_t removed,
                           files_->Delete(ws, request->path(), request->recursive()));
  response->set_removed_entries(removed);
  return grpc::Status::OK;
}

grpc::Status LightFilesService::Grep(grpc::ServerContext* context, const v1::GrepRequest* request,
                                     v1::GrepResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "Grep"));
  GrepOptions options{request->pattern(), request->path(),          request->glob(),
                      request->case_insensitive(), request->max_results(), &call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(GrepResult result, light::Grep(ws, options, files_->limits()));
  for (GrepMatch& match : result.matches) {
    v1::GrepMatch* out = response->add_matches();
    out->set_path(std::move(match.path));
    out->set_line_number(match.line_number);
    out->set_line(std::move(match.line));
  }
  response->set_truncated(result.truncated);
  response->set_files_searched(result.files_searched);
  response->set_files_skipped(result.files_skipped);
  return grpc::Status::OK;
}

}  // namespace workerpair::light
