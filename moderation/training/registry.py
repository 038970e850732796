"""Model versions: register, list, activate behind the evaluation gate, roll back; and the per-process holder.

The active version is the latest row of the append-only `model_activations` table. Every process that
scores holds a `ModelHolder`, which re-reads that row at most once a second and hot-loads a new version
after checking its file against the registry; a file that is missing or fails its hash is refused and the
last good model keeps serving.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, Json, field_validator

from model import artifact, private_files
from model.artifact import ModelLoadError
from model.compare import NOT_MEASURED, judge
from model.scorer import Scorer
from moderation.errors import Conflict, Invalid, NotFound, Unavailable
from moderation.records import Record
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Row, Store

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 1000
CHECK_INTERVAL_SECONDS = 1.0


def models_dir(settings: Settings) -> Path:
    """Where model version files live: MODERATION_MODELS_DIR, or `models/` beside the database."""
    return settings.models_dir or settings.db_path.parent / "models"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def version_path(settings: Settings, row: Row) -> Path:
    """The file of a registered version."""
    return models_dir(settings) / str(row["file"])


def load_version(settings: Settings, row: Row) -> artifact.Artifact:
    """Load a registered version, refusing a missing file or one whose bytes or contents differ from the registry."""
    path = version_path(settings, row)
    version = row["version"]
    try:
        actual = file_sha256(path)
    except FileNotFoundError as error:
        raise ModelLoadError(f"the file of model version {version} ({path}) is missing") from error
    except OSError as error:
        raise ModelLoadError(f"the file of model version {version} ({path}) cannot be read: {error}") from error
    if actual != row["file_sha256"]:
        raise ModelLoadError(
            f"the file of model version {version} ({path}) fails its hash: sha256 {actual[:12]}…, "
            f"registered {str(row['file_sha256'])[:12]}…"
        )
    loaded = artifact.load(path)
    if loaded.version != version or loaded.manifest.get("content_sha256") != row["content_sha256"]:
        raise ModelLoadError(f"the file {path} holds model {loaded.version}, not the registered version {version}")
    return loaded


# ---------------------------------------------------------------------------
# Registering versions


def _copy_into(settings: Settings, source: Path, name: str) -> Path:
    """Copy a file into the models directory under `name` (atomically: a reader never sees half a file)."""
    target = models_dir(settings) / name
    private_files.make_dir(target.parent)
    temporary = private_files.temporary_beside(target)
    try:
        private_files.copy_file(source, temporary)  # 0600, whatever the mode of the file it copies
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def register_file(
    store: Store,
    settings: Settings,
    path: Path,
    *,
    source: str,
    actor: str | None,
    job_id: int | None = None,
) -> dict[str, Any]:
    """Register a model file that is already inside the models directory; the version (existing if identical)."""
    path = Path(path)
    manifest = artifact.read_manifest(path)
    training = manifest.get("training") or {}
    comparison = manifest.get("comparison")
    registered = NewModelVersion.model_validate(
        {
            "version": str(manifest["version"]),
            "file": path.name,
            "file_sha256": file_sha256(path),
            "content_sha256": manifest["content_sha256"],
            "source": source,
            "mode": training.get("mode"),
            "base_version": training.get("base_version"),
            "job_id": job_id,
            "created_at": st.iso(st.utcnow()),
            "created_by": actor,
            "training": training or None,
            "comparison": comparison or None,
        }
    )
    row = registered.row()
    with store.write() as db:
        existing = st.model_version_by_content(db, row["content_sha256"]) or st.model_version_row(db, row["version"])
        if existing is not None:
            return _version_dict(existing, None)
        st.insert_model_version(db, row)
        return _version_dict(row, None)


def ensure_default(store: Store, settings: Settings) -> str:
    """On first start, register and activate the configured model file (MODERATION_MODEL); the active version."""
    with store.read() as db:
        active = st.active_model_row(db)
    if active is not None:
        return str(active["version"])
    loaded = artifact.load(settings.model_path)
    # The registry keeps its own copy: rebuilding models/default.model later must not change a registered file.
    copied = _copy_into(settings, settings.model_path, f"{loaded.version}.model")
    version = register_file(store, settings, copied, source="shipped", actor=None)["version"]
    with store.write() as db:
        active = st.active_model_row(db)
        if active is not None:  # another process got there first
            return str(active["version"])
        st.insert_model_activation(
            db, {"version": version, "at": st.iso(st.utcnow()), "actor": None, "kind": "initial"}
        )
    return str(version)


# ---------------------------------------------------------------------------
# Reading


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _judged_comparison(row: Row) -> dict[str, Any] | None:
    """A version's stored comparison judged under the current minimums (rows stored before them too)."""
    comparison = _loads(row.get("comparison"))
    return None if comparison is None else judge(comparison)


class NewModelVersion(Record):
    """A model file as it is registered: its version, file and hashes, where it came from, its training record and
    its comparison with the version active when it was built."""

    model_config = ConfigDict(strict=False)

    version: str
    source: Literal["shipped", "retrain"]
    mode: Literal["full", "adapt"] | None = None
    base_version: str | None = None
    job_id: int | None = None
    created_at: str
    created_by: str | None = None
    file: str
    file_sha256: str
    content_sha256: str
    training: dict[str, Any] | None = Field(default=None, description="Inputs: corpora, datasets, verdicts, params.")
    comparison: dict[str, Any] | None = Field(
        default=None,
        description="Against the version active when it was built, on the same hold-out rows: per category rows, "
        "positives, negatives, ROC AUC of both, delta, verdict and (when not measurable) reason; `outcome` "
        "(passed, worse, not measured), `passed` (never true with nothing measured), `measured`, `worse`, "
        "`summary`, `tolerance` and the minimums.",
    )

    def row(self) -> dict[str, Any]:
        """The row to insert: the training record and the comparison as JSON text."""
        stored = {
            column: None if value is None else json.dumps(value, sort_keys=True)
            for column, value in (("training", self.training), ("comparison", self.comparison))
        }
        return {**self.model_dump(), **stored}


class ModelVersion(NewModelVersion):
    """A registered model version as the API shows it, read from its row (plus, where asked, its evaluation)."""

    active: bool = False
    training: Json[dict[str, Any]] | None = Field(  # type: ignore[assignment]
        default=None, description="Inputs: corpora, datasets, verdicts, params."
    )
    comparison: Json[dict[str, Any]] | None = Field(  # type: ignore[assignment]
        default=None, description="As registered, judged under the current minimums."
    )
    metrics: dict[str, Any] | None = Field(default=None, description="Hold-out metrics per category.")
    thresholds: dict[str, Any] | None = Field(default=None, description="Per category {reject, review}.")
    file_error: str | None = Field(default=None, description="Why its file cannot be read, if so.")

    @field_validator("comparison", mode="after")
    @classmethod
    def _judged(cls, comparison: dict[str, Any] | None) -> dict[str, Any] | None:
        """A stored comparison judged under the current minimums (rows stored before them too)."""
        return None if comparison is None else judge(comparison)


def _version_dict(row: Row, active_version: str | None) -> dict[str, Any]:
    fields = {**row, "active": row["version"] == active_version}
    return ModelVersion.model_validate(fields).model_dump(exclude={"metrics", "thresholds", "file_error"})


class ActivationResult(Record):
    """What an activation or a rollback answers: the activation recorded and what the answering worker serves."""

    activation: Activation
    model_version: str = Field(description="What the answering worker serves now.")


class ActivationIn(Record):
    """An admin's activation or rollback: `force` past the gate (activation only) and why."""

    model_config = ConfigDict(extra="forbid")

    force: bool = Field(default=False, description="Promote although the evaluation found it worse.")
    reason: str | None = Field(default=None, max_length=1000, description="Why; required with force; recorded.")


class RollbackIn(Record):
    """An admin's rollback and why."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000, description="Why; recorded.")


class Activation(Record):
    """One activation of a version, as recorded (append-only)."""

    model_config = ConfigDict(strict=False)

    id: int
    version: str
    at: str
    actor: str | None
    kind: Literal["initial", "promote", "force", "reactivate", "rollback"]
    previous_version: str | None
    reason: str | None


def active_version(store: Store) -> str | None:
    """The active version's name (None before the first start registered one)."""
    with store.read() as db:
        row = st.active_model_row(db)
    return None if row is None else str(row["version"])


def list_versions(store: Store) -> list[dict[str, Any]]:
    """Every registered version, newest first, marked active or not, with its training and comparison."""
    with store.read() as db:
        active = st.active_model_row(db)
        rows = st.model_version_rows(db)
    current = None if active is None else active["version"]
    return [_version_dict(row, current) for row in rows]


def get_version(store: Store, version: str) -> dict[str, Any]:
    """One registered version (NotFound when unknown)."""
    with store.read() as db:
        row = st.model_version_row(db, version)
        active = st.active_model_row(db)
    if row is None:
        raise NotFound(f"No model version {version}.")
    return _version_dict(row, None if active is None else active["version"])


def with_evaluation(settings: Settings, entry: dict[str, Any]) -> dict[str, Any]:
    """A version with its hold-out metrics per category and its thresholds, read from its file's manifest.

    Only the manifest is read (no hash check): `file_error` says when even that fails (missing, not a model).
    """
    try:
        manifest = artifact.read_manifest(version_path(settings, entry))
    except ModelLoadError as error:
        return {**entry, "metrics": None, "thresholds": None, "file_error": str(error)}
    holdout = (manifest.get("metrics") or {}).get("holdout") or {}
    return {**entry, "metrics": holdout.get("categories"), "thresholds": manifest.get("thresholds"), "file_error": None}


def model_card(store: Store, settings: Settings, version: str) -> str:
    """A version's model card as Markdown, from its verified file: data, metrics, and its comparison."""
    from model.card import render_model_card

    entry = get_version(store, version)
    try:
        loaded = load_version(settings, entry)
    except ModelLoadError as error:
        raise Conflict(f"Model version {version} cannot be read: {error}.") from error
    return render_model_card(loaded.manifest)


def activations(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The activation history, newest first: who activated what, when, how (promote, force, rollback...), why."""
    with store.read() as db:
        rows = st.model_activation_rows(db, limit)
    return [Activation.model_validate(row).model_dump() for row in rows]


# ---------------------------------------------------------------------------
# Activating and rolling back


def gate(row: Row, current_version: str | None) -> tuple[str, str] | None:
    """Why activating a never-active version needs force: in brief, and in full to follow "Model version X".

    None when its evaluation lets it go ahead."""
    comparison = _judged_comparison(row)
    if comparison is None:
        return "never compared", "was never compared with an active model"
    compared_with = comparison.get("active_version")
    if compared_with != current_version:
        return (
            f"compared with {compared_with}, not with the active {current_version}",
            f"was compared with {compared_with}, but {current_version} is active now; retrain to compare it again",
        )
    if comparison["outcome"] == NOT_MEASURED:
        return (
            "not measured on any category",
            f"was not measured against the active version {current_version}: {comparison['summary']}",
        )
    problems = []
    for category in comparison["worse"]:
        entry = comparison["categories"][category]
        problems.append(
            f"{category}: ROC AUC {entry['candidate']['roc_auc']} vs {entry['active']['roc_auc']} active "
            f"(down {-entry['delta_roc_auc']:.4f}, tolerance {comparison['tolerance']})"
        )
    if not problems:
        return None
    return comparison["summary"], f"is worse than the active version {current_version}: " + "; ".join(problems)


def _checked_reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid("The reason is too long.", fields={"reason": f"at most {MAX_REASON_LENGTH} characters"})
    return reason


def _verify_or_refuse(settings: Settings, row: Row) -> None:
    try:
        load_version(settings, row)
    except ModelLoadError as error:
        raise Conflict(
            f"Model version {row['version']} cannot be activated: {error}. The active version keeps serving.",
            fields={"version": "file missing or failing its hash"},
        ) from error


def activate(
    store: Store,
    settings: Settings,
    version: str,
    actor: str | None,
    *,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Make a version the active one, if its file verifies and its evaluation allows (or force with a reason).

    A version that was active before may be re-activated without the gate. Returns the activation record.
    """
    reason = _checked_reason(reason)
    with store.read() as db:
        row = st.model_version_row(db, version)
        current = st.active_model_row(db)
        history = st.model_activation_rows(db, limit=1_000_000)
    if row is None:
        raise NotFound(f"No model version {version}.")
    current_version = None if current is None else str(current["version"])
    if version == current_version:
        raise Conflict(f"Model version {version} is already active.")
    _verify_or_refuse(settings, row)
    if any(entry["version"] == version for entry in history):
        kind = "reactivate"
    else:
        refusal = gate(row, current_version)
        kind = "promote"
        if refusal and not force:
            brief, why = refusal
            raise Conflict(
                f"Model version {version} {why}. Activate with force and a reason to promote it anyway.",
                fields={"version": f"{brief}: needs force and a reason"},
            )
        if refusal:
            if reason is None:
                raise Invalid("Forcing a promotion needs a reason.", fields={"reason": "required with force"})
            kind = "force"
    return _record_activation(store, version, current_version, actor, kind, reason)


def _record_activation(
    store: Store, version: str, expected_current: str | None, actor: str | None, kind: str, reason: str | None
) -> dict[str, Any]:
    with store.write() as db:
        now_active = st.active_model_row(db)
        # Re-checked under the write lock: the decision above was made against this active version.
        if (None if now_active is None else now_active["version"]) != expected_current:
            raise Conflict("The active model version changed meanwhile; look again and retry.")
        record: dict[str, Any] = {
            "version": version,
            "at": st.iso(st.utcnow()),
            "actor": actor,
            "kind": kind,
            "previous_version": expected_current,
            "reason": reason,
        }
        record["id"] = st.insert_model_activation(db, record)
    log.info("model version %s activated (%s) by %s, replacing %s", version, kind, actor, expected_current)
    return Activation.model_validate(record).model_dump()


def rollback_target(history: list[Row]) -> str | None:
    """The version active before the current one was first put in place (not counting rollbacks)."""
    if not history:
        return None
    current = history[0]["version"]
    for entry in history:
        if entry["version"] == current and entry["kind"] != "rollback":
            return entry["previous_version"]  # type: ignore[no-any-return]
    return None


def rollback(store: Store, settings: Settings, actor: str | None, reason: str | None = None) -> dict[str, Any]:
    """Re-activate the version that was active before the current one; the activation record."""
    reason = _checked_reason(reason)
    with store.read() as db:
        history = st.model_activation_rows(db, limit=1_000_000)
    target = rollback_target(history)
    if target is None:
        raise Conflict("There is no earlier model version to roll back to.")
    with store.read() as db:
        row = st.model_version_row(db, target)
    assert row is not None  # activations reference registered versions
    _verify_or_refuse(settings, row)
    return _record_activation(store, target, history[0]["version"], actor, "rollback", reason)


# ---------------------------------------------------------------------------
# The per-process holder


def _serving(loaded: artifact.Artifact) -> Scorer:
    """A scorer for a model version this process is about to serve, its objects left out of garbage collection.

    A model is millions of Python objects (its vocabularies) that live as long as it serves. Frozen, the cyclic
    collector stops walking them on every full collection, which otherwise stalls a request for tens of ms.
    """
    scorer = Scorer(loaded)
    gc.freeze()
    return scorer


class ModelHolder:
    """This process's scorer for the active version, re-checked at most once a second and hot-swapped.

    Call `current()` once per request and use the scorer it returns for the whole request, so a response
    never mixes two versions.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        check_interval: float = CHECK_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings = settings
        self._interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        # Versions refused, with the file's (size, mtime) then: tried again only once the file changes.
        self._refused: dict[str, tuple[tuple[int, int] | None, str]] = {}
        ensure_default(store, settings)
        self._scorer = self._first_scorer()
        self._checked_at = clock()

    @property
    def version(self) -> str:
        """The version being served."""
        return self._scorer.version

    def current(self) -> Scorer:
        """The scorer to use for one request (checks the active version when a second has passed)."""
        if self._clock() - self._checked_at >= self._interval and self._lock.acquire(blocking=False):
            try:
                self._checked_at = self._clock()
                self._check()
            finally:
                self._lock.release()
        return self._scorer

    def refresh(self) -> bool:
        """Check the active version now; whether the served version changed."""
        with self._lock:
            self._checked_at = self._clock()
            before = self._scorer.version
            self._check()
            return self._scorer.version != before

    def status(self) -> dict[str, Any]:
        """What is served, and which versions were refused and why (for health checks and the admin page)."""
        return {
            "serving": self._scorer.version,
            "refused": {version: error for version, (_, error) in self._refused.items()},
        }

    def _check(self) -> None:
        try:
            with self._store.read() as db:
                row = st.active_model_row(db)
        except Unavailable as error:
            log.warning("could not read the active model version (%s); still serving %s", error, self.version)
            return
        if row is None or row["version"] == self._scorer.version:
            return
        loaded = self._try_load(row)
        if loaded is not None:
            previous = self._scorer.version
            self._scorer = _serving(loaded)
            log.info("now serving model version %s (was %s)", loaded.version, previous)

    def _try_load(self, row: Row) -> artifact.Artifact | None:
        version = str(row["version"])
        stamp = _file_stamp(version_path(self._settings, row))
        refused = self._refused.get(version)
        if refused is not None and refused[0] == stamp:
            return None
        try:
            loaded = load_version(self._settings, row)
        except ModelLoadError as error:
            self._refused[version] = (stamp, str(error))
            log.error("refused model version %s: %s; still serving %s", version, error, self._scorer_version())
            return None
        self._refused.pop(version, None)
        return loaded

    def _scorer_version(self) -> str | None:
        scorer = getattr(self, "_scorer", None)
        return None if scorer is None else scorer.version

    def _first_scorer(self) -> Scorer:
        """The active version, or else the newest earlier active version whose file still verifies."""
        with self._store.read() as db:
            history = st.model_activation_rows(db, limit=1_000)
            tried: list[str] = []
            for entry in history:
                if entry["version"] in tried:
                    continue
                tried.append(entry["version"])
                row = st.model_version_row(db, entry["version"])
                if row is None:
                    continue
                loaded = self._try_load(row)
                if loaded is not None:
                    return _serving(loaded)
        raise ModelLoadError(
            "no registered model version could be loaded: "
            + "; ".join(f"{version}: {error}" for version, (_, error) in self._refused.items())
        )


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)
