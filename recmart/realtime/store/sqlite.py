"""The local recommendation store: one SQLite file in WAL mode (readers never wait for writers).

The tables mirror the DynamoDB ones (see `dynamodb_tables.py`), so both stores behave
alike under the contract tests.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from recmart.realtime.history import UserHistory
from recmart.realtime.jsontext import dumps, loads
from recmart.realtime.store import snapshot as snap
from recmart.realtime.store.base import (
    ITEMS,
    HistoryConflict,
    ItemInfo,
    LoadInProgress,
    RecommendationStore,
    Snapshot,
    StoreError,
    TrendingEntry,
    recommendations_order,
)

DEFAULT_PATH = "./.recmart/recommendations.sqlite"
LOAD_LEASE_SECONDS = 3600
_CHUNK = 500  # keys per IN (...) query, below SQLite's variable limit
_WRITE_BATCH = 1000  # rows per transaction of a snapshot load: short write locks

# Ordinary rowid tables, not WITHOUT ROWID: rows here are kilobytes of JSON, and SQLite
# advises WITHOUT ROWID only for small rows.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (meta_key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    product_id TEXT PRIMARY KEY, g1 INTEGER NOT NULL, d1 TEXT, g0 INTEGER, d0 TEXT);
CREATE TABLE IF NOT EXISTS trending (
    scope TEXT PRIMARY KEY, g1 INTEGER NOT NULL, d1 TEXT, g0 INTEGER, d0 TEXT);
CREATE TABLE IF NOT EXISTS recent_history (
    user_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, events TEXT NOT NULL,
    purchases TEXT NOT NULL, ttl INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS recommendations (
    user_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL, ttl INTEGER NOT NULL, item TEXT NOT NULL,
    history_revision INTEGER NOT NULL DEFAULT 0, snapshot_generation INTEGER NOT NULL DEFAULT 0);
"""
# Columns added since the first schema: files written before them get them (default 0) on open.
_ADDED_COLUMNS = {"recommendations": ("history_revision", "snapshot_generation")}
_SLOT_TABLES = {ITEMS: ("items", "product_id"), "trending": ("trending", "scope")}


class SqliteStore(RecommendationStore):
    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads (the web server), serialised by a lock: SQLite
        # serialises writers anyway, and reads take microseconds.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        self._db.executescript(_SCHEMA)
        self._add_columns()
        # One cursor for the per-click statements: Connection.execute would make (and
        # register, by weak reference) a new cursor for every statement.
        self._cursor = self._db.cursor()

    def _add_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column not in have:
                    try:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
                    except sqlite3.OperationalError as exc:  # another process added it first
                        if "duplicate column" not in str(exc):
                            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, fn):
        """Run `fn(db)` in one transaction; lock timeouts become StoreError (retry later)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                raise StoreError(f"sqlite {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def write_batch(self):
        # The lock keeps other threads' statements out of this transaction.
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"sqlite {self.path}: {exc}") from exc
            try:
                yield self
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            if not self._db.in_transaction:  # SQLite rolled it back itself after an I/O error
                raise StoreError(f"sqlite {self.path}: the batch's transaction was rolled back")
            try:
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"sqlite {self.path}: commit failed: {exc}") from exc

    def _write(self, sql: str, params: Sequence) -> int:
        """One statement (committed by itself, outside a write batch); the rows it changed."""
        with self._lock:
            try:
                return self._cursor.execute(sql, params).rowcount
            except sqlite3.OperationalError as exc:
                raise StoreError(f"sqlite {self.path}: {exc}") from exc

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._cursor.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise StoreError(f"sqlite {self.path}: {exc}") from exc

    def _query_keys(self, sql: str, keys: list[str], *extra) -> list[tuple]:
        rows = []
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            rows += self._query(sql.format(marks=",".join("?" * len(chunk))), (*chunk, *extra))
        return rows

    # ---- snapshot ---------------------------------------------------------------------------
    def current_snapshot(self) -> Snapshot | None:
        rows = self._query("SELECT value FROM store_meta WHERE meta_key = 'current'")
        return Snapshot(**json.loads(rows[0][0])) if rows else None

    def get_items(self, product_ids: Iterable[str], snapshot: Snapshot) -> dict[str, ItemInfo]:
        keys = sorted(set(product_ids))
        found = {}
        for pid, g1, d1, g0, d0 in self._query_keys(
            "SELECT product_id, g1, d1, g0, d0 FROM items WHERE product_id IN ({marks})", keys
        ):
            doc = snap.visible(snap.Slots(g1, d1, g0, d0), snapshot.generation)
            if doc is not None:
                neighbours, name, category, sources, blend = snap.parse_item_document(doc)
                found[pid] = ItemInfo(pid, name, category, neighbours, sources, blend)
        return found

    def get_trending(self, scopes: Iterable[str], snapshot: Snapshot) -> dict[str, tuple[TrendingEntry, ...]]:
        found = {}
        for scope, g1, d1, g0, d0 in self._query_keys(
            "SELECT scope, g1, d1, g0, d0 FROM trending WHERE scope IN ({marks})", sorted(set(scopes))
        ):
            doc = snap.visible(snap.Slots(g1, d1, g0, d0), snapshot.generation)
            if doc is not None:
                found[scope] = snap.parse_trending_document(doc)
        return found

    def _read_all_slots(self, kind: str) -> dict[str, snap.Slots]:
        table, key = _SLOT_TABLES[kind]
        return {k: snap.Slots(g1, d1, g0, d0) for k, g1, d1, g0, d0 in self._query(f"SELECT {key}, g1, d1, g0, d0 FROM {table}")}

    def _write_slots(self, kind: str, puts: Mapping[str, snap.Slots], deletes: Sequence[str]) -> None:
        table, key = _SLOT_TABLES[kind]
        rows = [(k, s.g1, s.d1, s.g0, s.d0) for k, s in puts.items()]
        for i in range(0, len(rows), _WRITE_BATCH):
            batch = rows[i : i + _WRITE_BATCH]
            self._run(lambda db, batch=batch: db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?)", batch))
        for i in range(0, len(deletes), _WRITE_BATCH):
            doomed = [(k,) for k in deletes[i : i + _WRITE_BATCH]]
            self._run(lambda db, doomed=doomed: db.executemany(f"DELETE FROM {table} WHERE {key} = ?", doomed))

    def _switch_snapshot(self, expected: Snapshot | None, new: Snapshot) -> None:
        def switch(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT value FROM store_meta WHERE meta_key = 'current'").fetchone()
            stored = Snapshot(**json.loads(row[0])) if row else None
            if stored != expected:
                raise StoreError(f"the current snapshot changed during the load: {stored} != {expected}")
            db.execute("INSERT OR REPLACE INTO store_meta VALUES ('current', ?)", (json.dumps(new.__dict__),))

        self._run(switch)

    def _acquire_load_lock(self, owner: str) -> None:
        def acquire(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT value FROM store_meta WHERE meta_key = 'load_lock'").fetchone()
            if row and json.loads(row[0])["expires"] > time.time():
                raise LoadInProgress(f"another snapshot load holds the lock in {self.path}: {row[0]}")
            lock = {"owner": owner, "expires": time.time() + LOAD_LEASE_SECONDS}
            db.execute("INSERT OR REPLACE INTO store_meta VALUES ('load_lock', ?)", (json.dumps(lock),))

        self._run(acquire)

    def _release_load_lock(self, owner: str) -> None:
        self._run(lambda db: db.execute(
            "DELETE FROM store_meta WHERE meta_key = 'load_lock' AND json_extract(value, '$.owner') = ?", (owner,)))

    # ---- history ----------------------------------------------------------------------------
    def get_histories(self, user_ids: Iterable[str]) -> dict[str, UserHistory]:
        keys = list(dict.fromkeys(user_ids))
        rows = self._query_keys(
            "SELECT user_id, revision, events, purchases FROM recent_history WHERE user_id IN ({marks})", keys)
        stored = {uid: UserHistory.from_json(uid, events, purchases, revision)
                  for uid, revision, events, purchases in rows}
        return {uid: stored.get(uid) or UserHistory(uid) for uid in keys}  # in the order asked

    def save_history(self, history: UserHistory, ttl: int) -> UserHistory:
        new_revision = history.revision + 1
        row = (history.user_id, new_revision, history.events_json(), history.purchases_json(), ttl)
        # One statement is one transaction (autocommit): the revision check and the write are atomic.
        if history.revision == 0:
            done = self._write("INSERT OR IGNORE INTO recent_history VALUES (?, ?, ?, ?, ?)", row)
        else:
            done = self._write(
                "UPDATE recent_history SET revision = ?, events = ?, purchases = ?, ttl = ? "
                "WHERE user_id = ? AND revision = ?",
                (*row[1:], history.user_id, history.revision),
            )
        if not done:
            raise HistoryConflict(f"history of {history.user_id} changed since revision {history.revision}")
        return UserHistory(history.user_id, history.events, history.purchases, new_revision)

    # ---- recommendations --------------------------------------------------------------------
    def get_recommendations(self, user_id: str) -> dict | None:
        rows = self._query("SELECT item FROM recommendations WHERE user_id = ?", (user_id,))
        return loads(rows[0][0]) if rows else None

    def put_recommendations(self, recommendations: dict) -> bool:
        item = dumps(recommendations)
        updated_at, revision, generation = recommendations_order(recommendations)
        row = (recommendations["user_id"], updated_at, int(recommendations["ttl"]), item, revision, generation)
        # Conditional like DynamoDB's: never replace newer recommendations with older ones,
        # newer being the total order of `recommendations_order` (row values compare in order).
        return bool(self._write(
            "INSERT INTO recommendations (user_id, updated_at, ttl, item, history_revision, snapshot_generation) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "updated_at = excluded.updated_at, ttl = excluded.ttl, item = excluded.item, "
            "history_revision = excluded.history_revision, snapshot_generation = excluded.snapshot_generation "
            "WHERE (excluded.updated_at, excluded.history_revision, excluded.snapshot_generation) "
            ">= (recommendations.updated_at, recommendations.history_revision, recommendations.snapshot_generation)",
            row))

    def purge_expired(self, now_epoch: float | None = None) -> int:
        """Delete what DynamoDB's TTL would have deleted (the local store has no TTL of its own)."""
        now = int(now_epoch if now_epoch is not None else time.time())
        return self._run(lambda db: db.execute("DELETE FROM recommendations WHERE ttl < ?", (now,)).rowcount
                         + db.execute("DELETE FROM recent_history WHERE ttl < ?", (now,)).rowcount)
