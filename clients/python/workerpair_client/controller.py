"""The controller service (controller.proto): the whole flow, simulations on the heavy pool with
routing, capacity waiting and failover, and the job API, from Python.

    controller = ControllerClient(connect("127.0.0.1:50053"), caller="agent-7")
    job = controller.run_flow("agent-7", directory_files("examples/scenes/ramp_goal"),
                              on_progress=lambda p: print(p.step, p.line))
    print(job.job_id, job.result.flow.simulate_result.outcome)

    job = controller.submit_flow("agent-7", mode="verify", verify_runs=8)   # returns at once
    job = controller.follow(job.job_id, on_progress=print)                  # from any process

Every job has an id from its first message on. A caller that loses its stream (or its process)
re-attaches with follow(job_id) / watch(job_id, from_sequence); the job keeps running in the
controller meanwhile. Jobs live in the memory of the controller replica that took them: a
controller restart loses them (GetJob NOT_FOUND): submit again.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator, Literal, Mapping, Union

import grpc

from ._stubs import controller_pb2, controller_pb2_grpc, heavy_pb2
from .artifacts import Artifact

Job = controller_pb2.Job
JobProgress = controller_pb2.JobProgress
ProgressCallback = Callable[[controller_pb2.JobProgress], None]
JobEvent = Union[controller_pb2.JobProgress, controller_pb2.Job]

FINISHED_STATES = frozenset({controller_pb2.JOB_STATE_SUCCEEDED, controller_pb2.JOB_STATE_FAILED,
                             controller_pb2.JOB_STATE_CANCELLED})
_PRIORITIES = {"normal": controller_pb2.JOB_PRIORITY_NORMAL,
               "high": controller_pb2.JOB_PRIORITY_HIGH}
_MODES = {"simulate": controller_pb2.FLOW_MODE_SIMULATE, "verify": controller_pb2.FLOW_MODE_VERIFY}
# A watch that breaks with these codes is re-attached (the job runs on in the controller).
_REATTACH_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})


class JobFailed(Exception):
    """wait/follow(..., check=True) of a job that ended FAILED or CANCELLED."""

    def __init__(self, job: controller_pb2.Job) -> None:
        state = controller_pb2.JobState.Name(job.state)
        code = grpc.StatusCode  # the error code is google.rpc.Code, the same numbers
        names = {c.value[0]: c.name for c in code}
        super().__init__(f"job {job.job_id} {state}: {names.get(job.error.code, job.error.code)}"
                         f"{' ' + job.error.reason if job.error.reason else ''}: "
                         f"{job.error.message}")
        self.job = job


def is_finished(job: controller_pb2.Job) -> bool:
    return job.state in FINISHED_STATES


def flow_spec(workspace: str, files: Mapping[str, bytes] | None = None, *,
              mode: Literal["simulate", "verify"] = "simulate", verify_runs: int = 0,
              base_seed: int | None = None, jitter_m: float | None = None,
              simulate: heavy_pb2.SimulateOptions | None = None, run_name: str = "",
              skip_external_linters: bool = False) -> controller_pb2.FlowJobSpec:
    """A FlowJobSpec: write `files` ({workspace path: bytes}) into `workspace`, check, commit,
    bundle, build, then simulate or verify (`verify_runs`, 0: 8), results, commit."""
    spec = controller_pb2.FlowJobSpec(workspace=workspace, mode=_MODES[mode],
                                      verify_runs=verify_runs, run_name=run_name,
                                      skip_external_linters=skip_external_linters)
    for path, content in (files or {}).items():
        spec.files.add(path=path, content=content)
    if base_seed is not None:
        spec.base_seed = base_seed
    if jitter_m is not None:
        spec.jitter_m = jitter_m
    if simulate is not None:
        spec.simulate.CopyFrom(simulate)
    return spec


def simulation_spec(*, archive: bytes | None = None, workspace: str | None = None,
                    options: heavy_pb2.SimulateOptions | None = None
                    ) -> controller_pb2.SimulationJobSpec:
    """A SimulationJobSpec of a caller's payload (`archive`, a gzipped tar, see
    payload.pack_directory) or of a workspace the controller bundles through worker-light."""
    if (archive is None) == (workspace is None):
        raise ValueError("simulation_spec: give exactly one of archive= or workspace=")
    spec = controller_pb2.SimulationJobSpec(options=options or heavy_pb2.SimulateOptions())
    if archive is not None:
        spec.payload.archive = archive
    else:
        spec.payload.workspace = workspace  # type: ignore[assignment]
    return spec


def verify_spec(*, archive: bytes | None = None, workspace: str | None = None, runs: int = 0,
                base_seed: int | None = None, jitter_m: float | None = None
                ) -> controller_pb2.VerifyJobSpec:
    """A VerifyJobSpec: `runs` (0: 8) seeded, jittered runs of a payload or a workspace, split
    across the heavy pool and merged."""
    if (archive is None) == (workspace is None):
        raise ValueError("verify_spec: give exactly one of archive= or workspace=")
    spec = controller_pb2.VerifyJobSpec(runs=runs)
    if archive is not None:
        spec.payload.archive = archive
    else:
        spec.payload.workspace = workspace  # type: ignore[assignment]
    if base_seed is not None:
        spec.base_seed = base_seed
    if jitter_m is not None:
        spec.jitter_m = jitter_m
    return spec


def artifacts_of(job: controller_pb2.Job) -> dict[str, Artifact]:
    """The artifacts of a finished simulation job fetched with include_artifacts."""
    return {a.name: Artifact(a.name, a.media_type, a.data)
            for a in job.result.simulation.artifacts}


class ControllerClient:
    def __init__(self, channel: grpc.Channel, *, caller: str = "",
                 priority: Literal["normal", "high"] = "normal") -> None:
        self.stub = controller_pb2_grpc.ControllerServiceStub(channel)
        self.caller = caller
        self.priority = _PRIORITIES[priority]

    # -- one call: submit, stream progress, the finished job --------------------------------

    def run_flow(self, workspace: str, files: Mapping[str, bytes] | None = None, *,
                 on_progress: ProgressCallback | None = None,
                 on_submitted: Callable[[controller_pb2.Job], None] | None = None,
                 timeout_s: float = 3600, check: bool = False,
                 **spec: object) -> controller_pb2.Job:
        """Runs the flow as one job (RunFlow) and returns the finished job. If the stream breaks
        after the job id arrived, re-attaches with WatchJob from the next progress event.
        `spec`: the keywords of flow_spec (mode, verify_runs, simulate, ...)."""
        request = controller_pb2.RunFlowRequest(
            flow=flow_spec(workspace, files, **spec),  # type: ignore[arg-type]
            caller=self.caller, priority=self.priority)
        stream = self.stub.RunFlow(request, timeout=timeout_s)
        return self._follow_stream(stream, on_progress, on_submitted, timeout_s, False, check)

    def run_simulation(self, *, archive: bytes | None = None, workspace: str | None = None,
                       options: heavy_pb2.SimulateOptions | None = None,
                       include_artifacts: bool = False,
                       on_progress: ProgressCallback | None = None,
                       on_submitted: Callable[[controller_pb2.Job], None] | None = None,
                       timeout_s: float = 3600, check: bool = False) -> controller_pb2.Job:
        """One simulation on the pool (RunSimulation); artifacts_of(job) with
        include_artifacts."""
        request = controller_pb2.RunSimulationRequest(
            simulation=simulation_spec(archive=archive, workspace=workspace, options=options),
            caller=self.caller, priority=self.priority, include_artifacts=include_artifacts)
        stream = self.stub.RunSimulation(request, timeout=timeout_s)
        return self._follow_stream(stream, on_progress, on_submitted, timeout_s,
                                   include_artifacts, check)

    # -- the job API -------------------------------------------------------------------------

    def submit(self, spec: controller_pb2.JobSpec, *, max_wait_s: float = 0,
               timeout_s: float = 30) -> controller_pb2.Job:
        """Queues a job and returns it (QUEUED, with its id) at once. A full queue raises
        grpc.RpcError RESOURCE_EXHAUSTED (errors.retry_delay_s says when to try again);
        `max_wait_s` bounds its time in the queue (0: the server's --max_job_wait_s)."""
        request = controller_pb2.SubmitJobRequest(spec=spec, caller=self.caller,
                                                  priority=self.priority)
        if max_wait_s:
            request.max_wait_s = max_wait_s
        return self.stub.SubmitJob(request, timeout=timeout_s).job

    def submit_flow(self, workspace: str, files: Mapping[str, bytes] | None = None,
                    **spec: object) -> controller_pb2.Job:
        return self.submit(controller_pb2.JobSpec(
            flow=flow_spec(workspace, files, **spec)))  # type: ignore[arg-type]

    def submit_simulation(self, **spec: object) -> controller_pb2.Job:
        """simulation_spec's keywords: archive= or workspace=, options=."""
        return self.submit(controller_pb2.JobSpec(
            simulation=simulation_spec(**spec)))  # type: ignore[arg-type]

    def submit_verify(self, **spec: object) -> controller_pb2.Job:
        """verify_spec's keywords: archive= or workspace=, runs=, base_seed=, jitter_m=;
        the finished job's result.verify holds the merged VerifyResult."""
        return self.submit(controller_pb2.JobSpec(
            verify=verify_spec(**spec)))  # type: ignore[arg-type]

    def watch(self, job_id: str, from_sequence: int = 0, *, include_artifacts: bool = False,
              timeout_s: float | None = None) -> Iterator[JobEvent]:
        """Yields the job's progress events from `from_sequence`, then the finished job.
        Breaking out (or losing the stream) leaves the job running."""
        request = controller_pb2.WatchJobRequest(job_id=job_id, from_sequence=from_sequence,
                                                 include_artifacts=include_artifacts)
        for event in self.stub.WatchJob(request, timeout=timeout_s):
            if event.WhichOneof("event") == "progress":
                yield event.progress
            elif event.WhichOneof("event") == "finished":
                yield event.finished

    def follow(self, job_id: str, on_progress: ProgressCallback | None = None, *,
               from_sequence: int = 0, include_artifacts: bool = False,
               timeout_s: float = 3600, check: bool = False) -> controller_pb2.Job:
        """Watches a job to its end, re-attaching after a broken stream from the next event it
        has not seen; returns the finished job (raises JobFailed with check=True unless it
        SUCCEEDED)."""
        deadline = time.monotonic() + timeout_s
        next_sequence = from_sequence
        backoff = 0.2
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"job {job_id}: not finished within {timeout_s} s")
            try:
                for event in self.watch(job_id, next_sequence,
                                        include_artifacts=include_artifacts,
                                        timeout_s=remaining):
                    if isinstance(event, controller_pb2.JobProgress):
                        next_sequence = event.sequence + 1
                        if on_progress:
                            on_progress(event)
                    else:
                        return self._checked(event, check)
                # A stream that ended without the finished job: ask for its state.
                job = self.get(job_id, include_artifacts=include_artifacts)
                if is_finished(job):
                    return self._checked(job, check)
            except grpc.RpcError as error:
                if error.code() not in _REATTACH_CODES:
                    raise
            time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))
            backoff = min(backoff * 2, 5.0)

    def wait(self, job_id: str, *, timeout_s: float = 3600, check: bool = False,
             include_artifacts: bool = False) -> controller_pb2.Job:
        """follow() without progress callbacks."""
        return self.follow(job_id, timeout_s=timeout_s, check=check,
                           include_artifacts=include_artifacts)

    def get(self, job_id: str, *, include_artifacts: bool = False,
            timeout_s: float = 30) -> controller_pb2.Job:
        request = controller_pb2.GetJobRequest(job_id=job_id, include_artifacts=include_artifacts)
        return self.stub.GetJob(request, timeout=timeout_s).job

    def cancel(self, job_id: str, timeout_s: float = 30) -> controller_pb2.Job:
        return self.stub.CancelJob(controller_pb2.CancelJobRequest(job_id=job_id),
                                   timeout=timeout_s).job

    def list_jobs(self, *, limit: int = 0, caller: str = "",
                  timeout_s: float = 30) -> list[controller_pb2.Job]:
        request = controller_pb2.ListJobsRequest(limit=limit, caller=caller)
        return list(self.stub.ListJobs(request, timeout=timeout_s).jobs)

    def pool_status(self, timeout_s: float = 30) -> controller_pb2.GetPoolStatusResponse:
        return self.stub.GetPoolStatus(controller_pb2.GetPoolStatusRequest(), timeout=timeout_s)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _checked(job: controller_pb2.Job, check: bool) -> controller_pb2.Job:
        if check and job.state != controller_pb2.JOB_STATE_SUCCEEDED:
            raise JobFailed(job)
        return job

    def _follow_stream(self, stream, on_progress, on_submitted, timeout_s,  # type: ignore[no-untyped-def]
                       include_artifacts: bool, check: bool) -> controller_pb2.Job:
        job_id = ""
        next_sequence = 0
        started = time.monotonic()
        try:
            for event in stream:
                kind = event.WhichOneof("event")
                if kind == "submitted":
                    job_id = event.submitted.job_id
                    if on_submitted:
                        on_submitted(event.submitted)
                elif kind == "progress":
                    next_sequence = event.progress.sequence + 1
                    if on_progress:
                        on_progress(event.progress)
                elif kind == "finished":
                    return self._checked(event.finished, check)
        except grpc.RpcError as error:
            # Before the id arrived the job may not exist: the caller decides (e.g. a full queue).
            if not job_id or error.code() not in _REATTACH_CODES:
                raise
        if not job_id:
            raise RuntimeError("the controller ended the stream without a job id")
        return self.follow(job_id, on_progress, from_sequence=next_sequence,
                           include_artifacts=include_artifacts,
                           timeout_s=max(1.0, timeout_s - (time.monotonic() - started)),
                           check=check)
