"""What a benchmark run does, from the environment (every knob has a default)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    value = int(os.environ.get(name, default))
    if value <= 0:
        raise SystemExit(f"{name} must be a positive integer, got {value}")
    return value


@dataclass(frozen=True)
class Options:
    database_url: str  # its own database, dropped and created afresh
    redis_url: str  # its block of four Redis databases, flushed first
    chats: int  # concurrent chats in the main run
    deltas: int  # text deltas each answer streams
    delta_ms: int  # the mock model's gap between deltas
    ramp_ms: int  # chats start spread evenly over this window
    turns: int  # answers each chat streams back to back
    workers: int  # Celery worker processes in the main run
    big_chats: int  # the second run: this many chats on one worker process
    idle_sockets: int  # idle WebSockets opened to measure memory per socket

    @classmethod
    def from_env(cls) -> Options:
        deltas, delta_ms = _int("BENCH_DELTAS", 100), _int("BENCH_DELTA_MS", 20)
        return cls(
            database_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatd_bench"),
            redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
            chats=_int("BENCH_CHATS", 100),
            deltas=deltas,
            delta_ms=delta_ms,
            # By default the chats start spread over one answer's length, so that once they all
            # run, turns start and end at an even pace: N chats streaming at once, all the time.
            ramp_ms=_int("BENCH_RAMP_MS", deltas * delta_ms),
            turns=_int("BENCH_TURNS", 4),
            workers=_int("BENCH_WORKERS", 2),
            big_chats=int(os.environ.get("BENCH_BIG_CHATS", 500)),  # 0 skips the second run
            idle_sockets=_int("BENCH_IDLE_SOCKETS", 1000),
        )

    @property
    def content(self) -> str:
        """The user message: the mock streams `deltas` stamped chunks, `delta_ms` apart."""
        return f"mock: slow {self.deltas} {self.delta_ms}ms\nmock: stamp"
