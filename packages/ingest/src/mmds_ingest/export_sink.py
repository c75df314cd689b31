"""Where a streamed JSON-lines export goes: one file, or part files handed on as they complete.

A download writes its body into a sink chunk by chunk. `FileSink` keeps the whole export in
one file. `PartSink` cuts it after a newline every `part_bytes` or so and hands each complete
part on at once, so the parts already received can be loaded while the rest downloads. A
retried download starts the sink again: parts handed on before are announced as void first.
"""

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol


class ExportSink(Protocol):
    """Receives each download attempt of an export: `begin`, `write` per chunk, then `finish`
    when the body is complete; `close` after every attempt, complete or not."""

    def begin(self) -> None:
        """Start (again) from the export's first byte."""

    def write(self, chunk: bytes) -> None:
        """Append the next chunk of the body."""

    def finish(self) -> None:
        """The body is complete and checked: release what is left."""

    def close(self) -> None:
        """The attempt is over: close any open file (its content is void unless finished)."""


class FileSink:
    """The whole export in the file at `path` (replaced by each attempt)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def begin(self) -> None:
        self._file = self.path.open("wb")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None  # opened by begin()
        self._file.write(chunk)

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class PartSink:
    """The export cut into part files under `directory`, each at least `part_bytes` long
    (the last one may be shorter) and ending after a newline.

    `on_part(path)` gets each complete part in order; the receiver owns the file from then on.
    When a retried download begins again after parts were handed on, `on_restart()` comes
    first: those parts are void. The last part is handed on only by `finish`, after the
    download has checked that the body is complete.
    """

    def __init__(
        self,
        directory: Path,
        part_bytes: int,
        on_part: Callable[[Path], None],
        on_restart: Callable[[], None],
    ) -> None:
        self.directory = directory
        self.part_bytes = part_bytes
        self._on_part = on_part
        self._on_restart = on_restart
        self._attempt = 0
        self._index = 0
        self._handed_on = 0
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._size = 0

    def begin(self) -> None:
        if self._handed_on:
            self._on_restart()
        self._attempt += 1
        self._index = self._handed_on = 0

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            self._open()
        if self._size + len(chunk) < self.part_bytes:
            self._append(chunk)
            return
        cut = chunk.rfind(b"\n") + 1  # 0 when the chunk holds no newline: keep writing
        self._append(chunk[:cut] if cut else chunk)
        if cut:
            self._hand_on()
            if cut < len(chunk):
                self._open()
                self._append(chunk[cut:])

    def finish(self) -> None:
        if self._file is not None:
            self._hand_on()

    def _open(self) -> None:
        self._index += 1
        self._path = self.directory / f"part-{self._attempt}-{self._index:05d}.jsonl"
        self._file = self._path.open("wb")
        self._size = 0

    def _append(self, data: bytes) -> None:
        assert self._file is not None  # a part is open while writing
        self._file.write(data)
        self._size += len(data)

    def _hand_on(self) -> None:
        assert self._file is not None and self._path is not None  # a part is open
        self._file.close()
        self._file = None
        self._handed_on += 1
        self._on_part(self._path)

    def close(self) -> None:
        if self._file is not None:  # an unfinished part: void
            assert self._path is not None  # opened together with the file
            self._file.close()
            self._file = None
            self._path.unlink(missing_ok=True)
