"""Group commit: submissions that arrive together in one server process share one transaction,
so one fsync makes them all durable instead of one fsync each.

Each write is a job (a function of a database connection). The first thread to find no commit
under way becomes the leader: it runs every job queued so far on its own connection, each
inside its own savepoint (a job that fails is undone alone, the others stay),
commits once, and only then hands every job its result. A job's caller therefore returns, and
the server answers 201, only after the commit that holds its rows is on disk: the durability
promise is the same as one transaction per submission. Threads arriving while the leader
commits queue up and form the next group; a lone request is committed at once, without waiting
for company.

The leader changes with every group, so no thread is kept busy for others and no thread of its
own is needed. A lone thread (a sync worker, a command) therefore writes on the connection it
reads with, as without group commit: a separate writer connection would make every request's
reads fetch again the pages the last commit changed. Between processes, SQLite's write lock (and
write_transaction's file lock) still serialises the groups.
"""
from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .db import write_transaction


class _Job:
    __slots__ = ("work", "done", "value", "error")

    def __init__(self, work: Callable[[Any], Any]):
        self.work = work
        self.done = False
        self.value = None
        self.error: BaseException | None = None


class GroupCommit:
    """The commit queue of one database file in one process."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._leading = False
        self.groups = 0          # how many commits the queue made (the tests count them)

    def run(self, db, work: Callable[[Any], Any]) -> Any:
        """work(db') in a committed transaction, perhaps shared with other threads' jobs (db' is
        the connection of the thread that leads the group: `db` when this thread does); returns
        its value or raises its exception once that transaction is durable (or failed)."""
        job = _Job(work)
        with self._cond:
            self._queue.append(job)
            while not job.done and self._leading:
                self._cond.wait()
            if not job.done:
                self._leading = True
                group, self._queue = self._queue, []
        if not job.done:
            try:
                self._commit(db, group)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.value

    def _commit(self, db, group: list[_Job]) -> None:
        try:
            with write_transaction(db):
                for job in group:
                    try:
                        job.value = _in_savepoint(db, job.work)
                    except Exception as exc:  # this job's refusal or fault is its own: undone alone
                        job.error = exc
        except BaseException as exc:
            # nothing of the group was committed: every job fails, none is acknowledged
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            for job in group:
                job.value, job.error = None, exc
        self.groups += 1
        for job in group:
            job.done = True


# A queue lives as long as a connection of its file uses it: a server's for the life of the
# process, a command's or a test's until it is dropped, so a process that opens many data
# directories (the tests) keeps nothing of each.
_queues: weakref.WeakValueDictionary[tuple[int, str], GroupCommit] = weakref.WeakValueDictionary()
_queues_lock = threading.Lock()


def queue_for(db) -> GroupCommit | None:
    """The commit queue of the file `db` is connected to, in this process (a queue never crosses
    a fork); None when `db` was not opened by storage.connect."""
    pid = os.getpid()
    kept = getattr(db, "_group_commit", None)
    if kept is not None and kept[0] == pid:
        return kept[1]
    lock_path = getattr(db, "write_lock_path", None)
    if lock_path is None:
        return None
    key = (pid, str(lock_path.parent.resolve()))
    with _queues_lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = GroupCommit()
    db._group_commit = (pid, queue)
    return queue


def run(db, work: Callable[[Any], Any]) -> Any:
    """work(db') committed durably, grouped with whatever else this process is writing now.
    Inside a transaction the caller has open, work joins it instead (under a savepoint). Each
    thread calls with its own connection (server/dbconn.py keeps one per thread): a connection
    shared between threads would have one thread's job join another's open transaction."""
    if db.conn.in_transaction:
        return _in_savepoint(db, work)
    queue = queue_for(db)
    if queue is None:
        with write_transaction(db):
            return work(db)
    return queue.run(db, work)


def _in_savepoint(db, work: Callable[[Any], Any]) -> Any:
    """work(db) inside the open transaction, undone alone (and re-raised) if it fails."""
    db.execute("SAVEPOINT job")
    try:
        value = work(db)
    except BaseException:
        db.execute("ROLLBACK TO job")
        db.execute("RELEASE job")
        raise
    db.execute("RELEASE job")
    return value
