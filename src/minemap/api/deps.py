"""What every request handler needs: the application state, the store, the caller.

The store is opened once per worker thread (a SQLite connection, like a
rasterio dataset, belongs to the thread that opened it) and closed when the
application stops.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

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
    max_features: int = 10_000
    cache_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="minemap-web-")))
    user_limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(5, 60.0))
    address_limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(30, 60.0))
    # bumped by every write through the API, so cached answers are dropped
    generation: int = 0
    _local: threading.local = field(default_factory=threading.local)
    _opened: list[Store] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> TokenIssuer:
        return TokenIssuer(self.secret, self.token_ttl)

    def store(self) -> Store:
        """This thread's store connection."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.db_url)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def touch(self) -> None:
        """Note that records changed."""
        with self._lock:
            self.generation += 1

    def close(self) -> None:
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
        self._local = threading.local()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.minemap
    return state


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    return state.store()


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def get_principal(
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


def require(action: str) -> Callable[[Principal], Principal]:
    """A dependency admitting callers allowed ``action``: 401 with no token, 403 beyond the role."""

    def dependency(user: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if user.may(action):
            return user
        if not user.authenticated:
            raise unauthorized(f"log in to {action}")
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"role {user.role!r} may not {action}"
        )

    return dependency


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Principal, Depends(get_principal)]
