"""Admins' labelled files for retraining: upload one as the request body (CSV or JSON Lines), list them."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, Response, jsonify, url_for

from api import services
from api.auth import current_key, roles
from api.body import raw_body, text_arg
from moderation.errors import Invalid
from moderation.identifiers import identifier_problem
from moderation.training import datasets

bp = Blueprint("datasets", __name__, url_prefix="/v1/datasets")

# The body's type decides how it is read; `?name=` only names it.
FORMATS = {"text/csv": ".csv", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl"}
_SUFFIXES_OF = {".csv": (".csv",), ".jsonl": (".jsonl", ".json")}
MEGABYTE = 1024 * 1024


def _file_name(name: str | None, suffix: str) -> str:
    """The name to keep the upload under: `?name=` (default `upload`), with the suffix of the body's type."""
    if not name:
        return "upload" + suffix
    if problem := identifier_problem(name):
        raise Invalid("Bad file name.", fields={"name": problem})
    given = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if given in _SUFFIXES_OF[suffix]:
        return name
    if given in (".csv", ".jsonl", ".json"):
        raise Invalid(
            "The name's extension does not match the body's Content-Type.",
            fields={"name": f"{given} names another format than the {suffix} the Content-Type says"},
        )
    return name + suffix


@bp.post("")
@roles("admin")
def import_dataset() -> tuple[Response, int, dict[str, str]]:
    """Import a labelled file sent as the body (`text/csv` or `application/x-ndjson`), named by `?name=`."""
    found = services()
    data, mimetype = raw_body(
        found.settings.max_dataset_mb * MEGABYTE, {kind: suffix[1:] for kind, suffix in FORMATS.items()}
    )
    name = _file_name(text_arg("name"), FORMATS[mimetype])
    dataset = datasets.import_dataset_bytes(found.store, found.settings, data, name, current_key().id)
    return jsonify(dataset=dataset), 201, {"Location": url_for("datasets.get_dataset", dataset_id=dataset["id"])}


@bp.get("")
@roles("admin")
def list_datasets() -> Response:
    """Every imported labelled file, oldest first: name, rows, categories, sha256, who imported it and when."""
    return jsonify(items=datasets.list_datasets(services().store))


@bp.get("/<rowid:dataset_id>")
@roles("admin")
def get_dataset(dataset_id: int) -> Response:
    """One imported labelled file."""
    return jsonify(dataset=datasets.get_dataset(services().store, dataset_id))
