#!/usr/bin/python3
"""The Python client (clients/python) against the real binaries on loopback: a worker-light,
a worker-heavy (2 slots) and `controller serve`, started with ephemeral ports.

    WORKERPAIR_LIGHT_BINARY=... WORKERPAIR_HEAVY_BINARY=... WORKERPAIR_CONTROLLER_BINARY=... \
    PYTHONPATH=build/clients/python/gen:clients/python /usr/bin/python3 python_client_test.py

Covers: payloads packed deterministically and sent in chunks with their digest; artifacts
reassembled and checked; error reasons and the retry rule; the whole flow through the
controller with progress; a verify through the controller; a job whose caller left,
re-attached by id from another channel; cancel by id; list and pool status.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import Servers, environment_binaries  # noqa: E402

from workerpair.v1 import controller_pb2, heavy_pb2  # noqa: E402
from workerpair_client import (ArtifactAssembler, ArtifactError,  # noqa: E402
                               AskingPayloadRequests, ControllerClient, HeavyClient, JobFailed,
                               artifacts_of, connect, directory_files, error_reason, pack_files,
                               retry_elsewhere)

REPO = Path(__file__).resolve().parents[2]
RAMP_GOAL = REPO / "examples" / "scenes" / "ramp_goal"


def box_files(duration_s: float) -> dict[str, bytes]:
    """A falling box without rendering, at a 0.1 ms timestep (20 s: a few seconds of work)."""
    manifest = ('{"version": 1, "scene": "scene.xml", "simulation": {"duration_s": %s, '
                '"timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}}'
                % duration_s)
    scene = ('<mujoco><worldbody><geom type="plane" size="5 5 0.1"/><body name="box" '
             'pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>'
             '</worldbody></mujoco>')
    return {"manifest.json": manifest.encode(), "scene.xml": scene.encode()}


class _Chunk:
    def __init__(self, name: str, offset: int, data: bytes, total: int, last: bool,
                 sha256: str = "") -> None:
        self.name, self.media_type, self.offset, self.data = name, "text/plain", offset, data
        self.total_bytes, self.last, self.sha256 = total, last, sha256


class OfflineTest(unittest.TestCase):
    def test_an_asking_stream_sends_the_header_then_chunks_only_when_not_cached(self) -> None:
        archive = bytes(range(256)) * 4
        for cached, chunks in ((True, 0), (False, 4)):
            requests = AskingPayloadRequests(heavy_pb2.SimulateRequest, heavy_pb2.SimulateHeader(),
                                             archive, chunk_bytes=256)
            stream = iter(requests)
            first = next(stream)
            self.assertTrue(first.header.payload.ask_cached)
            self.assertEqual(first.header.payload.size_bytes, len(archive))
            self.assertEqual(first.header.payload.sha256, hashlib.sha256(archive).hexdigest())
            requests.answer(cached)
            requests.answer(not cached)  # only the first answer counts
            rest = list(stream)
            self.assertEqual(len(rest), chunks)
            self.assertEqual(b"".join(r.chunk for r in rest), b"" if cached else archive)
            self.assertEqual(requests.cached, cached)

    def test_pack_is_deterministic_and_holds_the_files(self) -> None:
        files = directory_files(RAMP_GOAL)
        self.assertIn("manifest.json", files)
        self.assertIn("meshes/ramp.stl", files)
        archive = pack_files(files)
        self.assertEqual(archive, pack_files(dict(reversed(list(files.items())))))
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            names = tar.getnames()
            self.assertEqual(names, sorted(names))
            self.assertIn("meshes", names)
            self.assertTrue(all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers()))
            self.assertEqual(tar.extractfile("scene.xml").read(), files["scene.xml"])
        self.assertEqual(archive[4:8], b"\0\0\0\0")  # no gzip timestamp
        for bad in ("/etc/passwd", "../x", "a//b", "a/./b"):
            with self.assertRaises(ValueError, msg=bad):
                pack_files({bad: b"x"})

    def test_artifacts_reassemble_and_refuse_gaps_and_bad_digests(self) -> None:
        data = b"0123456789"
        digest = hashlib.sha256(data).hexdigest()
        assembler = ArtifactAssembler()
        self.assertIsNone(assembler.add(_Chunk("a.txt", 0, data[:4], 10, False)))
        done = assembler.add(_Chunk("a.txt", 4, data[4:], 10, True, digest))
        self.assertEqual(done.data, data)
        self.assertEqual(assembler.finish()["a.txt"].data, data)
        gap = ArtifactAssembler()
        gap.add(_Chunk("b", 0, b"xx", 4, False))
        with self.assertRaisesRegex(ArtifactError, "offset 3, expected 2"):
            gap.add(_Chunk("b", 3, b"x", 4, True))
        with self.assertRaisesRegex(ArtifactError, "sha256"):
            ArtifactAssembler().add(_Chunk("c", 0, data, 10, True, "00" * 32))
        unfinished = ArtifactAssembler()
        unfinished.add(_Chunk("d", 0, b"x", 2, False))
        with self.assertRaisesRegex(ArtifactError, "not finished: d"):
            unfinished.finish()


class InstallTest(unittest.TestCase):
    def test_pip_installs_the_client_with_its_generated_stubs_from_a_checkout(self) -> None:
        # A copy of what setup.py reads (clients/python and proto/), so the in-tree build leaves
        # the source tree alone; a venv that sees Debian's grpcio and protobuf, no index.
        with tempfile.TemporaryDirectory(prefix="wp-pip-") as tmp:
            root = Path(tmp)
            shutil.copytree(REPO / "clients" / "python", root / "clients" / "python",
                            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            shutil.copytree(REPO / "proto", root / "proto")
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                            str(root / "venv")], check=True)
            python = str(root / "venv" / "bin" / "python")
            subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index",
                            "--no-build-isolation", "--no-deps", str(root / "clients" / "python")],
                           check=True, cwd=root, timeout=240)
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            shown = subprocess.run(
                [python, "-c", "import workerpair_client as w, workerpair.v1.controller_pb2 as c, "
                 "google.rpc.error_details_pb2 as e; print(w.__file__); print(c.__file__); "
                 "print(e.__file__); "
                 "print(c.DESCRIPTOR.services_by_name['ControllerService'].full_name)"],
                check=True, cwd=root, env=env, capture_output=True, text=True)
            lines = shown.stdout.split()
            # (google.rpc may come from a system googleapis-common-protos instead: same files)
            self.assertTrue(all(line.startswith(str(root / "venv")) for line in lines[:2]), lines)
            self.assertEqual(lines[3], "workerpair.v1.ControllerService")


class LiveTest(unittest.TestCase):
    servers: Servers

    @classmethod
    def setUpClass(cls) -> None:
        cls.servers = Servers(*environment_binaries(), heavy_flags=["--slots=2"],
                              serve_flags=["--max_running_jobs=2"])
        cls.servers.__enter__()
        cls.channel = connect(cls.servers.controller)
        cls.controller = ControllerClient(cls.channel, caller="python-test")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.channel.close()
        cls.servers.__exit__(None, None, None)

    def test_simulate_on_a_replica_sends_chunks_with_the_digest_and_reassembles_artifacts(
            self) -> None:
        with connect(self.servers.heavy) as channel:
            heavy = HeavyClient(channel, chunk_bytes=64)  # many chunks for a small payload
            archive = pack_files(box_files(0.5))
            self.assertGreater(len(archive), 64 * 3)
            kinds: list[str] = []
            outcome = heavy.simulate(archive, heavy_pb2.SimulateOptions(render=False),
                                     on_event=lambda e: kinds.append(e.WhichOneof("kind")))
            self.assertEqual(kinds[0], "accepted")
            self.assertEqual(kinds[-1], "result")
            self.assertNotEqual(outcome.result.outcome, heavy_pb2.OUTCOME_UNSPECIFIED)
            self.assertIn("result.json", outcome.artifacts)
            self.assertIn(b'"outcome"', outcome.artifacts["result.json"].data)
            # A payload that is not a tar.gz: the payload's fault, never retried elsewhere.
            with self.assertRaises(grpc.RpcError) as bad:
                heavy.simulate(b"not a tar.gz" * 10)
            self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertEqual(error_reason(bad.exception), "PAYLOAD_INVALID")
            self.assertFalse(retry_elsewhere(bad.exception))

    def test_ask_cached_a_repeated_payload_sends_no_chunk(self) -> None:
        with connect(self.servers.heavy) as channel:
            heavy = HeavyClient(channel, chunk_bytes=64)
            archive = pack_files(box_files(0.31))
            first = heavy.simulate(archive, heavy_pb2.SimulateOptions(render=False),
                                   ask_cached=True)
            self.assertFalse(first.payload_cached)
            chunks = heavy.info().payload_cache.chunks_received
            kinds: list[str] = []
            again = heavy.simulate(archive, heavy_pb2.SimulateOptions(render=False),
                                   ask_cached=True,
                                   on_event=lambda e: kinds.append(e.WhichOneof("kind")))
            self.assertTrue(again.payload_cached)
            self.assertEqual(kinds[0], "payload_cache")
            self.assertEqual(again.result.outcome, first.result.outcome)
            self.assertEqual(heavy.info().payload_cache.chunks_received, chunks)
            summary = heavy.verify(archive, 2, duration_s=0.1, ask_cached=True)
            self.assertEqual(len(summary.runs), 2)
            self.assertEqual(heavy.info().payload_cache.chunks_received, chunks)

    def test_the_whole_flow_through_the_controller(self) -> None:
        progress: list[controller_pb2.JobProgress] = []
        submitted: list[controller_pb2.Job] = []
        job = self.controller.run_flow(
            "py-flow", directory_files(RAMP_GOAL), run_name="first",
            simulate=heavy_pb2.SimulateOptions(render=False), skip_external_linters=True,
            on_progress=progress.append, on_submitted=submitted.append, timeout_s=240)
        self.assertEqual(len(submitted), 1)
        self.assertEqual(job.job_id, submitted[0].job_id)
        self.assertEqual(job.state, controller_pb2.JOB_STATE_SUCCEEDED, job.error.message)
        flow = job.result.flow
        self.assertEqual(flow.failed_step, "")
        self.assertEqual(flow.run_name, "first")
        self.assertTrue(flow.scene_commit and flow.results_commit)
        self.assertNotEqual(flow.simulate_result.outcome, heavy_pb2.OUTCOME_UNSPECIFIED)
        steps = {p.step for p in progress}
        self.assertTrue({"lint", "simulate"} <= steps, steps)
        self.assertEqual([p.sequence for p in progress], list(range(len(progress))))
        results = self.servers.dir / "workspaces" / "py-flow" / flow.results_dir
        self.assertTrue((results / "result.json").is_file())

    def test_a_verify_through_the_controller(self) -> None:
        job = self.controller.run_flow(
            "py-verify", directory_files(RAMP_GOAL), mode="verify", verify_runs=3, base_seed=7,
            skip_external_linters=True, timeout_s=240, check=True)
        verify = job.result.flow.verify_result
        self.assertEqual(len(verify.runs), 3)
        self.assertEqual(sorted(r.index for r in verify.runs), [0, 1, 2])
        self.assertEqual(verify.successes, sum(r.outcome == heavy_pb2.OUTCOME_SUCCESS
                                               for r in verify.runs))

    def test_a_job_whose_caller_left_is_reattached_by_id(self) -> None:
        archive = pack_files(box_files(20))
        seen_id: list[str] = []

        class Leave(Exception):
            pass

        def leave(job: controller_pb2.Job) -> None:
            seen_id.append(job.job_id)
            raise Leave()  # the caller goes away right after the job id

        with self.assertRaises(Leave):
            self.controller.run_simulation(archive=archive, include_artifacts=True,
                                           on_submitted=leave)
        job_id = seen_id[0]
        # Another channel, as another process would: the job ran on.
        with connect(self.servers.controller) as channel:
            other = ControllerClient(channel, caller="another-process")
            progress: list[controller_pb2.JobProgress] = []
            job = other.follow(job_id, progress.append, include_artifacts=True, timeout_s=240)
            self.assertEqual(job.job_id, job_id)
            self.assertEqual(job.state, controller_pb2.JOB_STATE_SUCCEEDED, job.error.message)
            self.assertTrue(progress and progress[0].sequence == 0)
            self.assertIn("result.json", artifacts_of(job))
            self.assertEqual(other.get(job_id).state, controller_pb2.JOB_STATE_SUCCEEDED)
            # Re-attaching to a finished job from a later sequence gives the rest and the end.
            events = list(other.watch(job_id, from_sequence=len(progress)))
            self.assertEqual(len(events), 1)
            self.assertEqual(events[0].job_id, job_id)

    def test_cancel_by_id_and_list_and_pool_status(self) -> None:
        archive = pack_files(box_files(20))
        # Two long jobs fill the controller's two running places; the third waits, queued.
        running = [self.controller.submit_simulation(archive=archive) for _ in range(2)]
        queued = self.controller.submit_simulation(archive=archive)
        self.assertEqual(queued.state, controller_pb2.JOB_STATE_QUEUED)
        cancelled = self.controller.cancel(queued.job_id)
        self.assertEqual(cancelled.state, controller_pb2.JOB_STATE_CANCELLED)
        with self.assertRaises(JobFailed):
            self.controller.wait(queued.job_id, timeout_s=30, check=True)
        status = self.controller.pool_status()
        self.assertEqual([h.address for h in status.heavy], [self.servers.heavy])
        self.assertTrue(status.light and status.light[0].reachable)
        self.assertGreaterEqual(status.jobs.cancelled_total, 1)
        mine = self.controller.list_jobs(caller="python-test")
        self.assertTrue({j.job_id for j in running + [queued]} <= {j.job_id for j in mine})
        # A running job cancelled by id ends CANCELLED (its heavy work stops or runs out).
        self.controller.cancel(running[0].job_id)
        end = self.controller.wait(running[0].job_id, timeout_s=120)
        self.assertEqual(end.state, controller_pb2.JOB_STATE_CANCELLED)
        self.assertEqual(self.controller.wait(running[1].job_id, timeout_s=120).state,
                         controller_pb2.JOB_STATE_SUCCEEDED)

    def test_an_unknown_job_id_is_not_found(self) -> None:
        with self.assertRaises(grpc.RpcError) as missing:
            self.controller.get("no-such-job")
        self.assertEqual(missing.exception.code(), grpc.StatusCode.NOT_FOUND)


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: str | None
               ) -> unittest.TestSuite:
    """Offline tests first, then the live ones in file order."""
    suite = unittest.TestSuite()
    for case in (OfflineTest, InstallTest, LiveTest):
        names = [n for n in case.__dict__ if n.startswith("test_")]
        suite.addTests(case(n) for n in names)
    return suite


if __name__ == "__main__":
    # A stuck call must not hang ctest: every call has its own timeout, and this is the whole.
    def give_up() -> None:
        print("python_client_test: still running after 280 s, stopping", flush=True)
        if getattr(LiveTest, "servers", None):
            LiveTest.servers.stop()
        os._exit(124)

    watchdog = threading.Timer(280, give_up)
    watchdog.daemon = True
    watchdog.start()
    unittest.main(verbosity=2)
