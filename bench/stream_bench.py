"""Streaming benchmark (`make bench`): chatd in distributed mode against its mock model.

Starts mockllm, `serve` and Celery workers on a fresh PostgreSQL database and Redis block,
drives concurrent chats with a WebSocket each, and prints latency, throughput, CPU, memory
and database figures next to their targets (see report.py for what each figure means).
Environment: BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_CHATS, BENCH_DELTAS, BENCH_DELTA_MS,
BENCH_RAMP_MS, BENCH_WORKERS, BENCH_BIG_CHATS (0 skips the 500-chat run), BENCH_IDLE_SOCKETS.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from bench import report
from bench.cluster import ROOT, Cluster, Service
from bench.drive import ChatdClient, Stream, close_all, direct_streams, staggered
from bench.measure import ConnectionSampler, ProcessUsage, ProcessWatch, rss
from bench.options import Options

DEFAULT_WORKER_THREADS = 200  # CHATD_WORKER_CONCURRENCY's default


@dataclass
class Measured:
    """What the clients and the process watch saw in one run."""

    direct: list[Stream]
    chatd: list[Stream]
    seconds: float  # first message sent to last delta in hand
    usage: list[ProcessUsage]
    peak_connections: int
    idle_socket_bytes: float | None = None  # serve's RSS growth per idle WebSocket


@dataclass
class RunResult:
    chats: int
    workers: int
    threads: int
    turns: int  # answers per chat
    idle_sockets: int
    load_before: float  # the machine's 1-minute load average as the run began (it may be shared)
    measured: Measured
    queries: dict[str, int] = field(default_factory=dict)


async def _drive(cluster: Cluster, options: Options, chats: int, turns: int, token: str, model_id: int,
                 watch: ProcessWatch, serve: Service, idle_sockets: int) -> Measured:  # fmt: skip
    """Warm up, stream straight from the mock, then through chatd; optionally idle sockets."""
    client = ChatdClient(cluster.http, cluster.ws, token, model_id, connections=chats + 10)
    ramp = options.ramp_ms / 1000
    ready = await asyncio.gather(*(client.ready_chat() for _ in range(chats)))
    try:
        direct = await direct_streams(cluster.mock_url, options.content, chats, ramp, turns)
        watch.start()
        with ConnectionSampler(cluster.database_url) as sampler:
            started = time.time()
            streams = await staggered(chats, ramp, turns, lambda i: client.stream_turn(ready[i], options.content))
        measured = Measured(
            direct=direct,
            chatd=streams,
            seconds=max((s.last_text for s in streams), default=started) - started,
            usage=watch.stop(),
            peak_connections=sampler.peak,
        )
        if idle_sockets:
            before = rss(serve.pid)
            sockets = await client.idle_sockets(ready, idle_sockets)
            await asyncio.sleep(1)  # let the server settle every connection's state
            measured.idle_socket_bytes = (rss(serve.pid) - before) / idle_sockets
            await close_all(sockets)
        return measured
    finally:
        await close_all([chat.socket for chat in ready])
        await client.aclose()


def count_queries(cluster: Cluster) -> dict[str, int]:
    """Queries per API send and per turn, counted in a process of its own (see bench/queries.py)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.queries"], cwd=ROOT, env=cluster.env(LOG_LEVEL="WARNING"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"bench.queries failed:\n{done.stdout}\n{done.stderr}")
    counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def run(options: Options, *, chats: int, workers: int, main: bool) -> RunResult:
    """One deployment from scratch; the main run also measures idle sockets and queries.
    The other (many chats on one worker) checks only that every answer arrives: one turn each."""
    threads = max(DEFAULT_WORKER_THREADS, chats)
    load_before = os.getloadavg()[0]
    with Cluster(options.database_url, options.redis_url) as cluster:
        cluster.prepare()
        mock = cluster.start_mockllm()
        serve = cluster.start_serve()
        started = cluster.start_workers(workers, threads)
        token, model_id = cluster.seed()
        pids = {"serve": serve.pid, **{w.name: w.pid for w in started}, "mockllm": mock.pid, "bench": os.getpid()}
        watch = ProcessWatch(pids)
        idle = options.idle_sockets if main else 0
        turns = options.turns if main else 1
        measured = asyncio.run(_drive(cluster, options, chats, turns, token, model_id, watch, serve, idle))
        cluster.check_alive()
        result = RunResult(chats, workers, threads, turns, idle, load_before, measured)
        if main:
            for worker in started:
                worker.stop()
            result.queries = count_queries(cluster)
        return result


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through Cluster.__exit__, which stops every process


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C even when started in the background
    options = Options.from_env()
    print(report.header(options), flush=True)
    result = run(options, chats=options.chats, workers=options.workers, main=True)
    print(report.run_section(result, options, main=True), flush=True)
    if options.big_chats:
        big = run(options, chats=options.big_chats, workers=1, main=False)
        print(report.run_section(big, options, main=False), flush=True)
        print(report.memory_per_chat(result, big), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # every process was stopped on the way out
        sys.exit("interrupted")
