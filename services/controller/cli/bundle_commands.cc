// `controller bundle WS OUT.tar.gz [PATH...]`: the workspace bundle (the payload worker-heavy
// runs) saved as a local file, to inspect it or to run it later with `simulate OUT.tar.gz`.
#include <filesystem>
#include <iostream>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"

namespace workerpair::controller::cli {

int RunBundleCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"overwrite"}, {"list"}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 2) return context.Usage("bundle takes WS OUT.tar.gz [PATH...]");
  const std::string out = (*parsed)[1];
  v1::BundleWorkspaceRequest request;
  request.set_workspace((*parsed)[0]);
  for (std::size_t i = 2; i < parsed->size(); ++i) request.add_paths((*parsed)[i]);
  context.progress().Status(StrCat("bundling ", (*parsed)[0]));
  auto bundle = context.light(request.workspace()).BundleWorkspace(request);
  context.progress().Finish();
  if (!bundle.ok()) return context.Fail(bundle.status());
  // Atomic, so an interrupted run never leaves a truncated archive that looks complete.
  // Absolute, so a bare file name has a parent directory to write the temporary file in.
  absl::Status written = WriteFileAtomically(std::filesystem::absolute(out), bundle->bytes,
                                             {.replace = parsed->Bool("overwrite")}, out);
  if (absl::IsAlreadyExists(written)) {
    written = absl::AlreadyExistsError(StrCat("'", out, "' exists; add --overwrite to replace it"));
  }
  if (!written.ok()) return context.Fail(written);
  const v1::BundleSummary& summary = bundle->summary;
  if (context.json()) {
    nlohmann::json json = ProtoToJsonValue(summary);
    json["out"] = out;
    PrintJson(json);
    return kExitOk;
  }
  if (parsed->Bool("list")) {
    for (const std::string& file : summary.files()) std::cout << "  " << file << "\n";
  }
  std::cout << "wrote " << out << ": " << summary.file_count() << " file(s), "
            << HumanBytes(summary.total_bytes()) << " packed into "
            << HumanBytes(summary.archive_bytes()) << ", sha256 " << summary.sha256() << "\n";
  return kExitOk;
}

}  // namespace workerpair::controller::cli
