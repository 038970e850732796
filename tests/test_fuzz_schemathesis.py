"""Contract fuzzing: schemathesis generates requests from /openapi.json for every operation and sends them with
each role's key (and none): never a 5xx, and every answer (status, content type, headers, body) matches what the
document says. It also generates requests that break the document, which must get a 4xx. Bounded by
FUZZ_EXAMPLES per operation and role (raise it for a longer run: FUZZ_EXAMPLES=100 passes here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig

from api import openapi
from moderation import keys
from moderation.settings import Settings
from tests.conftest import WordListScorer

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# What an answer must do. Left out: positive_data_acceptance, since the document cannot say every rule a valid
# request must also meet (a text that is not all spaces, an IP that parses, a policy's thresholds in order, a
# cursor from a previous page); such requests get a documented 422 naming the field, which these checks accept.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]
CREDENTIALS = ("none", "site", "moderator", "admin")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the whole run (state piles up as it would), limits off so the fuzzer is never throttled."""
    from api import create_app

    directory: Path = tmp_path_factory.mktemp("fuzz")
    base = Settings.from_env({"MODERATION_DB": str(directory / "fuzz.db"), "MODERATION_SECRET_KEY": "fuzz"})
    app = create_app(
        {
            "TESTING": True,
            "SETTINGS": replace(base, rate_limit=0, auth_failure_limit=0),
            "SCORER": WordListScorer(),
        }
    )
    yield app
    app.extensions["moderation"].store.close()


@pytest.fixture(scope="module")
def fuzz_keys(fuzz_app: Flask) -> dict[str, str]:
    store = fuzz_app.extensions["moderation"].store
    return {role: keys.create_key(store, role, f"fuzz {role}")[1] for role in keys.ROLES}


# Data that breaks the document must get one of these; 413 is how a text over 20,000 characters (the document's
# maxLength) or an over-long batch is refused, as the document says.
REJECTION_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Flask) -> schemathesis.BaseSchema:
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTION_STATUSES}}}
    )
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app, config=config)


def operations() -> list[tuple[str, str]]:
    """(path, method) of every operation the document lists (the document is checked against the routes elsewhere)."""
    return [(path, method) for path, methods in openapi.PATHS.items() for method in methods]


def fuzz_settings(examples: int, derandomize: bool = True) -> settings:
    """Hypothesis settings for one operation's fuzz: bounded, no deadline or database, every health check off."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=derandomize,
        database=None,
    )


def fuzz_operation(
    schema: schemathesis.BaseSchema,
    path: str,
    method: str,
    secrets: dict[str, str],
    examples: int,
    *,
    derandomize: bool = True,
    base_url: str | None = None,
) -> None:
    """Send `examples` generated requests to one operation, each with no key and with each role's key."""
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @fuzz_settings(examples, derandomize)
    def fuzz(case: schemathesis.Case) -> None:
        for credential in CREDENTIALS:  # each generated request, as each role would send it
            headers = {} if credential == "none" else {"Authorization": f"Bearer {secrets[credential]}"}
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    fuzz()


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), operations(), ids=[f"{m.upper()} {p}" for p, m in operations()])
def test_every_operation_keeps_its_contract(
    api_schema: schemathesis.BaseSchema, fuzz_keys: dict[str, str], path: str, method: str
) -> None:
    fuzz_operation(api_schema, path, method, fuzz_keys, FUZZ_EXAMPLES)


def _allowed_credential(path: str, method: str) -> str:
    """A credential the operation accepts, so generated bad data reaches validation rather than stopping at auth."""
    for operation in openapi.operations():
        if operation["path"] == path and operation["method"] == method.upper():
            roles = [role for role in operation["roles"] if role in CREDENTIALS]
            return roles[0] if roles else "none"
    raise KeyError((path, method))


NEGATIVE_CHECKS = [checks.not_a_server_error, checks.negative_data_rejection]
# A batch answers 200 with each comment's own result: a broken comment gets its own 422 inside the answer
# (tests/test_api_comments.py checks that), so the request's status cannot say it was refused.
ANSWERED_ITEM_BY_ITEM = {("/v1/comments/batch", "post")}
# Only an operation that takes parameters or a body can be sent data that breaks its schema.
WITH_INPUT = [
    (op["path"], op["method"].lower())
    for op in openapi.operations()
    if (op["parameters"] or op["body"]) and (op["path"], op["method"].lower()) not in ANSWERED_ITEM_BY_ITEM
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), WITH_INPUT, ids=[f"{m.upper()} {p}" for p, m in WITH_INPUT])
def test_every_operation_rejects_data_that_breaks_its_schema(
    api_schema: schemathesis.BaseSchema, fuzz_keys: dict[str, str], path: str, method: str
) -> None:
    """Requests generated to break the document (wrong types, missing fields, out of range) get a 4xx, not 2xx, 5xx."""
    operation = api_schema[path][method]
    credential = _allowed_credential(path, method)
    headers = {} if credential == "none" else {"Authorization": f"Bearer {fuzz_keys[credential]}"}

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @fuzz_settings(FUZZ_EXAMPLES)
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=NEGATIVE_CHECKS)

    fuzz()
