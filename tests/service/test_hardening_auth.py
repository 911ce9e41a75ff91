"""Issue 14, authentication: the outside review's attacks, each replayed against the real app on
SQLite and PostgreSQL (no mocks; concurrency with real threads and a barrier, no timing)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from noxfx.service.security.mfa import totp_code
from tests.service.conftest import (
    PASSWORD,
    assert_problem,
    bearer,
    login,
    mailed_token,
    make_admin,
    new_user,
    register,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------------------- helpers
def enable_mfa(client: Any, access: str) -> tuple[str, list[str]]:
    """Enrol and activate TOTP (with the previous step's code); returns (secret, codes)."""
    h = bearer(access)
    r = client.post("/api/v1/auth/mfa/enroll", json={"password": PASSWORD}, headers=h)
    assert r.status_code == 200, r.get_json()
    secret = r.get_json()["secret"]
    code = totp_code(secret, time.time() - 30)
    ok = client.post("/api/v1/auth/mfa/activate", json={"code": code}, headers=h)
    assert ok.status_code == 200, ok.get_json()
    return secret, ok.get_json()["recovery_codes"]


def in_parallel(app: Any, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call with its own test client on its own thread, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        results[i] = calls[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def signed_token(app: Any, user_id: uuid.UUID | None = None) -> str:
    """An access token with a valid signature for a user and session that do not exist."""
    from noxfx.service.runtime import runtime

    with app.app_context():
        return runtime().tokens.issue_access(user_id or uuid.uuid4(), uuid.uuid4(), 0, "basic")


# ---------------------------------------------------------------------------- rate limits
def test_signed_tokens_do_not_open_fresh_buckets_on_anonymous_routes(make_app: Any) -> None:
    """15 registrations from one address, each with another validly signed token: the sixth
    is refused (the bucket is the address's, whatever token is attached)."""
    app = make_app(rate_limit_auth="5/minute")
    client = app.test_client()
    statuses = []
    for i in range(15):
        r = client.post(
            "/api/v1/auth/register",
            json={"email": f"flood{i}@example.com", "password": PASSWORD},
            headers=bearer(signed_token(app)),
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [201] * 5 and set(statuses[5:]) == {429}, statuses


def test_revoked_tokens_share_the_address_bucket(make_app: Any) -> None:
    """Tokens of a logged-out session (signed, but dead) count against the address."""
    app = make_app(rate_limit_market="3/minute")
    client = app.test_client()
    _, tokens = new_user(client)
    dead = tokens["access_token"]
    client.post("/api/v1/auth/logout", json={"everywhere": True}, headers=bearer(dead))
    url = "/api/v1/instruments"
    forged = [signed_token(app) for _ in range(3)]
    for token in [dead, *forged]:
        last = client.get(url, headers=bearer(token))
    assert_problem(last, 429)
    assert_problem(client.get(url), 429)  # the anonymous caller is the same bucket
    _, live = new_user(client)  # while a live session keeps its own
    assert client.get(url, headers=bearer(live["access_token"])).status_code == 200


# ---------------------------------------------------------------------------- TOTP replay
def test_a_totp_code_is_accepted_once_among_parallel_logins(app: Any, client: Any) -> None:
    email, tokens = new_user(client)
    secret, _ = enable_mfa(client, tokens["access_token"])
    challenges = [login(client, email)["mfa_token"] for _ in range(6)]
    code = totp_code(secret)

    def attempt(token: str) -> Callable[[Any], int]:
        def call(c: Any) -> int:
            r = c.post("/api/v1/auth/login/mfa", json={"mfa_token": token, "code": code})
            return int(r.status_code)

        return call

    statuses = in_parallel(app, [attempt(t) for t in challenges])
    assert sorted(statuses) == [200] + [401] * 5, statuses


def test_an_mfa_token_is_single_use(client: Any) -> None:
    email, tokens = new_user(client)
    _, codes = enable_mfa(client, tokens["access_token"])
    mfa_token = login(client, email)["mfa_token"]
    wrong = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": "000000"})
    assert_problem(wrong, 401)  # a wrong code does not spend the token
    first = client.post(
        "/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "recovery_code": codes[0]}
    )
    assert first.status_code == 200, first.get_json()
    second = client.post(
        "/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "recovery_code": codes[1]}
    )
    assert "already used" in assert_problem(second, 401)["detail"]


def test_an_mfa_token_is_single_use_under_concurrency(app: Any, client: Any) -> None:
    email, tokens = new_user(client)
    _, codes = enable_mfa(client, tokens["access_token"])
    mfa_token = login(client, email)["mfa_token"]

    def attempt(recovery: str) -> Callable[[Any], int]:
        def call(c: Any) -> int:
            body = {"mfa_token": mfa_token, "recovery_code": recovery}
            return int(c.post("/api/v1/auth/login/mfa", json=body).status_code)

        return call

    statuses = in_parallel(app, [attempt(c) for c in codes[:4]])
    assert sorted(statuses) == [200, 401, 401, 401], statuses


# ---------------------------------------------------------------------------- revocation
def test_enabling_mfa_revokes_the_tokens_issued_before(client: Any) -> None:
    _, tokens = new_user(client)
    enable_mfa(client, tokens["access_token"])
    assert_problem(client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])), 401)
    stolen = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(stolen, 401)


def test_a_role_change_revokes_the_tokens_of_the_old_role(app: Any, client: Any) -> None:
    _, basic = new_user(client)
    admin_email, _ = new_user(client)
    make_admin(app, admin_email)
    ha = bearer(login(client, admin_email)["access_token"])
    uid = client.get("/api/v1/users/me", headers=bearer(basic["access_token"])).get_json()["id"]
    promoted = client.patch(f"/api/v1/admin/users/{uid}", json={"role": "admin"}, headers=ha)
    assert promoted.status_code == 200
    demoted = client.patch(f"/api/v1/admin/users/{uid}", json={"role": "basic"}, headers=ha)
    assert demoted.status_code == 200
    # a token of the earlier "basic" role stays dead even though the role is basic again
    assert_problem(client.get("/api/v1/users/me", headers=bearer(basic["access_token"])), 401)
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": basic["refresh_token"]})
    assert fresh.status_code == 200
    me = client.get("/api/v1/users/me", headers=bearer(fresh.get_json()["access_token"]))
    assert me.get_json()["role"] == "basic"


def test_a_password_reset_voids_an_mfa_token_issued_before(app: Any, client: Any) -> None:
    email, tokens = new_user(client)
    secret, _ = enable_mfa(client, tokens["access_token"])
    mfa_token = login(client, email)["mfa_token"]  # the attacker knows the old password
    client.post("/api/v1/auth/password-reset", json={"email": email})
    reset = mailed_token(app, email, "reset")
    new_password = "a brand new passphrase 77"
    done = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": reset, "password": new_password}
    )
    assert done.status_code == 204
    late = client.post(
        "/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": totp_code(secret)}
    )
    assert_problem(late, 401)


def test_token_responses_are_not_stored(client: Any) -> None:
    email = "nostore@example.com"
    register(client, email)
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": r.get_json()["refresh_token"]}
    )
    assert refreshed.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------------------- password policy
@pytest.mark.parametrize(
    "password", [" " * 12, "\x00" * 12, "\t\n" * 6, "\u200b" * 12, "ab" + " " * 11]
)
def test_blank_passwords_are_refused(client: Any, password: str) -> None:
    r = client.post(
        "/api/v1/auth/register", json={"email": "blank@example.com", "password": password}
    )
    assert r.status_code in (400, 422), r.get_json()
    assert_problem(r, r.status_code)
    assert login_fails(client, "blank@example.com", password)


def login_fails(client: Any, email: str, password: str) -> bool:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return r.status_code in (400, 401, 422)


# ---------------------------------------------------------------------------- lockout
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def post_login(client: Any, email: str, password: str, where: dict[str, str]) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_overrides=where)  # fmt: skip


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(client: Any) -> None:
    email = "victim@example.com"
    register(client, email)
    for _ in range(8):
        post_login(client, email, "wrong password 123", ATTACKER)
    body = assert_problem(post_login(client, email, PASSWORD, ATTACKER), 429)
    assert "locked" in body["detail"]  # the guessing address is locked, even with the password
    ok = post_login(client, email, PASSWORD, OWNER)
    assert ok.status_code == 200 and ok.get_json()["access_token"]
    # and the owner's success does not unlock the attacker's address
    assert_problem(post_login(client, email, PASSWORD, ATTACKER), 429)


def test_the_account_cap_stops_a_distributed_guesser_not_the_owner(client: Any) -> None:
    email = "spread@example.com"
    register(client, email)
    assert post_login(client, email, PASSWORD, OWNER).status_code == 200  # the owner's address
    for i in range(20):  # 4 x the threshold, each from its own address
        where = {"REMOTE_ADDR": f"192.0.2.{i + 1}"}
        assert_problem(post_login(client, email, "wrong password 123", where), 401)
    r = post_login(client, email, PASSWORD, {"REMOTE_ADDR": "192.0.2.200"})
    assert "account" in assert_problem(r, 429)["detail"]  # even the right password, elsewhere
    assert post_login(client, email, PASSWORD, OWNER).status_code == 200


def test_password_and_second_factor_get_through_the_account_cap(client: Any) -> None:
    email, tokens = new_user(client, "mfa-victim@example.com")
    secret, _ = enable_mfa(client, tokens["access_token"])
    for i in range(25):
        where = {"REMOTE_ADDR": f"192.0.2.{i + 1}"}
        assert_problem(post_login(client, email, "wrong password 123", where), 401)
    step1 = post_login(client, email, PASSWORD, OWNER)
    assert step1.status_code == 200 and step1.get_json()["mfa_required"] is True
    done = client.post(
        "/api/v1/auth/login/mfa",
        json={"mfa_token": step1.get_json()["mfa_token"], "code": totp_code(secret)},
        environ_overrides=OWNER,
    )
    assert done.status_code == 200 and done.get_json()["access_token"]


def test_wrong_second_factors_lock_the_address(client: Any) -> None:
    email, tokens = new_user(client)
    enable_mfa(client, tokens["access_token"])
    for _ in range(5):
        mfa_token = post_login(client, email, PASSWORD, ATTACKER).get_json()["mfa_token"]
        r = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": "000000"},
                        environ_overrides=ATTACKER)  # fmt: skip
        assert_problem(r, 401)
    assert_problem(post_login(client, email, PASSWORD, ATTACKER), 429)
    assert post_login(client, email, PASSWORD, OWNER).status_code == 200


def test_register_does_not_reveal_an_existing_address(app: Any, client: Any) -> None:
    from noxfx.service.mail import read_outbox

    register(client, "taken@example.com")
    taken = client.post(
        "/api/v1/auth/register", json={"email": "taken@example.com", "password": PASSWORD}
    )
    fresh = client.post(
        "/api/v1/auth/register", json={"email": "fresh@example.com", "password": PASSWORD}
    )
    assert taken.status_code == fresh.status_code == 201
    a, b = taken.get_json(), fresh.get_json()
    assert set(a) == set(b)
    assert {k: v for k, v in a.items() if k not in ("id", "email", "created_at")} == {
        k: v for k, v in b.items() if k not in ("id", "email", "created_at")
    }
    outbox = app.config["NOX_SETTINGS"].outbox_dir
    assert "already has one" in read_outbox(outbox, to="taken@example.com")[-1].get_content()
    assert login(client, "taken@example.com")["access_token"]  # the account is unchanged
