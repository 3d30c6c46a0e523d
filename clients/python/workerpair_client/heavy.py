"""Calls to one worker-heavy replica with a caller's payload (no routing or failover: for that
go through the controller, ControllerClient.run_simulation / submit_simulation).

    heavy = HeavyClient(connect("127.0.0.1:50052"))
    outcome = heavy.simulate(pack_directory("examples/scenes/ramp_goal"),
                             heavy_pb2.SimulateOptions(render=False),
                             on_event=lambda e: print(e.WhichOneof("kind")))
    print(outcome.result.outcome, sorted(outcome.artifacts))

With ask_cached=True (simulate, verify) the header asks whether the replica already holds the
payload (same SHA-256 and size) and the chunks are sent only when it does not
(heavy.proto "Payload cache"); SimulationOutcome.payload_cached says which it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import grpc

from ._stubs import heavy_pb2, heavy_pb2_grpc
from .artifacts import Artifact, ArtifactAssembler
from .payload import DEFAULT_CHUNK_BYTES, AskingPayloadRequests, payload_requests


@dataclass
class SimulationOutcome:
    result: heavy_pb2.SimulateResult
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    accepted: heavy_pb2.JobAccepted | None = None
    # ask_cached: the replica held the payload and no chunk was sent.
    payload_cached: bool = False


class HeavyClient:
    def __init__(self, channel: grpc.Channel, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.stub = heavy_pb2_grpc.HeavyServiceStub(channel)
        self.chunk_bytes = chunk_bytes

    def info(self, timeout_s: float = 10) -> heavy_pb2.InfoResponse:
        return self.stub.Info(heavy_pb2.InfoRequest(), timeout=timeout_s)

    def _requests(self, request_type: type, header: object, archive: bytes, ask_cached: bool
                  ) -> tuple[object, AskingPayloadRequests | None]:
        if not ask_cached:
            return payload_requests(request_type, header, archive, self.chunk_bytes), None
        asking = AskingPayloadRequests(request_type, header, archive, self.chunk_bytes)
        return iter(asking), asking

    @staticmethod
    def _events(stream: object, asking: AskingPayloadRequests | None) -> object:
        """The call's events; the first one answers an ask_cached stream."""
        try:
            for event in stream:  # type: ignore[attr-defined]
                if asking is not None:
                    asking.answer(event.payload_cache.cached
                                  if event.WhichOneof("kind") == "payload_cache" else False)
                yield event
        finally:
            if asking is not None:
                asking.answer(True)  # the call ended: nothing more to send

    def simulate(self, archive: bytes, options: heavy_pb2.SimulateOptions | None = None, *,
                 on_event: Callable[[heavy_pb2.SimulateResponse], None] | None = None,
                 timeout_s: float = 600, ask_cached: bool = False) -> SimulationOutcome:
        """Sends the payload (header with size and SHA-256, then chunks; with ask_cached the
        chunks only when the replica does not hold it), follows the job and returns its result
        with the artifacts reassembled. Raises grpc.RpcError (see errors.error_reason) or
        ArtifactError."""
        header = heavy_pb2.SimulateHeader(options=options or heavy_pb2.SimulateOptions())
        requests, asking = self._requests(heavy_pb2.SimulateRequest, header, archive, ask_cached)
        assembler = ArtifactAssembler()
        accepted = None
        result = None
        for event in self._events(self.stub.Simulate(requests, timeout=timeout_s), asking):
            if on_event:
                on_event(event)
            kind = event.WhichOneof("kind")
            if kind == "accepted":
                accepted = event.accepted
            elif kind == "artifact":
                assembler.add(event.artifact)
            elif kind == "result":
                result = event.result
        if result is None:
            raise RuntimeError("worker-heavy ended the Simulate stream without a result")
        return SimulationOutcome(result, assembler.finish(), accepted,
                                 asking is not None and asking.cached)

    def verify(self, archive: bytes, runs: int, *, base_seed: int | None = None,
               jitter_m: float | None = None, duration_s: float | None = None,
               on_event: Callable[[heavy_pb2.VerifyResponse], None] | None = None,
               timeout_s: float = 600, ask_cached: bool = False) -> heavy_pb2.VerifyResult:
        """Runs the scene `runs` times with seeded jitter on this replica; the summary."""
        header = heavy_pb2.VerifyHeader(runs=runs)
        if base_seed is not None:
            header.base_seed = base_seed
        if jitter_m is not None:
            header.jitter_m = jitter_m
        if duration_s is not None:
            header.duration_s = duration_s
        requests, asking = self._requests(heavy_pb2.VerifyRequest, header, archive, ask_cached)
        summary = None
        for event in self._events(self.stub.Verify(requests, timeout=timeout_s), asking):
            if on_event:
                on_event(event)
            if event.WhichOneof("kind") == "result":
                summary = event.result
        if summary is None:
            raise RuntimeError("worker-heavy ended the Verify stream without a result")
        return summary

    def build_scene(self, archive: bytes, timeout_s: float = 120) -> heavy_pb2.BuildSceneResponse:
        requests = payload_requests(heavy_pb2.BuildSceneRequest, heavy_pb2.BuildSceneHeader(),
                                    archive, self.chunk_bytes)
        return self.stub.BuildScene(requests, timeout=timeout_s)
