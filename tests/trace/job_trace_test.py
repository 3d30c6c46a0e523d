#!/usr/bin/env python3
"""One job followed end to end: `controller run` against a real worker-light and worker-heavy
started with --log_json, then the job's ids are looked up everywhere an operator would look:

  - the controller's --json report (the flow report: requestId, traceId, heavyJobIds);
  - every line the servers wrote is one JSON object (gRPC's and protobuf's lines included);
  - worker-heavy's job-phase lines for that job id carry the request id, trace id, workspace,
    payload digest and replica, one per phase: accepted, started, compiled, artifacts,
    outcome, finished;
  - worker-light logged each of the flow's calls ("call" lines) with the request id and the
    workspace;
  - the controller's own lines (--log_json) for the flow's steps carry the same ids;
  - a flow run through ControllerService (buf curl RunFlow with an x-request-id header) runs
    under the caller's request id: worker-heavy's lines and its flow.json name it;
  - results/<run>/flow.json and result.json in the workspace name the request id (and the job),
    and they and the --json report read back as their documented messages (FlowJobResult,
    SimulationReport) with the protobuf JSON mapping (buf convert).

Usage: job_trace_test.py --build DIR --source DIR
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "docs"))
from run_doc_commands import Server  # noqa: E402  (the docs runner's server helper)

REQUEST_ID = "trace-test-0001"
SERVICE_REQUEST_ID = "trace-test-0002"  # a ControllerService caller's x-request-id
WORKSPACE = "trace-ws"
HEAVY_PHASES = ["accepted", "started", "compiled", "artifacts", "outcome", "finished"]
FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print(f"FAIL {what}", file=sys.stderr)
    return condition


def json_lines(path, who):
    objects = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                check(False, f"{who} line {number} is not JSON: {line[:200]!r}")
                continue
            check(isinstance(value, dict), f"{who} line {number} is not an object")
            objects.append(value)
    return objects


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    source = os.path.abspath(args.source)
    scratch = tempfile.mkdtemp(prefix="job-trace-")
    root = os.path.join(scratch, "workspaces")
    os.makedirs(root)
    env = dict(os.environ)
    json_flags = ["--listen=127.0.0.1:0", "--log_json", "--log_level=info"]
    light = Server("light", [f"{build}/services/light/worker-light", f"--root={root}",
                             *json_flags], scratch, env)
    heavy = Server("heavy", [f"{build}/services/heavy/worker-heavy", "--slots=1", *json_flags],
                   scratch, env)
    try:
        light.wait_ready()
        heavy.wait_ready()
        cli_log = os.path.join(scratch, "controller.log")
        with open(cli_log, "wb") as err:
            done = subprocess.run(
                [f"{build}/services/controller/controller", f"--light=127.0.0.1:{light.port}",
                 f"--heavy=127.0.0.1:{heavy.port}", f"--request_id={REQUEST_ID}", "--json",
                 "--quiet", "--log_json", "--log_level=info", "run", WORKSPACE,
                 os.path.join(source, "examples/scenes/ramp_goal"), "--create",
                 "--no_render", "--run_name=traced"],
                stdout=subprocess.PIPE, stderr=err, timeout=240, cwd=scratch)
        check(done.returncode == 0, f"controller run exited {done.returncode}: "
              f"{done.stdout[-2000:]!r}\n{open(cli_log).read()[-3000:]}")
        report = json.loads(done.stdout)
        check(report.get("requestId") == REQUEST_ID, f"--json report requestId: {report}")
        trace_id = report.get("traceId", "")
        check(len(trace_id) == 32, f"--json report traceId: {trace_id!r}")
        job_ids = report.get("heavyJobIds", [])
        check(len(job_ids) >= 1, f"--json report heavyJobIds: {job_ids}")
        job_id = job_ids[-1] if job_ids else "?"
        digest = report.get("payloadSha256", "")
        check(len(digest) == 64, f"--json report payloadSha256: {digest!r}")
        # The same through ControllerService: the caller's x-request-id is the job's.
        service = Server("service", [f"{build}/services/controller/controller",
                                        f"--light=127.0.0.1:{light.port}",
                                        f"--heavy=127.0.0.1:{heavy.port}", "serve",
                                        "--listen=127.0.0.1:0", "--log_json"], scratch, env)
        service.wait_ready()
        flow_spec = {"flow": {"workspace": WORKSPACE, "runName": "served",
                              "simulate": {"render": False}}}
        served = subprocess.run(
            ["npx", "--yes", "@bufbuild/buf", "curl", "--protocol", "grpc",
             "--http2-prior-knowledge", "-H", f"x-request-id: {SERVICE_REQUEST_ID}",
             "-d", json.dumps(flow_spec),
             f"http://127.0.0.1:{service.port}/workerpair.v1.ControllerService/RunFlow"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
        service.stop()
        check(served.returncode == 0, f"RunFlow through buf curl: {served.stderr[-2000:]!r}")
    finally:
        light.stop()
        heavy.stop()

    heavy_lines = json_lines(heavy.log_path, "worker-heavy")
    mine = [l for l in heavy_lines if l.get("logger") == "job" and l.get("job_id") == job_id]
    events = [l.get("event") for l in mine]
    for phase in HEAVY_PHASES:
        check(phase in events, f"worker-heavy has no '{phase}' line for {job_id}: {events}")
    for line in mine:
        check(line.get("request_id") == REQUEST_ID, f"heavy line without the request id: {line}")
        check(line.get("trace_id") == trace_id, f"heavy line with another trace id: {line}")
        check(line.get("workspace") == WORKSPACE, f"heavy line without the workspace: {line}")
        check(line.get("payload_sha256") == digest, f"heavy line without the digest: {line}")
        check(bool(line.get("replica")), f"heavy line without a replica: {line}")
        check(line.get("level") == "info" or line.get("event") == "phase", f"level: {line}")
    built = {l.get("event") for l in heavy_lines if l.get("logger") == "job"
             and l.get("kind") == "build_scene" and l.get("request_id") == REQUEST_ID}
    check(built >= {"accepted", "started", "outcome", "finished"},
          f"worker-heavy's BuildScene (the flow's build step) phases: {built}")
    outcome = [l for l in mine if l.get("event") == "outcome"]
    check(outcome and outcome[0].get("outcome", "").startswith("OUTCOME_"), f"outcome: {outcome}")

    light_lines = json_lines(light.log_path, "worker-light")
    calls = [l for l in light_lines if l.get("logger") == "job" and l.get("event") == "call"
             and l.get("request_id") == REQUEST_ID]
    methods = {l.get("kind") for l in calls}
    for method in ("workerpair.v1.LightLintService/LintWorkspace",
                   "workerpair.v1.LightBundleService/BundleWorkspace",
                   "workerpair.v1.LightFilesService/UploadFiles"):
        check(method in methods, f"worker-light logged no {method} for the request: {methods}")
    for line in calls:
        check(line.get("workspace") == WORKSPACE, f"light line without the workspace: {line}")
        check(line.get("trace_id") == trace_id, f"light line with another trace id: {line}")
        check(line.get("level") == "info", f"light call line not at info: {line}")

    controller_lines = json_lines(cli_log, "controller")
    steps = [l for l in controller_lines if l.get("logger") == "job" and l.get("event") == "step"]
    check({l.get("step") for l in steps} >= {"lint", "bundle", "simulate", "results"},
          f"controller step lines: {[l.get('step') for l in steps]}")
    for line in steps:
        check(line.get("request_id") == REQUEST_ID and line.get("workspace") == WORKSPACE,
              f"controller line without the ids: {line}")
    accepted = [l for l in controller_lines if l.get("event") == "accepted"]
    check(any(l.get("job_id") == job_id for l in accepted),
          f"controller has no 'accepted' line naming {job_id}: {accepted}")

    results = os.path.join(root, WORKSPACE, "results", "traced")
    if not check(os.path.exists(os.path.join(results, "flow.json")), "no results/traced/"):
        return 1
    flow = json.load(open(os.path.join(results, "flow.json")))
    check(flow.get("requestId") == REQUEST_ID, "flow.json requestId")
    check(job_id in flow.get("heavyJobIds", []), "flow.json heavyJobIds")
    result = json.load(open(os.path.join(results, "result.json")))
    check(result.get("requestId") == REQUEST_ID, f"result.json requestId: {list(result)[:12]}")
    check(result.get("jobId") == job_id, f"result.json jobId: {result.get('jobId')!r}")

    json_lines(service.log_path, "controller serve")  # every line JSON there too
    served_heavy = [l for l in heavy_lines if l.get("logger") == "job"
                    and l.get("request_id") == SERVICE_REQUEST_ID and l.get("event") == "finished"
                    and l.get("kind") == "simulate"]
    check(len(served_heavy) == 1, f"worker-heavy lines of the served flow: {served_heavy}")
    served_flow = os.path.join(root, WORKSPACE, "results", "served", "flow.json")
    check(os.path.exists(served_flow) and
          json.load(open(served_flow)).get("requestId") == SERVICE_REQUEST_ID,
          "the served flow's flow.json names the caller's request id")

    # Each file reads back as its documented message with the protobuf JSON mapping (buf
    # convert parses like JsonStringToMessage: unknown names or wrong types fail).
    report_path = os.path.join(scratch, "report.json")
    with open(report_path, "wb") as f:
        f.write(done.stdout)
    for path, message in ((os.path.join(results, "flow.json"), "workerpair.v1.FlowJobResult"),
                          (report_path, "workerpair.v1.FlowJobResult"),
                          (os.path.join(results, "result.json"), "workerpair.v1.SimulationReport")):
        parsed = subprocess.run(
            ["npx", "--yes", "@bufbuild/buf", "convert", os.path.join(source, "proto"),
             "--type", message, "--from", f"{path}#format=json", "--to", "-#format=json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check(parsed.returncode == 0, f"{path} is not a {message}: {parsed.stderr[-1500:]!r}"):
            back = json.loads(parsed.stdout)
            check(back.get("requestId") == REQUEST_ID, f"{path} round trip lost requestId")

    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed; logs in {scratch}", file=sys.stderr)
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"job {job_id} / request {REQUEST_ID}: found in every log and JSON result")
    return 0


if __name__ == "__main__":
    sys.exit(main())
