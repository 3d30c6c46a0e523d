#include "services/controller/cli/usage.h"

#include <vector>

namespace workerpair::controller::cli {
namespace {

// Layout rules UsageFor relies on: a synopsis line starts with two spaces and the command word;
// its continuation lines start with six or more spaces.
constexpr char kUsage[] =
    R"(controller: command-line client for workerpair (worker-light and the worker-heavy pool).

  controller [GLOBAL FLAGS] COMMAND ARGS... [OPTIONS]

Global flags (anywhere on the line; environment variables fill in first):
  --light=HOST:PORT[,HOST:PORT...]   worker-light pods (env WORKERPAIR_LIGHT; default
                           127.0.0.1:50051); each workspace lives on the one its name hashes to
  --light_statefulset=NAME --light_replicas=N --light_service=SVC:PORT   the pods of a
                           StatefulSet instead: NAME-0.SVC:PORT ... (env WORKERPAIR_LIGHT_*)
  --heavy=ADDR[,ADDR...]   worker-heavy replicas, or one dns:///NAME:PORT target
                           (env WORKERPAIR_HEAVY; default 127.0.0.1:50052)
  --tls_ca=PEM             CA to trust; enables TLS (env WORKERPAIR_TLS_CA)
  --tls_cert=PEM --tls_key=PEM   client certificate for mutual TLS (env WORKERPAIR_TLS_CERT,
                           WORKERPAIR_TLS_KEY)
  --tls_server_name=NAME   name to check in the server certificate (env WORKERPAIR_TLS_SERVER_NAME)
  --auth_token_file=FILE   bearer token to send; needs TLS (env WORKERPAIR_AUTH_TOKEN_FILE)
  --json                   one JSON object on stdout (JSON lines for listings); errors too
  --deadline_s=S           deadline of a worker-light call (default 30) and of one worker-heavy
                           job attempt on one replica (default 600)
  --wait_s=S               the whole wait for a worker-heavy job: waiting for a free slot and
                           every retry included (env WORKERPAIR_WAIT_S; default 1800)
  --attempts=N             attempts a worker-heavy job may lose to replicas that die, freeze or
                           cannot be reached before it fails (default 4); a full or draining
                           replica does not use one up
  --resolve_interval_s=S   how often a dns:/// --heavy pool is resolved again, so new pods get
                           work (env WORKERPAIR_RESOLVE_INTERVAL_S; default 30)
  --quiet                  no progress on stderr
  --request_id=ID          the request id every call carries (x-request-id) and the JSON output
                           names (env WORKERPAIR_REQUEST_ID; default: a new one)
  --log_level=L --log_json the CLI's own log lines on stderr (default warn; info: one line per
                           job phase, as the servers write them)
  --help                   this text

Files (worker-light):
  ping                                  check worker-light answers
  ws create NAME | ws list | ws delete NAME
  ws move NAME | ws rebalance  [--draining=ADDR[,ADDR...]]
      after the pods changed: move a workspace (or every misplaced one) with its history to
      the pod placement picks among --light's; verified before the old copy is deleted.
      --draining: pods leaving the pool (shrinking), searched but never placed on
  ls WS [DIR] [--recursive] [--glob=G] [--max=N]
  stat WS PATH                          type, size, time; exit 3 when it does not exist
  cat WS PATH [--lines=START:COUNT | --bytes=OFFSET:LENGTH]
      lines are 1-based, COUNT/LENGTH 0 = to the end; --json gives content in base64
  write WS PATH [FILE|-] [--overwrite] [--expect_sha256=H]
      content from FILE, or stdin; --expect_sha256 replaces only that version of the file
  upload WS LOCAL_PATH [DEST_DIR] [--overwrite]
      a local file, or a directory's regular files (no symlinks, no .git), all or nothing
  edit WS PATH OLD NEW [--replace_all] [--expect_sha256=H]
  mv WS FROM TO [--overwrite]
  rm WS PATH [--recursive]
  grep WS REGEX [--path=DIR] [--glob=G] [--ignore_case] [--max=N]

Git (in a workspace):
  git init WS [--branch=NAME]
  git status WS
  git diff WS [PATH...] [--from=REV] [--to=REV] [--context=N] [--stat]
      no --from/--to: the working tree against HEAD
  git commit WS --message=M [PATH...] [--author="Name <email>"]
      every change, or only PATHs; author default "workerpair controller
      <controller@workerpair.invalid>" (also for merge and complete-merge)
  git log WS [--from=REV] [--limit=N]
  git branch WS NAME [--start=REV]      create a branch (does not switch to it)
  git checkout WS BRANCH
  git merge WS BRANCH [--message=M] [--no_ff] [--author=...]
      exit 4 when it leaves conflicts: then git resolve each, git complete-merge or
      git abort-merge
  git resolve WS PATH --side=ours|theirs|working_tree
  git abort-merge WS
  git complete-merge WS [--message=M] [--author=...]
  git push WS REMOTE URL [--branch=B] [--force]

Checks (worker-light):
  lint file WS PATH [--skip_external]
  lint workspace WS [DIR] [--glob=G] [--skip_external]
      exit 4 when a diagnostic is an error
  topology analyze WS MESH [--weld=EPS]  volume, area, watertight, manifold, genus, ...
  topology face WS MESH INDEX [--weld=EPS]
  topology edge WS MESH INDEX [--weld=EPS]
  topology assembly WS [NAME=PATH[@X,Y,Z[@RX,RY,RZ]]...] [--parts=FILE.json]
      [--threshold=VOLUME] [--build_zone=X0,Y0,Z0,X1,Y1,Z1] [--max_extent=L] [--samples=N]
      [--weld=EPS]
      a part: its mesh in WS, optionally its position and rotation (degrees about x, y, z),
      e.g. base=meshes/base.stl lid=meshes/lid.stl@0,0,0.05@0,0,90; --parts: a JSON file
      holding a ValidateAssemblyRequest in protobuf JSON or just its "parts" array; exit 4
      when a finding is an error
  bundle WS OUT.tar.gz [PATH...] [--overwrite] [--list]
      the payload worker-heavy runs (whole workspace, or PATHs), written locally

Jobs (worker-heavy; SCENE is a local directory or .tar.gz file holding manifest.json, or
--from_workspace=WS [PATH...] bundles a worker-light workspace):
  simulate SCENE [--out=DIR] [--no_render] [--duration_s=S] [--timestep_s=S] [--seed=N]
      [--width=W] [--height=H] [--fps=F] [--camera=NAME]
      writes the artifacts (video.mp4, heatmap_*.png, the server's result.json) and run.json
      (outcome, metrics, replica, attempts: what --json prints) into DIR (default
      ./results-<UTC time>); exit 7 when the outcome is FAILURE
  verify SCENE [--runs=N] [--seed=BASE] [--jitter_m=M]
      N seeded runs with position jitter (defaults: 8 runs, seeds from 0, the manifest's
      verify.jitter_m), split over the replicas;
      prints each run's outcome and the success rate; exit 7 when any run failed
  render SCENE [--out=DIR] [--camera=NAME] [--azimuths=N] [--elevations=E1,E2,...]
      [--distance_m=D] [--width=W] [--height=H] [--at_time_s=T]
      PNG stills from a camera or a ring of views into DIR (default ./views-<UTC time>)
  build SCENE [--mjcf_out=FILE]          compile only: model statistics (and generated MJCF)
  info [TARGET...]                       each replica's capacity and load (default: --heavy)

Flow:
  run WS [SCENE_DIR] [--create] [--verify=N] [--seed=N] [--jitter_m=M] [--duration_s=S]
      [--no_render] [--run_name=NAME] [--skip_external]
      the end-to-end flow: SCENE_DIR's files (when given) written into WS, lint, topology,
      commit, bundle, build, simulate (or verify N runs), results committed under
      results/<run>/ in WS; exit 7 when the mechanism failed. WS must exist (exit 3) unless
      --create is given (or `ws create WS` made it). --seed: the simulation's seed,
      or verify's run-0 seed (default: the manifest's simulation.seed); --jitter_m: verify's
      jitter (default: the manifest's verify.jitter_m)
  demo [--replicas=N] [--dir=DIR] [the options of run]
      the flow on the built-in example scene (a ball rolls down a ramp into a goal); starts
      its own worker-light and N worker-heavy on loopback unless --light or --heavy is given
  results WS [RUN] [--out=DIR]
      without RUN: the workspace's runs (folders under results/); with RUN: downloads
      results/RUN/ (video, heatmaps, JSON) into DIR (default ./RUN)

Service:
  serve [--listen=HOST:PORT] [--metrics_listen=HOST:PORT] [--health_listen=HOST:PORT]
      [--max_running_jobs=N] [--max_queued_jobs=N] [--max_job_wait_s=S]
      [--max_finished_jobs=N] [--job_retention_s=S] [--shutdown_grace=D]
      [--serve_tls_cert=PEM --serve_tls_key=PEM] [--serve_tls_client_ca=PEM]
      [--serve_auth_token_file=FILE]
      the controller as a gRPC service (workerpair.v1.ControllerService: jobs, a queue, pool
      status; see proto/workerpair/v1/controller.proto) over the global flags' pools. Its
      own server TLS and token are the --serve_* flags (env WORKERPAIR_SERVE_TLS_CERT,
      WORKERPAIR_SERVE_TLS_KEY, WORKERPAIR_SERVE_TLS_CLIENT_CA, WORKERPAIR_SERVE_AUTH_TOKEN_FILE);
      the global --tls_*/--auth_token_file (WORKERPAIR_TLS_*, WORKERPAIR_AUTH_TOKEN_FILE),
      anywhere on the line, stay what it uses as a client of worker-light and worker-heavy.
      `controller serve --help` lists every server flag

Exit codes: 0 ok, 1 other failure, 2 usage, 3 not found, 4 rejected input or state (also lint
errors, assembly findings, merge conflicts), 5 permission denied, 6 server busy or
unreachable, 7 the job ran but the mechanism failed. A server that cannot be reached: check it
runs and that --light/WORKERPAIR_LIGHT or --heavy/WORKERPAIR_HEAVY names its address.
)";

}  // namespace

std::string_view UsageText() { return kUsage; }

std::string UsageFor(std::string_view command) {
  const std::string_view text = kUsage;
  std::string out;
  bool in_match = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const bool continuation = line.size() > 6 && line.substr(0, 6) == "      ";
    if (continuation) {
      if (in_match) out.append(line).append("\n");
      continue;
    }
    in_match = line.size() > 2 + command.size() && line.substr(0, 2) == "  " &&
               line[2] != ' ' && line.substr(2, command.size()) == command &&
               line[2 + command.size()] == ' ';
    if (in_match) out.append(line).append("\n");
  }
  return out.empty() ? std::string(text) : out;
}

}  // namespace workerpair::controller::cli
