"""Users and their API tokens: who is behind a request.

A token is random, shown once and stored only as its sha256; it belongs to one user, expires
and can be revoked. A user has one role, scoped to an inspection (and agency) where the
role is; disabling a user stops every token of theirs at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.adapters.db.engine import Tables
from portal.adapters.db.repository import _audit
from portal.adapters.db.tables import ApiTokenRow, UserRow
from portal.domain.access import Principal, Role
from portal.domain.identities import DuplicateUser, TokenInfo, User, VerifiedToken


class Identities(Tables):
    """The users and api_tokens tables."""

    # users ---------------------------------------------------------------------------

    def add_user(self, user: User, actor: str) -> User:
        """Record a new user; DuplicateUser if the e-mail or subject is taken."""
        try:
            with self._session() as session, session.begin():
                session.add(
                    UserRow(
                        **user.model_dump(exclude={"role", "inspectorate"}),
                        role=user.role.value,
                        inspectorate=user.inspectorate.value if user.inspectorate else None,
                        created_by=actor,
                    )
                )
                session.flush()
                _audit(
                    session,
                    user.created_at,
                    actor,
                    "user_created",
                    user.inspection_id,
                    detail={"user_id": user.id, "role": user.role.value, "agency": user.agency},
                )
        except IntegrityError as exc:
            raise DuplicateUser(
                "a user with this e-mail address or sign-in subject already exists"
            ) from exc
        return user

    def get_user(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        with self._session() as session:
            row = session.get(UserRow, user_id)
            return User.model_validate(row) if row else None

    def users_of(self, inspection_id: str) -> list[User]:
        """The inspection's users, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(UserRow)
                .where(UserRow.inspection_id == inspection_id)
                .order_by(UserRow.created_at, UserRow.id)
            ).all()
            return [User.model_validate(r) for r in rows]

    def records_officer_emails(self, inspection_id: str) -> list[str]:
        """The email addresses of the enabled records officers who keep this inspection's
        records: its own, and those of every inspection."""
        with self._session() as session:
            return list(
                session.scalars(
                    select(UserRow.email)
                    .where(
                        UserRow.role == Role.records_officer.value,
                        or_(
                            UserRow.inspection_id == inspection_id, UserRow.inspection_id.is_(None)
                        ),
                        UserRow.disabled_at.is_(None),
                        UserRow.email.is_not(None),
                    )
                    .order_by(UserRow.email)
                )
            )

    # tokens --------------------------------------------------------------------------

    def add_token(
        self,
        user: User,
        token_id: str,
        token_sha256: str,
        label: str,
        expires_at: datetime,
        actor: str,
        now: datetime,
    ) -> TokenInfo:
        """Store a token's hash for `user` (never the token itself)."""
        with self._session() as session, session.begin():
            session.add(
                ApiTokenRow(
                    id=token_id,
                    token_sha256=token_sha256,
                    role=user.role.value,
                    inspection_id=user.inspection_id,
                    agency=user.agency,
                    label=label,
                    created_at=now,
                    user_id=user.id,
                    expires_at=expires_at,
                )
            )
            _audit(
                session,
                now,
                actor,
                "token_issued",
                user.inspection_id,
                detail={"token_id": token_id, "user_id": user.id, "role": user.role.value},
            )
        return TokenInfo(
            id=token_id,
            user_id=user.id,
            label=label,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )

    def get_token(self, token_id: str) -> TokenInfo | None:
        """The token with this id (without its secret), or None."""
        with self._session() as session:
            row = session.get(ApiTokenRow, token_id)
            return TokenInfo.model_validate(row) if row else None

    def tokens_of(self, user_id: str) -> list[TokenInfo]:
        """A user's tokens, newest first."""
        with self._session() as session:
            rows = session.scalars(
                select(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id)
                .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id)
            ).all()
            return [TokenInfo.model_validate(r) for r in rows]

    def revoke_token(self, token_id: str, actor: str, now: datetime) -> TokenInfo | None:
        """Revoke a token (revoking twice changes nothing); None if there is no such token."""
        with self._session() as session, session.begin():
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = now
                _audit(
                    session,
                    now,
                    actor,
                    "token_revoked",
                    row.inspection_id,
                    detail={"token_id": token_id, "user_id": row.user_id},
                )
            return TokenInfo.model_validate(row)

    def principal_for_token(self, token_sha256: str, now: datetime) -> Principal | None:
        """The principal of a usable token with this hash, or None if it is unknown,
        revoked or expired, or its user is disabled."""
        verified = self.verified_token(token_sha256, now)
        return None if verified is None else verified.principal

    def verified_token(self, token_sha256: str, now: datetime) -> VerifiedToken | None:
        """The principal of a usable token with this hash and the token's expiry, or None
        if it is unknown, revoked or expired, or its user is disabled."""
        with self._session() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow)
                .outerjoin(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.token_sha256 == token_sha256)
            ).one_or_none()
            if found is None:
                return None
            token, user = found
            info = TokenInfo.model_validate(token)
            if not info.usable(now):
                return None
            if user is None:
                principal = Principal(
                    token_id=token.id,
                    role=Role(token.role),
                    inspection_id=token.inspection_id,
                    agency=token.agency,
                )
            elif user.disabled_at is not None:
                return None
            else:
                principal = User.model_validate(user).principal(token.id)
            return VerifiedToken(principal=principal, expires_at=info.expires_at)

    def principal_for_subject(
        self, subject: str, email: str | None, email_verified: bool
    ) -> Principal | None:
        """The principal of an identity-provider sign-in: the user bound to `subject`, or
        (on a first sign-in) the user with that verified e-mail, who is then bound to it."""
        with self._session() as session, session.begin():
            row = session.scalars(select(UserRow).where(UserRow.oidc_subject == subject)).first()
            if row is None and email and email_verified:
                row = session.scalars(
                    select(UserRow).where(
                        func.lower(UserRow.email) == email.lower(), UserRow.oidc_subject.is_(None)
                    )
                ).first()
                if row is not None:
                    row.oidc_subject = subject
            if row is None or row.disabled_at is not None:
                return None
            return User.model_validate(row).principal("oidc")

    def record_denial(
        self,
        actor: str,
        inspection_id: str | None,
        document_id: str | None,
        detail: dict[str, str],
        now: datetime,
    ) -> None:
        """Audit a request the authorisation gate refused."""
        with self._session() as session, session.begin():
            _audit(session, now, actor, "access_denied", inspection_id, document_id, detail)

    def has_usable_admin_token(self, now: datetime) -> bool:
        """Whether any admin token can still be used."""
        with self._session() as session:
            rows = session.scalars(
                select(ApiTokenRow).where(
                    ApiTokenRow.role == Role.admin.value, ApiTokenRow.revoked_at.is_(None)
                )
            ).all()
            return any(TokenInfo.model_validate(r).usable(now) for r in rows)
