#!/usr/bin/python3
"""Generates the Python stubs of every workerpair API with the system protoc.

    /usr/bin/python3 clients/python/generate_stubs.py --out build/clients/python/gen

Writes <out>/workerpair/v1/*_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every proto/workerpair/v1
file, plus google/rpc (the error reason in a status's details). Not grpc.health.v1: `grpc` is
grpcio's own package, so generated modules under it would not be found
(workerpair_client.health speaks the two tiny health messages itself).
CMake runs it into the build tree (target workerpair_python_stubs) and setup.py into the wheel.

Uses /usr/bin/protoc (Debian's protobuf-compiler, 3.21) with grpc_python_plugin (Debian's
protobuf-compiler-grpc). Not grpc_tools.protoc: Debian's python3-grpc-tools bundles protoc 3.5,
which rejects the proto3 `optional` fields of heavy.proto.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PROTO_ROOT = HERE.parent.parent / "proto"
EXTRA_PROTOS = ["google/rpc/status.proto", "google/rpc/error_details.proto"]


def find_tool(name: str, given: str | None) -> str:
    path = given or shutil.which(name) or f"/usr/bin/{name}"
    if not os.access(path, os.X_OK):
        sys.exit(f"generate_stubs: {name} not found (install Debian's "
                 f"{'protobuf-compiler' if name == 'protoc' else 'protobuf-compiler-grpc'})")
    return path


def generate(out: Path, proto_root: Path = DEFAULT_PROTO_ROOT, protoc: str | None = None,
             plugin: str | None = None) -> list[Path]:
    """Runs protoc once over every API file; returns the files written."""
    protoc = find_tool("protoc", protoc)
    plugin = find_tool("grpc_python_plugin", plugin)
    apis = sorted(p.relative_to(proto_root).as_posix()
                  for p in (proto_root / "workerpair" / "v1").glob("*.proto"))
    if not apis:
        sys.exit(f"generate_stubs: no .proto files under {proto_root}/workerpair/v1")
    out.mkdir(parents=True, exist_ok=True)
    include = [f"-I{proto_root}"]
    protos = apis + EXTRA_PROTOS
    command = [protoc, *include, f"--python_out={out}", f"--pyi_out={out}",
               f"--grpc_python_out={out}", f"--plugin=protoc-gen-grpc_python={plugin}", *protos]
    subprocess.run(command, check=True)
    written = []
    for proto in protos:
        stem = out / proto[: -len(".proto")]
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            path = Path(f"{stem}{suffix}")
            if path.exists():
                written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--proto-root", type=Path, default=DEFAULT_PROTO_ROOT)
    parser.add_argument("--protoc")
    parser.add_argument("--plugin", help="grpc_python_plugin")
    parser.add_argument("--stamp", type=Path, help="touched once every file is written (CMake)")
    args = parser.parse_args()
    written = generate(args.out, args.proto_root, args.protoc, args.plugin)
    if args.stamp:
        args.stamp.write_text("\n".join(str(p) for p in written) + "\n")
    print(f"generate_stubs: {len(written)} files under {args.out}")


if __name__ == "__main__":
    main()
