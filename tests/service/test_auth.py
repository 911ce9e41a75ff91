"""Accounts and tokens, against SQLite and PostgreSQL: registration and password policy,
e-mail verification, login, refresh rotation and reuse detection, token forgery, logout,
lockout, password reset."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import select, update

from tests.service.conftest import (
    PASSWORD,
    SECRET,
    assert_problem,
    bearer,
    login,
    mailed_token,
    new_user,
    register,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_register_login_and_profile(client: Any) -> None:
    _, tokens = new_user(client, "Trader.One@Example.com")
    assert tokens["mfa_required"] is False and tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60 and tokens["refresh_expires_in"] == 7 * 86400
    me = client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])).get_json()
    assert me["email"] == "trader.one@example.com"
    assert me["role"] == "basic" and me["email_verified"] is False and me["mfa_enabled"] is False
    assert "analysis:read" in me["permissions"] and "users:admin" not in me["permissions"]


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short-pw", "at least 12"),
        ("password1234", "commonly used"),
        ("QWERTYUIOP123", "commonly used"),
        ("alice.smith.trader", "e-mail"),
    ],
)
def test_password_policy(client: Any, password: str, expected: str) -> None:
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "alice.smith.trader@example.com", "password": password},
    )
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"password"}
    assert expected in " ".join(e["message"] for e in body["errors"]) + body["detail"]


def test_registration_validation_lists_fields(client: Any) -> None:
    r = client.post("/api/v1/auth/register", json={"email": "not-an-email", "extra": 1})
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"email", "password", "extra"} <= fields


def test_duplicate_email_answers_like_a_new_one(app: Any, client: Any) -> None:
    """Registering a taken address does not reveal it (issue 14): same status, same shape;
    the owner is told by e-mail and nothing changes."""
    from noxfx.service.mail import read_outbox

    first = register(client, "dup@example.com")
    r = client.post(
        "/api/v1/auth/register", json={"email": "DUP@example.com", "password": PASSWORD}
    )
    assert r.status_code == 201 and set(r.get_json()) == set(first)
    assert r.get_json()["id"] != first["id"]
    mails = read_outbox(app.config["NOX_SETTINGS"].outbox_dir, to="dup@example.com")
    assert "already has one" in mails[-1].get_content()
    assert login(client, "dup@example.com")["access_token"]


def test_email_verification_single_use(app: Any, client: Any) -> None:
    email, tokens = new_user(client, "verify@example.com")
    token = mailed_token(app, email, "confirm")
    r = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert r.status_code == 200 and r.get_json()["email_verified"] is True
    assert_problem(client.post("/api/v1/auth/verify-email", json={"token": token}), 401)
    resend = client.post("/api/v1/auth/verify-email/resend", headers=bearer(tokens["access_token"]))
    assert_problem(resend, 409)


def test_wrong_password_and_unknown_email_look_the_same(client: Any) -> None:
    register(client, "known@example.com")
    a = client.post("/api/v1/auth/login", json={"email": "known@example.com", "password": "x" * 12})
    b = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
    )
    assert assert_problem(a, 401)["detail"] == assert_problem(b, 401)["detail"]


def test_refresh_rotates_and_reuse_revokes_the_family(client: Any) -> None:
    _, first = new_user(client)
    r1 = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r1.status_code == 200
    second = r1.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/users/me", headers=bearer(second["access_token"])).status_code == 200
    # the thief replays the first (rotated) token: the whole login is revoked
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert "already used" in assert_problem(reuse, 401)["detail"]
    later = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert "revoked" in assert_problem(later, 401)["detail"]
    me = client.get("/api/v1/users/me", headers=bearer(second["access_token"]))
    assert "logged out" in assert_problem(me, 401)["detail"]


def test_reuse_revokes_only_that_login(client: Any) -> None:
    email, phone = new_user(client)
    laptop = login(client, email)
    client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert client.get("/api/v1/users/me", headers=bearer(laptop["access_token"])).status_code == 200


def test_refresh_tokens_are_stored_hashed(app: Any, client: Any) -> None:
    from noxfx.service.db import db
    from noxfx.service.models import RefreshToken

    _, tokens = new_user(client)
    with app.app_context():
        stored = db.session.scalars(select(RefreshToken.token_hash)).all()
    assert stored and tokens["refresh_token"] not in stored
    assert all(len(h) == 64 for h in stored)


def _forge(claims: dict[str, Any], key: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def test_alg_none_wrong_key_wrong_alg_and_expired_tokens_are_rejected(
    app: Any, client: Any
) -> None:
    _, tokens = new_user(client)
    claims = _claims_of(tokens["access_token"])
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode())
    unsigned = f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."
    wrong_key = _forge(claims, key="another-secret-key-another-secret-key")
    hs512 = _forge(claims, alg="HS512")
    with app.app_context():
        from noxfx.service.runtime import runtime

        expired = runtime().tokens.issue_access(
            uuid.UUID(claims["sub"]),
            uuid.UUID(claims["sid"]),
            claims["tv"],
            "basic",
            lifetime=timedelta(minutes=-1),
        )
    refresh_as_access = tokens["refresh_token"]
    cases = {
        unsigned: "",
        wrong_key: "signature",
        hs512: "HS256",
        expired: "expired",
        refresh_as_access: "malformed",
        "garbage": "malformed",
    }
    for token, reason in cases.items():
        body = assert_problem(client.get("/api/v1/users/me", headers=bearer(token)), 401)
        assert reason.lower() in body["detail"].lower(), (reason, body["detail"])
    assert_problem(client.get("/api/v1/users/me"), 401)
    assert client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_role_escalation_in_a_forged_token_does_not_work(client: Any) -> None:
    _, tokens = new_user(client)
    claims = {**_claims_of(tokens["access_token"]), "role": "admin"}
    forged = _forge(claims, key="guess-the-key-guess-the-key-guess")
    assert_problem(client.get("/api/v1/admin/roles", headers=bearer(forged)), 401)
    assert_problem(client.get("/api/v1/admin/roles", headers=bearer(tokens["access_token"])), 403)


def test_logout_ends_the_session(client: Any) -> None:
    email, tokens = new_user(client)
    other = login(client, email)
    r = client.post("/api/v1/auth/logout", json={}, headers=bearer(tokens["access_token"]))
    assert r.status_code == 204
    assert_problem(client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])), 401)
    assert_problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401
    )
    assert client.get("/api/v1/users/me", headers=bearer(other["access_token"])).status_code == 200
    client.post(
        "/api/v1/auth/logout", json={"everywhere": True}, headers=bearer(other["access_token"])
    )
    assert_problem(client.get("/api/v1/users/me", headers=bearer(other["access_token"])), 401)


def _age_audit_events(app: Any, seconds: int) -> None:
    """Move every audit event ``seconds`` into the past (the lockout counts from them)."""
    from noxfx.service.db import db
    from noxfx.service.models import AuditEvent

    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            event.created_at = event.created_at - timedelta(seconds=seconds)
        db.session.commit()


def test_lockout_with_backoff_after_five_failures(app: Any, client: Any) -> None:
    from noxfx.service.db import db
    from noxfx.service.models import AuditEvent

    email = "lock@example.com"
    register(client, email)
    bad = {"email": email, "password": "wrong password 123"}
    for _ in range(4):
        assert_problem(client.post("/api/v1/auth/login", json=bad), 401)
    fifth = client.post("/api/v1/auth/login", json=bad)
    assert_problem(fifth, 401)
    locked = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    body = assert_problem(locked, 429)
    assert "locked" in body["detail"] and 55 <= int(locked.headers["Retry-After"]) <= 61
    _age_audit_events(app, 61)  # let the first lock lapse: the next failure locks twice as long
    assert_problem(client.post("/api/v1/auth/login", json=bad), 401)
    again = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert 110 <= int(assert_problem(again, 429) and again.headers["Retry-After"]) <= 121
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    assert events.count("account_locked") == 2 and events.count("login_failed") >= 6
    _age_audit_events(app, 121)
    ok = login(client, email)  # success resets the counter
    assert ok["access_token"]
    assert_problem(client.post("/api/v1/auth/login", json=bad), 401)


def test_password_reset_single_use_and_revokes_sessions(app: Any, client: Any) -> None:
    email, tokens = new_user(client, "reset@example.com")
    r = client.post("/api/v1/auth/password-reset", json={"email": email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "ghost@example.com"})
    assert r.status_code == unknown.status_code == 202 and r.get_json() == unknown.get_json()
    token = mailed_token(app, email, "reset")
    weak = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "password1234"}
    )
    assert_problem(weak, 422)
    new = "a much better passphrase 9"
    ok = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": new})
    assert ok.status_code == 204
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": new}
    )
    assert_problem(again, 401)
    assert_problem(client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])), 401)
    assert_problem(
        client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 401
    )
    assert login(client, email, new)["access_token"]


def test_password_reset_token_expires(app: Any, client: Any) -> None:
    from noxfx.service.db import db
    from noxfx.service.models import ActionToken

    email, _ = new_user(client, "expire@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": email})
    token = mailed_token(app, email, "reset")
    with app.app_context():
        db.session.execute(update(ActionToken).values(expires_at=datetime.now(UTC)))
        db.session.commit()
    r = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "a much better passphrase 9"},
    )
    assert "expired" in assert_problem(r, 401)["detail"]


def test_change_password(client: Any) -> None:
    email, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    wrong = client.post(
        "/api/v1/auth/password",
        headers=h,
        json={"current_password": "nope", "new_password": "another passphrase 77"},
    )
    assert_problem(wrong, 401)
    ok = client.post(
        "/api/v1/auth/password",
        headers=h,
        json={"current_password": PASSWORD, "new_password": "another passphrase 77"},
    )
    assert ok.status_code == 204
    assert_problem(client.get("/api/v1/users/me", headers=h), 401)
    assert login(client, email, "another passphrase 77")["access_token"]


def test_access_tokens_are_flask_jwt_extended_tokens_with_our_claims(app: Any, client: Any) -> None:
    """Made and read by Flask-JWT-Extended (HS256 only, header tokens), carrying the session
    claims; an MFA challenge token is not accepted as an access token."""
    from flask_jwt_extended import decode_token

    _, tokens = new_user(client)
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "HS256"
    with app.app_context():
        claims = decode_token(tokens["access_token"])
        assert app.config["JWT_DECODE_ALGORITHMS"] == ["HS256"]
        from noxfx.service.runtime import runtime

        mfa = runtime().tokens.issue_mfa(uuid.UUID(claims["sub"]), 5)
    assert claims["type"] == "access" and claims["typ"] == "access"
    assert {"sub", "sid", "tv", "role", "jti", "iat", "exp"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    body = assert_problem(client.get("/api/v1/users/me", headers=bearer(mfa)), 401)
    assert body["detail"] == "Expected an access token."
