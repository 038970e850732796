"""Reading the pages' HTML forms into the arguments the domain functions take (no rules of their own:
the domain validates; this only turns text fields into numbers, lists and a policy document)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from model.categories import CATEGORIES
from model.types import Thresholds
from moderation.errors import Invalid
from moderation.policy import THRESHOLD_KEYS

# The short list of reasons a moderator picks from when rejecting (plus a free-text note).
REJECT_REASONS: tuple[tuple[str, str], ...] = (
    ("insult", "Insult or personal attack"),
    ("hate", "Hate or attack on a group"),
    ("threat", "Threat of violence"),
    ("obscene", "Obscene or sexual"),
    ("spam", "Spam or advertising"),
    ("off_topic", "Off-topic or disruptive"),
    ("other", "Other (explained in the note)"),
)
_REASON_LABEL = dict(REJECT_REASONS)
MAX_NOTE_CHARS = 500
MAX_SECTIONS = 100


def decision_reason(action: str, choice: str | None, note: str | None) -> str | None:
    """The reason recorded with a moderator's decision: the chosen reason and the note, if any.

    A rejection needs one or the other (the site and the log should say why); an approval needs neither.
    """
    choice = (choice or "").strip()
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if choice and choice not in _REASON_LABEL:
        errors["reason_choice"] = "must be one of the listed reasons"
    if len(note) > MAX_NOTE_CHARS:
        errors["reason_text"] = f"must be at most {MAX_NOTE_CHARS} characters"
    if action == "reject" and not choice and not note:
        errors["reason_choice"] = "choose a reason for rejecting (or write a note)"
    if choice == "other" and not note:
        errors["reason_text"] = "say what the other reason is"
    if errors:
        raise Invalid("The decision needs a reason.", fields=errors)
    parts = [_REASON_LABEL[choice]] if choice and choice != "other" else []
    if note:
        parts.append(note)
    return ": ".join(parts) if parts else None


def item_versions(values: list[str]) -> list[tuple[int, int]]:
    """Selected queue items from the bulk form's checkboxes (`<item id>:<version>`)."""
    selected: list[tuple[int, int]] = []
    for value in values:
        match = re.fullmatch(r"(\d{1,18}):(\d{1,18})", value)
        if match is None:
            raise Invalid("Bad selection.", fields={"item": "must be items from the queue list"})
        selected.append((int(match.group(1)), int(match.group(2))))
    if not selected:
        raise Invalid("Select at least one comment first.", fields={"item": "select at least one comment"})
    return selected


# ---------------------------------------------------------------------------
# The policy editor


def _number(raw: str | None, field: str, errors: dict[str, str]) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[field] = "must be a number between 0 and 1"
        return None
    if not math.isfinite(value):
        errors[field] = "must be a number between 0 and 1"
        return None
    return value


def _whole(raw: str | None, field: str, errors: dict[str, str], blank: int | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return blank
    try:
        return int(text)
    except ValueError:
        errors[field] = "must be a whole number"
        return blank


def _lines(raw: str | None) -> list[str]:
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]


def threshold_field(path: str, category: str, key: str) -> str:
    """The form field name of one threshold input (`t.toxicity.review`, `s0.toxicity.reject`)."""
    return f"{path}.{category}.{key}"


def policy_document_from_form(form: MultiDict[str, str], model_thresholds: Thresholds) -> dict[str, Any]:
    """The policy document the editor's fields describe, for `put_policy` and the preview.

    A threshold left at the model's own value is left out, so a later model's thresholds still apply to it;
    an emptied threshold is `null` (that score never sends a comment to review or rejects it). Section
    thresholds left empty inherit the policy's. Raises Invalid for fields that are not numbers at all.
    """
    errors: dict[str, str] = {}
    document: dict[str, Any] = {}
    thresholds: dict[str, dict[str, float | None]] = {}
    for category in CATEGORIES:
        for key in THRESHOLD_KEYS:
            field = threshold_field("t", category, key)
            value = _number(form.get(field), f"thresholds.{category}.{key}", errors)
            model_value = model_thresholds.get(category, {}).get(key)
            same = value == model_value or (
                value is not None and model_value is not None and round(model_value, 4) == value
            )
            if not same:
                thresholds.setdefault(category, {})[key] = value
    if thresholds:
        document["thresholds"] = thresholds

    sections: dict[str, dict[str, dict[str, float | None]]] = {}
    for index in range(MAX_SECTIONS):
        name = form.get(f"s{index}.name")
        if name is None:
            break
        name = name.strip()
        if not name:
            continue
        overrides: dict[str, dict[str, float | None]] = {}
        for category in CATEGORIES:
            for key in THRESHOLD_KEYS:
                value = _number(
                    form.get(threshold_field(f"s{index}", category, key)),
                    f"sections.{name}.{category}.{key}",
                    errors,
                )
                if value is not None:
                    overrides.setdefault(category, {})[key] = value
        sections[name] = overrides
    if sections:
        document["sections"] = sections

    document["blocked_terms"] = _lines(form.get("blocked_terms"))
    document["watched_terms"] = _lines(form.get("watched_terms"))
    document["max_links"] = _whole(form.get("max_links"), "max_links", errors, None)
    for field, blank in (("new_author_reviews", 0), ("recent_rejections", 0), ("recent_rejection_days", 30)):
        document[field] = _whole(form.get(field), field, errors, blank)
    document["known_languages"] = [code for code in re.split(r"[\s,]+", form.get("known_languages", "")) if code]
    document["shadow_mode"] = form.get("shadow_mode") in ("on", "true", "1")
    if form.get("sentence_holds"):  # left out, the policy's default holds
        document["sentence_holds"] = form.get("sentence_holds")
    if errors:
        raise Invalid("The policy has invalid fields.", fields=errors)
    return document


def threshold_inputs(document: Mapping[str, Any]) -> dict[str, str]:
    """The editor's input values for a full policy document (`policy_to_document`), keyed by field name."""
    values: dict[str, str] = {}

    def shown(value: object) -> str:
        return "" if value is None else f"{float(value):.4g}"  # type: ignore[arg-type]

    for category, limits in (document.get("thresholds") or {}).items():
        for key in THRESHOLD_KEYS:
            values[threshold_field("t", category, key)] = shown(limits.get(key))
    for index, (_, overrides) in enumerate(sorted((document.get("sections") or {}).items())):
        for category, limits in overrides.items():
            for key in THRESHOLD_KEYS:
                if key in limits:
                    values[threshold_field(f"s{index}", category, key)] = shown(limits[key])
    return values
