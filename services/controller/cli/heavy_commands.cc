// The worker-heavy commands: simulate, verify, render, build (on a local scene directory, a
// .tar.gz file, or --from_workspace=WS) and info (each replica's capacity and load).
#include <cctype>
#include <filesystem>
#include <iostream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"
#include "services/controller/cli/payload_source.h"
#include "services/controller/proto_json.h"
#include "workerpair/v1/controller.pb.h"

namespace workerpair::controller::cli {
namespace {

// Every payload command takes its scene from a path or from a workspace.
const OptionSpec kFromWorkspace{"from_workspace", kTakesValue};

std::string OutcomeWord(v1::Outcome outcome) {
  switch (outcome) {
    case v1::OUTCOME_SUCCESS: return "SUCCESS";
    case v1::OUTCOME_FAILURE: return "FAILURE";
    default: return "UNSPECIFIED";
  }
}

std::string FailReasonWord(v1::FailReason reason) {
  std::string name = v1::FailReason_Name(reason);
  const std::string prefix = "FAIL_REASON_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// --out, or "<prefix>-<UTC timestamp>" in the current directory.
std::string OutputDir(const CommandArgs& parsed, const std::string& prefix) {
  if (parsed.Has("out")) return parsed.String("out");
  return StrCat(prefix, "-", absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
}

// Writes `files` (name -> bytes) into `dir`, creating it. The names come from the server, so
// each must be a plain file name: a name with a separator or ".." could write outside `dir`.
absl::StatusOr<std::vector<std::string>> WriteOutputs(
    const std::string& dir, const std::vector<std::pair<std::string, const std::string*>>& files) {
  absl::Status made = CreateDirectories(dir, dir);
  if (!made.ok()) return made;
  std::vector<std::string> written;
  for (const auto& [name, bytes] : files) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(
          StrCat("the server named an output '", name, "', which is not a plain file name"));
    }
    const std::string path = StrCat(dir, "/", name);
    absl::Status status = WriteFileAtomically(path, *bytes, {}, path);
    if (!status.ok()) return status;
    written.push_back(path);
  }
  return written;
}

nlohmann::json PayloadJson(const LoadedPayload& loaded) {
  return {{"source", loaded.description},
          {"sha256", loaded.payload.sha256},
          {"bytes", std::to_string(loaded.payload.bytes.size())}};  // uint64: a string
}

void PrintSimulation(const v1::SimulateResult& result, const std::string& replica, int attempts) {
  std::cout << "outcome " << OutcomeWord(result.outcome());
  if (result.outcome() == v1::OUTCOME_FAILURE) {
    std::cout << " (" << FailReasonWord(result.fail_reason()) << ")";
  }
  std::cout << ": " << result.detail() << "\n"
            << "replica " << replica << ", attempts " << attempts << ", seed " << result.seed()
            << "\n";
  const v1::SimulationMetrics& m = result.metrics();
  std::cout << "simulated " << Fixed(m.sim_time_s(), 2) << " s in " << m.steps() << " steps ("
            << Fixed(m.wall_time_s(), 2) << " s wall), " << m.frames_rendered()
            << " frames; max speed " << Fixed(m.max_velocity_mps(), 3)
            << " m/s, largest single contact " << Fixed(m.max_contact_force_n(), 2)
            << " N, final energy " << Fixed(m.total_energy_j(), 3) << " J\n";
  if (!result.stress().empty()) {
    std::cout << "stress (" << result.stress_label() << "):\n";
    for (const v1::PartStressEstimate& part : result.stress()) {
      std::cout << "  " << part.part() << (part.fixed() ? " (fixed)" : "")
                << ": peak total " << Fixed(part.peak_force_n(), 2) << " N at "
                << Fixed(part.peak_time_s(), 2) << " s (sum over its contacts), largest single "
                << "contact " << Fixed(part.peak_single_contact_force_n(), 2) << " N, mean "
                << Fixed(part.mean_force_n(), 2) << " N, safety factor "
                << (part.safety_factor() > 1e9 ? std::string("inf")
                                               : Fixed(part.safety_factor(), 2))
                << "\n";
    }
  }
  if (!result.events().empty()) std::cout << "events:\n";
  for (const v1::SimulationEvent& event : result.events()) {
    std::cout << "  " << Fixed(event.time_s(), 2) << " s  " << event.kind() << ": "
              << event.detail() << "\n";
  }
  for (const std::string& warning : result.warnings()) std::cout << "warning: " << warning << "\n";
}

}  // namespace

int RunSimulateCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(
      args, {kFromWorkspace, {"out", kTakesValue}, {"no_render"}, {"render"},
             {"duration_s", kTakesValue}, {"timestep_s", kTakesValue}, {"seed", kTakesValue},
             {"width", kTakesValue}, {"height", kTakesValue}, {"fps", kTakesValue},
             {"camera", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  v1::SimulateOptions options;
  if (parsed->Has("render")) options.set_render(parsed->Bool("render"));
  if (parsed->Bool("no_render")) options.set_render(false);
  auto duration = parsed->OptionalDouble("duration_s");
  auto timestep = parsed->OptionalDouble("timestep_s");
  auto seed = parsed->OptionalUint("seed");
  auto width = parsed->OptionalUint("width");
  auto height = parsed->OptionalUint("height");
  auto fps = parsed->OptionalUint("fps");
  for (const absl::Status& status : {duration.status(), timestep.status(), seed.status(),
                                     width.status(), height.status(), fps.status()}) {
    if (!status.ok()) return context.Usage(status);
  }
  if (*duration) options.set_duration_s(**duration);
  if (*timestep) options.set_timestep_s(**timestep);
  if (*seed) options.set_seed(**seed);
  if (*width) options.set_width(static_cast<std::uint32_t>(**width));
  if (*height) options.set_height(static_cast<std::uint32_t>(**height));
  if (*fps) options.set_fps(static_cast<std::uint32_t>(**fps));
  options.set_camera(parsed->String("camera"));

  auto loaded = LoadPayload(context, parsed->positional(), parsed->String("from_workspace"));
  if (!loaded.ok()) return context.Fail(loaded.status());
  context.progress().Status(StrCat("sending ", loaded->description, ", ",
                                   HumanBytes(loaded->payload.bytes.size())));
  std::string heavy_job_id;  // of the attempt that ran it (the last one accepted)
  const ProgressCallback printer = context.progress().JobCallback();
  auto run = context.heavy().Simulate(loaded->payload, options, [&](const HeavyProgress& event) {
    if (!event.job_id.empty()) heavy_job_id = event.job_id;
    if (printer) printer(event);
  });
  context.progress().Finish();
  if (!run.ok()) return context.Fail(run.status());
  const v1::SimulateResult& result = run->value.result;

  // The artifacts as the server named them (its result.json among them, as in a flow's
  // results folder) and run.json: what --json prints, with the replica and attempts.
  std::vector<std::pair<std::string, const std::string*>> files;
  for (const auto& [name, artifact] : run->value.artifacts) {
    files.emplace_back(name, &artifact.data);
  }
  const std::string out_dir = OutputDir(*parsed, "results");
  // run.json and --json: a v1::SimulationJobResult (controller.proto) in the protobuf JSON
  // mapping, as ControllerService's simulation jobs return it; artifacts named, not inlined.
  v1::SimulationJobResult record;
  *record.mutable_result() = result;
  for (const auto& [name, artifact] : run->value.artifacts) {
    v1::JobArtifact* entry = record.add_artifacts();
    entry->set_name(name);
    entry->set_media_type(artifact.media_type);
  }
  v1::JobArtifact* run_json = record.add_artifacts();
  run_json->set_name("run.json");
  run_json->set_media_type("application/json");
  record.set_replica(run->replica);
  record.set_attempts(run->attempts);
  record.set_request_id(context.trace().request_id);
  record.set_trace_id(context.trace().trace_id);
  record.set_heavy_job_id(heavy_job_id);
  record.set_payload_sha256(loaded->payload.sha256);
  record.set_payload_bytes(loaded->payload.bytes.size());
  record.set_out_dir(out_dir);
  const std::string summary_text =
      ProtoJsonText(record, /*pretty=*/true).value_or("{}") + "\n";
  files.emplace_back("run.json", &summary_text);
  auto written = WriteOutputs(out_dir, files);
  if (!written.ok()) return context.Fail(written.status());

  if (context.json()) {
    std::cout << summary_text;
  } else {
    PrintSimulation(result, run->replica, run->attempts);
    std::cout << "wrote " << out_dir << "/:";
    for (const auto& file : files) std::cout << " " << file.first;
    std::cout << "\n";
  }
  return result.outcome() == v1::OUTCOME_SUCCESS ? kExitOk : kExitMechanismFailed;
}

int RunVerifyCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(
      args, {kFromWorkspace, {"runs", kTakesValue}, {"seed", kTakesValue},
             {"jitter_m", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  auto runs = parsed->Uint("runs", 8);
  auto seed = parsed->Uint("seed", 0);
  auto jitter = parsed->OptionalDouble("jitter_m");
  for (const absl::Status& status : {runs.status(), seed.status(), jitter.status()}) {
    if (!status.ok()) return context.Usage(status);
  }
  if (*runs < 1 || *runs > 10000) return context.Usage("--runs must be in [1, 10000]");
  if (*jitter && **jitter < 0) return context.Usage("--jitter_m must be >= 0");

  auto loaded = LoadPayload(context, parsed->positional(), parsed->String("from_workspace"));
  if (!loaded.ok()) return context.Fail(loaded.status());
  context.progress().Status(StrCat("sending ", loaded->description));
  auto summary = context.heavy().Verify(
      loaded->payload, static_cast<std::uint32_t>(*runs), *seed, *jitter,
      context.progress().CountCallback(static_cast<std::uint32_t>(*runs), "runs"));
  context.progress().Finish();
  if (!summary.ok()) return context.Fail(summary.status());
  const v1::VerifyResult& result = summary->result;
  const bool all_succeeded = result.successes() == static_cast<std::uint32_t>(result.runs_size());

  if (context.json()) {
    PrintJson({{"replicas", summary->replicas},
               {"attempts", summary->attempts},
               {"payload", PayloadJson(*loaded)},
               {"result", ProtoToJsonValue(result)}});
  } else {
    for (const v1::VerifyRun& run : result.runs()) {
      std::cout << "run " << run.index() << "  seed " << run.seed() << "  "
                << OutcomeWord(run.outcome());
      if (run.outcome() == v1::OUTCOME_FAILURE) {
        std::cout << " (" << FailReasonWord(run.fail_reason()) << ")";
      }
      std::cout << "  " << Fixed(run.metrics().sim_time_s(), 2) << " s  " << run.detail()
                << "\n";
    }
    std::cout << "success rate " << result.successes() << "/" << result.runs_size() << " ("
              << Fixed(result.success_rate() * 100, 1) << "%), parallelism "
              << result.parallelism() << ", replicas";
    for (const std::string& replica : summary->replicas) std::cout << " " << replica;
    std::cout << ", attempts " << summary->attempts << "\n";
  }
  return all_succeeded ? kExitOk : kExitMechanismFailed;
}

int RunRenderCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(
      args, {kFromWorkspace, {"out", kTakesValue}, {"camera", kTakesValue},
             {"azimuths", kTakesValue}, {"elevations", kTakesValue},
             {"distance_m", kTakesValue}, {"width", kTakesValue}, {"height", kTakesValue},
             {"at_time_s", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  v1::RenderViewsOptions options;
  options.set_camera(parsed->String("camera"));
  auto azimuths = parsed->Uint("azimuths", 0);
  auto distance = parsed->Double("distance_m", 0);
  auto width = parsed->Uint("width", 0);
  auto height = parsed->Uint("height", 0);
  auto at_time = parsed->Double("at_time_s", 0);
  for (const absl::Status& status : {azimuths.status(), distance.status(), width.status(),
                                     height.status(), at_time.status()}) {
    if (!status.ok()) return context.Usage(status);
  }
  options.set_azimuth_count(static_cast<std::uint32_t>(*azimuths));
  options.set_distance_m(*distance);
  options.set_width(static_cast<std::uint32_t>(*width));
  options.set_height(static_cast<std::uint32_t>(*height));
  options.set_at_time_s(*at_time);
  for (const std::string& text : parsed->Strings("elevations", /*split_commas=*/true)) {
    std::optional<double> elevation = ParseDouble(text);
    if (!elevation) return context.Usage(StrCat("--elevations: '", text, "' is not a number"));
    options.add_elevations_deg(*elevation);
  }
  // What the server will send, for the bar: one still from a camera, else the ring (with the
  // defaults the proto documents: 8 azimuths, 3 elevations).
  const std::uint32_t expected =
      !options.camera().empty()
          ? 1
          : (options.azimuth_count() > 0 ? options.azimuth_count() : 8) *
                (options.elevations_deg_size() > 0 ? options.elevations_deg_size() : 3);

  auto loaded = LoadPayload(context, parsed->positional(), parsed->String("from_workspace"));
  if (!loaded.ok()) return context.Fail(loaded.status());
  context.progress().Status(StrCat("sending ", loaded->description));
  auto rendered = context.heavy().RenderViews(loaded->payload, options,
                                              context.progress().CountCallback(expected, "views"));
  context.progress().Finish();
  if (!rendered.ok()) return context.Fail(rendered.status());

  const std::string out_dir = OutputDir(*parsed, "views");
  std::vector<std::pair<std::string, const std::string*>> files;
  nlohmann::json views = nlohmann::json::array();
  for (const v1::RenderedView& view : rendered->value.views) {
    files.emplace_back(view.name(), &view.png());
    v1::RenderedView described = view;
    described.clear_png();  // the image is the file, not base64 on stdout
    views.push_back(ProtoToJsonValue(described));
  }
  auto written = WriteOutputs(out_dir, files);
  if (!written.ok()) return context.Fail(written.status());
  if (context.json()) {
    PrintJson({{"replica", rendered->replica},
               {"attempts", rendered->attempts},
               {"payload", PayloadJson(*loaded)},
               {"outDir", out_dir},
               {"files", *written},
               {"views", views},
               {"result", ProtoToJsonValue(rendered->value.result)}});
  } else {
    for (const v1::RenderedView& view : rendered->value.views) {
      std::cout << "  " << view.name() << "  " << view.width() << "x" << view.height() << "\n";
    }
    std::cout << "wrote " << rendered->value.views.size() << " view(s) to " << out_dir
              << "/ (replica " << rendered->replica << ", "
              << rendered->value.result.gl_renderer() << ")\n";
  }
  return kExitOk;
}

int RunBuildCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {kFromWorkspace, {"mjcf_out", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  auto loaded = LoadPayload(context, parsed->positional(), parsed->String("from_workspace"));
  if (!loaded.ok()) return context.Fail(loaded.status());
  context.progress().Status(StrCat("building ", loaded->description));
  auto built = context.heavy().BuildScene(loaded->payload, /*return_mjcf=*/parsed->Has("mjcf_out"));
  context.progress().Finish();
  if (!built.ok()) return context.Fail(built.status());
  const v1::BuildSceneResponse& response = built->value;
  if (parsed->Has("mjcf_out")) {
    const std::string path = parsed->String("mjcf_out");
    if (response.mjcf().empty()) {
      std::cerr << "note: the scene is MJCF already; no generated MJCF to write\n";
    } else {
      absl::Status status =
          WriteFileAtomically(std::filesystem::absolute(path), response.mjcf(), {}, path);
      if (!status.ok()) return context.Fail(status);
    }
  }
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(response);
    out["replica"] = built->replica;
    out["attempts"] = built->attempts;
    out["payload"] = PayloadJson(*loaded);
    PrintJson(out);
    return kExitOk;
  }
  const v1::ModelStats& s = response.stats();
  std::cout << "built on " << built->replica << " in " << Fixed(response.compile_ms(), 1)
            << " ms\n"
            << "  bodies " << s.bodies() << ", joints " << s.joints() << ", geoms " << s.geoms()
            << ", meshes " << s.meshes() << ", sites " << s.sites() << ", actuators "
            << s.actuators() << ", cameras " << s.cameras() << "\n"
            << "  nq " << s.nq() << ", nv " << s.nv() << ", timestep " << s.timestep_s()
            << " s, total mass " << Fixed(s.total_mass_kg(), 3) << " kg\n"
            << "  target body " << (s.target_body().empty() ? "(none)" : s.target_body())
            << ", goal zones " << s.goal_zones_size() << ", forbid zones "
            << s.forbid_zones_size() << "\n";
  for (const std::string& warning : response.warnings()) std::cout << "warning: " << warning << "\n";
  if (!response.mjcf().empty()) {
    std::cout << "generated MJCF written to " << parsed->String("mjcf_out") << "\n";
  }
  return kExitOk;
}

int RunInfoCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {});
  if (!parsed.ok()) return context.Usage(parsed.status());
  // Without arguments: every replica of the pool (a dns:/// target: each address it resolves
  // to now, so each pod answers for itself).
  std::vector<std::string> targets =
      parsed->size() > 0 ? parsed->positional() : context.heavy().replicas();
  if (targets.empty()) {
    absl::Status error = context.heavy().pool().config_error();
    return context.Fail(error.ok() ? absl::UnavailableError("the worker-heavy pool has no replica")
                                   : error);
  }
  int exit_code = kExitOk;
  for (const std::string& target : targets) {
    auto info = context.heavy().Info(target);
    if (!info.ok()) {
      // One replica down must not hide the others: report it and go on.
      if (exit_code == kExitOk) exit_code = ExitCodeFor(info.status());
      if (context.json()) {
        nlohmann::json out = ErrorJson(info.status(), ExitCodeFor(info.status()));
        out["target"] = target;
        PrintJson(out);
      } else {
        std::cout << target << ": " << absl::StatusCodeToString(info.status().code()) << ": "
                  << info.status().message() << "\n";
      }
      continue;
    }
    if (context.json()) {
      PrintJson({{"target", target}, {"info", ProtoToJsonValue(*info)}});
      continue;
    }
    std::cout << target << (info->draining() ? " (draining)" : "") << ": slots "
              << info->slots() << ", running " << info->running() << ", queued "
              << info->queued() << "/" << info->queue_capacity() << "\n"
              << "  cpus " << info->cpu_count() << ", load";
    for (double load : info->load_average()) std::cout << " " << Fixed(load, 2);
    std::cout << ", memory " << HumanBytes(info->memory_available_bytes()) << " free of "
              << HumanBytes(info->memory_total_bytes()) << ", rss "
              << HumanBytes(info->process_rss_bytes()) << "\n"
              << "  GL " << (info->gl_renderer().empty() ? "(not initialised)" : info->gl_renderer());
    if (!info->gl_platform().empty()) std::cout << " on " << info->gl_platform();
    std::cout << "\n  jobs accepted " << info->jobs_accepted() << ", rejected "
              << info->jobs_rejected() << ", succeeded " << info->jobs_succeeded() << ", failed "
              << info->jobs_failed() << ", cancelled " << info->jobs_cancelled() << "; up "
              << Fixed(info->uptime_s(), 0) << " s\n";
    for (const v1::JobSummary& job : info->jobs()) {
      std::cout << "    " << job.job_id() << "  " << job.kind() << "  " << job.state() << "  "
                << Fixed(job.age_ms() / 1000.0, 1) << " s\n";
    }
  }
  return exit_code;
}

}  // namespace workerpair::controller::cli
