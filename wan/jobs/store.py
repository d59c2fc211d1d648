"""The job table in sqlite: shared by every process of one install (WebUI, `serve`, the CLI).

WAL mode lets a CLI render and a WebUI read and write the same file at once. Each thread gets
its own connection. A job is owned by the process that runs it (`owner_pid`, refreshed
`heartbeat`); claiming is one conditional UPDATE, so two processes never run the same job.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from wan.errors import WanError
from wan.jobs.record import Job
from wan.jobs.status import (
    ACCEPTED,
    CANCELLED,
    DONE,
    FAILED,
    INTERRUPTED,
    PREPARING,
    QUEUED,
    SUCCEEDED,
)

SCHEMA_VERSION = 1
ORPHAN_SECONDS = 60.0  # a running job whose heartbeat is older belongs to no live worker

_JOB_COLUMNS = tuple(f.name for f in fields(Job))
_JSON_COLUMNS = ("settings", "options", "warnings")
_BOOL_COLUMNS = ("resume", "cancel_requested")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    step_phase TEXT NOT NULL DEFAULT '',
    phase_progress REAL NOT NULL DEFAULT 0,
    clip INTEGER NOT NULL DEFAULT 0,
    clips INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    settings TEXT NOT NULL,
    options TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    run_dir TEXT,
    video TEXT,
    error TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 1,
    resume INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    queued REAL NOT NULL,
    owner_pid INTEGER,
    heartbeat REAL
);
CREATE INDEX IF NOT EXISTS jobs_waiting ON jobs (status, phase, queued);
"""


class JobStore:
    """Rows in, `Job`s out; every write is one statement (autocommit)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn().executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise WanError(
                f"job database {self.path}: cannot be opened ({exc}); check that its folder is "
                "writable, or set WAN_DATA_DIR to a writable folder"
            ) from None
        self._conn().execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self.path), timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # -- reading -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def list(self, limit: int) -> list[Job]:
        rows = self._conn().execute(
            "SELECT * FROM jobs ORDER BY created DESC, rowid DESC LIMIT ?", (max(int(limit), 0),)
        )
        return [_job(row) for row in rows]

    def stopped(self, run_dir: str | None, limit: int = 200) -> list[Job]:
        """FAILED, CANCELLED or INTERRUPTED jobs with this run folder (None: any or none), newest
        first."""
        where = "status IN (?, ?, ?)" + ("" if run_dir is None else " AND run_dir = ?")
        params: tuple = (FAILED, CANCELLED, INTERRUPTED)
        if run_dir is not None:
            params += (run_dir,)
        rows = self._conn().execute(
            f"SELECT * FROM jobs WHERE {where} ORDER BY created DESC, rowid DESC LIMIT ?",
            (*params, int(limit)),
        )
        return [_job(row) for row in rows]

    def finish_interrupted(self, run_dir: str, by_job: str, video: str, now: float) -> list[str]:
        """INTERRUPTED jobs of a run folder that job `by_job` has just finished: SUCCEEDED too,
        with its video, so no row is left asking to be resumed. Their ids."""
        rows = (
            self._conn()
            .execute(
                "SELECT id, warnings FROM jobs WHERE run_dir = ? AND status = ? AND id != ?",
                (run_dir, INTERRUPTED, by_job),
            )
            .fetchall()
        )
        done = []
        for row in rows:
            note = f"its run folder was finished by job {by_job}"
            warnings = [*json.loads(row["warnings"]), note]
            cursor = self._conn().execute(
                "UPDATE jobs SET status = ?, phase = ?, finished = ?, video = ?, error = NULL, "
                "phase_progress = 1.0, warnings = ? WHERE id = ? AND status = ?",
                (SUCCEEDED, DONE, now, video, json.dumps(warnings), row["id"], INTERRUPTED),
            )
            if cursor.rowcount == 1:
                done.append(row["id"])
        return done

    def owner(self, job_id: str) -> int | None:
        row = self._conn().execute("SELECT owner_pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row["owner_pid"]

    def cancel_requested(self, job_id: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
            .fetchone()
        )
        return bool(row and row["cancel_requested"])

    # -- writing -----------------------------------------------------------------------------

    def insert(self, job: Job, queued: float, owner_pid: int | None = None) -> None:
        values = _encode(_row_values(job))
        values.update(queued=queued, owner_pid=owner_pid, heartbeat=queued if owner_pid else None)
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self._conn().execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", tuple(values.values()))

    def update(self, job_id: str, **values: Any) -> None:
        if not values:
            return
        values = _encode(values)
        assignments = ", ".join(f"{name} = ?" for name in values)
        self._conn().execute(
            f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id)
        )

    def claim_next(self, pid: int, now: float) -> str | None:
        """The oldest waiting job, now owned by `pid`; None when nothing waits."""
        while True:
            row = (
                self._conn()
                .execute(
                    "SELECT id FROM jobs WHERE status = ? AND phase = ? AND owner_pid IS NULL "
                    "ORDER BY queued, rowid LIMIT 1",
                    (ACCEPTED, QUEUED),
                )
                .fetchone()
            )
            if row is None:
                return None
            if self.claim(row["id"], pid, now):
                return row["id"]

    def claim(self, job_id: str, pid: int, now: float) -> bool:
        """Take a waiting job for `pid`; False if another process was first."""
        return self._change_waiting(job_id, phase=PREPARING, owner_pid=pid, heartbeat=now)

    def cancel_waiting(self, job_id: str, status: str, now: float) -> bool:
        """End a job no process has picked up yet; False if it is already running."""
        return self._change_waiting(
            job_id, status=status, phase=DONE, finished=now, cancel_requested=1
        )

    def _change_waiting(self, job_id: str, **values: Any) -> bool:
        """One atomic UPDATE of a job only while it still waits unclaimed in the queue."""
        assignments = ", ".join(f"{name} = ?" for name in values)
        cursor = self._conn().execute(
            f"UPDATE jobs SET {assignments} "
            "WHERE id = ? AND status = ? AND phase = ? AND owner_pid IS NULL",
            (*values.values(), job_id, ACCEPTED, QUEUED),
        )
        return cursor.rowcount == 1

    def finish_unless_cancelled(self, job_id: str, **values: Any) -> bool:
        """Record the end of a running job unless a cancel was asked for first: one atomic
        UPDATE, so a cancel accepted (request_cancel) is never lost to a job ending beside it."""
        values = _encode(values)
        assignments = ", ".join(f"{name} = ?" for name in values)
        cursor = self._conn().execute(
            f"UPDATE jobs SET {assignments} WHERE id = ? AND status = ? AND cancel_requested = 0",
            (*values.values(), job_id, ACCEPTED),
        )
        return cursor.rowcount == 1

    def request_cancel(self, job_id: str) -> bool:
        cursor = self._conn().execute(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = ?", (job_id, ACCEPTED)
        )
        return cursor.rowcount == 1

    def requeue(self, job_id: str, from_statuses: Iterable[str], now: float, **values: Any) -> bool:
        """Back to the end of the queue (retry, resume) if it is still in one of the statuses."""
        statuses = tuple(from_statuses)
        reset = {
            "status": ACCEPTED,
            "phase": QUEUED,
            "step_phase": "",
            "phase_progress": 0.0,
            "clip": 0,
            "clips": 0,
            "step": 0,
            "steps": 0,
            "started": None,
            "finished": None,
            "video": None,
            "error": None,
            "warnings": (),
            "cancel_requested": False,
            "queued": now,
            "owner_pid": None,
            "heartbeat": None,
            **values,
        }
        reset = _encode(reset)
        assignments = ", ".join(f"{name} = ?" for name in reset)
        marks = ", ".join("?" for _ in statuses)
        cursor = self._conn().execute(
            f"UPDATE jobs SET {assignments}, attempts = attempts + 1 "
            f"WHERE id = ? AND status IN ({marks})",
            (*reset.values(), job_id, *statuses),
        )
        return cursor.rowcount == 1

    def beat(self, job_id: str, pid: int, now: float) -> None:
        self._conn().execute(
            "UPDATE jobs SET heartbeat = ? WHERE id = ? AND owner_pid = ? AND status = ?",
            (now, job_id, pid, ACCEPTED),
        )

    def interrupt_orphans(self, now: float, alive: Callable[[int], bool]) -> list[str]:
        """Running jobs whose process is gone (or silent for a minute) become INTERRUPTED."""
        rows = (
            self._conn()
            .execute(
                "SELECT id, owner_pid, heartbeat FROM jobs WHERE status = ? "
                "AND (phase != ? OR owner_pid IS NOT NULL)",
                (ACCEPTED, QUEUED),
            )
            .fetchall()
        )
        orphans = []
        for row in rows:
            pid, beat = row["owner_pid"], row["heartbeat"] or 0.0
            if pid is not None and alive(pid) and now - beat <= ORPHAN_SECONDS:
                continue
            cursor = self._conn().execute(
                "UPDATE jobs SET status = ?, phase = ?, finished = ?, owner_pid = NULL, error = ? "
                "WHERE id = ? AND status = ? AND owner_pid IS ? AND heartbeat IS ?",
                (
                    INTERRUPTED,
                    DONE,
                    now,
                    f"the process running it (pid {pid}) stopped; resume the job to continue "
                    "from its last finished clip, or retry it to start again",
                    row["id"],
                    ACCEPTED,
                    pid,
                    row["heartbeat"],
                ),
            )
            if cursor.rowcount == 1:
                orphans.append(row["id"])
        return orphans


def _row_values(job: Job) -> dict[str, Any]:
    return {name: getattr(job, name) for name in _JOB_COLUMNS}


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in _JSON_COLUMNS:
        if name in out:
            value = list(out[name]) if name == "warnings" else out[name]
            out[name] = json.dumps(value, default=str)
    for name in _BOOL_COLUMNS:
        if name in out:
            out[name] = int(bool(out[name]))
    return out


def _job(row: sqlite3.Row) -> Job:
    values = {name: row[name] for name in _JOB_COLUMNS}
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    values["warnings"] = tuple(values["warnings"])
    for name in _BOOL_COLUMNS:
        values[name] = bool(values[name])
    return Job(**values)
