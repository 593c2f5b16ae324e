"""API keys of ``promptloop serve``, kept in the tracker's database (table ``api_keys``).

A key is a random 32-byte token shown once, when it is made (``pl_`` + url-safe base64).
Only its sha256 is stored, so a copy of the database gives no usable key; a lookup hashes
the presented secret and finds the row by that hash. A sha256 (not a slow password hash) is
enough because the secret is 256 random bits, not something a person chose.

Scopes: ``ingest`` writes decisions and outcomes, ``read`` reads, ``admin`` does both and
more (:func:`allows`). A revoked key stays listed (with its revocation time) and never
authenticates again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tracker.db import read_transaction, write_transaction
from tracker.errors import ValidationError
from tracker.models import ApiKey

KEYS = cast(sa.Table, ApiKey.__table__)
SCOPES = ("ingest", "read", "admin")
SECRET_PREFIX = "pl_"
# which scopes a key of each scope holds
_GRANTS = {"ingest": {"ingest"}, "read": {"read"}, "admin": {"ingest", "read", "admin"}}


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["revoked_at"] = self.revoked_at and self.revoked_at.isoformat()
        return data


def allows(key_scope: str, needed: str) -> bool:
    """Whether a key of ``key_scope`` may do what ``needed`` requires."""
    return needed in _GRANTS.get(key_scope, set())


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyStore:
    """Create, list, revoke and check keys on one tracker database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, scope: str) -> tuple[KeyInfo, str]:
        """A new key and its secret (the only time the secret exists outside the caller)."""
        name = _name(name)
        if scope not in SCOPES:
            raise ValidationError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = {"name": name, "scope": scope, "secret_hash": hash_secret(secret),
               "prefix": secret[:10], "created_at": now, "revoked_at": None}
        try:
            with write_transaction(self.engine) as conn:
                key_id = conn.execute(KEYS.insert().returning(KEYS.c.id), row).scalar_one()
        except IntegrityError:
            raise ValidationError(f"a key named {name!r} already exists") from None
        return KeyInfo(key_id, name, scope, secret[:10], now, None), secret

    def list(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(sa.select(*_INFO_COLUMNS).order_by(KEYS.c.id))
            return [KeyInfo(**row._mapping) for row in rows]

    def revoke(self, name: str) -> KeyInfo:
        """Revoke the key named ``name`` (again: nothing changes); ValidationError if absent."""
        with write_transaction(self.engine) as conn:
            conn.execute(KEYS.update().where(KEYS.c.name == name, KEYS.c.revoked_at.is_(None))
                         .values(revoked_at=datetime.now(UTC)))
            row = conn.execute(sa.select(*_INFO_COLUMNS).where(KEYS.c.name == name)).first()
        if row is None:
            raise ValidationError(f"no key named {name!r}")
        return KeyInfo(**row._mapping)

    def authenticate(self, secret: str) -> KeyInfo | None:
        """The live key whose secret this is, or None (unknown or revoked)."""
        query = sa.select(*_INFO_COLUMNS).where(KEYS.c.secret_hash == hash_secret(secret),
                                                KEYS.c.revoked_at.is_(None))
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).first()
        return None if row is None else KeyInfo(**row._mapping)

    def any_active(self) -> bool:
        """Whether at least one key is not revoked."""
        query = sa.select(KEYS.c.id).where(KEYS.c.revoked_at.is_(None)).limit(1)
        with read_transaction(self.engine) as conn:
            return conn.execute(query).first() is not None


_INFO_COLUMNS = (KEYS.c.id, KEYS.c.name, KEYS.c.scope, KEYS.c.prefix, KEYS.c.created_at,
                 KEYS.c.revoked_at)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationError(f"key name must be 1 to 64 characters, got {value!r}")
    return value.strip()
