"""Pages of a listing: the checks every paged listing makes of its `limit` and of an id `cursor`, made once."""

from __future__ import annotations

from moderation.errors import Invalid
from moderation.storage.store import MAX_ROWID

CURSOR_PROBLEM = "must be a cursor returned by a previous page"


def limit_problem(limit: object, most: int) -> str | None:
    """Why `limit` cannot size a page of at most `most` rows, or None when it can."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        return f"must be a whole number from 1 to {most}"
    return None


def check_limit(limit: object, most: int) -> None:
    """Invalid naming `limit` unless it is a whole number from 1 to `most`."""
    if problem := limit_problem(limit, most):
        raise Invalid("Bad limit.", fields={"limit": problem})


def id_cursor(cursor: str | int | None) -> int | None:
    """The row id an id cursor names (None for the first page); Invalid if no page could have returned it."""
    if cursor is None or cursor == "":
        return None
    try:
        value = int(cursor)
    except ValueError:
        raise Invalid("Bad cursor.", fields={"cursor": CURSOR_PROBLEM}) from None
    if not 0 <= value <= MAX_ROWID:
        raise Invalid("Bad cursor.", fields={"cursor": CURSOR_PROBLEM})
    return value
