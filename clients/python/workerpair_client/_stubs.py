"""Imports the generated stubs, with a clear message when they were not generated."""
from __future__ import annotations

try:
    from workerpair.v1 import controller_pb2, controller_pb2_grpc  # noqa: F401
    from workerpair.v1 import heavy_pb2, heavy_pb2_grpc  # noqa: F401
    from workerpair.v1 import light_bundle_pb2, light_bundle_pb2_grpc  # noqa: F401
    from workerpair.v1 import light_files_pb2, light_files_pb2_grpc  # noqa: F401
    from workerpair.v1 import light_git_pb2, light_git_pb2_grpc  # noqa: F401
    from workerpair.v1 import light_lint_pb2, light_lint_pb2_grpc  # noqa: F401
    from workerpair.v1 import light_topology_pb2, light_topology_pb2_grpc  # noqa: F401
except ImportError as error:  # pragma: no cover - a setup problem, not a code path
    raise ImportError(
        "workerpair_client: the generated stubs (package workerpair.v1) are not importable: "
        "install the client (pip install clients/python) or put the generated directory on "
        "PYTHONPATH (cmake --build build --target workerpair_python_stubs writes "
        f"build/clients/python/gen); {error}") from error

__all__ = [
    "controller_pb2", "controller_pb2_grpc", "heavy_pb2", "heavy_pb2_grpc", "light_bundle_pb2",
    "light_bundle_pb2_grpc", "light_files_pb2", "light_files_pb2_grpc", "light_git_pb2",
    "light_git_pb2_grpc", "light_lint_pb2", "light_lint_pb2_grpc", "light_topology_pb2",
    "light_topology_pb2_grpc",
]
