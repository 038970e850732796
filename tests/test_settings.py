"""Settings: read from the environment through one table that the README is generated from."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from moderation.errors import Invalid
from moderation.settings import REPO_ROOT, SETTINGS, Settings, settings_table


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.db_path == Path("./data/moderation.db")
    assert settings.model_path == REPO_ROOT / "models" / "default.model"
    assert settings.synchronous == "NORMAL"
    assert settings.busy_timeout_ms == 5000
    assert settings.secret_key is None and settings.webhook_url is None
    assert settings.port == 8080


def test_environment_overrides_and_normalises() -> None:
    settings = Settings.from_env(
        {
            "MODERATION_DB": "/tmp/x.db",
            "MODERATION_SYNCHRONOUS": "full",
            "PORT": "9000",
            "MODERATION_SECRET_KEY": "",
        }
    )
    assert settings.db_path == Path("/tmp/x.db")
    assert settings.synchronous == "FULL"
    assert settings.port == 9000
    assert settings.secret_key is None


def test_invalid_settings_name_every_bad_variable() -> None:
    with pytest.raises(Invalid) as raised:
        Settings.from_env({"MODERATION_SYNCHRONOUS": "sometimes", "PORT": "http", "MODERATION_WEBHOOK_URL": "ftp://x"})
    assert set(raised.value.fields) == {"MODERATION_SYNCHRONOUS", "PORT", "MODERATION_WEBHOOK_URL"}


def test_a_webhook_url_needs_a_secret_so_every_webhook_is_signed() -> None:
    with pytest.raises(Invalid) as raised:
        Settings.from_env({"MODERATION_WEBHOOK_URL": "https://site.example/hook"})
    assert set(raised.value.fields) == {"MODERATION_WEBHOOK_SECRET"}
    signed = Settings.from_env(
        {"MODERATION_WEBHOOK_URL": "https://site.example/hook", "MODERATION_WEBHOOK_SECRET": "s"}
    )
    assert signed.webhook_secret == "s"


def test_table_and_dataclass_list_the_same_settings() -> None:
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
    rows = settings_table()
    assert {row["env"] for row in rows} >= {
        "MODERATION_DB",
        "MODERATION_MODEL",
        "MODERATION_SECRET_KEY",
        "MODERATION_WEBHOOK_URL",
        "MODERATION_WEBHOOK_SECRET",
        "MODERATION_SYNCHRONOUS",
        "MODERATION_BUSY_TIMEOUT_MS",
        "MODERATION_LEASE_SECONDS",
        "MODERATION_RETENTION_DAYS",
        "PORT",
    }
    assert all(row["meaning"] for row in rows)
    assert str(REPO_ROOT) not in str(rows)  # the README shows paths relative to the checkout
