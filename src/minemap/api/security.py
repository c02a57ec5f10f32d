"""Users and access: password hashing, bearer tokens, roles and the login rate limit.

Roles (``records.schema.ROLES``) and what each may do:

===========  ====================================================================
role         may
===========  ====================================================================
(no token)   read records (without personal data), maps, tiles, plans, dashboards
viewer       the same, plus downloads
editor       create records for its own organisation; change, delete and submit
             only its own organisation's records; see personal data of its own
             organisation's victims (it recorded them)
analyst      read, downloads and the audit trail
approver     approve or reject submitted records; personal data; audit
admin        everything, including user management
===========  ====================================================================

Passwords are hashed with argon2 (argon2-cffi); tokens are HS256 JWTs
(PyJWT) naming the user, role and organisation, and they expire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from minemap.errors import ConfigError
from minemap.records.schema import ROLES

_hasher = PasswordHasher()

# Actions and the roles allowed them; ``None`` stands for a caller with no token.
PERMISSIONS: dict[str, frozenset[str | None]] = {
    "read": frozenset({None, *ROLES}),
    "download": frozenset(ROLES),
    "audit": frozenset({"analyst", "approver", "admin"}),
    "write": frozenset({"editor", "admin"}),
    "submit": frozenset({"editor", "admin"}),
    "approve": frozenset({"approver", "admin"}),
    "personal": frozenset({"approver", "admin"}),
    "users": frozenset({"admin"}),
}
# Roles bound to their own organisation's records when they write.
ORGANISATION_BOUND = frozenset({"editor"})

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user from a verified token, or the anonymous public."""

    name: str | None
    role: str | None
    organisation_id: int | None

    @property
    def authenticated(self) -> bool:
        return self.name is not None

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    def may_see_personal(self, organisation_id: int | None) -> bool:
        """Whether this caller sees personal fields of a record owned by ``organisation_id``."""
        if self.may("personal"):
            return True
        return (
            self.role in ORGANISATION_BOUND
            and self.organisation_id is not None
            and self.organisation_id == organisation_id
        )

    def owns(self, organisation_id: int | None) -> bool:
        """Whether this caller may change a record owned by ``organisation_id``."""
        if self.role not in ORGANISATION_BOUND:
            return True
        return self.organisation_id is not None and self.organisation_id == organisation_id


ANONYMOUS = Principal(None, None, None)


# --- passwords --------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; refuses passwords too short to be worth hashing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise ConfigError(msg)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so that the answer
# takes as long as for a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def burn_verify(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


# --- tokens -------------------------------------------------------------------------------


class InvalidTokenError(Exception):
    """The bearer token is malformed, forged or expired."""


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    ttl: dt.timedelta = dt.timedelta(hours=8)
    algorithm: str = "HS256"

    @property
    def key(self) -> str:
        # a fixed-length key from any secret (HS256 wants at least 32 bytes)
        return hashlib.sha256(self.secret.encode()).hexdigest()

    def issue(self, user: Principal) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": user.name,
            "role": user.role,
            "org": user.organisation_id,
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self.key, algorithm=self.algorithm)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                options={"require": ["sub", "exp", "role"]},
            )
        except jwt.ExpiredSignatureError:
            msg = "token expired; log in again"
            raise InvalidTokenError(msg) from None
        except jwt.PyJWTError:
            msg = "invalid token"
            raise InvalidTokenError(msg) from None
        role = claims.get("role")
        org = claims.get("org")
        if role not in ROLES or not isinstance(claims["sub"], str):
            raise InvalidTokenError("invalid token")
        if org is not None and not isinstance(org, int):
            raise InvalidTokenError("invalid token")
        return Principal(claims["sub"], role, org)


# --- login rate limit -------------------------------------------------------------------------


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window.

    After ``max_failures`` failures within ``window`` seconds the key is
    refused until the oldest failure leaves the window; a success clears it.
    The count lives in the process: with ``--workers N`` a guesser gets at
    most N times the limit, still a few guesses a minute against argon2.
    """

    def __init__(self, max_failures: int = 5, window: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before another attempt (0 when allowed)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window - (now - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            # keep memory bounded under a flood of distinct names
            if len(self._failures) > 10_000:
                for k in [k for k, q in self._failures.items() if not q]:
                    del self._failures[k]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
