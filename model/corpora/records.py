"""The records of labelled corpora: an example, a corpus and what it is, and the errors of loading them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """One labelled comment; `labels` holds only the categories its corpus labels."""

    text: str
    labels: dict[str, int]
    corpus: str
    group: str = ""
    spans: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class CorpusInfo:
    """What a corpus is, where it comes from, its licence and how its labels map onto our categories."""

    name: str
    title: str
    source: str
    licence: str
    shippable: bool
    attribution: str
    categories: tuple[str, ...]
    mapping: str


@dataclass
class LoadedCorpus:
    """A corpus's examples together with the files they were read from and a hash of those files."""

    info: CorpusInfo
    examples: list[Example]
    files: list[Path]
    sha256: str


class CorpusWarning(UserWarning):
    """A folder or file was skipped, or rows were left out, while loading corpora."""


class CorpusError(ValueError):
    """A known corpus folder is missing a file or does not have the format its adapter expects."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class LabelledFileError(ValueError):
    """An admin's labelled file has problems; `errors` lists each (1-based line, message) found."""

    def __init__(
        self,
        path: Path,
        line: int,
        message: str,
        errors: list[tuple[int, str]] | None = None,
        truncated: bool = False,
    ) -> None:
        self.path = Path(path)
        self.errors = list(errors) if errors else [(line, message)]
        self.line = self.errors[0][0]
        self.truncated = truncated
        lines = [f"line {n}: {m}" for n, m in self.errors]
        if truncated:
            lines.append(f"stopped after {len(self.errors)} errors; there may be more")
        fields: dict[str, list[str]] = defaultdict(list)
        for n, m in self.errors:
            fields[f"line {n}"].append(m)
        self.message = f"{self.path.name}: " + "; ".join(lines)
        self.fields = {k: "; ".join(v) for k, v in fields.items()}
        super().__init__(self.message)
