"""Real Celery worker and beat processes on the test database, for multi-process tests.

Each process logs to its own file so a failing assertion can show what every process saw.
Timings are short (heartbeat 1 s, stale after 4 s, sweep every 1 s) so recovery happens in
seconds; waits poll with a deadline, they never assert on elapsed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from chats import stream_hub
from chats.models import Chat
from config import celery_app
from tests.chats.streams import joined
from tests.e2e.conftest import ROOT, test_database_url

# Short timings so recovery happens within a test. The pool is sized to the thread count
# (CHATD_DB_POOL_SIZE >= worker concurrency), so a burst of 50 claims never waits for a
# connection; heartbeats have a connection of their own whatever the pool does.
TIMINGS = {
    "CHATD_HEARTBEAT_SECONDS": "1",
    "CHATD_STALE_AFTER_SECONDS": "6",
    "CHATD_SWEEP_SECONDS": "1",
    "CHATD_DB_POOL_SIZE": "60",
}
WAIT_SECONDS = 60.0
T = TypeVar("T")


@dataclass
class CeleryProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ready_line: str  # what its log says once it is consuming (worker) or scheduling (beat)

    @property
    def pid(self) -> int:
        return self.process.pid

    def owns(self, chat: Chat) -> bool:
        """Whether this process is the one running the chat (worker_id = host:pid:nonce:run)."""
        return chat.worker_id is not None and chat.worker_id.split(":")[1] == str(self.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL whatever is left of its process group."""
        self.signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class Cluster:
    """Worker and beat processes started by one test; all of them are gone after it."""

    directory: Path
    processes: list[CeleryProcess] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": test_database_url(), "LOG_LEVEL": "INFO", **TIMINGS}

    def worker(self) -> CeleryProcess:
        name = f"w{len(self.processes)}-{uuid.uuid4().hex[:6]}"
        return self._start(
            name,
            ["worker", "--pool", "threads", "--concurrency", "50", "--without-mingle", "--without-gossip",
             "-n", f"{name}@%h", "--loglevel", "INFO"],
            ready=" ready.",
        )  # fmt: skip

    def beat(self) -> CeleryProcess:
        """The real sweep schedule: stale recovery and re-dispatch run as `chats.sweep` tasks."""
        schedule = self.directory / "beat-schedule"
        return self._start("beat", ["beat", "-s", str(schedule), "--loglevel", "INFO"], ready="beat: Starting")

    def workers(self, count: int) -> list[CeleryProcess]:
        """Start `count` workers at once and wait until every one of them is consuming."""
        started = [self.worker() for _ in range(count)]
        for process in started:
            self.wait_ready(process)
        return started

    def _start(self, name: str, args: list[str], ready: str) -> CeleryProcess:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *args],
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so teardown reaches any child
            )
        started = CeleryProcess(name, process, log, ready)
        self.processes.append(started)
        return started

    def wait_ready(self, process: CeleryProcess) -> CeleryProcess:
        def ready() -> bool:
            assert process.process.poll() is None, f"{process.name} exited early:\n{process.log_text()}"
            return process.ready_line in process.log_text()

        wait_for(ready, f"{process.name} to be ready", self)
        return process

    def logs(self) -> str:
        return "\n".join(f"===== {p.name} (pid {p.pid}) =====\n{p.log_text()[-6000:]}" for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def wait_for(check: Callable[[], T], what: str, cluster: Cluster | None = None, timeout: float = WAIT_SECONDS) -> T:
    """Poll `check` until it returns something truthy; fail with every process's log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{cluster.logs() if cluster else ''}")
        time.sleep(0.05)


@pytest.fixture
def cluster(transactional_db: Any, tmp_path: Path) -> Iterator[Cluster]:
    """No task from an earlier test in the broker queue; no process left behind afterwards."""
    celery_app.control.purge()
    started = Cluster(tmp_path)
    try:
        yield started
    finally:
        started.stop()


class EventRecorder:
    """Every live event of one chat, as a browser would see them (this process's stream hub).

    Listens on its own event loop thread; `events` only grows.
    """

    def __init__(self, chat_id: uuid.UUID) -> None:
        self._chat_id = chat_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="event-recorder", daemon=True)
        self._thread.start()
        self._collector = self._run(joined(chat_id))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self._collector.events

    def statuses(self) -> list[tuple[str, bool]]:
        return [(e["status"], e["recovered"]) for e in self.events if e["type"] == "status"]

    def close(self) -> None:
        self._run(stream_hub.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextlib.contextmanager
def recording(chat_id: uuid.UUID) -> Iterator[EventRecorder]:
    recorder = EventRecorder(chat_id)
    try:
        yield recorder
    finally:
        recorder.close()
