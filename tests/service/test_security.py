"""MFA with recovery codes, roles and permissions, IDOR, audit log and GDPR export/erasure,
against SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from noxfx.service.security.mfa import totp_code
from tests.service.conftest import (
    PASSWORD,
    assert_problem,
    bearer,
    login,
    make_admin,
    new_user,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _enable_mfa(client: Any, access: str) -> tuple[str, list[str]]:
    h = bearer(access)
    r = client.post("/api/v1/auth/mfa/enroll", json={"password": PASSWORD}, headers=h)
    assert r.status_code == 200, r.get_json()
    secret, uri = r.get_json()["secret"], r.get_json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and "issuer=NOX" in uri
    bad = client.post("/api/v1/auth/mfa/activate", json={"code": "000000"}, headers=h)
    assert_problem(bad, 401)
    # the code of the previous 30 s step: accepted (clock skew), and leaves the current one fresh
    ok = client.post(
        "/api/v1/auth/mfa/activate", json={"code": totp_code(secret, time.time() - 30)}, headers=h
    )
    assert ok.status_code == 200, ok.get_json()
    codes = ok.get_json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def test_mfa_flow_with_recovery_code(app: Any, client: Any) -> None:
    from noxfx.service.db import db
    from noxfx.service.models import AuditEvent, RecoveryCode, User

    email, tokens = new_user(client)
    secret, codes = _enable_mfa(client, tokens["access_token"])
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and secret not in (user.mfa_secret_encrypted or "")
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and not set(codes) & set(hashes)

    step1 = login(client, email)
    assert step1["mfa_required"] is True and "access_token" not in step1
    mfa_token = step1["mfa_token"]
    assert_problem(client.get("/api/v1/users/me", headers=bearer(mfa_token)), 401)
    wrong = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": "123456"})
    assert_problem(wrong, 401)
    code = totp_code(secret)
    ok = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": code})
    assert ok.status_code == 200 and ok.get_json()["access_token"]
    replay = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "code": code})
    assert "already used" in assert_problem(replay, 401)["detail"]

    # lost phone: a recovery code works once (any spelling)
    mfa_token = login(client, email)["mfa_token"]
    rc = codes[3].lower().replace("-", " ")
    ok = client.post("/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "recovery_code": rc})
    assert ok.status_code == 200, ok.get_json()
    again = client.post(
        "/api/v1/auth/login/mfa", json={"mfa_token": mfa_token, "recovery_code": codes[3]}
    )
    assert_problem(again, 401)

    access = ok.get_json()["access_token"]
    assert client.get("/api/v1/users/me", headers=bearer(access)).get_json()["mfa_enabled"]
    off = client.post(
        "/api/v1/auth/mfa/disable",
        headers=bearer(access),
        json={"password": PASSWORD, "recovery_code": codes[5]},
    )
    assert off.status_code == 204
    assert login(client, email)["mfa_required"] is False
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    for event in ("mfa_enrolled", "mfa_enabled", "recovery_code_used", "mfa_disabled"):
        assert event in events


def test_mfa_token_is_not_an_access_token_and_vice_versa(client: Any) -> None:
    _, tokens = new_user(client)
    r = client.post(
        "/api/v1/auth/login/mfa", json={"mfa_token": tokens["access_token"], "code": "123456"}
    )
    assert "mfa" in assert_problem(r, 401)["detail"].lower()


def test_roles_and_admin_endpoints(app: Any, client: Any) -> None:
    basic_email, basic = new_user(client)
    admin_email, _ = new_user(client)
    make_admin(app, admin_email)
    admin = login(client, admin_email)
    hb, ha = bearer(basic["access_token"]), bearer(admin["access_token"])
    for path in ("/api/v1/admin/users", "/api/v1/admin/roles", "/api/v1/admin/audit"):
        assert "role" in assert_problem(client.get(path, headers=hb), 403)["detail"]
        assert client.get(path, headers=ha).status_code == 200
    users = client.get(f"/api/v1/admin/users?q={basic_email[:12]}", headers=ha).get_json()
    assert [u["email"] for u in users] == [basic_email]
    uid = users[0]["id"]
    promoted = client.patch(f"/api/v1/admin/users/{uid}", json={"role": "premium"}, headers=ha)
    assert promoted.get_json()["role"] == "premium"
    # the role change voids the tokens of the old role (issue 14); a refresh carries the new one
    assert_problem(client.get("/api/v1/users/me", headers=hb), 401)
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": basic["refresh_token"]})
    hb = bearer(fresh.get_json()["access_token"])
    assert "ml:predict" in client.get("/api/v1/users/me", headers=hb).get_json()["permissions"]
    me = client.get("/api/v1/users/me", headers=ha).get_json()
    selfie = client.patch(f"/api/v1/admin/users/{me['id']}", json={"role": "basic"}, headers=ha)
    assert_problem(selfie, 409)
    disabled = client.patch(f"/api/v1/admin/users/{uid}", json={"is_active": False}, headers=ha)
    assert disabled.get_json()["is_active"] is False
    assert_problem(client.get("/api/v1/users/me", headers=hb), 401)
    audit = client.get("/api/v1/admin/audit?event=role_changed", headers=ha).get_json()
    assert {(e["details"]["old"], e["details"]["new"]) for e in audit} >= {("basic", "premium")}
    roles = {
        r["role"]: r["permissions"]
        for r in client.get("/api/v1/admin/roles", headers=ha).get_json()
    }
    assert set(roles) == {"basic", "premium", "analyst", "admin"}
    assert "audit:read" in roles["admin"] and "audit:read" not in roles["analyst"]


def test_idor_other_users_job_is_404(client: Any) -> None:
    _, alice = new_user(client)
    _, bob = new_user(client)
    job = client.post("/api/v1/jobs", json={"kind": "ping"}, headers=bearer(alice["access_token"]))
    assert job.status_code == 202
    job_id = job.get_json()["id"]
    mine = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(alice["access_token"]))
    assert mine.status_code == 200
    theirs = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(bob["access_token"]))
    missing = client.get(
        "/api/v1/jobs/00000000-0000-4000-8000-000000000000", headers=bearer(bob["access_token"])
    )
    assert assert_problem(theirs, 404)["type"] == assert_problem(missing, 404)["type"]
    assert client.get("/api/v1/jobs", headers=bearer(bob["access_token"])).get_json() == []


def test_profile_preferences_and_risk_settings(client: Any) -> None:
    _, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    r = client.patch(
        "/api/v1/users/me",
        headers=h,
        json={
            "display_name": "Ada",
            "preferences": {"theme": "dark", "favourite_symbols": ["EURUSD"]},
            "risk_settings": {"risk_per_trade_pct": 0.5, "risk_tolerance": "low"},
        },
    )
    assert r.status_code == 200, r.get_json()
    r = client.patch(
        "/api/v1/users/me", headers=h, json={"preferences": {"default_timeframe": "4h"}}
    )
    body = r.get_json()
    assert body["display_name"] == "Ada"
    assert body["preferences"] == {
        "theme": "dark",
        "favourite_symbols": ["EURUSD"],
        "default_timeframe": "4h",
    }
    bad = client.patch(
        "/api/v1/users/me",
        headers=h,
        json={
            "preferences": {"theme": "neon", "favourite_symbols": ["EURXXX"]},
            "risk_settings": {"risk_per_trade_pct": 50},
        },
    )
    fields = {e["field"] for e in assert_problem(bad, 422)["errors"]}
    assert fields == {
        "preferences.theme",
        "preferences.favourite_symbols.0",
        "risk_settings.risk_per_trade_pct",
    }


def test_gdpr_export_and_erasure(app: Any, client: Any) -> None:
    from noxfx.service.db import db
    from noxfx.service.models import AuditEvent, Job, RefreshToken, User

    email, tokens = new_user(client)
    h = bearer(tokens["access_token"])
    client.post("/api/v1/jobs", json={"kind": "ping", "params": {"echo": "hi"}}, headers=h)
    export = client.get("/api/v1/users/me/export", headers=h).get_json()
    assert export["profile"]["email"] == email
    assert {e["event"] for e in export["audit_log"]} >= {"user_registered", "login_succeeded"}
    assert len(export["jobs"]) == 1 and len(export["sessions"]) == 1
    assert "password_hash" not in str(export) and tokens["refresh_token"] not in str(export)

    wrong = client.delete("/api/v1/users/me", json={"password": "not the password"}, headers=h)
    assert_problem(wrong, 401)
    gone = client.delete("/api/v1/users/me", json={"password": PASSWORD}, headers=h)
    assert gone.status_code == 204
    assert_problem(client.get("/api/v1/users/me", headers=h), 401)
    assert_problem(
        client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 401
    )
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == email)) is None
        assert db.session.scalars(select(Job)).all() == []
        assert db.session.scalars(select(RefreshToken)).all() == []
        kept = db.session.scalars(select(AuditEvent)).all()
        assert all(e.user_id is None for e in kept)
        assert "account_deleted" in {e.event for e in kept}
        assert all(e.ip is None for e in kept if e.event == "user_registered")
