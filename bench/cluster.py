"""The deployment under test: mockllm, `serve` and Celery workers on a fresh database and Redis block.

Every process is ours: started in its own session (so a Ctrl-C in the terminal reaches only
the bench, which then stops them in order) and asked to die with the bench should it be
killed outright. `Cluster` is a context manager; leaving it, normally or not, stops them all.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
PR_SET_PDEATHSIG = 1
START_SECONDS = 60.0


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the bench process goes away, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL whatever is left of its process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def reset_database(database_url: str) -> None:
    """Drop and create the bench database (connected through the server's `postgres` database)."""
    parts = urlsplit(database_url)
    name = parts.path.strip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL unreachable for BENCH_DATABASE_URL ({parts.netloc}): {exc}") from exc
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def reset_redis(redis_url: str) -> None:
    """Flush the four databases of the URL's block (see config.env.redis_db)."""
    from config.env import REDIS_DBS_PER_DEPLOYMENT, redis_db

    for db in range(REDIS_DBS_PER_DEPLOYMENT):
        client = redis.Redis.from_url(redis_db(redis_url, db))
        client.flushdb()
        client.close()


class Cluster:
    """Processes of one benchmark run, with their logs in a temporary directory."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.directory = Path(tempfile.mkdtemp(prefix="chatd-bench-"))
        self.services: list[Service] = []
        self.http_port = 0
        self.mock_port = 0

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}"

    @property
    def mock_url(self) -> str:
        return f"http://127.0.0.1:{self.mock_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CHATD_DATA_DIR": str(self.directory / "data"),
            **extra,
        }

    def manage(self, *args: str) -> str:
        """Run a management command to completion; its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self) -> None:
        reset_database(self.database_url)
        reset_redis(self.redis_url)
        self.manage("migrate", "--noinput")

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> Service:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def _wait(self, service: Service, ready: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while ready not in service.log_tail(100_000):
            service.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} not ready in {START_SECONDS:.0f} s:\n{service.log_tail()}")
            time.sleep(0.1)

    def start_mockllm(self) -> Service:
        self.mock_port = free_port()
        command = [sys.executable, "manage.py", "mockllm", "--port", str(self.mock_port)]
        service = self._start("mockllm", command, self.env())
        self._wait(service, f"READY {self.mock_port}")
        return service

    def start_serve(self) -> Service:
        self.http_port = free_port()
        command = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.http_port)]
        service = self._start("serve", command, self.env())
        deadline = time.monotonic() + START_SECONDS
        while True:
            service.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/readyz", timeout=2).status_code == 200:
                    return service
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve not ready in {START_SECONDS:.0f} s:\n{service.log_tail()}")
            time.sleep(0.2)

    def start_workers(self, count: int, concurrency: int) -> list[Service]:
        """Celery workers as the Procfile runs them, with `concurrency` threads each."""
        started = []
        for index in range(count):
            name = f"worker-{index + 1}"
            command = [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
                "--concurrency", str(concurrency), "--without-mingle", "--without-gossip",
                "-n", f"bench-{name}@%h", "--loglevel", "INFO",
            ]  # fmt: skip
            started.append(self._start(name, command, self.env(CHATD_WORKER_CONCURRENCY=str(concurrency))))
        for service in started:
            self._wait(service, " ready.")
        return started

    def seed(self) -> tuple[str, int]:
        """A user's API token and a priced model served by mockllm, set up through the public API."""
        admin = self.manage("createtoken", "bench-admin", "--staff").strip().splitlines()[-1]
        user = self.manage("createtoken", "bench-user").strip().splitlines()[-1]
        with httpx.Client(base_url=self.http, headers={"Authorization": f"Token {admin}"}, timeout=30) as api:
            provider = api.post(
                "/api/admin/providers/",
                json={"name": "mockllm", "kind": "openai_compatible", "base_url": f"{self.mock_url}/v1",
                      "api_key": "mock"},
            )  # fmt: skip
            provider.raise_for_status()
            model = api.post(
                "/api/admin/model-configs/",
                json={"provider": provider.json()["id"], "model": "mock-model", "is_default": True,
                      "input_price": "1", "output_price": "2"},
            )  # fmt: skip
            model.raise_for_status()
        return user, int(model.json()["id"])

    def check_alive(self) -> None:
        for service in self.services:
            service.check_alive()

    def stop(self) -> None:
        """Workers first (they release running chats), then the server, then the mock."""
        for service in reversed(self.services):
            with contextlib.suppress(Exception):
                service.stop()
        self.services.clear()
