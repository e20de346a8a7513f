"""Group commit (storage/group_commit.py): jobs that overlap in one process share a transaction,
each is undone alone when it fails, none returns before the commit holding it, and a failed
commit acknowledges nothing. Threads are held at chosen points with events, so the groups are
known in advance instead of left to timing."""
from __future__ import annotations

import sqlite3
import threading

import pytest

import storage
from storage import group_commit


@pytest.fixture
def data_dir(tmp_path):
    db = storage.connect(tmp_path)
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    db.conn.close()
    return tmp_path


def _stored(data_dir) -> set[str]:
    db = storage.connect(data_dir, migrate=False)
    try:
        return {r[0] for r in db.execute("SELECT k FROM t")}
    finally:
        db.conn.close()


def _insert(key):
    def work(db):
        db.execute("INSERT INTO t (k) VALUES (?)", [key])
        return key
    return work


class _Blocked:
    """A first job that holds the leader inside the transaction until released, so that every
    job started meanwhile queues for the next group."""

    def __init__(self, key="first"):
        self.inside, self.release = threading.Event(), threading.Event()
        self.key = key

    def __call__(self, db):
        db.execute("INSERT INTO t (k) VALUES (?)", [self.key])
        self.inside.set()
        assert self.release.wait(10)
        return self.key


def _start(fn, results, name):
    def target():
        try:
            results[name] = ("ok", fn())
        except BaseException as exc:  # the test reads what each caller got
            results[name] = ("error", exc)
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _wait_queued(queue, n):
    for _ in range(1000):
        with queue._cond:
            if len(queue._queue) >= n:
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"{n} jobs never queued")


def _own(data_dir):
    """A thread's own connection, as server/dbconn.py keeps one per thread."""
    return storage.connect(data_dir, migrate=False)


def _behind_a_blocked_first(data_dir, jobs: dict, check_waiting=None) -> dict:
    """Run `jobs` ({name: work}), each from its own thread and connection, while a first job
    holds the leader inside its transaction, so that they all queue for the next group;
    `check_waiting()` runs while they wait. Returns {name: ("ok", value) or ("error",
    exception)}, "first" included."""
    db = _own(data_dir)
    queue = group_commit.queue_for(db)
    first = _Blocked()
    results = {}
    threads = [_start(lambda: group_commit.run(db, first), results, "first")]
    assert first.inside.wait(10)
    for name, work in jobs.items():
        threads.append(_start(lambda work=work: group_commit.run(_own(data_dir), work), results, name))
    _wait_queued(queue, len(jobs))
    if check_waiting is not None:
        check_waiting(results)
    first.release.set()
    for thread in threads:
        thread.join(10)
    return results


def test_overlapping_jobs_share_one_commit_and_return_only_after_it(data_dir):
    db = storage.connect(data_dir, migrate=False)
    queue = group_commit.queue_for(db)
    keys = [f"k{i}" for i in range(6)]
    groups_before = queue.groups

    def nothing_yet(results):
        # the leader is inside its transaction: nobody has an answer and nothing is visible yet
        assert results == {}
        assert _stored(data_dir) == set()

    results = _behind_a_blocked_first(data_dir, {k: _insert(k) for k in keys}, nothing_yet)
    assert results == {"first": ("ok", "first"), **{k: ("ok", k) for k in keys}}
    assert _stored(data_dir) == {"first", *keys}
    # the first group held the blocked job alone; the six that waited went together, in one commit
    assert queue.groups - groups_before == 2


def test_a_failing_job_is_undone_alone(data_dir):
    db = storage.connect(data_dir, migrate=False)

    def half_then_fail(db):
        db.execute("INSERT INTO t (k) VALUES ('half')")
        raise ValueError("refused")

    results = _behind_a_blocked_first(data_dir, {"a": _insert("a"), "bad": half_then_fail, "b": _insert("b")})
    assert results["a"] == ("ok", "a") and results["b"] == ("ok", "b")
    assert results["bad"][0] == "error" and str(results["bad"][1]) == "refused"
    assert _stored(data_dir) == {"first", "a", "b"}


def test_a_failed_commit_acknowledges_no_job_of_its_group(data_dir):
    db = storage.connect(data_dir, migrate=False)

    class Abort(BaseException):
        """Not an Exception: what a job cannot be undone alone from (as a dying thread)."""

    def abort(db):
        raise Abort()

    results = _behind_a_blocked_first(data_dir, {"a": _insert("a"), "abort": abort})
    assert results["first"] == ("ok", "first")
    assert results["a"][0] == "error" and isinstance(results["a"][1], Abort)
    assert results["abort"][0] == "error"
    assert _stored(data_dir) == {"first"}
    # the queue is usable again afterwards
    assert group_commit.run(db, _insert("after")) == "after"
    assert _stored(data_dir) == {"first", "after"}


def test_a_job_inside_the_callers_transaction_joins_it(data_dir):
    db = storage.connect(data_dir, migrate=False)
    with storage.write_transaction(db):
        group_commit.run(db, _insert("joined"))
        with pytest.raises(sqlite3.IntegrityError):
            group_commit.run(db, _insert("joined"))
        assert _stored(data_dir) == set()
    assert _stored(data_dir) == {"joined"}


def test_many_threads_lose_nothing(data_dir):
    results = {}
    threads = [_start(lambda i=i: group_commit.run(_own(data_dir), _insert(f"n{i}")), results, i)
               for i in range(64)]
    for thread in threads:
        thread.join(30)
    assert all(status == "ok" for status, _ in results.values()) and len(results) == 64
    assert _stored(data_dir) == {f"n{i}" for i in range(64)}


def test_a_dropped_database_leaves_nothing_open(tmp_path):
    """The tests open hundreds of data directories in one process: whatever group commit keeps
    for a file goes with the last connection that used it (select() fails beyond 1,024
    descriptors; a first version kept a writer connection per file)."""
    import gc
    import os

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    gc.collect()
    before = open_files()
    for i in range(40):
        db = storage.connect(tmp_path / f"d{i}")
        db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        group_commit.run(db, _insert("x"))
        db.close()
        del db
    gc.collect()
    # 40 connections left open would hold 40 files, their WAL and shared memory and a lock each
    assert open_files() - before < 10
