"""Log-in, tokens, the login rate limit, and 'minemap user add'."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fastapi.testclient import TestClient

from minemap.api import create_app
from minemap.api.security import LoginLimiter, Principal, TokenIssuer, hash_password
from minemap.cli.main import main
from minemap.errors import ConfigError
from minemap.store import open_store
from tests.api.conftest import PASSWORD, ROLES_AND_USERS, World, login


def test_login_gives_a_token_naming_role_and_organisation(client: TestClient, world: World) -> None:
    r = client.post("/api/auth/token", data={"username": "eldar", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "editor"
    assert body["organisation_id"] == world.orgs["ANAMA"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["name"] == "eldar"
    assert "write" in me.json()["may"]
    assert "approve" not in me.json()["may"]


def test_anonymous_me_is_the_public(client: TestClient) -> None:
    me = client.get("/api/auth/me").json()
    assert me["name"] is None
    assert me["may"] == ["read"]


@pytest.mark.parametrize(
    ("name", "password"), [("eldar", "wrong-password"), ("nobody", PASSWORD), ("", "")]
)
def test_wrong_credentials_are_401_or_422(client: TestClient, name: str, password: str) -> None:
    r = client.post("/api/auth/token", data={"username": name, "password": password})
    assert r.status_code in (401, 422)
    assert "message" in r.json()
    if name:
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_login_attempts_are_rate_limited(client: TestClient) -> None:
    codes = [
        client.post(
            "/api/auth/token", data={"username": "vera", "password": f"guess-{i}"}
        ).status_code
        for i in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    # even the right password waits until the window passes
    r = client.post("/api/auth/token", data={"username": "vera", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    # another user from the same address is not locked out
    assert (
        client.post("/api/auth/token", data={"username": "adil", "password": PASSWORD}).status_code
        == 200
    )


def test_limiter_window_expires() -> None:
    limiter = LoginLimiter(max_failures=2, window=0.05)
    limiter.failed("k")
    limiter.failed("k")
    assert limiter.retry_after("k") > 0
    import time

    time.sleep(0.06)
    assert limiter.retry_after("k") == 0


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "a.b.c",
        jwt.encode({"sub": "adil", "role": "admin", "exp": 4102444800}, "x" * 64),
        jwt.encode({"sub": "adil", "role": "admin", "exp": 4102444800}, "", algorithm="none"),
        TokenIssuer("test-secret-not-for-production").issue(Principal("adil", "emperor", None)),
    ],
)
def test_invalid_tokens_are_401_even_on_reads(client: TestClient, token: str) -> None:
    h = {"Authorization": f"Bearer {token}"}
    for method, path in (("GET", "/api/hazards"), ("POST", "/api/hazards")):
        r = client.request(method, path, headers=h, json={})
        assert r.status_code == 401, (method, r.text)
        assert r.json()["message"]


def test_expired_token_says_so(client: TestClient) -> None:
    issuer = TokenIssuer("test-secret-not-for-production", ttl=dt.timedelta(seconds=-5))
    token = issuer.issue(Principal("adil", "admin", None))
    r = client.get("/api/hazards", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_tokens_do_not_survive_a_new_secret(world: World) -> None:
    with TestClient(create_app(world.url, secret="first-secret-xxxxxxxx")) as first:
        h = login(first, "adil")
    with TestClient(create_app(world.url, secret="second-secret-xxxxxxx")) as second:
        assert second.get("/api/auth/me", headers=h).status_code == 401


def test_passwords_are_stored_as_argon2_hashes(world: World) -> None:
    with open_store(world.url) as store:
        row = store.get_user("adil")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


def test_short_password_refused() -> None:
    with pytest.raises(ConfigError, match="at least 8"):
        hash_password("short")


def test_admin_adds_users_others_may_not(client: TestClient, headers: dict, world: World) -> None:
    body = {
        "name": "nigar",
        "role": "editor",
        "password": "long-enough-1",
        "organisation_id": world.orgs["HALO"],
    }
    assert client.post("/api/users", json=body).status_code == 401
    assert client.post("/api/users", json=body, headers=headers["approver"]).status_code == 403
    r = client.post("/api/users", json=body, headers=headers["admin"])
    assert r.status_code == 201, r.text
    assert client.post("/api/users", json=body, headers=headers["admin"]).status_code == 409
    assert login(client, "nigar", "long-enough-1")


# --- the command line -----------------------------------------------------------------------


def test_cli_user_add_by_organisation_ref_and_name(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(world.url) as store:
        ref = store.get("organisations", world.orgs["HALO"])["ref"]
    assert (
        main(
            [
                "user",
                "add",
                "kamran",
                "--role",
                "editor",
                "--password",
                "s3cret-pass",
                "--db",
                world.url,
                "--organisation",
                ref,
            ]
        )
        == 0
    )
    assert "added user kamran" in capsys.readouterr().out
    assert (
        main(
            [
                "user",
                "add",
                "leyla",
                "--role",
                "viewer",
                "--password",
                "s3cret-pass",
                "--db",
                world.url,
                "--organisation",
                "ANAMA",
            ]
        )
        == 0
    )
    with open_store(world.url) as store:
        assert store.get_user("kamran")["organisation_id"] == world.orgs["HALO"]
        assert store.get_user("leyla")["organisation_id"] == world.orgs["ANAMA"]
        assert store.get_user("kamran")["role"] == "editor"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "editor", "--password", "s3cret-pass", "--organisation", "Nowhere"], "Nowhere"),
        (["--role", "editor", "--password", "short"], "at least 8"),
        (["--role", "viewer", "--password", "s3cret-pass", "--organisation", "ANAMA"], None),
    ],
)
def test_cli_user_add_errors(
    world: World, capsys: pytest.CaptureFixture[str], args: list[str], message: str | None
) -> None:
    code = main(["user", "add", "eldar" if message is None else "newbie", *args, "--db", world.url])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("Error: ")
    assert len(err.strip().splitlines()) == 1
    assert (message or "exists") in err


def test_cli_unknown_role_is_usage_error(world: World) -> None:
    assert (
        main(
            [
                "user",
                "add",
                "x",
                "--role",
                "emperor",
                "--password",
                "s3cret-pass",
                "--db",
                world.url,
            ]
        )
        == 2
    )


def test_every_role_can_log_in(client: TestClient) -> None:
    for name in ROLES_AND_USERS.values():
        assert login(client, name)
