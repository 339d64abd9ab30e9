"""The process pool for pypdf: cancelling a job kills its process, and tasks take turns.

``ProcessPoolExecutor`` cannot stop a job once it runs: a cancelled task's page jobs kept
both processes busy for as long as the PDF asked (hours, for a PDF bomb), and a document
with many jobs held every process while other users' small files waited in the queue
behind it. Here each process runs one job at a time for a dispatcher thread that knows
which job runs where:

* cancelling a job's future (asyncio does it when the awaiting task is cancelled, or when a
  deadline runs out) kills the process running it and starts a fresh one;
* jobs are grouped by task (``JOB_GROUP``, a context variable the handler sets): a free
  process takes the next job of the group with the fewest jobs running, oldest first, so a
  small document waits for one job at most, not for a large document's whole backlog;
* a process that dies (out of memory, a crash in C code) fails its job with
  ``BrokenProcessPool`` and is replaced; the pool itself keeps working.

Futures stay "pending" until their result arrives, which is what lets ``cancel`` succeed
on a running job. It implements ``Executor``, so ``loop.run_in_executor`` works as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("schoolx.pool")

# The task a job belongs to, for taking turns; set by the handler before it submits jobs.
JOB_GROUP: contextvars.ContextVar[object] = contextvars.ContextVar("job_group", default=None)


@dataclass(eq=False)
class _Job:
    seq: int
    group: object
    call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
    future: Future[Any]


@dataclass
class _Proc:
    process: BaseProcess
    conn: Connection
    job: _Job | None = None


@dataclass
class _State:
    queued: dict[object, deque[_Job]] = field(default_factory=dict)
    running: dict[object, int] = field(default_factory=dict)
    doomed: set[int] = field(default_factory=set)  # seqs of running jobs to kill


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when its parent dies (no orphans after a crash)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died while this process was starting
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _serve(conn: Connection, parent: int) -> None:
    """A pool process: run one job at a time until the pipe closes."""
    die_with_parent(parent)
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # the job's failure is the caller's to judge
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


class KillablePool(Executor):
    def __init__(self, workers: int) -> None:
        self._workers = max(1, workers)
        self._context = multiprocessing.get_context("spawn")  # see handlers.text
        self._lock = threading.Lock()
        self._state = _State()
        self._seq = itertools.count()
        # A self-pipe: submit and cancel wake the dispatcher from any thread.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread: threading.Thread | None = None
        self._closed = False

    # --- Executor -----------------------------------------------------------------------

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            job = _Job(next(self._seq), JOB_GROUP.get(), (fn, args, kwargs), future)
            self._state.queued.setdefault(job.group, deque()).append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._dispatch, name="schoolx-pool", daemon=True
                )
                self._thread.start()
        future.add_done_callback(lambda f: self._on_done(job, f))
        self._wake()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is queued and kill what runs: nothing is waited for after the app
        stops (running tasks had the worker's grace period already)."""
        with self._lock:
            self._closed = True
            queued = [job for jobs in self._state.queued.values() for job in jobs]
            self._state.queued.clear()
        for job in queued:
            job.future.cancel()
        self._wake()
        if self._thread is not None and wait:
            self._thread.join()
        if self._thread is None or not self._thread.is_alive():
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)

    # --- callers' side -----------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe already wakes it; closed: gone
            os.write(self._wake_w, b"x")

    def _on_done(self, job: _Job, future: Future[Any]) -> None:
        if not future.cancelled():
            return
        with self._lock:
            queue = self._state.queued.get(job.group)
            if queue is not None and any(j is job for j in queue):
                queue.remove(job)
                return
            self._state.doomed.add(job.seq)
        self._wake()

    # --- the dispatcher thread ----------------------------------------------------------

    def _dispatch(self) -> None:
        procs: list[_Proc] = []
        try:
            while True:
                with self._lock:
                    closed = self._closed
                    doomed, self._state.doomed = self._state.doomed, set()
                if closed:
                    return
                for proc in procs:
                    if proc.job is not None and proc.job.seq in doomed:
                        self._replace(proc, None)
                procs += [self._start() for _ in range(self._workers - len(procs))]
                for proc in procs:
                    if proc.job is None and (job := self._next_job()) is not None:
                        self._send(proc, job)
                busy = [p.conn for p in procs if p.job is not None]
                for ready in wait([self._wake_r, *busy]):
                    if ready == self._wake_r:
                        self._drain_wakes()
                    else:
                        self._receive(next(p for p in procs if p.conn is ready))
        finally:
            for proc in procs:
                self._kill(proc)
                if proc.job is not None:
                    proc.job.future.cancel()

    def _start(self) -> _Proc:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, os.getpid()), daemon=True)
        process.start()
        child.close()
        return _Proc(process, parent)

    def _next_job(self) -> _Job | None:
        """The oldest job of the group with the fewest jobs running."""
        with self._lock:
            state = self._state
            waiting = [g for g, jobs in state.queued.items() if jobs]
            if not waiting:
                return None
            group = min(waiting, key=lambda g: (state.running.get(g, 0), state.queued[g][0].seq))
            job = state.queued[group].popleft()
            if not state.queued[group]:
                del state.queued[group]
            state.running[group] = state.running.get(group, 0) + 1
            return job

    def _finished(self, job: _Job) -> None:
        with self._lock:
            left = self._state.running.get(job.group, 1) - 1
            if left:
                self._state.running[job.group] = left
            else:
                self._state.running.pop(job.group, None)

    def _send(self, proc: _Proc, job: _Job) -> None:
        proc.job = job
        try:
            proc.conn.send(job.call)
        except Exception as exc:  # an unpicklable argument: the job fails, the process stays
            proc.job = None
            self._finished(job)
            _resolve(job.future, exc)

    def _receive(self, proc: _Proc) -> None:
        job = proc.job
        assert job is not None
        try:
            kind, value = proc.conn.recv()
        except (EOFError, OSError):  # the process died under the job
            self._replace(proc, BrokenProcessPool("a pypdf process died while working"))
            return
        proc.job = None
        self._finished(job)
        if kind == "ok":
            if job.future.set_running_or_notify_cancel():
                job.future.set_result(value)
        else:
            _resolve(job.future, value)

    def _replace(self, proc: _Proc, error: BaseException | None) -> None:
        """Kill the process (its job was cancelled, or it died) and start a fresh one."""
        job = proc.job
        self._kill(proc)
        if job is not None:
            self._finished(job)
            if error is not None:
                _resolve(job.future, error)
        fresh = self._start()
        proc.process, proc.conn, proc.job = fresh.process, fresh.conn, None

    def _kill(self, proc: _Proc) -> None:
        if proc.process.is_alive():
            proc.process.kill()
        proc.process.join(timeout=5)
        proc.conn.close()

    def _drain_wakes(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self._wake_r, 4096)


def _resolve(future: Future[Any], error: BaseException) -> None:
    if future.set_running_or_notify_cancel():
        future.set_exception(error)
