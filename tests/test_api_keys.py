"""API keys over HTTP: admins list, create (secret shown once) and revoke; revoked keys stop at once."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

Auth = Callable[[str], dict[str, str]]


def test_create_use_list_and_revoke(client: FlaskClient, auth: Auth) -> None:
    created = client.post("/v1/keys", json={"role": "site", "name": "news site"}, headers=auth("admin"))
    assert created.status_code == 201
    body = created.get_json()
    secret, key = body["secret"], body["key"]
    assert key["role"] == "site" and key["name"] == "news site" and key["revoked_at"] is None
    assert secret.startswith("mod_site_")
    comment = {"id": "k1", "text": "hello", "article_id": "a", "author_id": "u"}
    assert client.post("/v1/comments", json=comment, headers={"X-API-Key": secret}).status_code == 201

    listed = client.get("/v1/keys", headers=auth("admin"))
    text = listed.get_data(as_text=True)
    assert key["id"] in text and secret not in text and "key_hash" not in text

    revoked = client.delete(f"/v1/keys/{key['id']}", headers=auth("admin"))
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    refused = client.post("/v1/comments", json=comment, headers={"X-API-Key": secret})
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]
    assert client.delete("/v1/keys/000000000000", headers=auth("admin")).status_code == 404


def test_bad_key_requests_are_422(client: FlaskClient, auth: Auth) -> None:
    for body in ({}, {"role": "root"}, {"role": "site", "name": 5}, {"role": 1}):
        response = client.post("/v1/keys", json=body, headers=auth("admin"))
        assert response.status_code == 422, body
        assert response.get_json()["fields"]
