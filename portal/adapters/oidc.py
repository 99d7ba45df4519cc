"""Identity-provider bearer tokens (OIDC access or ID tokens, JWTs) verified with PyJWT.

Only the configured issuer's keys (its JWKS, fetched and cached by PyJWKClient), only the
configured asymmetric algorithms (never `none`, never HMAC, so a public key can not be used
as a shared secret), the configured audience, and exp/iat/nbf with a small leeway.
"""

from __future__ import annotations

from typing import Any

import jwt

from portal.domain.access import IdentityClaims
from portal.domain.errors import InvalidIdentityToken

ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})


class OidcVerifier:
    """Verifies bearer JWTs against one issuer's published keys."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        algorithms: tuple[str, ...] = ("RS256", "ES256"),
        leeway_seconds: float = 30.0,
    ) -> None:
        unsafe = sorted(set(algorithms) - ALLOWED_ALGORITHMS)
        if unsafe or not algorithms:
            raise ValueError(f"unsupported or unsafe JWT algorithms: {unsafe or 'none given'}")
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.leeway = leeway_seconds
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)

    def verify(self, token: str) -> IdentityClaims:
        """The claims of a valid token; InvalidIdentityToken saying why otherwise."""
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientError as exc:
            raise InvalidIdentityToken(f"signing key not found: {exc}") from exc
        except jwt.PyJWTError as exc:
            raise InvalidIdentityToken(str(exc)) from exc
        return IdentityClaims(
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=claims.get("email_verified") is True,
        )
