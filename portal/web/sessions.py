"""Web sessions: a signed cookie naming the portal token it was opened with, a CSRF
synchroniser token, and the security headers every page carries.

The cookie holds `{"t": sha256 of the token or null, "c": CSRF token, "i": issued}`,
HMAC-SHA256 signed with the session key. It never holds the token itself: each request
looks the token's hash up again (`principal_for_token`), so a revoked or expired token, or
a disabled person, ends the session at once. A session lasts at most SESSION_HOURS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from portal.settings import Settings

SESSION_HOURS = 8
"""A working day: after it the person signs in again."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
CSRF_FIELD = "csrf_token"
SECRET_FILE = "session-secret"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SessionKeyMissing(RuntimeError):
    """No session secret is configured and the request is not to localhost."""


@dataclass(frozen=True)
class Session:
    """What a verified session cookie says."""

    token_hash: str | None
    csrf: str
    issued: float

    @property
    def signed_in(self) -> bool:
        """True once a portal token has been accepted for this session."""
        return self.token_hash is not None


def new_session(token_hash: str | None = None) -> Session:
    """A fresh session (with a fresh CSRF token), signed in if a token hash is given."""
    return Session(token_hash=token_hash, csrf=secrets.token_urlsafe(32), issued=time.time())


def request_host(request: Request) -> str:
    """The host name the browser used (without the port)."""
    host = request.headers.get("host", "")
    return urlsplit(f"//{host}").hostname or ""


def is_local(request: Request) -> bool:
    """Whether the browser reached the portal as localhost (plain HTTP is allowed there)."""
    return request_host(request) in LOCAL_HOSTS


def cookie_name(request: Request) -> str:
    """`__Host-` cookies must be Secure, host-only and for the whole site."""
    return "jtai_session" if is_local(request) else "__Host-jtai_session"


def session_key(settings: Settings, request: Request) -> bytes:
    """The key sessions are signed with: JTAI_SESSION_SECRET, or on localhost a key kept
    in data_dir/session-secret (made once, mode 600)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    if not is_local(request):
        raise SessionKeyMissing(
            "JTAI_SESSION_SECRET must be set when the portal is reached other than as localhost"
        )
    return _local_key(settings.data_dir / SECRET_FILE)


def _local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"jtai-web-session:" + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_session(key: bytes, session: Session) -> str:
    """The cookie value: payload and signature, both base64url."""
    payload = json.dumps(
        {"t": session.token_hash, "c": session.csrf, "i": session.issued},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_sign(key, payload))}"


def decode_session(key: bytes, value: str, now: float | None = None) -> Session | None:
    """The session a cookie value holds, or None if it is forged, malformed or too old."""
    encoded, _, signature = value.partition(".")
    try:
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _sign(key, payload)):
            return None
        data = json.loads(payload)
        session = Session(token_hash=data["t"], csrf=data["c"], issued=float(data["i"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(session.csrf, str) or not isinstance(session.token_hash, str | None):
        return None
    age = (now if now is not None else time.time()) - session.issued
    if age < 0 or age > SESSION_HOURS * 3600:
        return None
    return session


def read_session(key: bytes, request: Request) -> Session | None:
    """The request's verified session, if it has one."""
    value = request.cookies.get(cookie_name(request))
    return decode_session(key, value) if value else None


def set_session_cookie(key: bytes, request: Request, response: Response, session: Session) -> None:
    """Send the session: HttpOnly, SameSite=Lax, Secure unless on localhost."""
    local = is_local(request)
    response.set_cookie(
        cookie_name(request),
        encode_session(key, session),
        httponly=True,
        samesite="lax",
        secure=not local,
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Forget the session in the browser."""
    response.delete_cookie(
        cookie_name(request), path="/", httponly=True, samesite="lax", secure=not is_local(request)
    )


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    """Whether a form's CSRF token is its session's (constant-time)."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())


def same_origin(request: Request) -> bool:
    """False for a POST a browser says came from another site (Origin, Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def add_security_headers(response: Response) -> None:
    """The headers every page and asset carries; pages are never cached."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
