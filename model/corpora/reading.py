"""Reading a corpus folder: each file read once (its bytes kept for the content hash), CSV rows, label cells."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from model.corpora.records import CorpusError

# ---------------------------------------------------------------------------------------------------------
# Reading files


def content_hash(blobs: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over (relative name, bytes) pairs in name order, each length-prefixed."""
    digest = hashlib.sha256()
    for name, data in sorted(blobs):
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class CorpusFolder:
    """Reads a corpus folder's files once each, keeping their bytes for the content hash."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs: dict[str, bytes] = {}

    def has(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def text(self, relative: str) -> str:
        path = self.root / relative
        if not path.is_file():
            raise CorpusError(path, "expected file is missing")
        data = path.read_bytes()
        self.blobs[relative] = data
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CorpusError(path, "not UTF-8 text", data.count(b"\n", 0, error.start) + 1) from error

    def rows(
        self,
        relative: str,
        required: Iterable[str],
        delimiter: str = ",",
        quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """(1-based starting line, row) for each record of a CSV/TSV file with a header."""
        path = self.root / relative
        reader = csv.reader(io.StringIO(self.text(relative), newline=""), delimiter=delimiter, quoting=quoting)
        header = next(reader, None)
        missing = [name for name in required if header is None or name not in header]
        if header is None or missing:
            raise CorpusError(path, f"missing column(s) {', '.join(missing)}", 1)
        try:
            while True:
                line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if row:
                    yield line, dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
        except csv.Error as error:
            raise CorpusError(path, f"CSV error: {error}", reader.line_num) from error

    @property
    def files(self) -> list[Path]:
        return [self.root / name for name in sorted(self.blobs)]

    @property
    def sha256(self) -> str:
        return content_hash(self.blobs.items())


def flag(value: str | None, path: Path, line: int, allowed: dict[str, int]) -> int:
    """A label cell mapped through `allowed`, or a CorpusError naming the cell."""
    key = (value or "").strip()
    if key not in allowed:
        raise CorpusError(path, f"unexpected label {key!r} (expected one of {', '.join(allowed)})", line)
    return allowed[key]


BINARY = {"0": 0, "1": 1}


def keep(text: str) -> bool:
    return bool(text.strip())
