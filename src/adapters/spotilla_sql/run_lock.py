"""One run per tenant at a time: a PostgreSQL advisory lock, or a lease row on SQLite."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Connection, CursorResult, Engine, delete, exists, select, text, update
from sqlalchemy.orm import Session

from spotilla_procountor.adapters.spotilla_sql._sql import dialect_insert
from spotilla_procountor.adapters.spotilla_sql.state_models import LockRow

# First half of the two-part advisory lock key ("SPRC"), so our keys do not collide with other apps'.
ADVISORY_NAMESPACE = 0x53505243


class RunLocks(Protocol):
    def acquire(self, organization_id: int, holder: str, ttl_s: float) -> bool: ...

    def renew(self, organization_id: int, holder: str, ttl_s: float) -> bool: ...

    def release(self, organization_id: int, holder: str) -> None: ...

    def guard(self, organization_id: int, holder: str) -> ColumnElement[bool] | None:
        """A condition, true in the database while `holder` still holds the lock; None if it never took it here.

        A claim's statement carries it, so the database itself refuses a claim made after the lock was lost.
        """
        ...


def run_locks_for(engine: Engine, now: Callable[[], datetime]) -> RunLocks:
    if engine.dialect.name == "postgresql":
        return AdvisoryRunLocks(engine)
    return LeaseRunLocks(engine, now)


class AdvisoryRunLocks:
    """`pg_try_advisory_lock` on a connection kept open while the run lasts.

    The lock dies with the connection, so a crashed run never leaves it behind; `ttl_s` is not needed.
    The key is database-wide: two installations sharing one database (in different schemas) share locks.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: dict[int, tuple[str, Connection]] = {}
        self._proofs: dict[tuple[int, str], dict[str, int]] = {}
        self._guard = threading.Lock()

    def acquire(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        with self._guard:
            if organization_id in self._held:
                if self._held[organization_id][0] != holder:
                    return False
                if self._alive(organization_id):
                    return True  # a dead one is forgotten, and the lock is taken afresh below if it is free
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = bool(
                    connection.scalar(text(f"SELECT pg_try_advisory_lock(:ns, {_TENANT_KEY})"), _key(organization_id))
                )
            except Exception:
                connection.close()
                raise
            if not taken:
                connection.close()
                return False
            self._held[organization_id] = (holder, connection)
            self._proofs[(organization_id, holder)] = self._proof(connection, organization_id)
            return True

    @staticmethod
    def _proof(connection: Connection, organization_id: int) -> dict[str, int]:
        """Where the lock shows in `pg_locks`: the backend holding it and the key's two halves."""
        row = connection.execute(
            text(f"SELECT pg_backend_pid() AS pid, (({_TENANT_KEY})::bigint & 4294967295) AS objid"),
            _key(organization_id),
        ).one()
        return {"lock_pid": int(row.pid), "lock_ns": ADVISORY_NAMESPACE, "lock_objid": int(row.objid)}

    def guard(self, organization_id: int, holder: str) -> ColumnElement[bool] | None:
        """True while the backend that took the lock still holds it: a terminated connection fails it at once."""
        with self._guard:
            proof = self._proofs.get((organization_id, holder))
        if proof is None:
            return None
        return text(
            "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = :lock_pid "
            "AND classid::bigint = :lock_ns AND objid::bigint = :lock_objid AND objsubid = 2)"
        ).bindparams(**proof)  # type: ignore[return-value]

    def _alive(self, organization_id: int) -> bool:
        """Whether the connection holding the tenant's lock (and so the lock) still lives; forgets it if not.

        The caller holds `_guard`. A dead one is forgotten, so that this process cannot believe it still holds a
        lock another process has taken since.
        """
        holder, connection = self._held[organization_id]
        try:
            connection.scalar(text("SELECT 1"))
        except Exception:
            self._held.pop(organization_id)
            self._proofs.pop((organization_id, holder), None)
            connection.invalidate()
            return False
        return True

    def renew(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        """True while this holder's connection, and so its lock, is still alive."""
        with self._guard:
            held = self._held.get(organization_id)
            if held is None or held[0] != holder:
                return False
            return self._alive(organization_id)

    def release(self, organization_id: int, holder: str) -> None:
        with self._guard:
            self._proofs.pop((organization_id, holder), None)
            held = self._held.get(organization_id)
            if held is None or held[0] != holder:
                return
            del self._held[organization_id]
        connection = held[1]
        try:
            connection.execute(text(f"SELECT pg_advisory_unlock(:ns, {_TENANT_KEY})"), _key(organization_id))
        except Exception:
            connection.invalidate()  # closing the session is what frees the lock then
            raise
        finally:
            connection.close()


# Advisory locks are database-wide; the key includes the schema so that two installations sharing a
# database (in different schemas) do not hold each other's tenants back.
_TENANT_KEY = "hashtext(current_schema() || ':' || CAST(:org AS text))"


def _key(organization_id: int) -> dict[str, Any]:
    return {"ns": ADVISORY_NAMESPACE, "org": organization_id}


class LeaseRunLocks:
    """A row in `procountor_locks` that expires: taken when absent or expired, renewed while the run goes on."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def acquire(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        now = self._now()
        insert = dialect_insert(self._engine.dialect.name, LockRow).values(
            name=_lock_name(organization_id), holder=holder, expires_at=now + timedelta(seconds=ttl_s)
        )
        with Session(self._engine) as session:
            current = session.scalar(select(LockRow.holder).where(LockRow.name == _lock_name(organization_id)))
        # A process killed on this host cannot renew or release its lease; waiting for it to expire would
        # hold the tenant back for the whole TTL, so it is taken over (still atomically, by its holder).
        dead = current if current is not None and current != holder and _dead_here(current) else None
        take_over = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
            where=(LockRow.expires_at < now) | (LockRow.holder == holder) | (LockRow.holder == dead),
        ).returning(LockRow.holder)  # a row comes back only when inserted or taken over (rowcount is unreliable)
        with Session(self._engine) as session, session.begin():
            return session.execute(take_over).first() is not None

    def renew(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        stmt = (
            update(LockRow)
            .where(LockRow.name == _lock_name(organization_id), LockRow.holder == holder)
            .values(expires_at=self._now() + timedelta(seconds=ttl_s))
        )
        with Session(self._engine) as session, session.begin():
            return cast(CursorResult[Any], session.execute(stmt)).rowcount == 1

    def guard(self, organization_id: int, holder: str) -> ColumnElement[bool] | None:
        """True while `holder`'s lease is unexpired."""
        return exists().where(
            LockRow.name == _lock_name(organization_id), LockRow.holder == holder, LockRow.expires_at > self._now()
        )

    def release(self, organization_id: int, holder: str) -> None:
        stmt = delete(LockRow).where(LockRow.name == _lock_name(organization_id), LockRow.holder == holder)
        with Session(self._engine) as session, session.begin():
            session.execute(stmt)


def holder_id() -> str:
    """Who holds a lock: `host:pid:thread`, so a lease left by a dead process on this host can be taken over."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _dead_here(holder: str) -> bool:
    """True when `holder` names a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _lock_name(organization_id: int) -> str:
    return f"run:{organization_id}"
