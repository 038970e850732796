"""Shared fixtures: a fresh SQLite file per test, settings pointing at it, a store, and a test scorer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from model.categories import CATEGORIES
from model.types import ScoreResult, Span, Thresholds
from moderation.clock import ManualClock
from moderation.settings import Settings
from moderation.storage.store import Store


class WordListScorer:
    """TEST SCORER ONLY, not a model: deterministic scores from fixed word lists.

    It satisfies the service's `Scorer` protocol (version, thresholds, score(text) -> ScoreResult) so
    domain tests run without training anything. Every category scores 0.01 unless one of its words
    occurs, in which case it scores that word's weight.
    """

    version = "test-wordlist-1"
    thresholds: Thresholds = {category: {"reject": 0.9, "review": 0.5} for category in CATEGORIES}
    WORDS: dict[str, dict[str, float]] = {
        "toxicity": {"stupid": 0.55, "idiot": 0.7, "hateful": 0.95},
        "insult": {"moron": 0.93, "clown": 0.6},
        "threat": {"kill": 0.97, "ambush": 0.6},
        "spam": {"casino": 0.8},
    }
    _WORD = re.compile(r"[a-z]+")

    def score(self, text: str) -> ScoreResult:
        scores = {category: 0.01 for category in CATEGORIES}
        spans: list[Span] = []
        for match in self._WORD.finditer(text.lower()):
            for category, words in self.WORDS.items():
                weight = words.get(match.group())
                if weight is None:
                    continue
                scores[category] = max(scores[category], weight)
                spans.append(Span(category, match.start(), match.end(), text[match.start() : match.end()], 1.0))
        return ScoreResult(scores=scores, spans=spans, model_version=self.version)


# Retrain jobs in tests run at normal priority: a yielding job (the default) waits for idle CPU, which a machine
# kept busy by other work may never give it. How jobs yield is tested on its own (tests/test_job_minder.py,
# tests/test_retrain_cli.py), and the soak runs them as production does.
NORMAL_PRIORITY_JOBS = {"MODERATION_JOB_YIELD": "false"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's fresh SQLite database lives (nothing is created until a store opens it)."""
    return tmp_path / "moderation.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """Settings for this test's database, read the same way the service reads the environment."""
    return Settings.from_env(
        {
            "MODERATION_DB": str(db_path),
            "MODERATION_SECRET_KEY": "test-pii-secret",
            "MODERATION_WEBHOOK_SECRET": "test-webhook-secret",
            **NORMAL_PRIORITY_JOBS,
        }
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A migrated store on this test's database (WAL, a real file)."""
    opened = Store.from_settings(settings)
    yield opened
    opened.close()


@pytest.fixture
def test_scorer() -> WordListScorer:
    """The deterministic word-list TEST scorer."""
    return WordListScorer()


@pytest.fixture
def now() -> datetime:
    """A fixed moment for tests that pass time in."""
    return datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------
# The HTTP service: the app on a fresh database, its test client, keys, the CLI, a live gunicorn server.

import json as _json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from click.testing import CliRunner, Result  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = REPO / "models" / "default.model"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real model trained once per test session on the fixture corpus (no ../shared needed)."""
    from tests.model_fixtures import train_tiny_model

    return train_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="module")
def stage2_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny stage-2 folder of tests/stage2_fixtures.py (an ONNX graph built without torch)."""
    from tests import stage2_fixtures as fx

    return fx.write_stage2_folder(tmp_path_factory.mktemp("stage2") / "export")


@pytest.fixture(scope="module")
def cascade_model(tiny_model_path: Path, stage2_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny stage-1 model with the tiny stage 2 attached under loose clear bounds."""
    from model import artifact
    from tests import stage2_fixtures as fx

    out = tmp_path_factory.mktemp("cascade") / "cascade.model"
    artifact.attach_stage2(tiny_model_path, stage2_folder, out, fx.LOOSE)
    return out


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock: it stands still unless the test moves it (`clock.advance(seconds)`)."""
    return ManualClock()


@pytest.fixture
def app(settings: Settings, test_scorer: WordListScorer, clock: ManualClock) -> Iterator[Flask]:
    """The application on this test's fresh database, scoring with the word-list TEST scorer, on a still clock."""
    from api import create_app

    application = create_app({"TESTING": True, "SETTINGS": settings, "SCORER": test_scorer, "CLOCK": clock})
    yield application
    application.extensions["moderation"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client for the app."""
    return app.test_client()


@pytest.fixture
def api_keys(app: Flask) -> dict[str, str]:
    """One key secret per role (site, moderator, admin), plus a second moderator as `moderator2`."""
    from moderation import keys

    store = app.extensions["moderation"].store
    made = {role: keys.create_key(store, role, f"test {role}")[1] for role in keys.ROLES}
    made["moderator2"] = keys.create_key(store, "moderator", "test moderator 2")[1]
    return made


@pytest.fixture
def auth(api_keys: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Headers that authenticate as a role: `auth("site")`."""
    return lambda role: {"Authorization": f"Bearer {api_keys[role]}"}


class ModerationRunner:
    """Runs the `moderation` command line in-process against this test's database (its environment)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def invoke(self, *args: str) -> Result:
        from moderation.cli import _register_commands, cli

        _register_commands()
        return CliRunner().invoke(cli, list(args), env=self.env)


@pytest.fixture
def runner(db_path: Path) -> ModerationRunner:
    """The `moderation` CLI with the same settings (environment) as the app fixture."""
    return ModerationRunner(
        {"MODERATION_DB": str(db_path), "MODERATION_SECRET_KEY": "test-pii-secret", **NORMAL_PRIORITY_JOBS}
    )


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real gunicorn serving the app on a loopback port, with its database and logs."""

    process: subprocess.Popen[bytes]
    base_url: str
    db_path: Path
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path
    keys: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request with urllib; (status, headers, body bytes), error statuses included."""
        sent = dict(headers or {})
        data = raw
        if body is not None:
            data = _json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if key is not None:
            sent["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        """A request whose answer is JSON; (status, parsed body)."""
        status, _, data = self.request(method, path, body, **kwargs)
        return status, _json.loads(data) if data else None

    def logs(self) -> tuple[str, str]:
        """What the server wrote so far to stdout (access log) and stderr."""
        return (
            self.stdout_path.read_text(errors="replace"),
            self.stderr_path.read_text(errors="replace"),
        )

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM and wait for a graceful exit; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)


def wait_ready(server: LiveServer, timeout: float = 60) -> None:
    """Poll /readyz until it answers 200; fail with the server's logs if it dies or never gets ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            out, err = server.logs()
            raise AssertionError(f"server exited with {server.process.returncode}\n{out[-3000:]}\n{err[-3000:]}")
        try:
            with urllib.request.urlopen(server.base_url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    out, err = server.logs()
    server.stop()
    raise AssertionError(f"server not ready after {timeout}s\n{out[-3000:]}\n{err[-3000:]}")


def start_server(
    directory: Path, env: Mapping[str, str], command: list[str] | None = None, ready: bool = True
) -> LiveServer:
    """Start gunicorn (or `command`) with this environment on a free port; wait for /readyz."""
    port = free_port()
    # Nothing of the developer's own configuration leaks in: only what this test gives counts.
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("MODERATION_") and k not in ("PORT", "WEB_CONCURRENCY")
    }
    full_env = {**inherited, "PORT": str(port), "MODERATION_HOST": "127.0.0.1", **NORMAL_PRIORITY_JOBS, **env}
    stdout_path, stderr_path = directory / "server.out", directory / "server.err"
    argv = command or [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "api.wsgi:app"]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(argv, cwd=REPO, env=full_env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    server = LiveServer(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        db_path=Path(full_env["MODERATION_DB"]),
        env=full_env,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )
    if ready:
        wait_ready(server)
    return server


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real gunicorn servers for this test (keys made beforehand in the database); all stopped after."""
    started: list[LiveServer] = []

    def start(env: Mapping[str, str] | None = None, *, with_keys: bool = True, **kwargs: Any) -> LiveServer:
        from moderation import keys

        directory = tmp_path / f"server{len(started)}"
        directory.mkdir()
        server_env = {
            "MODERATION_DB": str(tmp_path / "moderation.db"),
            "MODERATION_SECRET_KEY": "e2e-pii-secret",
            "WEB_CONCURRENCY": "2",
            **(env or {}),
        }
        made: dict[str, str] = {}
        if with_keys:
            store = Store(server_env["MODERATION_DB"])
            made = {role: keys.create_key(store, role, f"e2e {role}")[1] for role in keys.ROLES}
            store.close()
        server = start_server(directory, server_env, **kwargs)
        server.keys = made
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
