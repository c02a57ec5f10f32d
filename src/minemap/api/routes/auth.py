"""Log-in (OAuth2 password flow), the caller's own profile, and user management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from minemap.api.deps import CallerDep, StateDep, StoreDep, require
from minemap.api.models import NewUser
from minemap.api.security import Principal, burn_verify, hash_password, verify_password
from minemap.errors import NotFoundError

router = APIRouter(tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    organisation_id: int | None


class Me(BaseModel):
    name: str | None
    role: str | None
    organisation_id: int | None
    may: list[str]


@router.post(
    "/api/auth/token",
    response_model=Token,
    summary="Log in: exchange a user name and password for a bearer token",
    responses={401: {"description": "wrong name or password"}, 429: {"description": "too many"}},
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    state: StateDep,
    store: StoreDep,
) -> Token:
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{form.username}|{address}",)
    wait = max(state.user_limiter.retry_after(*keys), state.address_limiter.retry_after(address))
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed log-ins; wait and try again",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        row = store.get_user(form.username)
    except NotFoundError:
        row = None
        burn_verify(form.password)
    if row is None or not verify_password(str(row["password_hash"]), form.password):
        state.user_limiter.failed(*keys)
        state.address_limiter.failed(address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    state.user_limiter.succeeded(*keys)
    org = row.get("organisation_id")
    user = Principal(form.username, str(row["role"]), None if org is None else int(org))
    return Token(
        access_token=state.issuer.issue(user),
        expires_in=int(state.token_ttl.total_seconds()),
        role=str(user.role),
        organisation_id=user.organisation_id,
    )


@router.get(
    "/api/auth/me", response_model=Me, summary="Who the token belongs to, and what it may do"
)
def me(user: CallerDep) -> Me:
    from minemap.api.security import PERMISSIONS

    return Me(
        name=user.name,
        role=user.role,
        organisation_id=user.organisation_id,
        may=sorted(a for a in PERMISSIONS if user.may(a)),
    )


class UserCreated(BaseModel):
    id: int
    name: str
    role: str
    organisation_id: int | None


@router.post(
    "/api/users",
    response_model=UserCreated,
    status_code=201,
    summary="Add a user (admin)",
    responses={409: {"description": "name taken"}},
)
def add_user(
    body: NewUser, store: StoreDep, admin: Annotated[Principal, Depends(require("users"))]
) -> UserCreated:
    if body.organisation_id is not None:
        store.get("organisations", body.organisation_id)
    try:
        store.get_user(body.name)
    except NotFoundError:
        pass
    else:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"user {body.name!r} exists")
    new_id = store.add_user(
        body.name,
        role=body.role,
        password_hash=hash_password(body.password),
        organisation_id=body.organisation_id,
    )
    return UserCreated(
        id=new_id, name=body.name, role=body.role, organisation_id=body.organisation_id
    )
