"""Figures from the outside: percentiles, CPU and memory of processes, database connections in use."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the two nearest ranks; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def peak_rss(pid: int) -> int:
    """The process's high-water resident set size in bytes (Linux VmHWM), 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads) so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class ProcessUsage:
    name: str
    pid: int
    cpu_seconds: float  # during the measured phase
    rss_before: int
    peak_rss: int  # over the process's whole life


class ProcessWatch:
    """CPU seconds of named processes between `start()` and `stop()`, and their peak RSS."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.cpu_at_start: dict[str, float] = {}
        self.rss_at_start: dict[str, int] = {}

    def start(self) -> None:
        self.cpu_at_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.rss_at_start = {name: rss(pid) for name, pid in self.pids.items()}

    def stop(self) -> list[ProcessUsage]:
        return [
            ProcessUsage(name, pid, cpu_seconds(pid) - self.cpu_at_start[name], self.rss_at_start[name], peak_rss(pid))
            for name, pid in self.pids.items()
        ]


class ConnectionSampler:
    """The most PostgreSQL connections to one database seen at once, sampled on a thread."""

    INTERVAL_SECONDS = 0.1

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.database = parts.path.strip("/")
        self.admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-pg-sampler", daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _sample(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(self.INTERVAL_SECONDS):
                row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.database])
                self.peak = max(self.peak, int(row.fetchone()[0]))  # type: ignore[index]
