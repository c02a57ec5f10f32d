"""What every request handler needs: the application state, the store, the caller.

One store serves the whole application: both engines keep a pool of
connections and check one out per operation, so threads share it safely.
The dependencies here are ``async`` on purpose: they only look things up,
and FastAPI would otherwise hand each to the thread pool (a thread hop per
dependency per request); the handlers that touch the store stay plain
functions and run in the pool.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from minemap.api.cache import AnswerCache
from minemap.api.security import (
    ANONYMOUS,
    InvalidTokenError,
    LoginLimiter,
    Principal,
    TokenIssuer,
)
from minemap.store import Store, open_store


@dataclass
class AppState:
    """Configuration and shared objects of one running application."""

    db_url: str
    map_dir: Path | None = None
    plan_dir: Path | None = None
    basemap_pmtiles: Path | None = None
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl: dt.timedelta = dt.timedelta(hours=8)
    max_body_bytes: int = 5 * 1024 * 1024
    cache_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="minemap-web-")))
    user_limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(5, 60.0))
    address_limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(30, 60.0))
    # bumped by every write through the API, so cached answers are dropped
    generation: int = 0
    answers: AnswerCache = field(default_factory=AnswerCache)
    _store: Store | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> TokenIssuer:
        return TokenIssuer(self.secret, self.token_ttl)

    def store(self) -> Store:
        """The application's store, opened on first use."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    store = open_store(self.db_url)
                    store.count("hazards")  # reads the store's metadata once, here
                    self._store = store
        return self._store

    def touch(self) -> None:
        """Note that records changed."""
        with self._lock:
            self.generation += 1

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.minemap
    return state


async def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    return state.store()


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def get_principal(
    state: Annotated[AppState, Depends(get_state)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The caller: anonymous without a token; 401 for a bad one (never silently anonymous)."""
    if token is None:
        return ANONYMOUS
    try:
        return state.issuer.verify(token)
    except InvalidTokenError as exc:
        raise unauthorized(str(exc)) from None


def check(user: Principal, action: str) -> Principal:
    """``user`` when allowed ``action``; else 401 without a token, 403 beyond the role."""
    if user.may(action):
        return user
    if not user.authenticated:
        raise unauthorized(f"log in to {action}")
    raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {user.role!r} may not {action}")


def require(action: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers allowed ``action`` (see :func:`check`)."""

    async def dependency(user: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return check(user, action)

    return dependency


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Principal, Depends(get_principal)]
