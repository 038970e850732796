"""An admin's own labelled file (CSV, JSON Lines or JSON): rows of text and 0/1 labels, every problem named."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

from model.categories import CATEGORIES
from model.corpora.reading import content_hash
from model.corpora.records import CorpusInfo, CorpusWarning, Example, LabelledFileError, LoadedCorpus

MAX_FILE_ERRORS = 20
LABELLED_FILE_SUFFIXES = (".csv", ".jsonl", ".json")


# ---------------------------------------------------------------------------------------------------------
# An admin's own labelled file


_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def _parse_flag(value: object) -> int | None:
    """0/1 from 0/1, true/false or yes/no (any case); None for empty or null; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in _TRUE:
            return 1
        if word in _FALSE:
            return 0
    raise ValueError(f"{value!r} is not 0/1, true/false or yes/no")


class _Rows:
    """Validates an admin file's records in line order: examples, plus up to MAX_FILE_ERRORS errors."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.examples: list[Example] = []
        self.errors: list[tuple[int, str]] = []
        self.truncated = False
        self.unlabelled = 0

    def error(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_FILE_ERRORS:
            self.errors.append((line, message))
        else:
            self.truncated = True

    def add(self, line: int, text: str, values: dict[str, object]) -> None:
        valid = bool(text.strip())
        if not valid:
            self.error(line, "empty text")
        labels = {}
        for category, value in values.items():
            try:
                flag = _parse_flag(value)
            except ValueError as problem:
                self.error(line, f"{category}: {problem}")
                valid = False
                continue
            if flag is not None:
                labels[category] = flag
        if valid and labels:
            self.examples.append(Example(text, labels, self.name))
        elif valid:
            self.unlabelled += 1


_CATEGORY_HINT = "expected at least one of: " + ", ".join(CATEGORIES)


def _read_csv(text: str, rows: _Rows) -> set[str]:
    """Feeds each CSV record to `rows`; returns the category columns present."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as problem:
        rows.error(1, f"cannot read the header: {problem}")
        return set()
    if not header:
        rows.error(1, "the file is empty; the first line must be a header with a `text` column")
        return set()
    names = [cell.strip().lower() for cell in header]
    for duplicate in sorted({n for n in names if names.count(n) > 1 and (n == "text" or n in CATEGORIES)}):
        rows.error(1, f"column `{duplicate}` appears more than once")
    columns = {n: i for i, n in enumerate(names) if n == "text" or n in CATEGORIES}
    present = {n for n in columns if n != "text"}
    if "text" not in columns:
        rows.error(1, "no `text` column")
    if not present:
        rows.error(1, f"no category column; {_CATEGORY_HINT}")
    if rows.errors:
        return present
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader, None)
        except csv.Error as problem:
            rows.error(line, f"CSV error: {problem}")
            return present
        if row is None:
            return present
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            rows.error(line, f"has {len(row)} fields but the header has {len(header)} (is text with commas quoted?)")
            continue
        rows.add(line, row[columns["text"]], {n: row[i] for n, i in columns.items() if n != "text"})


def _json_values(text: str, suffix: str, rows: _Rows) -> Iterator[tuple[int, object]]:
    """(line, decoded value) for each JSON Lines line, or each item of a top-level JSON array."""
    if suffix == ".json" and text.lstrip().startswith("["):
        decoder = json.JSONDecoder()
        position = text.index("[") + 1
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            if position >= len(text) or text[position] == "]":
                return
            line = text.count("\n", 0, position) + 1
            try:
                value, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError as problem:
                rows.error(problem.lineno, f"not valid JSON: {problem.msg}")
                return
            yield line, value
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as problem:
            rows.error(number, f"not valid JSON: {problem.msg}")


def _read_json(text: str, suffix: str, rows: _Rows) -> set[str]:
    """Feeds each JSON record to `rows`; returns the category fields seen in any record."""
    present: set[str] = set()
    for line, value in _json_values(text, suffix, rows):
        if not isinstance(value, dict):
            rows.error(line, "expected a JSON object with a `text` field")
            continue
        fields = {str(k).strip().lower(): v for k, v in value.items()}
        values = {k: v for k, v in fields.items() if k in CATEGORIES}
        present.update(values)
        body = fields.get("text")
        if not isinstance(body, str):
            rows.error(line, "no `text` field" if body is None else "`text` must be a string")
            continue
        rows.add(line, body, values)
    if not present:
        rows.error(1, f"no category field in any record; {_CATEGORY_HINT}")
    return present


def load_labelled_file(path: Path) -> LoadedCorpus:
    """An admin's CSV or JSON Lines file of `text` plus 0/1 category columns, as a corpus."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LABELLED_FILE_SUFFIXES:
        raise LabelledFileError(path, 1, f"unsupported file type {suffix or '(none)'}; use .csv, .jsonl or .json")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        raise LabelledFileError(path, line, "not UTF-8 text; save the file as UTF-8") from problem
    name = f"file:{path.stem}"
    rows = _Rows(name)
    present = _read_csv(text, rows) if suffix == ".csv" else _read_json(text, suffix, rows)
    if rows.errors:
        errors = sorted(rows.errors, key=lambda item: item[0])
        raise LabelledFileError(path, errors[0][0], errors[0][1], errors, rows.truncated)
    if rows.unlabelled:
        warnings.warn(f"{path.name}: {rows.unlabelled} row(s) with no label were left out", CorpusWarning, stacklevel=2)
    categories = tuple(c for c in CATEGORIES if c in present)
    info = CorpusInfo(
        name=name,
        title=f"{path.name} (labelled by the site's administrator)",
        source=path.name,
        licence="provided by the admin",
        shippable=True,
        attribution="Comments labelled by the site's administrator.",
        categories=categories,
        mapping="Columns " + ", ".join(categories) + " are used as given (1/true/yes positive, 0/false/no "
        "negative, empty unknown).",
    )
    return LoadedCorpus(info, rows.examples, [path], content_hash([(path.name, data)]))
