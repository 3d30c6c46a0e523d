"""The machine-readable reason of a workerpair error and the retry rule (heavy.proto, top).

    try:
        ...
    except grpc.RpcError as error:
        if retry_elsewhere(error): ...          # REPLICA_FULL, UPLOADS_BUSY, REPLICA_DRAINING, ...
        print(error_reason(error))              # e.g. "PAYLOAD_INVALID"

Every worker error carries a google.rpc.ErrorInfo (domain "workerpair.dev") in the
grpc-status-details-bin trailer; its `reason` says whose fault it is and its metadata "retry"
says "elsewhere" or "never". The same rule as libs/common/error_reason.h RetryElsewhere.
"""
from __future__ import annotations

import grpc

from google.rpc import error_details_pb2, status_pb2

DOMAIN = "workerpair.dev"
_RETRY_ELSEWHERE = {"REPLICA_FULL", "UPLOADS_BUSY", "REPLICA_DRAINING", "REPLICA_LOST"}


def _status(error: grpc.RpcError) -> status_pb2.Status | None:
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    return None


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a failed call, if the server sent one."""
    status = _status(error)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def error_reason(error: grpc.RpcError) -> str:
    """The reason ("PAYLOAD_INVALID", "REPLICA_FULL", ...) or "" when the server sent none."""
    info = error_info(error)
    return info.reason if info else ""


def retry_delay_s(error: grpc.RpcError) -> float | None:
    """The server's RetryInfo delay in seconds (a full queue sends one), if any."""
    status = _status(error)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


def retry_elsewhere(error: grpc.RpcError) -> bool:
    """True when the call may be sent again (to another replica): the replica was full,
    draining or lost, never when the payload was at fault."""
    info = error_info(error)
    if info is not None:
        if info.metadata.get("retry") == "elsewhere":
            return True
        if info.metadata.get("retry") == "never":
            return False
        return info.reason in _RETRY_ELSEWHERE
    return error.code() == grpc.StatusCode.UNAVAILABLE
