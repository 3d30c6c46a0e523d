"""Reassembles the artifacts worker-heavy streams as ArtifactChunk pieces (heavy.proto).

    assembler = ArtifactAssembler()
    for event in stub.Simulate(requests):
        if event.HasField("artifact"):
            assembler.add(event.artifact)
    video = assembler.artifacts["video.mp4"].data

Each artifact's pieces arrive in order; the one with `last` completes it, and its SHA-256 (when
the server sends one) is checked. A gap, an overlap, a size that disagrees or a digest mismatch
raises ArtifactError instead of returning a corrupt file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


class ArtifactError(Exception):
    """The artifact stream is inconsistent (a gap, a size or digest that disagrees)."""


@dataclass
class Artifact:
    name: str
    media_type: str
    data: bytes

    def save(self, directory: str | Path) -> Path:
        """Writes the artifact as directory/name (the name is a plain file name)."""
        if "/" in self.name or self.name in ("", ".", ".."):
            raise ArtifactError(f"artifact name '{self.name}' is not a plain file name")
        path = Path(directory) / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)
        return path


@dataclass
class _Partial:
    media_type: str
    total_bytes: int
    data: bytearray = field(default_factory=bytearray)


class ArtifactAssembler:
    """Collects ArtifactChunk messages into whole artifacts."""

    def __init__(self, max_total_bytes: int = 1 << 30) -> None:
        self.artifacts: dict[str, Artifact] = {}
        self._partial: dict[str, _Partial] = {}
        self._bytes = 0
        self._max_total_bytes = max_total_bytes

    def add(self, chunk: object) -> Artifact | None:
        """Adds one ArtifactChunk; returns the artifact it completed, if any."""
        name: str = chunk.name  # type: ignore[attr-defined]
        if name in self.artifacts:
            raise ArtifactError(f"artifact '{name}': a chunk after its last one")
        partial = self._partial.get(name)
        if partial is None:
            partial = _Partial(chunk.media_type, chunk.total_bytes)  # type: ignore[attr-defined]
            self._partial[name] = partial
        offset: int = chunk.offset  # type: ignore[attr-defined]
        if offset != len(partial.data):
            raise ArtifactError(f"artifact '{name}': chunk at offset {offset}, expected "
                                f"{len(partial.data)}")
        data: bytes = chunk.data  # type: ignore[attr-defined]
        self._bytes += len(data)
        if self._bytes > self._max_total_bytes:
            raise ArtifactError(f"artifacts: more than {self._max_total_bytes} bytes in all")
        partial.data.extend(data)
        if partial.total_bytes and len(partial.data) > partial.total_bytes:
            raise ArtifactError(f"artifact '{name}': {len(partial.data)} bytes, more than its "
                                f"total_bytes {partial.total_bytes}")
        if not chunk.last:  # type: ignore[attr-defined]
            return None
        if partial.total_bytes and len(partial.data) != partial.total_bytes:
            raise ArtifactError(f"artifact '{name}': {len(partial.data)} bytes at its last chunk, "
                                f"total_bytes says {partial.total_bytes}")
        digest: str = getattr(chunk, "sha256", "")
        if digest and hashlib.sha256(partial.data).hexdigest() != digest.lower():
            raise ArtifactError(f"artifact '{name}': bytes do not match its sha256")
        del self._partial[name]
        artifact = Artifact(name, partial.media_type, bytes(partial.data))
        self.artifacts[name] = artifact
        return artifact

    def finish(self) -> dict[str, Artifact]:
        """The complete artifacts; raises ArtifactError if one is still missing its last chunk."""
        if self._partial:
            raise ArtifactError(f"artifacts not finished: {', '.join(sorted(self._partial))}")
        return dict(self.artifacts)
