#!/usr/bin/python3
"""Runs the controller commands of docs/USAGE.md ("Non-C++ clients") against live servers.

Each fenced block right after a line `<!-- usage-check: NAME -->` (marked doc-skip for
tests/docs/run_doc_commands.py: this test runs them and checks their output) is run as written by
`bash -euo pipefail` from the repository root, with the `controller` binary first on PATH and
the documented addresses replaced by those of the servers this test starts on ephemeral ports
(tests/clients/servers.py): 127.0.0.1:50051 worker-light, :50052 worker-heavy, :50053
`controller serve`; in block `controller-tls`, controller.workerpair.svc.cluster.local:50053 by a
second controller serving TLS with a bearer token (certificate and token made here with openssl).
The output is then checked for what the commands must show.

    WORKERPAIR_{LIGHT,HEAVY,CONTROLLER}_BINARY=... PYTHONPATH=build/clients/python/gen:clients/python \
    /usr/bin/python3 tests/clients/usage_commands_test.py
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import Servers, environment_binaries  # noqa: E402

from workerpair.v1 import controller_pb2  # noqa: E402
from workerpair_client import ControllerClient, connect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
USAGE = REPO / "docs" / "USAGE.md"


def usage_blocks() -> dict[str, str]:
    text = USAGE.read_text()
    blocks = {}
    for m in re.finditer(r"^<!-- usage-check: ([a-z0-9-]+) -->\n```[^\n]*\n(.*?)^```", text,
                         re.M | re.S):
        blocks[m.group(1)] = m.group(2)
    return blocks


def run_block(script: str, env_path: str, cwd: Path, timeout_s: float = 240) -> str:
    env = dict(os.environ, PATH=f"{env_path}:{os.environ.get('PATH', '')}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise AssertionError(f"the USAGE commands failed (exit {done.returncode}):\n"
                             f"--- script\n{script}\n--- stdout\n{done.stdout[-6000:]}\n"
                             f"--- stderr\n{done.stderr[-6000:]}")
    return done.stdout


class UsageControllerCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        for tool in ("npx", "jq", "openssl"):
            if not shutil.which(tool):
                raise SystemExit(f"FAIL: {tool} is not installed; the USAGE commands need it")
        cls.blocks = usage_blocks()
        cls.servers = Servers(*environment_binaries(), heavy_flags=["--slots=2"])
        cls.servers.__enter__()
        cls.bin_dir = str(Path(environment_binaries()[2]).resolve().parent)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.servers.__exit__(None, None, None)

    def substitute(self, block: str) -> str:
        s = self.servers
        return (block.replace("127.0.0.1:50051", s.light).replace("127.0.0.1:50052", s.heavy)
                .replace("127.0.0.1:50053", s.controller))

    def test_the_flow_a_job_watched_and_cancelled_and_the_pool_through_buf_curl(self) -> None:
        self.assertIn("controller", self.blocks, "docs/USAGE.md lost its usage-check block")
        script = (self.substitute(self.blocks["controller"]) +
                  '\necho "USAGE_CANCELLED_JOB=$JOB"\n')
        out = run_block(script, self.bin_dir, REPO)
        self.assertIn("workerpair.v1.ControllerService.RunFlow", out.replace("/", "."))
        # RunFlow: submitted, progress, then the finished job, which succeeded.
        self.assertIn('"submitted"', out)
        self.assertIn('"progress"', out)
        self.assertRegex(out, r'"finished"[\s\S]*"JOB_STATE_SUCCEEDED"')
        # GetJob of the verify job: succeeded, with a success rate.
        self.assertRegex(out, r'\["JOB_STATE_SUCCEEDED",[0-9.]+\]')
        # ListJobs of the caller: the flows, newest first.
        self.assertRegex(out, r'\["[^"]+","flow","JOB_STATE_[A-Z]+"\]')
        # GetPoolStatus: the replica and the light target.
        self.assertIn(self.servers.heavy, out)
        self.assertIn('"REPLICA_STATE_HEALTHY"', out)
        self.assertIn('"reachable": true', out)
        # The long simulation was cancelled: WatchJob printed its end, and GetJob agrees.
        self.assertRegex(out, r"(?m)^JOB_STATE_CANCELLED$")
        found = re.search(r"^USAGE_CANCELLED_JOB=(\S+)$", out, re.M)
        self.assertIsNotNone(found, out[-2000:])
        with connect(self.servers.controller) as channel:
            job = ControllerClient(channel).get(found.group(1))
        self.assertEqual(job.state, controller_pb2.JOB_STATE_CANCELLED,
                         controller_pb2.JobState.Name(job.state))
        self.assertEqual(job.kind, "simulation")

    def test_the_tls_and_token_command(self) -> None:
        self.assertIn("controller-tls", self.blocks, "docs/USAGE.md lost its TLS block")
        with tempfile.TemporaryDirectory(prefix="wp-usage-tls-") as tmp:
            work = Path(tmp)
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", "tls.key", "-out", "ca.crt", "-days", "1",
                            "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           cwd=work, check=True, capture_output=True)
            (work / "token").write_text("usage-test-token\n")
            address = self.servers.start_controller("controller-tls", [
                f"--serve_tls_cert={work / 'ca.crt'}", f"--serve_tls_key={work / 'tls.key'}",
                f"--serve_auth_token_file={work / 'token'}"])
            port = address.rsplit(":", 1)[1]
            script = self.blocks["controller-tls"].replace(
                "controller.workerpair.svc.cluster.local:50053", f"localhost:{port}")
            out = run_block(script, self.bin_dir, work, timeout_s=60)
            self.assertIn('"heavy"', out)
            self.assertIn(self.servers.heavy, out)
            # Without the token the call is refused.
            no_token = script.replace('-H "$T" ', "")
            with self.assertRaisesRegex(AssertionError, "(?i)unauthenticated"):
                run_block(no_token, self.bin_dir, work, timeout_s=60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
