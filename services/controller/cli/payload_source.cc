#include "services/controller/cli/payload_source.h"

#include <filesystem>
#include <system_error>

#include "libs/common/bundle.h"
#include "libs/common/file_io.h"
#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller::cli {
namespace {

namespace fs = std::filesystem;

// worker-heavy's default payload limit (--max_payload_mb); a bigger file would be refused there
// after a long upload, so refuse it here.
constexpr std::uint64_t kMaxPayloadBytes = std::uint64_t{256} << 20;

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

absl::StatusOr<LoadedPayload> LoadPayload(CliContext& context,
                                          const std::vector<std::string>& sources,
                                          const std::string& from_workspace) {
  LoadedPayload loaded;
  if (!from_workspace.empty()) {
    v1::BundleWorkspaceRequest request;
    request.set_workspace(from_workspace);
    for (const std::string& path : sources) request.add_paths(path);
    context.progress().Status(StrCat("bundling workspace ", from_workspace));
    auto bundle = context.light(request.workspace()).BundleWorkspace(request, kMaxPayloadBytes);
    if (!bundle.ok()) return bundle.status();
    loaded.payload = {std::move(bundle->bytes), bundle->summary.sha256()};
    loaded.description = StrCat("workspace ", from_workspace, " (", bundle->summary.file_count(),
                                " files)");
    return loaded;
  }
  if (sources.size() != 1) {
    return CliContext::UsageError(
        sources.empty() ? "give a scene: a local directory or .tar.gz file, or --from_workspace=WS"
                        : "give one scene: a local directory or .tar.gz file, or "
                          "--from_workspace=WS");
  }
  const std::string& source = sources[0];
  std::error_code error;
  const fs::file_status status = fs::status(source, error);
  if (fs::is_directory(status)) {
    auto packed = PackDirectory(source, {}, PackOptions{.max_total_bytes = kMaxPayloadBytes});
    if (!packed.ok()) return packed.status();
    loaded.description = StrCat("directory ", source, " (", packed->file_count, " files)");
    loaded.payload = {std::move(packed->archive), std::move(packed->sha256)};
    return loaded;
  }
  if (!fs::exists(status)) {
    return absl::NotFoundError(StrCat("'", source, "' does not exist"));
  }
  if (!EndsWith(source, ".tar.gz") && !EndsWith(source, ".tgz")) {
    return absl::InvalidArgumentError(
        StrCat("'", source, "' is neither a directory nor a .tar.gz/.tgz file"));
  }
  auto bytes = ReadFileCapped(source, source, kMaxPayloadBytes);
  if (!bytes.ok()) return bytes.status();
  loaded.description = StrCat("archive ", source, " (", HumanBytes(bytes->size()), ")");
  loaded.payload.sha256 = Sha256Hex(*bytes);
  loaded.payload.bytes = *std::move(bytes);
  return loaded;
}

}  // namespace workerpair::controller::cli
