#include "services/light/light_bundle_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "libs/rpc/grpc_status.h"

namespace workerpair::light {

grpc::Status LightBundleService::BundleWorkspace(grpc::ServerContext* context,
                                                 const v1::BundleWorkspaceRequest* request,
                                                 grpc::ServerWriter<v1::BundleWorkspaceResponse>* writer) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call,
                           policy_->Admit(context, ws.name, "BundleWorkspace"));
  const std::vector<std::string> paths(request->paths().begin(), request->paths().end());
  PackOptions options = options_;
  options.budget = &call.budget();
  WP_GRPC_ASSIGN_OR_RETURN(PackResult packed, PackDirectory(ws.root, paths, options));

  // The archive in chunks, then the summary.
  const std::string_view archive = packed.archive;
  v1::BundleWorkspaceResponse chunk;
  std::uint32_t chunks = 0;
  for (std::size_t offset = 0; offset < archive.size(); offset += kBundleChunkBytes) {
    if (absl::Status budget = call.budget().Check(); !budget.ok()) return ToGrpcStatus(budget);
    const std::string_view piece = archive.substr(offset, kBundleChunkBytes);
    chunk.set_data(piece.data(), piece.size());
    if (!writer->Write(chunk)) return {grpc::StatusCode::CANCELLED, "bundle stream broken"};
    ++chunks;
  }
  v1::BundleSummary* summary = chunk.mutable_summary();
  summary->set_sha256(packed.sha256);
  summary->set_archive_bytes(archive.size());
  summary->set_file_count(packed.file_count);
  summary->set_total_bytes(packed.total_bytes);
  for (std::string& file : packed.files) summary->add_files(std::move(file));
  summary->set_chunk_count(chunks);
  if (!writer->Write(chunk)) return {grpc::StatusCode::CANCELLED, "bundle stream broken"};
  spdlog::debug("bundled workspace {}: {} files, {} bytes, archive {} bytes sha256 {}", ws.name,
                packed.file_count, packed.total_bytes, archive.size(), packed.sha256);
  return grpc::Status::OK;
}

}  // namespace workerpair::light
