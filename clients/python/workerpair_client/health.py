"""grpc.health.v1 Check without generated code (grpcio's `grpc` package owns that module path).

    health.check(channel, "workerpair.v1.ControllerService")   # -> "SERVING"
    health.wait_serving(channel, "workerpair.v1.HeavyService", timeout_s=30)

Every workerpair server answers per-service names (`workerpair.v1.HeavyService`, ...; NOT_SERVING
from SIGTERM on) and "" for the process (docs/PORTS_AND_METRICS.md).
"""
from __future__ import annotations

import time

import grpc

_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _encode_request(service: str) -> bytes:
    # HealthCheckRequest { string service = 1; }
    name = service.encode()
    length = bytearray()
    n = len(name)
    while True:
        byte, n = n & 0x7F, n >> 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            break
    return (b"\x0a" + bytes(length) + name) if name else b""


def _decode_status(reply: bytes) -> str:
    # HealthCheckResponse { ServingStatus status = 1; } (a one-byte varint for every status)
    if not reply:
        return _STATUS[0]
    if len(reply) >= 2 and reply[0] == 0x08:
        return _STATUS.get(reply[1], f"STATUS_{reply[1]}")
    raise ValueError(f"unexpected health reply {reply!r}")


def check(channel: grpc.Channel, service: str = "", timeout_s: float = 5) -> str:
    """The health status name ("SERVING", "NOT_SERVING", ...); raises grpc.RpcError
    (NOT_FOUND for a service name the server does not know)."""
    call = channel.unary_unary("/grpc.health.v1.Health/Check",
                               request_serializer=_encode_request,
                               response_deserializer=_decode_status)
    return call(service, timeout=timeout_s)


def wait_serving(channel: grpc.Channel, service: str = "", timeout_s: float = 30) -> None:
    """Polls until `service` is SERVING; raises TimeoutError."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        try:
            last = check(channel, service, timeout_s=2)
            if last == "SERVING":
                return
        except grpc.RpcError as error:
            last = error.code().name
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service or 'the server'} not SERVING within {timeout_s} s "
                               f"(last: {last})")
        time.sleep(0.1)
