"""API keys bound to principals, and the server's authentication gate.

A key is ``pad_<key id>_<secret>``: the key id (16 hex digits) is public and finds the row; the secret
(32 random bytes, URL-safe base64) never leaves the client. The database keeps ``sha256(key)`` only, so a
copy of the database does not hold a usable key; 256 random bits make a slow hash unnecessary. The stored
and computed digests are compared with :func:`hmac.compare_digest` (constant time).

Principals (:class:`Principal`):

- ``user``: acts as one user of one namespace, and only as that user;
- ``tenant``: acts as any user inside its namespace, never outside it;
- ``admin``: acts in every namespace and manages keys.

:class:`AuthGate` is ASGI middleware in front of every route, ``/docs`` and ``/openapi.json`` included:
no valid key, no response other than 401 (``/healthz`` answers liveness only). Failed attempts are
counted per client address in the database (``memory_auth_failures``), so every worker process of a
server counts the same attempts; past ``max_failures`` in ``window_s`` the client gets 429 with
Retry-After until the window has passed, whatever it sends, so keys cannot be guessed at speed. Keys are
looked up in the database on every request (one primary-key read), so a revoked key is refused at once by
every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import Engine, case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from memory import InvalidUserIdError, normalize_user_id
from memory.db import WRITE, shared_connection_lock, with_retries
from memory.schema import ApiKeyRow, AuthFailureRow
from pad_integrations.server.http import APIError

logger = logging.getLogger(__name__)

Role = Literal["user", "tenant", "admin"]
ROLES: tuple[Role, ...] = ("user", "tenant", "admin")

KEY_PREFIX = "pad_"
_KEY_RE = re.compile(r"pad_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# "Bearer" + exactly one space + the credentials (RFC 7235 token68); the scheme is case-insensitive.
_HEADER_RE = re.compile(r"([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) ([A-Za-z0-9._~+/-]+=*)")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AuthError(APIError):
    """A request that is not authenticated (401) or not allowed (403); ``code`` is the OpenAI error code."""

    def __init__(self, status: int, message: str, code: str) -> None:
        kind = "authentication_error" if status == 401 else "permission_error"
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        super().__init__(status, message, type=kind, code=code, headers=headers)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for. ``namespace`` is None for admins, ``user_id`` set for user keys only."""

    role: Role
    key_id: str
    namespace: str | None = None
    user_id: str | None = None

    def describe(self) -> str:
        if self.role == "user":
            return f"user {self.user_id!r} in namespace {self.namespace!r}"
        if self.role == "tenant":
            return f"tenant {self.namespace!r}"
        return "admin"

    def acting_as(self, user: str | None, namespace: str | None, default_namespace: str) -> tuple[str, str | None]:
        """The (namespace, user id) a request may act for, or ``AuthError(403)``.

        ``user``/``namespace`` are what the request names (already normalised; None: not named). A user
        key acts as its own user when none is named; a tenant or admin key then acts for no user.
        """
        if self.role == "admin":
            return namespace or default_namespace, user
        assert self.namespace is not None
        if namespace is not None and namespace != self.namespace:
            raise AuthError(403, f"this key acts in namespace {self.namespace!r} only", "forbidden_namespace")
        if self.role == "tenant":
            return self.namespace, user
        if user is not None and user != self.user_id:
            raise AuthError(403, "this key acts for its own user only", "forbidden_user")
        return self.namespace, self.user_id


# Every request acts as anyone: what `pad serve --no-auth` hands to each request.
NO_AUTH = Principal("admin", key_id="no-auth")

# Which namespace a tenant or admin request acts in (default: the key's, or the server's for an admin).
NAMESPACE_HEADER = "X-PAD-Namespace"


def current_principal(request: Any) -> Principal:
    """The principal :class:`AuthGate` put on the request (401 when there is none: an open path)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthError(401, "Missing API key: send 'Authorization: Bearer <key>'.", "missing_api_key")
    return principal


def checked_id(value: str, what: str, param: str) -> str:
    """``memory.normalize_user_id`` with its refusal as a 400 naming the parameter."""
    try:
        return normalize_user_id(value, what)
    except (InvalidUserIdError, TypeError) as exc:
        raise APIError(400, str(exc), param=param, code="invalid_user_id") from None


def acting_as(request: Any, user: str | None, *, default_namespace: str) -> tuple[str, str | None]:
    """(namespace, user id) the request acts for: the named user and namespace header normalised (400),
    then allowed for the request's key (403)."""
    principal = current_principal(request)
    header = request.headers.get(NAMESPACE_HEADER)
    namespace = None if header is None else checked_id(header, "namespace", NAMESPACE_HEADER)
    uid = None if user is None else checked_id(user, "user", "user")
    return principal.acting_as(uid, namespace, default_namespace)


@dataclass(frozen=True)
class KeyInfo:
    """A stored key without its secret."""

    key_id: str
    role: Role
    namespace: str | None
    user_id: str | None
    note: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "role": self.role,
            "namespace": self.namespace,
            "user": self.user_id,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    def principal(self) -> Principal:
        return Principal(self.role, self.key_id, self.namespace, self.user_id)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def _info(row: Any) -> KeyInfo:
    return KeyInfo(row.key_id, row.role, row.namespace, row.user_id, row.note,
                   _aware(row.created_at), _aware(row.revoked_at))  # type: ignore[arg-type]


class KeyStore:
    """The keys table of a memory database (``memory_api_keys``, created by the memory's migrations).

    Every lookup reads the key's row (a primary-key read), so a revoke takes effect at once on every worker
    process. ``cache_s`` > 0 trades that for fewer reads (a revoked key then keeps working up to
    ``cache_s`` seconds on workers other than the one that revoked it); unknown key ids are never cached.
    """

    def __init__(self, engine: Engine, *, cache_s: float = 0.0, cache_size: int = 4096) -> None:
        self.engine = engine
        self._shared = shared_connection_lock(engine)
        self.cache_s = cache_s
        self._cache: OrderedDict[str, tuple[float, str, KeyInfo]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def create(
        self, role: Role, *, namespace: str | None = None, user_id: str | None = None, note: str | None = None
    ) -> tuple[str, KeyInfo]:
        """A new key for ``role``: returns (the key, shown once and never stored, its info)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if role == "admin":
            if namespace is not None or user_id is not None:
                raise ValueError("an admin key has no namespace or user")
        else:
            if namespace is None:
                raise ValueError(f"a {role} key needs a namespace")
            namespace = normalize_user_id(namespace, "namespace")
            if role == "user":
                if user_id is None:
                    raise ValueError("a user key needs a user id")
                user_id = normalize_user_id(user_id)
            elif user_id is not None:
                raise ValueError("a tenant key has no user id")
        if note is not None and len(note) > 200:
            raise ValueError("a key's note is at most 200 characters")
        key_id = secrets.token_hex(8)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(timezone.utc)
        with self._shared, self.engine.begin() as conn:
            conn.execute(insert(ApiKeyRow).values(
                key_id=key_id, secret_hash=digest(key), role=role, namespace=namespace, user_id=user_id,
                note=note, created_at=now, revoked_at=None,
            ))
        return key, KeyInfo(key_id, role, namespace, user_id, note, now, None)

    def list(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        if not include_revoked:
            query = query.where(ApiKeyRow.revoked_at.is_(None))
        with self._shared, self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def get(self, key_id: str) -> KeyInfo | None:
        with self._shared, self.engine.connect() as conn:
            row = conn.execute(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
        return None if row is None else _info(row)

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by its id (the ``pad_<id>_`` part, or the whole key). False if none was active."""
        match = _KEY_RE.fullmatch(key_id)
        key_id = match.group(1) if match else key_id.removeprefix(KEY_PREFIX).rstrip("_")
        with self._shared, self.engine.begin() as conn:
            done = conn.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(timezone.utc))
            ).rowcount
        with self._lock:
            self._cache.pop(key_id, None)
        return bool(done)

    def count_active(self) -> int:
        return len(self.list())

    def authenticate(self, key: str) -> Principal | None:
        """The key's principal, or None for a malformed, unknown, wrong or revoked key (constant-time compare)."""
        match = _KEY_RE.fullmatch(key)
        if match is None:
            return None
        key_id = match.group(1)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is None or now - cached[0] >= self.cache_s:
            with self._shared, self.engine.connect() as conn:
                row = conn.execute(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if row is None:
                return None
            cached = (now, row.secret_hash, _info(row))
            if self.cache_s <= 0:
                return _checked(key, cached)
            with self._lock:
                self._cache[key_id] = cached
                self._cache.move_to_end(key_id)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return _checked(key, cached)


def _checked(key: str, cached: tuple[float, str, KeyInfo]) -> Principal | None:
    _, stored, info = cached
    if not hmac.compare_digest(stored.encode("ascii"), digest(key).encode("ascii")) or not info.active:
        return None
    return info.principal()


def parse_authorization(values: list[str]) -> str | None:
    """The key from ``Authorization`` header values: None when absent, ``AuthError(401)`` when malformed."""
    if not values:
        return None
    if len(values) > 1:
        raise AuthError(401, "Malformed Authorization: send exactly one 'Authorization: Bearer <key>' header.",
                        "malformed_authorization")
    match = _HEADER_RE.fullmatch(values[0])
    if match is None:
        raise AuthError(
            401,
            "Malformed Authorization header: expected 'Bearer <key>' (the scheme, one space, the key).",
            "malformed_authorization",
        )
    if match.group(1).lower() != "bearer":
        raise AuthError(401, f"Unsupported authorization scheme {match.group(1)!r}: use 'Bearer <key>'.",
                        "malformed_authorization")
    return match.group(2)


class FailureLimiter:
    """Failed authentication attempts per client address, in a fixed window that starts at a client's
    first failure (bounded memory).

    Without ``engine`` the counts live in this process (one worker). With ``engine`` (what
    :class:`AuthGate` binds it to: the key table's database) they live in ``memory_auth_failures``, one row
    per client, updated by one atomic upsert per failure, so every worker process of a server, on SQLite
    or PostgreSQL, counts the same attempts. Times are wall-clock seconds (``time.time``): the processes
    share no monotonic clock.
    """

    def __init__(
        self, max_failures: int = 20, window_s: float = 60.0, max_clients: int = 10_000,
        *, engine: Engine | None = None,
    ) -> None:
        if max_failures < 1 or window_s <= 0:
            raise ValueError("max_failures must be >= 1 and window_s > 0")
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self.engine = engine
        self._shared = shared_connection_lock(engine) if engine is not None else nullcontext()
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def bound(self, engine: Engine) -> FailureLimiter:
        """The same limits, counted in ``engine``'s database."""
        return FailureLimiter(self.max_failures, self.window_s, self.max_clients, engine=engine)

    def _window(self, client: str) -> tuple[float, int] | None:
        if self.engine is None:
            with self._lock:
                return self._failures.get(client)
        with self._shared, self.engine.connect() as conn:
            row = conn.execute(
                select(AuthFailureRow.window_start, AuthFailureRow.failures).where(AuthFailureRow.client == client)
            ).first()
        return None if row is None else (float(row[0]), int(row[1]))

    def blocked_for(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try again (0: not blocked)."""
        now = time.time() if now is None else now
        window = self._window(client[:64])
        if window is None or window[1] < self.max_failures:
            return 0.0
        return max(0.0, self.window_s - (now - window[0]))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        client = client[:64]
        if self.engine is None:
            with self._lock:
                start, count = self._failures.get(client, (now, 0))
                self._failures[client] = (now, 1) if now - start > self.window_s else (start, count + 1)
                self._failures.move_to_end(client)
                while len(self._failures) > self.max_clients:
                    self._failures.popitem(last=False)
            return
        with_retries(lambda: self._record(client, now), what="counting a failed authentication")

    def _record(self, client: str, now: float) -> None:
        assert self.engine is not None
        row = AuthFailureRow
        expired = row.window_start < now - self.window_s
        dialect = self.engine.dialect.name
        insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert_(row).values(client=client, window_start=now, failures=1)
        # One atomic statement whatever the number of workers failing at once: a new window after the
        # old one has passed, else one more failure in it (SET reads the row's values before the update).
        stmt = stmt.on_conflict_do_update(
            index_elements=[row.client],
            set_={
                "window_start": case((expired, now), else_=row.window_start),
                "failures": case((expired, 1), else_=row.failures + 1),
            },
        )
        with self._shared, self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(stmt)
            # Clients whose window has passed are forgotten: the table holds recent failures only.
            conn.execute(delete(row).where(expired))


# Answered without a key: liveness only.
OPEN_PATHS = frozenset({"/healthz"})


def _json_response(status: int, message: str, *, type: str, code: str, headers: dict[str, str]) -> tuple[bytes, list]:
    body = json.dumps({"error": {"message": message, "type": type, "param": None, "code": code}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return body, raw


class AuthGate:
    """ASGI middleware: authenticates every HTTP request before any route, docs or 404 page runs.

    The principal goes into ``scope["state"]["principal"]`` (``request.state.principal``); on an open path
    (``/healthz``) a request without a key gets ``None`` and the route answers liveness only.
    ``keys=None`` is the no-auth mode: every request is :data:`NO_AUTH`.
    """

    def __init__(self, app: ASGIApp, keys: KeyStore | None, limiter: FailureLimiter | None = None) -> None:
        self.app = app
        self.keys = keys
        limiter = limiter or FailureLimiter()
        if keys is not None and limiter.engine is None:
            limiter = limiter.bound(keys.engine)  # counted where every worker counts
        self.limiter = limiter

    async def _send_error(self, send: Send, status: int, message: str, code: str, headers: dict[str, str]) -> None:
        kind = "rate_limit_error" if status == 429 else "authentication_error"
        body, raw = _json_response(status, message, type=kind, code=code, headers=headers)
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.keys is not None:
            await send({"type": "websocket.close", "code": 1008})  # no websocket routes; none unauthenticated
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.keys is None:
            state["principal"] = NO_AUTH
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("unknown", 0))[0])
        wait = await asyncio.to_thread(self.limiter.blocked_for, client)
        if wait > 0:
            await self._send_error(
                send, 429, "Too many failed authentication attempts from this address; try again later.",
                "too_many_auth_failures", {"Retry-After": str(int(wait) + 1)},
            )
            return
        values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"]
        try:
            key = parse_authorization(values)
            principal = None
            if key is not None:
                principal = await asyncio.to_thread(self.keys.authenticate, key)
                if principal is None:
                    raise AuthError(401, "Invalid API key (unknown, revoked or mistyped).", "invalid_api_key")
            elif scope.get("path") not in OPEN_PATHS:
                raise AuthError(401, "Missing API key: send 'Authorization: Bearer <key>' "
                                "(create one with `pad keys create`).", "missing_api_key")
        except AuthError as exc:
            if exc.code != "missing_api_key":
                await asyncio.to_thread(self.limiter.failed, client)
            await self._send_error(send, exc.status, exc.message, exc.code or "unauthorized", {"WWW-Authenticate": "Bearer"})
            return
        state["principal"] = principal
        await self.app(scope, receive, send)
