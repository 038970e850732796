"""Settings: one table of names, environment variables, defaults and meanings; a frozen dataclass."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.errors import Invalid

REPO_ROOT = Path(__file__).resolve().parent.parent
SYNCHRONOUS_MODES: tuple[str, ...] = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: how a setting is named, read and explained."""

    name: str
    env: str
    default: str | None
    meaning: str
    parse: Callable[[str], Any]


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _optional_text(raw: str) -> str | None:
    return raw or None


def _synchronous(raw: str) -> str:
    mode = raw.strip().upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError("must be one of " + ", ".join(SYNCHRONOUS_MODES))
    return mode


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a port number between 1 and 65535")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a number above 0")
    return value


def _paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip())


def _optional_path(raw: str) -> Path | None:
    return Path(raw).expanduser() if raw else None


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < 1:
        raise ValueError("must be a number from 0 up to (not including) 1")
    return value


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("1", "0", "true", "false", "yes", "no", "on", "off", ""):
        raise ValueError("must be true or false")
    return value in ("1", "true", "yes", "on")


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a number, 0 or above")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number, 0 or above")
    return value


def _webhook_url(raw: str) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return raw


def _secrets(raw: str) -> tuple[str, ...]:
    found = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(len(secret) < 16 for secret in found):
        raise ValueError("must be secrets of at least 16 characters, separated by commas")
    return found


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db_path",
        "MODERATION_DB",
        "./data/moderation.db",
        "SQLite database file (WAL mode; its directory is created if missing).",
        _path,
    ),
    Setting(
        "model_path",
        "MODERATION_MODEL",
        str(REPO_ROOT / "models" / "default.model"),
        "Model artifact to score with; the default is the one shipped in the repository.",
        _path,
    ),
    Setting(
        "secret_key",
        "MODERATION_SECRET_KEY",
        None,
        "Secret for the keyed hashes (HMAC-SHA256) of commenters' IP and e-mail. If unset, one is "
        "generated on first use and kept beside the database in `<db>.secret` (mode 0600); back that "
        "file up, since losing it means new hashes no longer match old ones.",
        _optional_text,
    ),
    Setting(
        "webhook_url",
        "MODERATION_WEBHOOK_URL",
        None,
        "Where moderator decisions and appeal outcomes are POSTed; unset keeps events waiting in the outbox.",
        _webhook_url,
    ),
    Setting(
        "webhook_secret",
        "MODERATION_WEBHOOK_SECRET",
        None,
        "Secret for the `X-Moderation-Signature: sha256=<hex>` HMAC over each webhook body; required when "
        "`MODERATION_WEBHOOK_URL` is set, since every webhook is signed.",
        _optional_text,
    ),
    Setting(
        "coral_signing_secrets",
        "MODERATION_CORAL_SIGNING_SECRETS",
        "",
        "Signing secrets of Coral's external moderation phase (Coral: Configure → Moderation → Phases), separated "
        "by commas: while Coral rotates its secret, list both. `POST /v1/coral/moderation` answers 401 to any "
        "request no secret signed, and to every request while this is empty.",
        _secrets,
    ),
    Setting(
        "webhook_timeout",
        "MODERATION_WEBHOOK_TIMEOUT",
        "10",
        "Seconds to wait for the site to answer one webhook POST.",
        _positive_float,
    ),
    Setting(
        "webhook_max_backoff",
        "MODERATION_WEBHOOK_MAX_BACKOFF",
        "3600",
        "Longest wait in seconds between retries of a failing webhook (back-off doubles from 5 s up to this; "
        "retries never stop).",
        _positive_int,
    ),
    Setting(
        "synchronous",
        "MODERATION_SYNCHRONOUS",
        "NORMAL",
        "SQLite `synchronous` (OFF, NORMAL, FULL, EXTRA). NORMAL in WAL mode survives a crash of the "
        "application or process, but a power loss or OS crash may lose the last commits (never corrupts). "
        "FULL fsyncs every commit, so nothing acknowledged is lost, at roughly a fifth of the write rate.",
        _synchronous,
    ),
    Setting(
        "busy_timeout_ms",
        "MODERATION_BUSY_TIMEOUT_MS",
        "5000",
        "Milliseconds a writer waits for another process's write lock before the request fails with 503.",
        _positive_int,
    ),
    Setting(
        "lease_seconds",
        "MODERATION_LEASE_SECONDS",
        "600",
        "How long a moderator's claim on a queue item lasts before another moderator may take it.",
        _positive_int,
    ),
    Setting(
        "retention_days",
        "MODERATION_RETENTION_DAYS",
        "30",
        "Days before `moderation purge` removes commenters' personal data (IP and e-mail hashes, user "
        "agent, author name); comments' decisions are kept.",
        _positive_int,
    ),
    Setting(
        "host",
        "MODERATION_HOST",
        "127.0.0.1",
        "Address the HTTP server listens on (`0.0.0.0` to accept connections from other machines, as in the "
        "container).",
        str,
    ),
    Setting("port", "PORT", "8080", "Port the HTTP server listens on.", _port),
    Setting(
        "workers",
        "WEB_CONCURRENCY",
        "2",
        "Gunicorn worker processes, each with its own SQLite connection and model copy; about one per core.",
        _positive_int,
    ),
    Setting(
        "behind_proxy",
        "MODERATION_BEHIND_PROXY",
        "false",
        "Take each client's address and scheme from `X-Forwarded-For` and `X-Forwarded-Proto` (one proxy hop), "
        "so per-address limits count real clients. `moderation serve --proxy` sets it for its gunicorn, which "
        "only its nginx can reach; set it yourself only where nothing but your proxy can reach gunicorn, since "
        "any client that can would choose its own address.",
        _flag,
    ),
    Setting(
        "base_corpora",
        "MODERATION_BASE_CORPORA",
        "",
        "Labelled corpora a full retrain starts from: data roots, corpus folders or labelled files, separated "
        "by `:` (`;` on Windows). Unset, a retrain adapts the active model with the moderators' verdicts and "
        "the imported labelled files instead.",
        _paths,
    ),
    Setting(
        "models_dir",
        "MODERATION_MODELS_DIR",
        None,
        "Where model versions (the shipped one copied on first start, and every retrain) are kept; "
        "unset means `models/` beside the database.",
        _optional_path,
    ),
    Setting(
        "promotion_tolerance",
        "MODERATION_PROMOTION_TOLERANCE",
        "0.01",
        "How much lower a new model version's ROC AUC may be than the active version's, on any category of "
        "the shared hold-out, before activating it needs `--force` and a reason.",
        _fraction,
    ),
    Setting(
        "job_yield",
        "MODERATION_JOB_YIELD",
        "true",
        "Run retrain jobs below the web workers: nice 19, the idle scheduling class, one core, and paused while the "
        "rest of the machine leaves less than a core idle. `false` runs them at normal priority, for a machine "
        "kept busy by other work, where a yielding job would wait for idle time indefinitely.",
        _flag,
    ),
    Setting(
        "max_dataset_mb",
        "MODERATION_MAX_DATASET_MB",
        "20",
        "Largest labelled file, in megabytes, an admin may upload for retraining (`POST /v1/datasets`; "
        "`moderation import` reads local files of any size).",
        _positive_int,
    ),
    Setting(
        "session_secret",
        "MODERATION_SESSION_SECRET",
        None,
        "Secret that signs the web app's session cookies. If unset, one is generated on first use and kept "
        "beside the database in `<db>.session-secret` (mode 0600); changing it signs everyone out.",
        _optional_text,
    ),
    Setting(
        "secure_cookies",
        "MODERATION_SECURE_COOKIES",
        "false",
        "Mark the web app's session cookie `Secure` even on plain-HTTP requests (set it behind a proxy that "
        "terminates HTTPS); requests that arrive over HTTPS always get a `Secure` cookie.",
        _flag,
    ),
    Setting(
        "session_hours",
        "MODERATION_SESSION_HOURS",
        "12",
        "Hours a web app session lasts from sign-in, however busy it is; then its user signs in again.",
        _positive_float,
    ),
    Setting(
        "session_idle_minutes",
        "MODERATION_SESSION_IDLE_MINUTES",
        "120",
        "Minutes a web app session may go without a request before it ends.",
        _positive_float,
    ),
    Setting(
        "rate_limit",
        "MODERATION_RATE_LIMIT",
        "50",
        "Work units a second each API key may spend, sustained, counted across all workers: a request is one "
        "unit, or, when it carries comments (a post, each comment of a batch, `/v1/score`), one unit per started "
        "1,000 characters of each comment's text, so a 10,000-character comment costs 10. Over it the answer is "
        "429 with `Retry-After`. `0` turns per-key limits off.",
        _non_negative_float,
    ),
    Setting(
        "rate_burst",
        "MODERATION_RATE_BURST",
        "1000",
        "Work units a key may spend at once before the sustained rate applies (its bucket's size).",
        _positive_int,
    ),
    Setting(
        "auth_failure_limit",
        "MODERATION_AUTH_FAILURE_LIMIT",
        "20",
        "Failed authentications (no key, unknown or revoked key) a client address may make a minute; past it "
        "they are answered 429 instead of 401. Valid keys from the same address still work. Web sign-in "
        "attempts, failed or not, count against the same number. `0` turns it off.",
        _non_negative_int,
    ),
    Setting(
        "account_failure_limit",
        "MODERATION_ACCOUNT_FAILURE_LIMIT",
        "10",
        "Failed password sign-ins a web app user name may have an hour, from any address; past it that account "
        "is locked (even for the right password) until its allowance refills, and the sign-in page says how "
        "long. `0` turns it off.",
        _non_negative_int,
    ),
)


@dataclass(frozen=True)
class Settings:
    """The service's configuration, read once from the environment and passed to whatever needs it."""

    db_path: Path
    model_path: Path
    secret_key: str | None
    webhook_url: str | None
    webhook_secret: str | None
    coral_signing_secrets: tuple[str, ...]
    webhook_timeout: float
    webhook_max_backoff: int
    synchronous: str
    busy_timeout_ms: int
    lease_seconds: int
    retention_days: int
    host: str
    port: int
    workers: int
    behind_proxy: bool
    base_corpora: tuple[Path, ...]
    models_dir: Path | None
    promotion_tolerance: float
    job_yield: bool
    max_dataset_mb: int
    session_secret: str | None
    secure_cookies: bool

    session_hours: float
    session_idle_minutes: float

    rate_limit: float
    rate_burst: int
    auth_failure_limit: int
    account_failure_limit: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `environ` (default os.environ), raising Invalid that names each bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env, setting.default)
            if raw is None:
                values[setting.name] = None
                continue
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as error:
                errors[setting.env] = str(error) if "must" in str(error) else "is not a valid value"
        if values.get("webhook_url") and not values.get("webhook_secret"):
            errors["MODERATION_WEBHOOK_SECRET"] = "must be set when MODERATION_WEBHOOK_URL is: every webhook is signed"
        if errors:
            raise Invalid("Some settings are invalid.", fields=errors)
        values.update(overrides)
        return cls(**values)


def settings_table() -> list[dict[str, str]]:
    """The settings as rows (name, env, default, meaning) for the README."""
    return [{"name": s.name, "env": s.env, "default": _shown(s.default), "meaning": s.meaning} for s in SETTINGS]


def _shown(default: str | None) -> str:
    if default is None:
        return ""
    # The README is read on other machines: show the shipped model's path relative to the checkout.
    return default.replace(str(REPO_ROOT), "<repo>")
