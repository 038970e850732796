"""Retraining over HTTP (test client, fresh database, the tiny model): datasets, train jobs, versions, activation
behind the gate, force with a reason, refusal of missing or corrupt files, rollback, and the version each answer
names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.training import jobs, registry
from tests.retrain_fixtures import LaunchedHere, add_verdicts, muppet_verdicts, retrain_settings
from tests.test_registry import comparison, make_candidate

Auth = Callable[[str], dict[str, str]]

GOOD_CSV = b"text,toxicity,insult\nyou absolute muppet,1,1\nnice piece on parking,0,0\nthe mayor spoke,0,\n"


@pytest.fixture
def rsettings(settings: Settings, tiny_model_path: Path) -> Settings:
    return retrain_settings(settings, tiny_model_path)


@pytest.fixture
def app(rsettings: Settings) -> Iterator[Flask]:
    """The app serving the registry's active version (the tiny model, registered on first start)."""
    from api import create_app

    application = create_app({"TESTING": True, "SETTINGS": rsettings})
    yield application
    application.extensions["moderation"].store.close()


@pytest.fixture
def store(app: Flask) -> Store:
    return app.extensions["moderation"].store  # type: ignore[no-any-return]


def post_comment(client: FlaskClient, auth: Auth, comment_id: str, text: str = "the council met") -> dict[str, Any]:
    response = client.post(
        "/v1/comments", json={"id": comment_id, "text": text, "article_id": "a", "author_id": "u"}, headers=auth("site")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def recorded_version(client: FlaskClient, auth: Auth, comment_id: str) -> str:
    [decision] = client.get(f"/v1/comments/{comment_id}", headers=auth("site")).get_json()["decisions"]
    return str(decision["model_version"])


def test_versions_are_listed_with_metrics_thresholds_and_a_card(client: FlaskClient, auth: Auth) -> None:
    body = client.get("/v1/models", headers=auth("admin")).get_json()
    [shipped] = body["items"]
    assert shipped["active"] and shipped["source"] == "shipped" and body["active_version"] == shipped["version"]
    assert body["worker"] == {"serving": shipped["version"], "refused": {}}
    assert 0.5 < shipped["metrics"]["insult"]["roc_auc"] <= 1 and set(shipped["thresholds"]["insult"]) == {
        "reject",
        "review",
    }
    assert shipped["file_error"] is None and shipped["comparison"] is None
    one = client.get(f"/v1/models/{shipped['version']}", headers=auth("admin")).get_json()
    assert one == shipped
    card = client.get(f"/v1/models/{shipped['version']}/card", headers=auth("admin"))
    assert card.status_code == 200 and card.mimetype == "text/markdown" and shipped["version"] in card.get_data(True)
    missing = client.get("/v1/models/no-such-version", headers=auth("admin"))
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get("/v1/models/no-such-version/card", headers=auth("admin")).status_code == 404
    [initial] = client.get("/v1/models/activations", headers=auth("admin")).get_json()["items"]
    assert initial["kind"] == "initial" and initial["version"] == shipped["version"]


def test_train_answers_202_then_409_and_the_job_leads_to_promotion_and_rollback(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], store: Store, rsettings: Settings, monkeypatch: Any
) -> None:
    refused = client.post("/v1/models/train", headers=auth("admin"))
    assert refused.status_code == 422 and refused.get_json()["fields"] == {"training_set": "empty"}
    assert client.get("/v1/jobs", headers=auth("admin")).get_json() == {"items": []}

    add_verdicts(store, rsettings, muppet_verdicts(120))  # enough hold-out rows to measure insult and toxicity
    launched = LaunchedHere()
    monkeypatch.setattr(jobs, "launch", launched)  # run in-process below
    started = client.post("/v1/models/train", headers=auth("admin"))
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert started.headers["Location"] == f"/v1/jobs/{job['id']}" and launched.job_ids == [job["id"]]
    assert job["state"] == "queued" and job["percent"] == 0 and job["actor"] == api_keys["admin"].split("_")[2]
    busy = client.post("/v1/models/train", headers=auth("admin"))
    assert busy.status_code == 409 and busy.get_json()["fields"] == {"job_id": str(job["id"])}

    jobs.run_job(store, rsettings, job["id"])
    done = client.get(started.headers["Location"], headers=auth("admin")).get_json()["job"]
    assert done["state"] == "succeeded" and done["stage"] == "done" and done["percent"] == 100
    assert done["elapsed_seconds"] is not None and done["error"] is None
    assert [j["id"] for j in client.get("/v1/jobs", headers=auth("admin")).get_json()["items"]] == [job["id"]]
    assert client.get("/v1/jobs/999", headers=auth("admin")).status_code == 404

    old = registry.active_version(store)
    new = done["result"]["version"]
    candidate = client.get(f"/v1/models/{new}", headers=auth("admin")).get_json()
    assert not candidate["active"] and candidate["job_id"] == job["id"] and candidate["mode"] == "adapt"
    assert candidate["comparison"]["active_version"] == old and candidate["comparison"]["passed"]
    assert candidate["metrics"]["insult"]["n"] == candidate["comparison"]["categories"]["insult"]["n"]
    assert post_comment(client, auth, "before")["model_version"] == old

    activated = client.post(f"/v1/models/{new}/activate", headers=auth("admin"))
    assert activated.status_code == 200, activated.get_json()
    body = activated.get_json()
    assert body["activation"]["kind"] == "promote" and body["activation"]["previous_version"] == old
    assert body["model_version"] == new  # this worker switched before answering
    answer = post_comment(client, auth, "after")
    assert answer["model_version"] == new == recorded_version(client, auth, "after")
    assert client.get("/readyz").get_json()["model_version"] == new
    again = client.post(f"/v1/models/{new}/activate", headers=auth("admin"))
    assert again.status_code == 409 and "already active" in again.get_json()["message"]

    back = client.post("/v1/models/rollback", json={"reason": "complaints"}, headers=auth("admin"))
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["activation"]["version"] == old and back.get_json()["model_version"] == old
    assert post_comment(client, auth, "rolled-back")["model_version"] == old
    assert recorded_version(client, auth, "rolled-back") == old
    kinds = [
        (a["kind"], a["reason"]) for a in client.get("/v1/models/activations", headers=auth("admin")).json["items"]
    ]
    assert kinds == [("rollback", "complaints"), ("promote", None), ("initial", None)]
    nothing = client.post("/v1/models/rollback", headers=auth("admin"))
    assert nothing.status_code == 409 and "no earlier" in nothing.get_json()["message"]


def test_a_worse_version_needs_force_and_a_reason(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], store: Store, rsettings: Settings
) -> None:
    old = str(registry.active_version(store))
    worse = make_candidate(rsettings, store, 0.5, comparison(old, ["insult"]))
    refused = client.post(f"/v1/models/{worse}/activate", headers=auth("admin"))
    assert refused.status_code == 409 and "insult: ROC AUC 0.7 vs 0.9" in refused.get_json()["message"]
    no_reason = client.post(f"/v1/models/{worse}/activate", json={"force": True}, headers=auth("admin"))
    assert no_reason.status_code == 422 and no_reason.get_json()["fields"] == {"reason": "required with force"}
    bad = client.post(
        f"/v1/models/{worse}/activate", json={"force": "yes", "reason": 3, "why": "x"}, headers=auth("admin")
    )
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"force", "reason", "why"}
    assert post_comment(client, auth, "still-old")["model_version"] == old

    forced = client.post(
        f"/v1/models/{worse}/activate", json={"force": True, "reason": "spam wave; accepted"}, headers=auth("admin")
    )
    assert forced.status_code == 200, forced.get_json()
    record = forced.get_json()["activation"]
    assert record["kind"] == "force" and record["reason"] == "spam wave; accepted"
    assert record["actor"] == api_keys["admin"].split("_")[2]
    [latest, _] = client.get("/v1/models/activations", headers=auth("admin")).get_json()["items"]
    assert latest == record
    answer = post_comment(client, auth, "forced", "you idiot")
    assert answer["model_version"] == worse == recorded_version(client, auth, "forced")
    scored = client.post("/v1/score", json={"text": "hello"}, headers=auth("site")).get_json()
    assert scored["model_version"] == worse


def test_a_missing_or_corrupt_version_file_is_refused_and_the_active_version_keeps_serving(
    client: FlaskClient, auth: Auth, store: Store, rsettings: Settings
) -> None:
    old = str(registry.active_version(store))
    corrupt = make_candidate(rsettings, store, 0.5, comparison(old))
    missing = make_candidate(rsettings, store, 0.7, comparison(old))
    path = registry.models_dir(rsettings) / registry.get_version(store, corrupt)["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    (registry.models_dir(rsettings) / registry.get_version(store, missing)["file"]).unlink()

    for version, problem in ((corrupt, "fails its hash"), (missing, "is missing")):
        for body in (None, {"force": True, "reason": "try anyway"}):
            response = client.post(f"/v1/models/{version}/activate", json=body, headers=auth("admin"))
            assert response.status_code == 409 and problem in response.get_json()["message"], response.get_json()
            assert response.get_json()["fields"] == {"version": "file missing or failing its hash"}
    assert client.get(f"/v1/models/{corrupt}/card", headers=auth("admin")).status_code == 409
    listed = {v["version"]: v for v in client.get("/v1/models", headers=auth("admin")).get_json()["items"]}
    assert "does not exist" in listed[missing]["file_error"] and listed[old]["active"]
    assert post_comment(client, auth, "unchanged")["model_version"] == old
    assert [a["kind"] for a in registry.activations(store)] == ["initial"]


def test_datasets_are_uploaded_as_the_body_and_validated_by_line(
    client: FlaskClient, auth: Auth, app: Flask, rsettings: Settings
) -> None:
    admin = auth("admin")
    created = client.post(
        "/v1/datasets?name=ours.csv", data=GOOD_CSV, headers={**admin, "Content-Type": "text/csv; charset=utf-8"}
    )
    assert created.status_code == 201, created.get_json()
    dataset = created.get_json()["dataset"]
    assert dataset["name"] == "ours.csv" and dataset["rows"] == 3 and dataset["categories"] == ["toxicity", "insult"]
    assert created.headers["Location"] == f"/v1/datasets/{dataset['id']}"
    shown = client.get(created.headers["Location"], headers=admin).get_json()["dataset"]
    assert shown == {k: v for k, v in dataset.items() if k != "warnings"}
    assert client.get("/v1/datasets", headers=admin).get_json()["items"] == [shown]
    assert client.get("/v1/datasets/99", headers=admin).status_code == 404
    duplicate = client.post("/v1/datasets", data=GOOD_CSV, headers={**admin, "Content-Type": "text/csv"})
    assert duplicate.status_code == 409

    lines = [{"text": "fine", "toxicity": 0}, {"text": "what", "toxicity": "maybe"}]
    jsonl = ("\n".join(json.dumps(line) for line in lines) + "\nnot json\n").encode()
    invalid = client.post(
        "/v1/datasets?name=mine", data=jsonl, headers={**admin, "Content-Type": "application/x-ndjson"}
    )
    assert invalid.status_code == 422
    assert set(invalid.get_json()["fields"]) == {"line 2", "line 3"} and "mine.jsonl" in invalid.get_json()["message"]

    jsonl_ok = b'{"text": "you walnut", "insult": 1}\n{"text": "fine weather", "insult": 0}\n'
    named = client.post("/v1/datasets", data=jsonl_ok, headers={**admin, "Content-Type": "application/jsonl"})
    assert named.status_code == 201 and named.get_json()["dataset"]["name"] == "upload.jsonl"
    mismatch = client.post(
        "/v1/datasets?name=x.csv", data=jsonl_ok, headers={**admin, "Content-Type": "application/jsonl"}
    )
    assert mismatch.status_code == 422 and "name" in mismatch.get_json()["fields"]

    wrong_type = client.post("/v1/datasets", data=GOOD_CSV, headers={**admin, "Content-Type": "application/json"})
    assert wrong_type.status_code == 415 and wrong_type.get_json()["error"] == "unsupported_media_type"
    latin = client.post("/v1/datasets", data=GOOD_CSV, headers={**admin, "Content-Type": "text/csv; charset=latin-1"})
    assert latin.status_code == 415
    empty = client.post("/v1/datasets", data=b"  \n", headers={**admin, "Content-Type": "text/csv"})
    assert empty.status_code == 400

    app.extensions["moderation"].settings = replace(rsettings, max_dataset_mb=1)
    big = GOOD_CSV + b"more words here,0,0\n" * (1024 * 1024 // 20)
    too_large = client.post("/v1/datasets", data=big, headers={**admin, "Content-Type": "text/csv"})
    assert too_large.status_code == 413 and too_large.get_json()["error"] == "too_large"
    assert len(client.get("/v1/datasets", headers=admin).get_json()["items"]) == 2


def test_a_retrained_version_is_rebuilt_from_its_recorded_inputs_through_the_api(
    client: FlaskClient, auth: Auth, store: Store, rsettings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setattr(jobs, "launch", LaunchedHere())  # each job runs in-process below
    add_verdicts(store, rsettings, muppet_verdicts(40))
    first = client.post("/v1/models/train", headers=auth("admin")).get_json()["job"]
    built = jobs.run_job(store, rsettings, first["id"])["result"]
    add_verdicts(store, rsettings, muppet_verdicts(10, seed=4, prefix="late"))  # newer verdicts must not count

    shipped = registry.active_version(store)
    assert client.post("/v1/models/train", json={"rebuild": "no-such"}, headers=auth("admin")).status_code == 404
    not_retrained = client.post("/v1/models/train", json={"rebuild": shipped}, headers=auth("admin"))
    assert not_retrained.status_code == 422 and "not made by a retrain" in not_retrained.get_json()["message"]
    bad = client.post("/v1/models/train", json={"rebuild": 7, "seed": 1}, headers=auth("admin"))
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"rebuild", "seed"}

    started = client.post("/v1/models/train", json={"rebuild": built["version"]}, headers=auth("admin"))
    assert started.status_code == 202, started.get_json()
    rebuilt = jobs.run_job(store, rsettings, started.get_json()["job"]["id"])
    assert rebuilt["state"] == "succeeded", rebuilt["error"]
    result = rebuilt["result"]
    assert result["rebuild_of"] == built["version"] and result["identical"] is True
    assert result["content_sha256"] == built["content_sha256"] and result["version"] == built["version"]


def retrain_from_five_verdicts(client: FlaskClient, auth: Auth, store: Store, rsettings: Settings) -> dict[str, Any]:
    """A retrain job (run in-process) from the five verdicts of a site just starting; the finished job."""
    add_verdicts(store, rsettings, muppet_verdicts(5))
    started = client.post("/v1/models/train", headers=auth("admin"))
    assert started.status_code == 202, started.get_json()
    jobs.run_job(store, rsettings, started.get_json()["job"]["id"])
    job: dict[str, Any] = client.get(started.headers["Location"], headers=auth("admin")).get_json()["job"]
    assert job["state"] == "succeeded", job["error"]
    return job


def test_a_retrain_from_five_verdicts_is_not_measured_and_needs_force_with_a_reason(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], store: Store, rsettings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setattr(jobs, "launch", LaunchedHere())  # the job runs in-process
    old = str(registry.active_version(store))
    result = retrain_from_five_verdicts(client, auth, store, rsettings)["result"]
    assert result["verdicts"]["labels"] == 10 and result["verdicts"]["holdout_comments"] <= 5
    assert result["passed"] is False and result["outcome"] == "not measured" and result["measured"] == []
    assert result["summary"].startswith("not measured on any category")
    new = result["version"]

    shown = client.get(f"/v1/models/{new}", headers=auth("admin")).get_json()
    comparison = shown["comparison"]
    assert comparison["passed"] is False and comparison["outcome"] == "not measured" and comparison["worse"] == []
    assert (comparison["min_rows"], comparison["min_positives"], comparison["min_negatives"]) == (30, 5, 5)
    for entry in comparison["categories"].values():
        assert entry["verdict"] == "not measurable"
        assert entry["reason"].endswith("at least 30 rows with 5 positives and 5 negatives are needed")
    listed = {v["version"]: v for v in client.get("/v1/models", headers=auth("admin")).get_json()["items"]}
    assert listed[new]["comparison"] == comparison
    card = client.get(f"/v1/models/{new}/card", headers=auth("admin")).get_data(as_text=True)
    assert f"**Outcome: not measured**: {comparison['summary']}. Activating it needs force and a reason." in card
    assert "not worse" not in card

    refused = client.post(f"/v1/models/{new}/activate", headers=auth("admin"))
    assert refused.status_code == 409 and refused.get_json()["error"] == "conflict"
    message = refused.get_json()["message"]
    assert message.startswith(f"Model version {new} was not measured against the active version {old}: not measured")
    assert message.endswith("Activate with force and a reason to promote it anyway.")
    assert refused.get_json()["fields"] == {"version": "not measured on any category: needs force and a reason"}
    no_reason = client.post(f"/v1/models/{new}/activate", json={"force": True}, headers=auth("admin"))
    assert no_reason.status_code == 422 and no_reason.get_json()["fields"] == {"reason": "required with force"}
    assert post_comment(client, auth, "still-old")["model_version"] == old

    why = "a new site: five verdicts, checked by hand"
    forced = client.post(f"/v1/models/{new}/activate", json={"force": True, "reason": why}, headers=auth("admin"))
    assert forced.status_code == 200, forced.get_json()
    record = forced.get_json()["activation"]
    assert record["kind"] == "force" and record["reason"] == why and record["previous_version"] == old
    assert client.get("/v1/models/activations", headers=auth("admin")).get_json()["items"][0] == record
    assert post_comment(client, auth, "forced")["model_version"] == new


def test_the_models_page_says_a_version_was_not_measured_and_activates_it_only_with_force(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], store: Store, rsettings: Settings, monkeypatch: Any
) -> None:
    from tests.test_web_client import post, sign_in

    monkeypatch.setattr(jobs, "launch", LaunchedHere())  # the job runs in-process
    old = str(registry.active_version(store))
    job = retrain_from_five_verdicts(client, auth, store, rsettings)
    new, summary = job["result"]["version"], job["result"]["summary"]
    sign_in(client, api_keys["admin"])
    page = client.get("/web/admin/models").get_data(as_text=True)
    assert "not worse" not in page
    card = page.split(f"<code>{new}</code>", 1)[1].split("</section>", 1)[0]
    assert f'<p class="meta comparison" data-outcome="not measured">Compared with {old}: <strong>' in card
    assert f"<strong>{summary}</strong>. Activating it needs force and a reason." in card
    assert f"<td>{new} (not measured)</td>" in page  # the jobs table

    refused = post(client, f"/web/admin/models/{new}/activate", {"reason": "looks fine"})
    assert refused.status_code == 303
    after = client.get("/web/admin/models").get_data(as_text=True)
    assert f"Model version {new} was not measured against the active version {old}" in after
    no_reason = post(client, f"/web/admin/models/{new}/activate", {"force": "on"})
    assert no_reason.status_code == 303
    assert "Forcing a promotion needs a reason." in client.get("/web/admin/models").get_data(as_text=True)
    assert registry.active_version(store) == old

    forced = post(client, f"/web/admin/models/{new}/activate", {"force": "on", "reason": "checked by hand"})
    assert forced.status_code == 303 and registry.active_version(store) == new
    latest = registry.activations(store)[0]
    assert (latest["kind"], latest["reason"], latest["version"]) == ("force", "checked by hand", new)


def test_versions_stored_with_the_old_comparison_format_load_display_and_are_judged_anew(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], store: Store, rsettings: Settings
) -> None:
    from tests.test_promotion_gate import ISSUE_ROW
    from tests.test_web_client import sign_in

    old = str(registry.active_version(store))
    nothing = make_candidate(rsettings, store, 0.5, {**ISSUE_ROW, "active_version": old})  # passed: true on nothing
    worse = make_candidate(rsettings, store, 0.7, comparison(old, ["insult"]))  # no outcome, no negatives
    listed = client.get("/v1/models", headers=auth("admin"))
    assert listed.status_code == 200
    judged = {v["version"]: v["comparison"] for v in listed.get_json()["items"]}
    assert judged[nothing]["outcome"] == "not measured" and judged[nothing]["passed"] is False
    assert judged[worse]["outcome"] == "worse" and judged[worse]["categories"]["insult"]["negatives"] == 20
    assert client.get(f"/v1/models/{nothing}", headers=auth("admin")).get_json()["comparison"] == judged[nothing]
    sign_in(client, api_keys["admin"])
    page = client.get("/web/admin/models")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "not worse" not in html and "<strong>worse on insult</strong>" in html
    assert f"<strong>{judged[nothing]['summary']}</strong>" in html
    refused = client.post(f"/v1/models/{nothing}/activate", headers=auth("admin"))
    assert refused.status_code == 409 and "was not measured" in refused.get_json()["message"]
