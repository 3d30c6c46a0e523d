// `controller lint ...` and `controller topology ...`: worker-light's checks of a workspace.
//
// Assembly parts are given on the command line as NAME=PATH[@X,Y,Z[@RX,RY,RZ]] (position, then
// rotation in degrees about x, y, z), or in a JSON file (--parts=FILE): a ValidateAssemblyRequest
// in protobuf JSON ({"parts": [{"name": ..., "path": ..., "pose": {...}}], "build_zone": ...}),
// or just the parts array. Parts from both are used, the file's first; flags override the file.
#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"

namespace workerpair::controller::cli {
namespace {

const char* SeverityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_INFO: return "info";
    case v1::SEVERITY_WARNING: return "warning";
    case v1::SEVERITY_ERROR: return "error";
    default: return "?";
  }
}

std::string Vec(const v1::TopologyVec3& v) {
  return StrCat("(", Fixed(v.x(), 4), ", ", Fixed(v.y(), 4), ", ", Fixed(v.z(), 4), ")");
}

std::string Box(const v1::TopologyBox& box) { return StrCat(Vec(box.min()), " .. ", Vec(box.max())); }

const char* YesNo(bool value) { return value ? "yes" : "no"; }

// "1.5,-2,0" -> exactly `count` numbers; nullopt otherwise.
std::optional<std::vector<double>> ParseNumbers(const std::string& text, std::size_t count) {
  std::vector<double> numbers;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::optional<double> value = ParseDouble(text.substr(start, comma - start));
    if (!value) return std::nullopt;
    numbers.push_back(*value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (numbers.size() != count) return std::nullopt;
  return numbers;
}

void SetVec(v1::TopologyVec3* out, const std::vector<double>& xyz) {
  out->set_x(xyz[0]);
  out->set_y(xyz[1]);
  out->set_z(xyz[2]);
}

// NAME=PATH[@X,Y,Z[@RX,RY,RZ]] -> a part.
absl::StatusOr<v1::TopologyPart> ParsePart(const std::string& text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
    return absl::InvalidArgumentError(
        StrCat("part '", text, "' is not NAME=PATH[@X,Y,Z[@RX,RY,RZ]]"));
  }
  v1::TopologyPart part;
  part.set_name(text.substr(0, equals));
  std::string rest = text.substr(equals + 1);
  const std::size_t at = rest.find('@');
  part.set_path(rest.substr(0, at));
  if (at == std::string::npos) return part;
  std::string pose = rest.substr(at + 1);
  const std::size_t second_at = pose.find('@');
  auto position = ParseNumbers(pose.substr(0, second_at), 3);
  if (!position) {
    return absl::InvalidArgumentError(
        StrCat("part '", part.name(), "': the position after @ must be X,Y,Z"));
  }
  SetVec(part.mutable_pose()->mutable_position(), *position);
  if (second_at != std::string::npos) {
    auto euler = ParseNumbers(pose.substr(second_at + 1), 3);
    if (!euler) {
      return absl::InvalidArgumentError(
          StrCat("part '", part.name(), "': the rotation after the second @ must be RX,RY,RZ "
                 "(degrees)"));
    }
    SetVec(part.mutable_pose()->mutable_euler_degrees(), *euler);
  }
  return part;
}

// --parts=FILE: a ValidateAssemblyRequest in protobuf JSON, or only its parts array.
absl::Status LoadPartsFile(const std::string& path, v1::ValidateAssemblyRequest& request) {
  auto text = ReadFileCapped(path, path, 16 << 20);
  if (!text.ok()) return text.status();
  std::string json = *text;
  const std::size_t first = json.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && json[first] == '[') json = StrCat("{\"parts\":", json, "}");
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &request);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        StrCat("--parts file '", path, "': ", parsed.ToString()));
  }
  return absl::OkStatus();
}

int PrintLint(CliContext& context, const v1::LintResult& response) {
  if (context.json()) {
    PrintJson(ProtoToJsonValue(response));
  } else {
    for (const v1::Diagnostic& d : response.diagnostics()) {
      std::cout << d.path();
      if (d.line() > 0) std::cout << ":" << d.line();
      if (d.column() > 0) std::cout << ":" << d.column();
      std::cout << ": " << SeverityName(d.severity()) << ": " << d.message() << " [" << d.code()
                << "]\n";
    }
    std::cout << response.files_checked() << " file(s) checked, " << response.error_count()
              << " error(s), " << response.warning_count() << " warning(s)"
              << (response.truncated() ? " (truncated)" : "") << "\n";
  }
  // Errors in the files are the answer, not a failed call; scripts still need to stop.
  return response.ok() ? kExitOk : kExitRejected;
}

int LintFile(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 3) return context.Usage("lint file takes WS PATH");
  v1::LintFileRequest request;
  request.set_workspace(parsed[1]);
  request.set_path(parsed[2]);
  request.set_skip_external(parsed.Bool("skip_external"));
  auto linted =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).lint(), &v1::LightLintService::Stub::LintFile, request);
  if (!linted.ok()) return context.Fail(linted.status());
  return PrintLint(context, linted->result());
}

int LintWorkspace(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() < 2 || parsed.size() > 3) return context.Usage("lint workspace takes WS [DIR]");
  v1::LintWorkspaceRequest request;
  request.set_workspace(parsed[1]);
  if (parsed.size() == 3) request.set_path(parsed[2]);
  request.set_glob(parsed.String("glob"));
  request.set_skip_external(parsed.Bool("skip_external"));
  auto linted =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).lint(), &v1::LightLintService::Stub::LintWorkspace, request);
  if (!linted.ok()) return context.Fail(linted.status());
  return PrintLint(context, linted->result());
}

int Analyze(CliContext& context, const CommandArgs& parsed, double weld) {
  if (parsed.size() != 3) return context.Usage("topology analyze takes WS PATH");
  v1::AnalyzeMeshRequest request;
  request.set_workspace(parsed[1]);
  request.set_path(parsed[2]);
  request.set_weld_epsilon(weld);
  auto mesh = context.light(request.workspace())
          .Call(context.light(request.workspace()).topology(), &v1::LightTopologyService::Stub::AnalyzeMesh, request);
  if (!mesh.ok()) return context.Fail(mesh.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*mesh));
    return kExitOk;
  }
  std::cout << mesh->path() << " (" << mesh->format() << ")\n"
            << "  triangles " << mesh->triangle_count() << ", vertices " << mesh->vertex_count()
            << ", edges " << mesh->edge_count() << "\n"
            << "  volume " << Fixed(mesh->volume(), 6) << (mesh->inverted() ? " (inverted)" : "")
            << ", area " << Fixed(mesh->area(), 6) << "\n"
            << "  bounding box " << Box(mesh->bounding_box()) << "\n"
            << "  centre of mass " << Vec(mesh->center_of_mass())
            << (mesh->solid_center() ? "" : " (surface centroid: no enclosed volume)") << "\n"
            << "  watertight " << YesNo(mesh->watertight()) << ", manifold "
            << YesNo(mesh->manifold()) << ", consistently oriented "
            << YesNo(mesh->consistently_oriented()) << "\n"
            << "  boundary edges " << mesh->boundary_edge_count() << ", non-manifold edges "
            << mesh->non_manifold_edge_count() << ", non-manifold vertices "
            << mesh->non_manifold_vertex_count() << ", inconsistent edges "
            << mesh->inconsistent_edge_count() << "\n"
            << "  components " << mesh->component_count() << ", Euler characteristic "
            << mesh->euler_characteristic();
  if (mesh->has_genus()) std::cout << ", genus " << mesh->genus();
  std::cout << "\n  degenerate faces " << mesh->degenerate_face_count() << ", duplicate faces "
            << mesh->duplicate_face_count() << "\n";
  return kExitOk;
}

int InspectFace(CliContext& context, const CommandArgs& parsed, double weld) {
  std::optional<std::uint64_t> index = parsed.size() == 4 ? ParseUint(parsed[3]) : std::nullopt;
  if (!index) return context.Usage("topology face takes WS PATH INDEX (0-based)");
  v1::InspectFaceRequest request;
  request.set_workspace(parsed[1]);
  request.set_path(parsed[2]);
  request.set_face_index(*index);
  request.set_weld_epsilon(weld);
  auto face = context.light(request.workspace())
          .Call(context.light(request.workspace()).topology(), &v1::LightTopologyService::Stub::InspectFace, request);
  if (!face.ok()) return context.Fail(face.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*face));
    return kExitOk;
  }
  std::cout << "face " << face->face_index() << (face->degenerate() ? " (degenerate)" : "")
            << "\n";
  for (int i = 0; i < face->vertices_size() && i < face->vertex_indices_size(); ++i) {
    std::cout << "  vertex " << face->vertex_indices(i) << " " << Vec(face->vertices(i)) << "\n";
  }
  std::cout << "  normal " << Vec(face->normal()) << ", area " << Fixed(face->area(), 6)
            << ", centre " << Vec(face->centre()) << "\n";
  return kExitOk;
}

int InspectEdge(CliContext& context, const CommandArgs& parsed, double weld) {
  std::optional<std::uint64_t> index = parsed.size() == 4 ? ParseUint(parsed[3]) : std::nullopt;
  if (!index) return context.Usage("topology edge takes WS PATH INDEX (0-based)");
  v1::InspectEdgeRequest request;
  request.set_workspace(parsed[1]);
  request.set_path(parsed[2]);
  request.set_edge_index(*index);
  request.set_weld_epsilon(weld);
  auto edge = context.light(request.workspace())
          .Call(context.light(request.workspace()).topology(), &v1::LightTopologyService::Stub::InspectEdge, request);
  if (!edge.ok()) return context.Fail(edge.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*edge));
    return kExitOk;
  }
  std::cout << "edge " << edge->edge_index() << ": vertices";
  for (std::uint32_t v : edge->vertex_indices()) std::cout << " " << v;
  std::cout << "\n  " << Vec(edge->start()) << " -> " << Vec(edge->end()) << ", length "
            << Fixed(edge->length(), 6) << "\n  faces";
  for (std::uint32_t f : edge->adjacent_faces()) std::cout << " " << f;
  std::cout << (edge->consistent() ? "  (consistent)" : "  (NOT consistent)") << "\n";
  return kExitOk;
}

int Assembly(CliContext& context, const CommandArgs& parsed, double weld) {
  v1::ValidateAssemblyRequest request;
  if (parsed.Has("parts")) {
    absl::Status loaded = LoadPartsFile(parsed.String("parts"), request);
    if (!loaded.ok()) return context.Fail(loaded);
  }
  if (parsed.size() < 2) return context.Usage("topology assembly takes WS and parts");
  request.set_workspace(parsed[1]);
  for (std::size_t i = 2; i < parsed.size(); ++i) {
    auto part = ParsePart(parsed[i]);
    if (!part.ok()) return context.Usage(part.status());
    *request.add_parts() = *std::move(part);
  }
  if (request.parts().empty()) {
    return context.Usage("topology assembly needs parts: NAME=PATH[@X,Y,Z[@RX,RY,RZ]] or --parts");
  }
  auto threshold = parsed.OptionalDouble("threshold");
  auto max_extent = parsed.OptionalDouble("max_extent");
  auto samples = parsed.OptionalUint("samples");
  for (const absl::Status& status : {threshold.status(), max_extent.status(), samples.status()}) {
    if (!status.ok()) return context.Usage(status);
  }
  if (*threshold) request.set_interference_threshold(**threshold);
  if (*max_extent) request.set_max_extent(**max_extent);
  if (*samples) request.set_samples_per_axis(static_cast<std::uint32_t>(**samples));
  if (parsed.Has("weld")) request.set_weld_epsilon(weld);
  if (parsed.Has("build_zone")) {
    auto zone = ParseNumbers(parsed.String("build_zone"), 6);
    if (!zone) return context.Usage("--build_zone takes X0,Y0,Z0,X1,Y1,Z1");
    SetVec(request.mutable_build_zone()->mutable_min(), {(*zone)[0], (*zone)[1], (*zone)[2]});
    SetVec(request.mutable_build_zone()->mutable_max(), {(*zone)[3], (*zone)[4], (*zone)[5]});
  }
  auto checked = context.light(request.workspace())
          .Call(context.light(request.workspace()).topology(), &v1::LightTopologyService::Stub::ValidateAssembly, request);
  if (!checked.ok()) return context.Fail(checked.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*checked));
  } else {
    for (const v1::TopologyPartResult& part : checked->parts()) {
      std::cout << part.name() << ": volume " << Fixed(part.volume(), 6) << ", watertight "
                << YesNo(part.watertight()) << ", box " << Box(part.posed_bounding_box())
                << (part.inside_build_zone() ? "" : ", OUTSIDE the build zone")
                << (part.within_size_limit() ? "" : ", TOO LARGE") << "\n";
    }
    for (const v1::TopologyInterference& pair : checked->interferences()) {
      std::cout << "overlap " << pair.part_a() << " / " << pair.part_b() << ": "
                << Fixed(pair.overlap_volume(), 6)
                << (pair.exceeds_threshold() ? " (over the threshold)" : "") << "\n";
    }
    for (const v1::TopologyFinding& finding : checked->findings()) {
      std::cout << (finding.error() ? "error" : "warning") << ": " << finding.message() << " ["
                << finding.code() << "]\n";
    }
    std::cout << "assembly of " << checked->parts_size() << " part(s): "
              << (checked->ok() ? "ok" : "FAILED") << ", bounding box "
              << Box(checked->bounding_box()) << "\n";
  }
  return checked->ok() ? kExitOk : kExitRejected;
}

}  // namespace

int RunLintCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"glob", kTakesValue}, {"skip_external"}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  const std::string action = parsed->size() > 0 ? (*parsed)[0] : "";
  if (action == "file") {
    if (parsed->Has("glob")) return context.Usage("--glob is for lint workspace");
    return LintFile(context, *parsed);
  }
  if (action == "workspace" || action == "ws") return LintWorkspace(context, *parsed);
  return context.Usage("lint takes: file WS PATH | workspace WS [DIR]");
}

int RunTopologyCommand(CliContext& context, const Args& args) {
  const std::string action = args.empty() ? "" : args[0];
  std::vector<OptionSpec> options = {{"weld", kTakesValue}};
  if (action == "assembly") {
    options.insert(options.end(), {{"parts", kTakesValue},
                                   {"threshold", kTakesValue},
                                   {"build_zone", kTakesValue},
                                   {"max_extent", kTakesValue},
                                   {"samples", kTakesValue}});
  }
  auto parsed = CommandArgs::Parse(args, options);
  if (!parsed.ok()) return context.Usage(parsed.status());
  auto weld = parsed->Double("weld", 0);
  if (!weld.ok()) return context.Usage(weld.status());
  if (action == "analyze") return Analyze(context, *parsed, *weld);
  if (action == "face") return InspectFace(context, *parsed, *weld);
  if (action == "edge") return InspectEdge(context, *parsed, *weld);
  if (action == "assembly") return Assembly(context, *parsed, *weld);
  return context.Usage("topology takes: analyze | face | edge | assembly, then WS ...");
}

}  // namespace workerpair::controller::cli
