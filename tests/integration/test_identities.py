"""Identities through the real app: per-user tokens that expire and can be revoked, an
identity provider's signed tokens (verified against its JWKS served over HTTP), rate limits
per token, and every refusal audited."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal.adapters.db.tables import ApiTokenRow, AuditEventRow
from portal.adapters.store_memory import MemoryStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Inspectorate, Role
from portal.domain.identities import NotSignedIn
from portal.services.identities import (
    identify,
    issue_token,
    issue_user_token,
    new_user,
    revoke_token,
    token_hash,
)
from portal.settings import Settings
from tests.factories import add_inspection, build_portal, settable_clock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AUDIENCE = "jtai-portal"
KID = "test-key-1"


@dataclass
class IdentityProvider:
    issuer: str
    key: rsa.RSAPrivateKey

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "idp-subject-1",
            "iat": now,
            "exp": now + 300,
            "email": "lead@ofsted.example",
            "email_verified": True,
        }
        claims.update(overrides)
        headers = {"kid": KID}
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            self.key,
            algorithm="RS256",
            headers=headers,
        )


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[IdentityProvider]:
    """An identity provider's JWKS endpoint on a local port."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield IdentityProvider(f"http://127.0.0.1:{server.server_address[1]}", key)
    server.shutdown()


@dataclass
class App:
    container: Container
    client: TestClient
    inspection_id: str
    admin: dict[str, str]


def _app(tmp_path: Path, **settings: Any) -> Iterator[App]:
    container = build_portal(
        Settings(data_dir=tmp_path / "data", _env_file=None, **settings),  # type: ignore[call-arg]
        store=MemoryStore(),
    )
    inspection_id = add_inspection(container)
    _p, admin = issue_token(container, Role.admin, label="admin")
    with TestClient(create_app(container)) as client:
        yield App(container, client, inspection_id, {"Authorization": f"Bearer {admin}"})


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    yield from _app(tmp_path)


@pytest.fixture
def oidc_app(tmp_path: Path, identity_provider: IdentityProvider) -> Iterator[App]:
    yield from _app(tmp_path, oidc_issuer=identity_provider.issuer, oidc_audience=AUDIENCE)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_lead_inspector_registers_a_person_and_gives_them_an_expiring_token(app: App) -> None:
    _p, lead = issue_token(
        app.container,
        Role.lead_inspector,
        inspection_id=app.inspection_id,
        inspectorate=Inspectorate.ofsted,
    )
    person = app.client.post(
        f"/v1/inspections/{app.inspection_id}/users",
        headers=bearer(lead),
        json={
            "name": "Sam Police",
            "email": "sam@police.example",
            "role": "agency_uploader",
            "agency": "police",
        },
    )
    assert person.status_code == 201, person.text
    user_id = person.json()["id"]
    issued = app.client.post(
        f"/v1/users/{user_id}/tokens", headers=bearer(lead), json={"expires_in_days": 7}
    ).json()
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=6) < expires - app.container.clock.now() <= timedelta(days=7)

    me = app.client.get("/v1/me", headers=bearer(issued["token"])).json()
    assert (me["user_id"], me["role"], me["agency"]) == (user_id, "agency_uploader", "police")
    listed = app.client.get(f"/v1/users/{user_id}/tokens", headers=bearer(issued["token"]))
    assert [t["id"] for t in listed.json()] == [issued["id"]]
    assert "token" not in listed.json()[0]


def test_a_lead_inspector_cannot_make_a_lead_or_an_admin(app: App) -> None:
    _p, lead = issue_token(app.container, Role.lead_inspector, inspection_id=app.inspection_id)
    for role in ("lead_inspector", "admin"):
        response = app.client.post(
            f"/v1/inspections/{app.inspection_id}/users",
            headers=bearer(lead),
            json={"name": "X", "role": role},
        )
        assert response.status_code == 403, response.text


def test_the_same_email_cannot_be_registered_twice(app: App) -> None:
    body = {"name": "A", "email": "a@x.example", "role": "inspector"}
    url = f"/v1/inspections/{app.inspection_id}/users"
    assert app.client.post(url, headers=app.admin, json=body).status_code == 201
    again = app.client.post(url, headers=app.admin, json=body)
    assert again.status_code == 409 and again.json()["code"] == "user_exists"


def test_a_revoked_token_stops_working_at_once(app: App) -> None:
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    revoked = app.client.post(f"/v1/tokens/{principal.token_id}/revoke", headers=bearer(token))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = app.client.get("/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"


def test_an_expired_token_is_refused(app: App) -> None:
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    with app.container.identities._session() as session, session.begin():
        row = session.get(ApiTokenRow, principal.token_id)
        assert row is not None
        row.expires_at = app.container.clock.now() - timedelta(seconds=1)
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 401


def test_tokens_never_outlive_the_configured_lifetime(app: App) -> None:
    user = new_user(app.container, Role.inspector, "I", inspection_id=app.inspection_id)
    response = app.client.post(
        f"/v1/users/{user.id}/tokens", headers=app.admin, json={"expires_in_days": 365}
    )
    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert expires - app.container.clock.now() <= timedelta(days=90)


def test_only_the_token_hash_is_stored(app: App) -> None:
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    with app.container.identities._session() as session:
        row = session.get(ApiTokenRow, principal.token_id)
        assert row is not None and token not in row.token_sha256 and len(row.token_sha256) == 64


def test_refusals_are_audited(app: App) -> None:
    _p, uploader = issue_token(
        app.container, Role.agency_uploader, inspection_id=app.inspection_id, agency="police"
    )
    response = app.client.get(
        f"/v1/inspections/{app.inspection_id}/alerts", headers=bearer(uploader)
    )
    assert response.status_code == 403
    with app.container.identities._session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "access_denied")
        ).all()
    assert [(e.inspection_id, e.detail["permission"]) for e in events] == [
        (app.inspection_id, "manage_inspection")
    ]


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(tmp_path: Path) -> None:
    limited = _app(tmp_path, rate_limit="3/minute")
    app = next(limited)
    _p, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    codes = [app.client.get("/v1/me", headers=bearer(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = app.client.get("/v1/me", headers=bearer(token))
    assert last.json()["code"] == "rate_limited" and int(last.headers["retry-after"]) >= 1
    # Another token is not slowed down by this one.
    _p, other = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    assert app.client.get("/v1/me", headers=bearer(other)).status_code == 200
    limited.close()


def test_guessing_tokens_from_one_address_is_slowed_down(tmp_path: Path) -> None:
    limited = _app(tmp_path, rate_limit_unauthenticated="2/minute")
    app = next(limited)
    codes = [
        app.client.get("/v1/me", headers=bearer(f"jtai_guess{n}")).status_code for n in range(3)
    ]
    assert codes == [401, 401, 429]
    limited.close()


def test_an_identity_provider_token_signs_in_the_registered_person(
    oidc_app: App, identity_provider: IdentityProvider
) -> None:
    user = new_user(
        oidc_app.container,
        Role.lead_inspector,
        "Lee Lead",
        inspection_id=oidc_app.inspection_id,
        email="lead@ofsted.example",
        inspectorate=Inspectorate.ofsted,
    )
    me = oidc_app.client.get("/v1/me", headers=bearer(identity_provider.token()))
    assert me.status_code == 200, me.text
    assert (me.json()["user_id"], me.json()["inspectorate"]) == (user.id, "ofsted")
    # The first sign-in bound the subject: it now works whatever the e-mail claim says.
    again = oidc_app.client.get(
        "/v1/me", headers=bearer(identity_provider.token(email=None, email_verified=None))
    )
    assert again.json()["user_id"] == user.id
    alerts = oidc_app.client.get(
        f"/v1/inspections/{oidc_app.inspection_id}/alerts",
        headers=bearer(identity_provider.token()),
    )
    assert alerts.status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "other_key",
        "hs256_with_public_key",
        "none_alg",
        "unverified_email",
        "unknown_person",
    ],
)
def test_an_identity_provider_token_that_is_not_right_is_refused(
    oidc_app: App, identity_provider: IdentityProvider, case: str
) -> None:
    new_user(
        oidc_app.container,
        Role.inspector,
        "Ivy",
        inspection_id=oidc_app.inspection_id,
        email="lead@ofsted.example",
    )
    now = int(time.time())
    token = {
        "expired": lambda: identity_provider.token(iat=now - 4000, exp=now - 3600),
        "wrong_audience": lambda: identity_provider.token(aud="another-service"),
        "wrong_issuer": lambda: identity_provider.token(iss="https://evil.example"),
        "other_key": lambda: IdentityProvider(
            identity_provider.issuer, rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ).token(),
        "hs256_with_public_key": lambda: _hs256_signed_with_the_public_key(identity_provider),
        "none_alg": lambda: jwt.encode(
            {
                "iss": identity_provider.issuer,
                "aud": AUDIENCE,
                "sub": "s",
                "iat": now,
                "exp": now + 60,
            },
            key=None,
            algorithm="none",
            headers={"kid": KID},
        ),
        "unverified_email": lambda: identity_provider.token(sub="another", email_verified=False),
        "unknown_person": lambda: identity_provider.token(sub="nobody", email="nobody@x.example"),
    }[case]()
    response = oidc_app.client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["code"] in ("invalid_token", "unknown_user")


def _hs256_signed_with_the_public_key(identity_provider: IdentityProvider) -> str:
    """The classic key-confusion attack: the RSA public key used as an HMAC secret."""
    import base64
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    public = identity_provider.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    payload = b64(
        json.dumps(
            {
                "iss": identity_provider.issuer,
                "aud": AUDIENCE,
                "sub": "idp-subject-1",
                "iat": now,
                "exp": now + 60,
            }
        ).encode()
    )
    signature = b64(hmac.new(public, header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


# -- tokens verified a moment ago (JTAI_TOKEN_CACHE_SECONDS) ---------------------------------


def _beside(app: App) -> Container:
    """Another API process of the same deployment: the same database and (the test's)
    clock, its own memory."""
    return build_portal(app.container.settings, clock=app.container.clock, store=MemoryStore())


def test_a_token_revoked_through_another_process_is_refused_here_after_the_bound(
    app: App,
) -> None:
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    other = _beside(app)
    revoke_token(other, principal, principal.token_id)
    # Another process refuses it at once; this one trusts what it verified for at most
    # token_cache_seconds (5 by default) by the portal's clock.
    with pytest.raises(NotSignedIn):
        identify(other, token)
    clock = settable_clock(app.container)
    clock.advance(timedelta(seconds=4.9))
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(seconds=0.1))
    refused = app.client.get("/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"


def test_a_token_revoked_in_this_process_is_refused_at_once_though_just_verified(
    app: App,
) -> None:
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    assert identify(app.container, token) == principal
    revoke_token(app.container, principal, principal.token_id)
    with pytest.raises(NotSignedIn):
        identify(app.container, token)


def test_a_token_past_its_expiry_is_refused_even_if_verified_a_moment_ago(app: App) -> None:
    user = new_user(app.container, Role.inspector, "I", inspection_id=app.inspection_id)
    now = app.container.clock.now()
    _info, token = issue_user_token(app.container, user, expires_at=now + timedelta(seconds=2))
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    settable_clock(app.container).advance(timedelta(seconds=2))
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 401


def test_a_refused_token_is_not_remembered(app: App) -> None:
    token = "jtai_" + "x" * 43
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 401
    user = new_user(app.container, Role.inspector, "I", inspection_id=app.inspection_id)
    now = app.container.clock.now()
    app.container.identities.add_token(
        user, "tok-later", token_hash(token), "", now + timedelta(days=1), "test", now
    )
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200


def test_with_the_cache_off_a_revocation_elsewhere_is_refused_at_once(tmp_path: Path) -> None:
    uncached = _app(tmp_path, token_cache_seconds=0)
    app = next(uncached)
    principal, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    revoke_token(_beside(app), principal, principal.token_id)
    assert app.client.get("/v1/me", headers=bearer(token)).status_code == 401
    uncached.close()


def test_a_verified_token_is_not_looked_up_again_within_the_bound(app: App) -> None:
    _p, token = issue_token(app.container, Role.inspector, inspection_id=app.inspection_id)
    looks: list[str] = []
    identities = app.container.identities
    original = identities.verified_token

    def counted(token_sha256: str, now: datetime) -> Any:
        looks.append(token_sha256)
        return original(token_sha256, now)

    setattr(identities, "verified_token", counted)  # noqa: B010
    try:
        for _ in range(3):
            assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
        settable_clock(app.container).advance(timedelta(seconds=5))
        assert app.client.get("/v1/me", headers=bearer(token)).status_code == 200
    finally:
        delattr(identities, "verified_token")
    assert looks == [token_hash(token)] * 2
