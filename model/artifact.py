"""Save and load model versions as a zip of JSON and .npy arrays: nothing in the file can execute on load."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import stat
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy
import sklearn

from model import cascade, private_files
from model.features import FeatureParams, Featurizer
from model.linear import LinearModel
from model.types import Thresholds

if TYPE_CHECKING:
    from model.stage2.adapt import HeadAdapter
    from model.stage2.runtime import Stage2Model

FORMAT = "comment-moderation-model"
FORMAT_VERSION = 1
_ARRAYS = ("word_idf", "char_idf", "weights", "intercepts", "calibration_slope", "calibration_offset", "trained")
# A fixed timestamp inside the zip keeps the bytes reproducible for the same model.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
# The manifest carries the thresholds and library versions that loading trusts, so it is hashed too.
_MANIFEST_SEAL = "manifest.sha256"
# A stage-2 folder rides in the file as members under this prefix (model.onnx, tokenizer.json, config.json).
STAGE2_PREFIX = "stage2/"
STAGE2_FILES = ("model.onnx", "tokenizer.json", "config.json")
# A head adapter fitted from verdicts (model/stage2/adapt.py) rides beside them as two .npy members.
STAGE2_ADAPTER_FILES = {"weights": "adapter_weights.npy", "bias": "adapter_bias.npy"}
# Texts stage 2 scores when it is attached and again on every load: the two must agree within the tolerance.
STAGE2_CHECK_TEXTS = (
    "Thanks for the careful analysis of the border talks.",
    "You are an idiot and a moron.",
    "I will find you and kill you.",
    "All immigrants are vermin.",
    "Subscribe to my channel for free followers http://promo.example/1",
    "",
)
STAGE2_CHECK_TOLERANCE = 1e-3  # absolute, per probability: float32 kernels differ slightly between CPUs


class ModelLoadError(Exception):
    """A model file that cannot be trusted or used: corrupt, tampered with, or built for other libraries."""


@dataclass
class Artifact:
    """A loaded model version: the linear model plus its manifest (version, data, metrics, thresholds)."""

    model: LinearModel
    manifest: dict[str, Any]
    stage2: Stage2Model | None = None  # the cascade's second stage, when the file carries one
    cascade_settings: cascade.CascadeSettings | None = None  # its routing bounds, the categories it decides

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def thresholds(self) -> dict[str, dict[str, float | None]]:
        return self.manifest["thresholds"]  # type: ignore[no-any-return]


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _members(model: LinearModel) -> dict[str, bytes]:
    featurizer = model.featurizer
    word_terms = sorted(featurizer.word_vocab, key=featurizer.word_vocab.__getitem__)
    char_terms = sorted(featurizer.char_vocab, key=featurizer.char_vocab.__getitem__)
    arrays: dict[str, np.ndarray] = {
        "word_idf": featurizer.word_idf.astype(np.float64),
        "char_idf": featurizer.char_idf.astype(np.float64),
        "weights": model.weights.astype(np.float32),
        "intercepts": model.intercepts.astype(np.float64),
        "calibration_slope": model.calibration_slope.astype(np.float64),
        "calibration_offset": model.calibration_offset.astype(np.float64),
        "trained": model.trained.astype(np.bool_),
    }
    members = {f"{name}.npy": _npy_bytes(array) for name, array in arrays.items()}
    members["word_vocab.json"] = json.dumps(word_terms, ensure_ascii=False).encode()
    members["char_vocab.json"] = json.dumps(char_terms, ensure_ascii=False).encode()
    members["features.json"] = json.dumps(featurizer.params.as_dict(), sort_keys=True).encode()
    members["categories.json"] = json.dumps(list(model.categories)).encode()
    return members


# What in a manifest turns scores into decisions besides the members: two files with the same members but other
# thresholds or routing decide differently, so they must not share a version or a content hash.
_DECISION_KEYS = ("clear_bounds", "stage2_categories", "route_words", "routing", "blend")


def decision_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's thresholds and, with a stage 2, its cascade settings (canonical JSON)."""
    section = manifest.get("stage2")
    cascade_settings = None
    if isinstance(section, dict):
        cascade_settings = {key: section.get(key) for key in _DECISION_KEYS}
        for recorded_later in ("route_lexicons", "passages", "sentences"):
            # Only when recorded: files sealed before these were recorded keep the hash they were sealed with.
            if recorded_later in section:
                cascade_settings[recorded_later] = section[recorded_later]
    document = {"thresholds": manifest.get("thresholds"), "cascade": cascade_settings}
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def content_hash(member_hashes: dict[str, str], decision_sha256: str | None = None) -> str:
    """One SHA-256 over the sorted member hashes and the decision hash: the identity of a model's contents.

    Files written before the decision hash existed carry none and hash their members alone."""
    digest = hashlib.sha256()
    for name in sorted(member_hashes):
        digest.update(f"{name}:{member_hashes[name]}\n".encode())
    if decision_sha256 is not None:
        digest.update(f"decision:{decision_sha256}\n".encode())
    return digest.hexdigest()


def sealed_manifest(manifest: dict[str, Any], member_hashes: dict[str, str]) -> dict[str, Any]:
    """`manifest` with its members' hashes, its decision hash and the content hash over both."""
    decision = decision_hash(manifest)
    return {
        **manifest,
        "members": member_hashes,
        "decision_sha256": decision,
        "content_sha256": content_hash(member_hashes, decision),
    }


def save(
    model: LinearModel, manifest: dict[str, Any], path: Path, mode: int = private_files.PRIVATE_FILE_MODE
) -> dict[str, Any]:
    """Write a model version (0600 unless `mode` says otherwise: its vocabulary holds words of the texts it was
    trained on); returns the full manifest written (with version and hashes)."""
    members = _members(model)
    member_hashes = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    created = manifest.get("created_at") or datetime.now(UTC).isoformat(timespec="seconds")
    full = dict(manifest)
    full.pop("stage2", None)  # a saved linear model carries no stage 2: attach_stage2 adds one to the file
    full.update(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": created, "libraries": library_versions()}
    )
    full = sealed_manifest(full, member_hashes)
    full["version"] = manifest.get("version") or _version(created, full["content_sha256"])
    private_files.make_dir(path.parent)
    _write(path, members, full, mode)
    return full


def _version(created: str, content_sha256: str) -> str:
    """A version name: the creation date and the start of the content hash (20261205-22af189a51)."""
    return f"{created[:10].replace('-', '')}-{content_sha256[:10]}"


def _write(path: Path, members: dict[str, bytes], manifest: dict[str, Any], mode: int) -> None:
    """Write the zip atomically, with exactly `mode`: the members, the manifest and the manifest's SHA-256."""
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    entries = {**members, "manifest.json": manifest_bytes}
    entries[_MANIFEST_SEAL] = hashlib.sha256(manifest_bytes).hexdigest().encode()
    temporary = private_files.temporary_beside(path)
    try:
        with os.fdopen(private_files.create_file(temporary, mode), "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name, data in entries.items():
                    archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def update_manifest(path: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Add descriptive fields (e.g. an evaluation report) to a model file; its arrays and hashes stay as they are."""
    manifest = read_manifest(path)
    protected = {
        "format", "format_version", "version", "members", "content_sha256", "libraries", "stage2", "thresholds",
        "decision_sha256",
    }  # fmt: skip
    if protected & changes.keys():
        raise ValueError(f"cannot change {sorted(protected & changes.keys())} of a saved model")
    manifest.update(changes)
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in sorted(manifest["members"])}
    _write(path, members, manifest, stat.S_IMODE(path.stat().st_mode))  # the file keeps its mode
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a model file, without loading or verifying the arrays."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest_bytes = archive.read("manifest.json")
            seal = archive.read(_MANIFEST_SEAL).decode() if _MANIFEST_SEAL in archive.namelist() else None
        manifest = json.loads(manifest_bytes)
    except FileNotFoundError as error:
        raise ModelLoadError(f"model file {path} does not exist") from error
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as error:
        raise ModelLoadError(f"model file {path} is not a readable model: {error}") from error
    if seal is None:
        raise ModelLoadError(f"model file {path} has no {_MANIFEST_SEAL}: its manifest cannot be verified")
    if hashlib.sha256(manifest_bytes).hexdigest() != seal:
        raise ModelLoadError(f"model file {path} fails its hash: manifest.json was altered")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"model file {path} is not a {FORMAT} v{FORMAT_VERSION} file")
    return manifest  # type: ignore[no-any-return]


def load(path: Path, *, stage2: bool = True) -> Artifact:
    """Load and verify a model version; refuses corrupt files and other scikit-learn versions.

    With `stage2` false a cascade file's stage 2 is hashed but not run (nor self-checked): its stage 1 alone, as
    a base a new stage 2 is attached to, on a CPU where the old graph may no longer score as recorded.
    """
    path = Path(path)
    manifest = read_manifest(path)
    built_with = manifest.get("libraries", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelLoadError(
            f"model {manifest.get('version')} was built with scikit-learn {built_with}, "
            f"but this install has {sklearn.__version__}; retrain it or install scikit-learn=={built_with}"
        )
    expected: dict[str, str] = manifest.get("members", {})
    decision = manifest.get("decision_sha256")
    if decision is not None and decision != decision_hash(manifest):
        raise ModelLoadError(f"model file {path} fails its hash: its thresholds or cascade settings were altered")
    if content_hash(expected, decision) != manifest.get("content_sha256"):
        raise ModelLoadError(f"model file {path} fails its hash: the member list does not match content_sha256")
    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name, sha in expected.items():
                data = archive.read(name)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise ModelLoadError(f"model file {path} fails its hash: member {name} was altered")
                members[name] = data
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ModelLoadError(f"model file {path} is damaged: {error}") from error
    loaded = Artifact(_model_from_members(members), manifest)
    if not stage2:
        return loaded
    if "stage2" in manifest:
        loaded.stage2, loaded.cascade_settings = _stage2_from_members(members, manifest, path)
    elif any(name.startswith(STAGE2_PREFIX) for name in members):
        raise ModelLoadError(f"model file {path} holds stage-2 members but its manifest has no stage2 section")
    return loaded


def _stage2_from_members(
    members: dict[str, bytes], manifest: dict[str, Any], path: Path
) -> tuple[Stage2Model, cascade.CascadeSettings]:
    """The verified stage 2 of a model file and its cascade settings; refused unless it scores as recorded."""
    section = manifest["stage2"]
    names = [STAGE2_PREFIX + name for name in STAGE2_FILES]
    if not isinstance(section, dict) or not all(name in members for name in names):
        raise ModelLoadError(f"model file {path} names a stage 2 but lacks its members {names}")
    if section.get("graph_sha256") != manifest["members"][STAGE2_PREFIX + "model.onnx"]:
        raise ModelLoadError(f"model file {path}: the stage-2 graph is not the one its manifest names")
    try:
        settings = cascade.CascadeSettings.from_dict(section)
    except ValueError as error:
        raise ModelLoadError(f"model file {path} has unusable cascade settings: {error}") from error
    from model.stage2 import runtime  # only here: a file without stage 2 never imports onnxruntime

    adapter = _adapter_from_members(members, manifest, section, path)
    stage2 = runtime.load_stage2({name: members[STAGE2_PREFIX + name] for name in STAGE2_FILES}, adapter)
    runtime.self_check(stage2, section.get("self_check"), where=f"model file {path}")
    return stage2, settings


def _adapter_from_members(
    members: dict[str, bytes], manifest: dict[str, Any], section: dict[str, Any], path: Path
) -> HeadAdapter | None:
    """The stage-2 head adapter the section names, read from its hashed .npy members; None when it names none."""
    from model.stage2.adapt import HeadAdapter

    names = {role: STAGE2_PREFIX + name for role, name in STAGE2_ADAPTER_FILES.items()}
    record = section.get("adapter")
    if record is None:
        if any(name in members for name in names.values()):
            raise ModelLoadError(f"model file {path} holds stage-2 adapter members its stage2 section does not name")
        return None
    if not isinstance(record, dict) or record.get("members") != names:
        raise ModelLoadError(f"model file {path}: the stage-2 adapter record must name its members {names}")
    if any(name not in members for name in names.values()):
        raise ModelLoadError(f"model file {path} names a stage-2 adapter but lacks its members")
    if record.get("sha256") != {role: manifest["members"][name] for role, name in names.items()}:
        raise ModelLoadError(f"model file {path}: the stage-2 adapter is not the one its manifest names")
    try:
        arrays = {role: np.load(io.BytesIO(members[name]), allow_pickle=False) for role, name in names.items()}
        return HeadAdapter.checked(arrays["weights"], arrays["bias"])
    except ValueError as error:
        raise ModelLoadError(f"model file {path} has an unusable stage-2 adapter: {error}") from error


def stage1_thresholds_of(manifest: dict[str, Any]) -> Thresholds:
    """Stage 1's own thresholds: the file's, or those kept in its stage2 section when a cascade replaced them."""
    section = manifest.get("stage2")
    kept = section.get("stage1_thresholds") if isinstance(section, dict) else None
    return kept if isinstance(kept, dict) else manifest["thresholds"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ExportedStage2:
    """An exported stage-2 folder read once: its files' bytes and the model they load into."""

    files: dict[str, bytes]
    model: Stage2Model


def read_stage2_folder(folder: Path) -> ExportedStage2:
    """The exported stage-2 folder (model.onnx, tokenizer.json, config.json), loaded; ModelLoadError if unusable."""
    from model.stage2 import runtime

    folder = Path(folder)
    try:
        files = {name: (folder / name).read_bytes() for name in STAGE2_FILES}
    except OSError as error:
        raise ModelLoadError(f"stage-2 folder {folder} is incomplete: {error}") from error
    return ExportedStage2(files, runtime.load_stage2(files))


def attach_stage2(
    path: Path,
    exported: Path | ExportedStage2,
    out: Path,
    settings: cascade.CascadeSettings | None = None,
    *,
    thresholds: Thresholds | None = None,
    check_texts: tuple[str, ...] = STAGE2_CHECK_TEXTS,
) -> dict[str, Any]:
    """Write `out`: the stage-1 model file `path` with an exported stage-2 folder (or one already read) added.

    `settings` are the cascade's routing (cascade.budget_settings measures them; default: the fallback bounds,
    spam from stage 1). `thresholds`, chosen on the cascade's final scores, become the file's thresholds; stage
    1's are kept in the stage2 section. Stage 2 scores `check_texts` now, and the file records those
    probabilities for the self-check every load repeats. A stage 2 already in the file is replaced. Returns the
    new manifest.
    """
    if not isinstance(exported, ExportedStage2):
        exported = read_stage2_folder(exported)
    return _attach(Path(path), exported, Path(out), settings, thresholds, check_texts)


def carried_cascade(donor: dict[str, Any], new_stage1: Thresholds) -> tuple[cascade.CascadeSettings, Thresholds]:
    """The routing and thresholds a cascade's stage 2 gets beside a new stage 1 with thresholds `new_stage1`.

    The routing keeps its fraction of stage 1's review thresholds (now the new stage 1's); the categories stage
    2 decides keep the donor cascade's thresholds, the others take the new stage 1's.
    """
    section = donor.get("stage2")
    if not isinstance(section, dict):
        raise ModelLoadError(f"model {donor.get('version')} has no stage 2 to carry over")
    old = cascade.CascadeSettings.from_dict(section)
    fraction = (old.routing or {}).get("review_fraction")
    bounds = dict(old.clear_bounds)
    if isinstance(fraction, int | float):
        for category in bounds:
            review = new_stage1.get(category, {}).get("review")
            bounds[category] = round(fraction * (1.0 if review is None else float(review)), 4)
    how = f"{old.bounds_from}; carried over from {donor['version']} with the new stage 1's review thresholds"
    # Everything else the donor's stage 2 does (its words, blend, passages, lone sentences) it keeps doing.
    settings = replace(old, clear_bounds=bounds, bounds_from=how)
    thresholds = {
        c: (donor["thresholds"][c] if c in old.stage2_categories else limits) for c, limits in new_stage1.items()
    }
    return settings, thresholds


@dataclass(frozen=True)
class FittedAdapter:
    """A stage-2 head adapter fitted from verdicts and the fit's report, to seal into a model file."""

    adapter: HeadAdapter
    report: dict[str, Any]


def read_stage2(source: Path) -> ExportedStage2:
    """The stage 2 of an exported folder or of a cascade file (its members as sealed), loaded; ModelLoadError if
    unusable."""
    source = Path(source)
    if source.is_dir():
        return read_stage2_folder(source)
    try:
        with zipfile.ZipFile(source) as archive:
            files = {name: archive.read(STAGE2_PREFIX + name) for name in STAGE2_FILES}
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ModelLoadError(f"model file {source} is damaged: {error}") from error
    from model.stage2 import runtime

    return ExportedStage2(files, runtime.load_stage2(files))


def carry_stage2(path: Path, cascade_file: Path, out: Path, adapter: FittedAdapter | None = None) -> dict[str, Any]:
    """Write `out`: the new stage-1 file `path` with the stage-2 graph of `cascade_file` carried over unchanged.

    Routing and thresholds as `carried_cascade` says. With `adapter` (fitted from verdicts) it is sealed beside
    the graph; the donor's own adapter, if any, is never carried (each retrain fits one afresh, from zero).
    """
    donor = read_manifest(cascade_file)
    exported = read_stage2(cascade_file)
    settings, thresholds = carried_cascade(donor, read_manifest(path)["thresholds"])
    return _attach(
        Path(path),
        exported,
        Path(out),
        settings,
        thresholds,
        STAGE2_CHECK_TEXTS,
        adapter,
    )


def _attach(
    path: Path,
    exported: ExportedStage2,
    out: Path,
    settings: cascade.CascadeSettings | None,
    thresholds: Thresholds | None,
    check_texts: tuple[str, ...],
    adapter: FittedAdapter | None = None,
) -> dict[str, Any]:
    """attach_stage2 on a stage 2 already read, with a head adapter when one is given."""
    from model.stage2 import runtime

    base = load(path, stage2=False)
    files, stage2 = exported.files, exported.model.with_adapter(adapter.adapter if adapter else None)
    stage1_thresholds = stage1_thresholds_of(base.manifest)
    settings = settings or cascade.default_settings({c: t["review"] for c, t in stage1_thresholds.items()})
    with zipfile.ZipFile(path) as source:
        members = {
            name: source.read(name) for name in sorted(base.manifest["members"]) if not name.startswith(STAGE2_PREFIX)
        }
    members.update({STAGE2_PREFIX + name: data for name, data in files.items()})
    if adapter is not None:
        arrays = {"weights": adapter.adapter.weights, "bias": adapter.adapter.bias}
        members.update({STAGE2_PREFIX + STAGE2_ADAPTER_FILES[role]: _npy_bytes(a) for role, a in arrays.items()})
    member_hashes = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    created = datetime.now(UTC).isoformat(timespec="seconds")
    config = stage2.config
    section = {
        "format": runtime.CONFIG_FORMAT,
        "graph_sha256": member_hashes[STAGE2_PREFIX + "model.onnx"],
        "encoder": config.encoder,
        "layers": config.layers,
        # Feed-forward units kept per layer, in a folder trained with fewer than the encoder's (train.ffn_units).
        **({"ffn_units": config.document["ffn_units"]} if "ffn_units" in config.document else {}),
        "max_length": config.max_length,
        "quantized": config.quantized,
        # How an int8 graph's weights score the same on every x86 CPU (model.stage2.quantize).
        **{key: config.document[key] for key in runtime.PORTABLE_WEIGHTS if key in config.document},
        "seed": config.seed,
        "training": config.document["training"],
        "metrics": config.document["metrics"],
        **settings.as_dict(),
        **({"adapter": _adapter_record(adapter, member_hashes)} if adapter is not None else {}),
        # With an adapter, the probabilities recorded are the adapted ones: the check covers it too.
        "self_check": runtime.record_self_check(stage2, check_texts, STAGE2_CHECK_TOLERANCE),
        "libraries": runtime.library_versions(),
        "stage1_version": base.manifest.get("stage2", {}).get("stage1_version", base.version),
        "stage1_thresholds": stage1_thresholds,
        "attached_at": created,
    }
    manifest = {
        **base.manifest,
        "created_at": created,
        "thresholds": thresholds if thresholds is not None else stage1_thresholds,
        "stage2": section,
    }
    manifest = sealed_manifest(manifest, member_hashes)
    manifest["version"] = _version(created, manifest["content_sha256"])
    private_files.make_dir(out.parent)
    _write(out, members, manifest, stat.S_IMODE(path.stat().st_mode))  # the mode of the stage-1 file
    return manifest


def _adapter_record(adapter: FittedAdapter, member_hashes: dict[str, str]) -> dict[str, Any]:
    """The stage2 section's account of an adapter: its members, their SHA-256, its shape and the fit's report."""
    names = {role: STAGE2_PREFIX + name for role, name in STAGE2_ADAPTER_FILES.items()}
    return {
        "members": names,
        "sha256": {role: member_hashes[name] for role, name in names.items()},
        "hidden": adapter.adapter.hidden,
        "applies": "z = slope * logit + offset + pooled @ weights + bias, per category",
        "fit": adapter.report,
    }


def _model_from_members(members: dict[str, bytes]) -> LinearModel:
    arrays = {name: np.load(io.BytesIO(members[f"{name}.npy"]), allow_pickle=False) for name in _ARRAYS}
    word_terms = json.loads(members["word_vocab.json"])
    char_terms = json.loads(members["char_vocab.json"])
    featurizer = Featurizer(
        FeatureParams(**json.loads(members["features.json"])),
        {term: index for index, term in enumerate(word_terms)},
        {term: index for index, term in enumerate(char_terms)},
        arrays["word_idf"],
        arrays["char_idf"],
    )
    return LinearModel(
        featurizer=featurizer,
        categories=tuple(json.loads(members["categories.json"])),
        weights=arrays["weights"].astype(np.float64),
        intercepts=arrays["intercepts"],
        calibration_slope=arrays["calibration_slope"],
        calibration_offset=arrays["calibration_offset"],
        trained=arrays["trained"],
    )
