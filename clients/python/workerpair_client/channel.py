"""Channels to workerpair servers: plaintext on loopback, TLS or mutual TLS, a bearer token.

    channel = connect("127.0.0.1:50053")
    channel = connect("controller.workerpair.svc:50053", ca="ca.crt", token_file="token")
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import grpc

# The servers accept messages up to --max_message_mb (64 MiB); a finished job with its
# artifacts can be that large, gRPC's client default is 4 MiB.
MAX_MESSAGE_BYTES = 64 << 20


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                        grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call (also on plaintext channels, where
    gRPC refuses call credentials)."""

    def __init__(self, token: str) -> None:
        self._metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or []) + [self._metadata]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, requests):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), requests)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready,  # type: ignore[no-untyped-def]
                 compression) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def connect(target: str, *, ca: str | Path | None = None, cert: str | Path | None = None,
            key: str | Path | None = None, server_name: str | None = None,
            token: str | None = None, token_file: str | Path | None = None,
            options: Sequence[tuple[str, object]] = ()) -> grpc.Channel:
    """A channel to `target` (host:port or dns:///name:port). With `ca` it uses TLS (and
    mutual TLS with `cert` and `key`); `token` or `token_file` adds the bearer token."""
    channel_options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                       ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                       ("grpc.keepalive_time_ms", 10000), ("grpc.keepalive_timeout_ms", 5000),
                       *options]
    if server_name:
        channel_options.append(("grpc.ssl_target_name_override", server_name))
    if ca is not None:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(ca).read_bytes(),
            private_key=Path(key).read_bytes() if key else None,
            certificate_chain=Path(cert).read_bytes() if cert else None)
        channel = grpc.secure_channel(target, credentials, options=channel_options)
    elif cert or key:
        raise ValueError("connect: a client certificate needs the CA (ca=...) too")
    else:
        channel = grpc.insecure_channel(target, options=channel_options)
    if token_file is not None:
        token = Path(token_file).read_text().strip()
    if token:
        channel = grpc.intercept_channel(channel, _TokenInterceptor(token))
    return channel
