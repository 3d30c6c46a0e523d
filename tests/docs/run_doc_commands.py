#!/usr/bin/env python3
"""Runs the shell commands written in the docs against live servers, so the docs cannot drift.

HOW TO MARK A COMMAND BLOCK (the info string after the opening ```):

    ```sh doc-test                     run it; every command must exit 0 (bash -euo pipefail)
    ```sh doc-test exit=2              the block must end with this exit status instead
    ```sh doc-test timeout=300         seconds for the whole block (default 180)
    ```sh doc-test servers             each command starts a server (or exits 0, e.g. --help):
                                       it must come up (every port it was given accepts TCP)
                                       and stop cleanly on SIGTERM
    ```sh doc-test tls                 runs in a folder holding ca.crt, tls.crt, tls.key and
                                       token (a fresh CA and certificates for localhost); the
                                       heavy address is a worker-heavy with mutual TLS and a
                                       bearer token
    ```sh doc-skip: REASON             not run (a cluster, docker, the test command itself);
                                       REASON is required, and every repository path the block
                                       names (deploy/..., scripts/..., examples/..., tests/...,
                                       docs/...; two levels deep or a file name) must exist
    ```text / ```json / ```promql ...  not commands; never run

A fenced block with no info string or sh/bash/shell/console and neither doc-test nor doc-skip
fails the check: every command in a checked file is either run or skipped with a reason.

WHAT THE COMMANDS SEE. Each checked file gets its own live set on loopback, started fresh:
one worker-light, two worker-heavy (--slots=2) and one `controller serve`; blocks of a file
run in document order against it (a workspace made in one block is there in the next), in the
source directory (examples/scenes/... resolve). Written addresses are placeholders mapped to it:

    127.0.0.1:50051, localhost:50051        worker-light
    127.0.0.1:50052, localhost:50052        worker-heavy A (tls blocks: the TLS worker-heavy)
    127.0.0.1:50053, localhost:50053        controller serve
    127.0.0.1:50054, localhost:50054        worker-heavy B (a second one on the same machine)
    127.0.0.1:9091 / :9092 / :9093 / :9094  their /metrics ports (light, heavy A, controller, B)
    /var/lib/workerpair/workspaces          a scratch directory
    /tmp/...                                a scratch directory (per file)
    build/...                               the build directory under test
    controller, worker-light, worker-heavy  on PATH (the built binaries)

These are docs/PORTS_AND_METRICS.md's ports (light 50051/9091, heavy 50052/9092, controller
50053/9093); the second worker-heavy takes the next free pair. TMPDIR is the /tmp scratch
directory, so what a command puts under $TMPDIR (controller demo) is where /tmp/... looks.

WORKERPAIR_LIGHT and WORKERPAIR_HEAVY (A,B) are set to the live set, as a reader who followed
the earlier sections would have them. In `servers` blocks every port written (0.0.0.0:N,
127.0.0.1:N, :N after a listen flag) maps to a fresh free port instead.

Usage: run_doc_commands.py --source DIR --build DIR FILE.md [FILE.md ...] [--list]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

COMMAND_LANGUAGES = {"", "sh", "bash", "shell", "console"}
REPO_PATH = re.compile(r"(?<![\w./-])((?:deploy|scripts|examples|tests|docs|proto)/[\w./-]*\w)")


class Block:
    def __init__(self, path, line, info, text):
        self.path, self.line, self.info, self.text = path, line, info, text
        words = info.split()
        self.language = words[0] if words and not words[0].startswith("doc-") else ""
        self.test = "doc-test" in words
        self.skip_reason = None
        match = re.search(r"doc-skip:?\s*(.*)", info)
        if match:
            self.skip_reason = match.group(1).strip()
        self.options = dict(w.split("=", 1) for w in words if "=" in w)
        self.flags = {w for w in words if "=" not in w}

    def where(self):
        return f"{self.path}:{self.line}"


def read_blocks(path):
    blocks, fence, start, info, lines = [], None, 0, "", []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if fence is None:
                match = re.match(r"^(```+|~~~+)(.*)$", stripped)
                if match:
                    fence, start, info, lines = match.group(1), number, match.group(2).strip(), []
            elif stripped.startswith(fence) and stripped.strip("`~") == "":
                blocks.append(Block(path, start, info, "".join(lines)))
                fence = None
            else:
                lines.append(line)
    if fence is not None:
        raise SystemExit(f"{path}:{start}: fenced block never closed")
    return blocks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def logical_commands(text):
    """Lines joined at trailing backslashes, without blank and comment-only lines."""
    commands, current = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.strip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


class Server:
    """A binary started with --port_file; ports are read from it once it appears."""

    def __init__(self, name, argv, workdir, env):
        self.name = name
        self.port_file = os.path.join(workdir, f"{name}.port")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(argv + [f"--port_file={self.port_file}"], stdout=self.log,
                                        stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        self.port = self.metrics_port = 0

    def wait_ready(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   + self.tail())
            if os.path.exists(self.port_file):
                fields = open(self.port_file).read().split()
                if fields and int(fields[0]) > 0:
                    self.port = int(fields[0])
                    self.metrics_port = int(fields[1]) if len(fields) > 1 else 0
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not report its port within {timeout} s")

    def tail(self, size=4000):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()[-size:].decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def make_tls_material(folder):
    """A CA, a server certificate for localhost/127.0.0.1, a client certificate and a token,
    named as the docs name them (ca.crt, tls.crt, tls.key, token)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=doc-ca",
            "-keyout", "ca.key", "-out", "ca.crt")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "tls"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-keyout", f"{name}.key", "-out", f"{name}.csr")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.crt")
    with open(os.path.join(folder, "token"), "w") as f:
        f.write("doc-test-token-0123456789abcdef\n")


class LiveSet:
    def __init__(self, build, scratch):
        self.build, self.scratch = build, scratch
        self.env = dict(os.environ)
        bins = [os.path.join(build, p) for p in
                ("services/controller", "services/light", "services/heavy")]
        self.env["PATH"] = os.pathsep.join(bins + [self.env.get("PATH", "")])
        self.env["TMPDIR"] = os.path.join(scratch, "tmp")  # where /tmp/... is mapped
        self.servers = {}
        self.tls_dir = None

    def binary(self, relative):
        return os.path.join(self.build, relative)

    def start(self):
        root = os.path.join(self.scratch, "workspaces")
        os.makedirs(root, exist_ok=True)
        listen = ["--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0"]
        self.add("light", [self.binary("services/light/worker-light"), f"--root={root}", *listen])
        for name in ("heavy_a", "heavy_b"):
            self.add(name, [self.binary("services/heavy/worker-heavy"), "--slots=2", *listen])
        for server in self.servers.values():
            server.wait_ready()
        self.env["WORKERPAIR_LIGHT"] = self.address("light")
        self.env["WORKERPAIR_HEAVY"] = f"{self.address('heavy_a')},{self.address('heavy_b')}"
        self.add("controller", [self.binary("services/controller/controller"),
                                f"--light={self.address('light')}",
                                f"--heavy={self.env['WORKERPAIR_HEAVY']}", "serve", *listen])
        self.servers["controller"].wait_ready()

    def start_tls(self):
        if self.tls_dir:
            return
        self.tls_dir = os.path.join(self.scratch, "tls")
        os.makedirs(self.tls_dir)
        make_tls_material(self.tls_dir)
        d = self.tls_dir
        self.add("heavy_tls", [self.binary("services/heavy/worker-heavy"), "--slots=1",
                               "--listen=127.0.0.1:0", f"--tls_cert={d}/server.crt",
                               f"--tls_key={d}/server.key", f"--tls_client_ca={d}/ca.crt",
                               f"--auth_token_file={d}/token"])
        self.servers["heavy_tls"].wait_ready()

    def add(self, name, argv):
        self.servers[name] = Server(name, argv, self.scratch, self.env)

    def address(self, name):
        return f"127.0.0.1:{self.servers[name].port}"

    def stop(self):
        for server in reversed(list(self.servers.values())):
            server.stop()

    def mapping(self, tls):
        heavy_a = self.servers["heavy_tls" if tls else "heavy_a"]
        ports = {50051: self.servers["light"].port, 50052: heavy_a.port,
                 50053: self.servers["controller"].port, 50054: self.servers["heavy_b"].port,
                 9091: self.servers["light"].metrics_port,
                 9092: self.servers["heavy_a"].metrics_port,
                 9093: self.servers["controller"].metrics_port,
                 9094: self.servers["heavy_b"].metrics_port}
        return ports


def map_common(text, build, scratch):
    text = re.sub(r"(?<![\w.-])/tmp/", os.path.join(scratch, "tmp") + "/", text)
    text = text.replace("/var/lib/workerpair/workspaces", os.path.join(scratch, "workspaces"))
    text = re.sub(r"(?<![\w./-])build/", build.rstrip("/") + "/", text)
    return text


def map_ports(text, ports):
    def repl(match):
        host, port = match.group(1), int(match.group(2))
        return f"{host}:{ports[port]}" if port in ports else match.group(0)
    return re.sub(r"\b(127\.0\.0\.1|localhost):(\d+)\b", repl, text)


def run_block(block, live, args):
    scratch = live.scratch
    text = map_common(block.text, os.path.abspath(args.build), scratch)
    timeout = int(block.options.get("timeout", "180"))
    if "servers" in block.flags:
        return run_servers_block(block, text, live, timeout)
    tls = "tls" in block.flags
    if tls:
        live.start_tls()
    text = map_ports(text, live.mapping(tls))
    script = "set -euo pipefail\n" + text
    cwd = live.tls_dir if tls else args.source
    try:
        done = subprocess.run(["bash", "-c", script], cwd=cwd, env=live.env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired as e:
        return f"timed out after {timeout} s\n{script}\n{(e.output or b'').decode()[-4000:]}"
    expected = int(block.options.get("exit", "0"))
    if done.returncode != expected:
        return (f"exit status {done.returncode}, expected {expected}\n--- script\n{script}\n"
                f"--- output\n{done.stdout.decode(errors='replace')[-6000:]}")
    return None


def run_servers_block(block, text, live, timeout):
    fresh = {}

    def repl(match):
        port = int(match.group(2))
        fresh.setdefault(port, free_port())
        return f"127.0.0.1:{fresh[port]}"
    processes = []
    for command in logical_commands(text):
        mapped = re.sub(r"\b(0\.0\.0\.0|127\.0\.0\.1|localhost):(\d+)\b", repl, command)
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", mapped)]
        log = tempfile.TemporaryFile(dir=live.scratch)
        process = subprocess.Popen(["bash", "-c", "exec " + mapped], cwd=live.scratch,
                                   env=live.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        processes.append((mapped, ports, process, log))
    error = None
    deadline = time.time() + timeout
    for mapped, ports, process, log in processes:
        while True:
            if process.poll() is not None:
                if process.returncode != 0:
                    error = f"exited with {process.returncode}: {mapped}"
                break
            if ports and all(port_open(p) for p in ports):
                break
            if time.time() > deadline:
                error = f"did not listen on {ports} within {timeout} s: {mapped}"
                break
            time.sleep(0.2)
        if error:
            break
    for mapped, ports, process, log in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.returncode not in (0, -signal.SIGTERM) and not error:
                error = f"ended with {process.returncode} after SIGTERM: {mapped}"
        if error:
            log.seek(0)
            error += "\n" + log.read()[-3000:].decode(errors="replace")
            break
    return error


def check_file(path, args):
    blocks = [b for b in read_blocks(path) if b.language in COMMAND_LANGUAGES]
    failures = []
    runnable = []
    for block in blocks:
        if block.test and block.skip_reason is not None:
            failures.append(f"{block.where()}: both doc-test and doc-skip")
        elif block.test:
            runnable.append(block)
        elif block.skip_reason is not None:
            if not block.skip_reason:
                failures.append(f"{block.where()}: doc-skip needs a reason")
            for repo_path in REPO_PATH.findall(block.text):
                # "deploy/controller" is kubectl's name of a Deployment, not a path: a repository
                # path has a folder below the first or a file name with a dot.
                if repo_path.count("/") < 2 and "." not in repo_path:
                    continue
                if not os.path.exists(os.path.join(args.source, repo_path)):
                    failures.append(f"{block.where()}: skipped block names {repo_path}, "
                                    "which does not exist")
        else:
            failures.append(f"{block.where()}: command block is neither doc-test nor doc-skip "
                            "(see the top of tests/docs/run_doc_commands.py)")
    if args.list:
        for block in blocks:
            kind = "test" if block.test else f"skip ({block.skip_reason})"
            print(f"{block.where()}: {kind}: {block.info}")
        return failures
    if not runnable:
        return failures
    scratch = tempfile.mkdtemp(prefix="doc-commands-")
    os.makedirs(os.path.join(scratch, "tmp"))
    live = LiveSet(os.path.abspath(args.build), scratch)
    try:
        live.start()
        for block in runnable:
            started = time.time()
            error = run_block(block, live, args)
            status = "ok" if error is None else "FAILED"
            print(f"{block.where()}: {status} ({time.time() - started:.1f} s)", flush=True)
            if error:
                failures.append(f"{block.where()}: {error}")
    except RuntimeError as e:
        failures.append(f"{path}: live servers: {e}")
    finally:
        live.stop()
        if failures:
            for name, server in live.servers.items():
                print(f"--- {name} log (tail)\n{server.tail(1500)}")
        shutil.rmtree(scratch, ignore_errors=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--list", action="store_true", help="print the blocks, run nothing")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    failures = []
    for name in args.files:
        failures += check_file(os.path.join(args.source, name), args)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
