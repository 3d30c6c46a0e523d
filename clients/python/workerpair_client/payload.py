"""Payloads for worker-heavy: a gzipped tar with manifest.json at its root, sent in chunks.

    archive = pack_directory("examples/scenes/ramp_goal")
    for request in payload_requests(heavy_pb2.SimulateRequest,
                                    heavy_pb2.SimulateHeader(options=...), archive):
        ...   # the header (with PayloadInfo{size_bytes, sha256}) first, then 1 MiB chunks

The archive is packed as worker-light packs a bundle (libs/common/bundle.h): entries sorted by
path, mtime 0, uid/gid 0, mode 0644 (directories 0755), no gzip timestamp or name; symlinks,
special files and `.git` directories are skipped, never followed. The same files give the same
bytes, so the SHA-256 identifies the scene.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, TypeVar

# Keep each message under gRPC's default 4 MiB limit (heavy.proto: 1 MiB is a good size).
DEFAULT_CHUNK_BYTES = 1 << 20
# libs/common/bundle.h PackOptions defaults.
MAX_TOTAL_BYTES = 256 << 20
MAX_ENTRIES = 10000

Request = TypeVar("Request")


@dataclass(frozen=True)
class Payload:
    """A packed scene and its digest."""
    archive: bytes
    sha256: str

    @staticmethod
    def of(archive: bytes) -> "Payload":
        return Payload(archive, hashlib.sha256(archive).hexdigest())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _skipped(name: str) -> bool:
    return name == ".git" or name.startswith(".wp-tmp-")


def directory_files(root: str | os.PathLike[str]) -> dict[str, bytes]:
    """The regular files under `root` as {relative '/' path: bytes}, sorted; symlinks, special
    files and `.git` are skipped (what a flow writes into a workspace, or what a payload holds)."""
    base = Path(root)
    if not base.is_dir():
        raise NotADirectoryError(f"{root}: not a directory")
    files: dict[str, bytes] = {}
    for directory, subdirs, names in os.walk(base, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if not _skipped(d)
                            and not os.path.islink(os.path.join(directory, d)))
        for name in sorted(names):
            path = Path(directory) / name
            if _skipped(name) or path.is_symlink() or not path.is_file():
                continue
            files[path.relative_to(base).as_posix()] = path.read_bytes()
    return dict(sorted(files.items()))


def pack_files(files: Mapping[str, bytes]) -> bytes:
    """A deterministic gzipped tar of {relative path: bytes} (directories added before their
    content). Raises ValueError for an absolute path, a `..` component or a limit passed."""
    total = sum(len(data) for data in files.values())
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"payload: {total} bytes of files, over the {MAX_TOTAL_BYTES} limit")
    directories: set[str] = set()
    for name in files:
        parts = name.split("/")
        if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"payload: path '{name}' is not a plain relative path")
        for i in range(1, len(parts)):
            directories.add("/".join(parts[:i]))
    entries = sorted([(d, None) for d in directories] + [(n, d) for n, d in files.items()],
                     key=lambda entry: entry[0])
    if len(entries) > MAX_ENTRIES:
        raise ValueError(f"payload: {len(entries)} entries, over the {MAX_ENTRIES} limit")
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in entries:
                info = tarfile.TarInfo(name)
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if data is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    info.mode = 0o644
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def pack_directory(root: str | os.PathLike[str]) -> bytes:
    """pack_files(directory_files(root)); `root` must hold manifest.json for worker-heavy."""
    return pack_files(directory_files(root))


def payload_requests(request_type: Callable[..., Request], header: object, archive: bytes,
                     chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[Request]:
    """The client stream of a payload call: `request_type(header=header)` with
    header.payload = PayloadInfo{size_bytes, sha256} filled in, then `request_type(chunk=...)`
    pieces of at most `chunk_bytes`. Works for Simulate/Verify/RenderViews/BuildScene."""
    if not archive:
        raise ValueError("payload: the archive is empty")
    if chunk_bytes <= 0:
        raise ValueError("payload: chunk_bytes must be positive")
    header.payload.size_bytes = len(archive)  # type: ignore[attr-defined]
    header.payload.sha256 = sha256_hex(archive)  # type: ignore[attr-defined]
    yield request_type(header=header)
    view = memoryview(archive)
    for offset in range(0, len(archive), chunk_bytes):
        yield request_type(chunk=bytes(view[offset:offset + chunk_bytes]))


class AskingPayloadRequests:
    """The client stream of a payload call that asks first whether the replica holds the
    payload (heavy.proto "Payload cache"): the header with PayloadInfo.ask_cached set, then
    nothing until `answer(cached)` is called with the server's first event (`payload_cache`):
    cached, the stream ends there (no chunk is sent); not cached, the chunks follow. gRPC reads
    the stream on a thread of its own, so the wait does not block the caller. Only for a server
    that knows ask_cached (an older one would wait for chunks that never come, until the
    call's timeout).

        requests = AskingPayloadRequests(heavy_pb2.SimulateRequest, header, archive)
        for event in stub.Simulate(iter(requests)):
            requests.answer(event.payload_cache.cached if event.HasField("payload_cache")
                            else False)
    """

    def __init__(self, request_type: Callable[..., Request], header: object, archive: bytes,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        if not archive:
            raise ValueError("payload: the archive is empty")
        if chunk_bytes <= 0:
            raise ValueError("payload: chunk_bytes must be positive")
        header.payload.size_bytes = len(archive)  # type: ignore[attr-defined]
        header.payload.sha256 = sha256_hex(archive)  # type: ignore[attr-defined]
        header.payload.ask_cached = True  # type: ignore[attr-defined]
        self._request_type = request_type
        self._header = header
        self._archive = archive
        self._chunk_bytes = chunk_bytes
        self._answered = threading.Event()
        self._cached = False
        self.chunks_sent = 0

    def answer(self, cached: bool) -> None:
        """The server's answer (the first one counts); also ends a stream nobody will answer
        (call it with True when the call ended early)."""
        if not self._answered.is_set():
            self._cached = cached
            self._answered.set()

    @property
    def cached(self) -> bool:
        return self._answered.is_set() and self._cached

    def __iter__(self) -> Iterator[Request]:
        yield self._request_type(header=self._header)
        self._answered.wait()
        if self._cached:
            return
        view = memoryview(self._archive)
        for offset in range(0, len(self._archive), self._chunk_bytes):
            self.chunks_sent += 1
            yield self._request_type(chunk=bytes(view[offset:offset + self._chunk_bytes]))


def chunked(data: bytes, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterable[bytes]:
    return (data[i:i + chunk_bytes] for i in range(0, len(data), chunk_bytes))
