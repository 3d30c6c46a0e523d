"""Starts worker-light, worker-heavy and `controller serve` on loopback (ephemeral ports) for
the Python client tests and the docs/USAGE.md command check.

    with Servers(light_binary, heavy_binary, controller_binary) as servers:
        servers.controller   # "127.0.0.1:PORT"

Each server writes its bound port to a --port_file; the controller is ready once its
grpc.health.v1 status for workerpair.v1.ControllerService is SERVING. Everything stops on exit
(SIGTERM, then SIGKILL after a few seconds), logs are kept in the temporary directory and
printed when a server fails to start.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

import grpc


class ServerError(RuntimeError):
    pass


class _Process:
    def __init__(self, name: str, argv: Sequence[str], run_dir: Path) -> None:
        self.name = name
        self.port_file = run_dir / f"{name}.port"
        self.log = run_dir / f"{name}.log"
        with open(self.log, "wb") as log:
            self.popen = subprocess.Popen([*argv, f"--port_file={self.port_file}"],
                                          stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        self.address = ""
        self.metrics_port = self.health_port = 0

    def wait_port(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.popen.returncode}:\n"
                                  f"{self.log.read_text(errors='replace')[-4000:]}")
            # Lines: the gRPC port, the metrics port, the health port (0: none).
            lines = self.port_file.read_text().split() if self.port_file.exists() else []
            if len(lines) >= 3 and all(x.isdigit() for x in lines[:3]):
                self.address = f"127.0.0.1:{lines[0]}"
                self.metrics_port, self.health_port = int(lines[1]), int(lines[2])
                return self.address
            time.sleep(0.05)
        raise ServerError(f"{self.name} wrote no port within {timeout_s} s:\n"
                          f"{self.log.read_text(errors='replace')[-4000:]}")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def wait_serving(address: str, service: str, timeout_s: float = 30) -> None:
    from workerpair_client import health

    with grpc.insecure_channel(address) as channel:
        try:
            health.wait_serving(channel, service, timeout_s)
        except TimeoutError as error:
            raise ServerError(f"{address}: {error}") from error


class Servers:
    def __init__(self, light_binary: str, heavy_binary: str, controller_binary: str, *,
                 heavy_flags: Sequence[str] = ("--slots=2",),
                 serve_flags: Sequence[str] = (), keep_dir: str | None = None) -> None:
        self._binaries = (light_binary, heavy_binary, controller_binary)
        self._heavy_flags = list(heavy_flags)
        self._serve_flags = list(serve_flags)
        self._tmp = tempfile.TemporaryDirectory(prefix="wp-clients-") if keep_dir is None else None
        self.dir = Path(keep_dir or self._tmp.name)  # type: ignore[union-attr]
        self._processes: list[_Process] = []
        self.light = self.heavy = self.controller = ""

    def __enter__(self) -> "Servers":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        light_binary, heavy_binary, controller_binary = self._binaries
        quiet = "--log_level=warn"
        light = _Process("worker-light", [light_binary, "--listen=127.0.0.1:0", quiet,
                                          f"--root={self.dir / 'workspaces'}"], self.dir)
        heavy = _Process("worker-heavy", [heavy_binary, "--listen=127.0.0.1:0", quiet,
                                          f"--scratch_dir={self.dir / 'heavy'}",
                                          *self._heavy_flags], self.dir)
        self._processes += [light, heavy]
        self.light = light.wait_port(180)
        self.heavy = heavy.wait_port(180)  # runners start warm: slow on a loaded box
        self.controller = self.start_controller("controller", self._serve_flags)
        wait_serving(self.heavy, "workerpair.v1.HeavyService")
        wait_serving(self.controller, "workerpair.v1.ControllerService")

    def start_controller(self, name: str, serve_flags: Sequence[str]) -> str:
        """A `controller serve` on the pools (the first one, or another with other flags, e.g.
        TLS); its address once it listens."""
        controller_binary = self._binaries[2]
        # The CLI's global flags (the pools) come before `serve`, the server's flags after it.
        controller = _Process(name, [controller_binary, f"--light={self.light}",
                                     f"--heavy={self.heavy}", "serve", "--listen=127.0.0.1:0",
                                     "--log_level=warn", *serve_flags], self.dir)
        self._processes.append(controller)
        return controller.wait_port(120)

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def environment_binaries() -> tuple[str, str, str]:
    """The binaries from WORKERPAIR_{LIGHT,HEAVY,CONTROLLER}_BINARY (ctest sets them)."""
    names = ("WORKERPAIR_LIGHT_BINARY", "WORKERPAIR_HEAVY_BINARY", "WORKERPAIR_CONTROLLER_BINARY")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} (the paths of the built binaries)")
    return tuple(os.environ[n] for n in names)  # type: ignore[return-value]
