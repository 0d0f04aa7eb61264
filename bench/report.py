"""The printed report: the machine, how each figure is measured, the figures and their targets."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from bench.drive import Stream, all_running
from bench.measure import percentile
from bench.options import Options

if TYPE_CHECKING:
    from bench.stream_bench import RunResult

MIB = 1024 * 1024
METHOD = """\
How it is measured
  * Every text delta carries the time mockllm wrote it to the socket (`mock: stamp`). A client
    notes when it has the parsed delta in hand; latency = in hand - stamped (one machine, one clock).
  * direct: the same request streamed straight from mockllm with the openai SDK, same concurrency,
    while chatd sits idle. chatd: POST /api/chats/{id}/messages/ on a chat whose WebSocket is open
    (its first turn, which also titles it, is a warm-up), deltas read from the socket.
  * TTFT: request sent -> first text delta in hand (the mock waits one delta gap before it).
    Overhead and added latency = chatd percentile - direct percentile.
  * Steady state: the chats start spread over the ramp (by default one answer's length) and each
    streams its answers back to back, so turns begin and end at an even pace. Latency, TTFT and
    deltas/s count only what was sent while every chat was streaming (from the last chat's first
    send to the first chat's last answer); with one turn each (the many-chats run), everything.
  * CPU: user+system seconds of each process during the measured turns; peak RSS: VmHWM over
    the process's life. Connections: most sessions on the bench database seen at once (0.1 s polls).
  * Queries: one chat driven in a separate process through the real API view and the worker's
    run_chat under Django's CaptureQueriesContext (bench/queries.py): a 1-step and a 2-step turn.
  * Idle WebSockets: serve's RSS before and after opening K more sockets (each past its snapshot)."""


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({model}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}"
    )


def header(options: Options) -> str:
    return "\n".join(
        [
            "chatd streaming benchmark",
            f"machine: {machine()}",
            f"each answer: {options.deltas} deltas, {options.delta_ms} ms apart; {options.turns} answers per chat "
            f"back to back; chats start over {options.ramp_ms} ms",
            "",
            METHOD,
        ]
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _pair(values: list[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 99)


@dataclass
class Window:
    """What the clients saw while every chat was streaming (or, without such a window, all)."""

    ttfts: list[float]
    latencies: list[float]
    deltas: int
    seconds: float

    @classmethod
    def of(cls, streams: list[Stream], *, steady: bool) -> Window:
        window = all_running(streams) if steady else None
        if window is None:
            start = min((s.sent for s in streams), default=0.0)
            window = (start, max((s.last_text for s in streams), default=start))
        start, end = window
        stamped = [(t, x) for s in streams for t, x in zip(s.stamps, s.latencies, strict=True) if start <= t <= end]
        ttfts = [t for s in streams if start <= s.sent <= end and (t := s.ttft) is not None]
        return cls(ttfts, [x for _, x in stamped], len(stamped), max(end - start, 1e-9))


def _latency_lines(direct: Window, chatd: Window, main: bool) -> list[str]:
    direct_ttft, chatd_ttft = _pair(direct.ttfts), _pair(chatd.ttfts)
    direct_delta, chatd_delta = _pair(direct.latencies), _pair(chatd.latencies)
    ttft_over = (chatd_ttft[0] - direct_ttft[0], chatd_ttft[1] - direct_ttft[1])
    added = (chatd_delta[0] - direct_delta[0], chatd_delta[1] - direct_delta[1])
    ratio = (chatd_ttft[0] / direct_ttft[0], chatd_ttft[1] / direct_ttft[1])
    ttft_target = f"   target p50 < 30 ms: {_verdict(ttft_over[0] < 0.030)}" if main else ""
    delta_target = (
        f"   target p50 < 5 ms: {_verdict(added[0] < 0.005)}, p99 < 50 ms: {_verdict(added[1] < 0.050)}" if main else ""
    )
    return [
        f"  counted: {len(chatd.ttfts)} answers, {chatd.deltas} deltas in {chatd.seconds:.2f} s",
        "                                   p50          p99",
        f"  TTFT straight from mockllm  {_ms(direct_ttft[0])}  {_ms(direct_ttft[1])}",
        f"  TTFT through chatd          {_ms(chatd_ttft[0])}  {_ms(chatd_ttft[1])}",
        f"  TTFT overhead               {_ms(ttft_over[0])}  {_ms(ttft_over[1])}{ttft_target}",
        f"  TTFT ratio chatd/direct     {ratio[0]:8.2f} x   {ratio[1]:8.2f} x",
        f"  delta latency, direct       {_ms(direct_delta[0])}  {_ms(direct_delta[1])}",
        f"  delta latency, chatd        {_ms(chatd_delta[0])}  {_ms(chatd_delta[1])}",
        f"  added latency per delta     {_ms(added[0])}  {_ms(added[1])}{delta_target}",
    ]


def _errors(result: RunResult, deltas: int) -> tuple[int, list[str]]:
    """Chats with an answer that failed or lost deltas (or that did not get all their turns)."""
    answers: dict[int, int] = {}
    for stream in result.measured.chatd:
        answers[stream.chat] = answers.get(stream.chat, 0) + 1
    bad = [s for s in result.measured.chatd if s.error or s.deltas != deltas]
    samples = [s.error or f"{s.deltas} of {deltas} deltas" for s in bad[:3]]
    short = {chat for chat, count in answers.items() if count != result.turns}
    return len({s.chat for s in bad} | short | (set(range(result.chats)) - answers.keys())), samples


def _process_lines(result: RunResult) -> list[str]:
    lines = ["  process        CPU s (turns)   peak RSS"]
    lines += [f"  {u.name:<14} {u.cpu_seconds:10.2f}   {u.peak_rss / MIB:8.1f} MiB" for u in result.measured.usage]
    return lines


def run_section(result: RunResult, options: Options, *, main: bool) -> str:
    m = result.measured
    received = sum(s.deltas for s in m.chatd)
    direct, chatd = Window.of(m.direct, steady=result.turns > 1), Window.of(m.chatd, steady=result.turns > 1)
    failed, samples = _errors(result, options.deltas)
    app_cpu = sum(u.cpu_seconds for u in m.usage if u.name == "serve" or u.name.startswith("worker"))
    error_line = f"  chats with errors: {failed} of {result.chats}" + (f"  e.g. {samples}" if samples else "")
    if not main:
        error_line += f"   target 0 on one worker process: {_verdict(failed == 0)}"
    lines = [
        "",
        f"== {result.chats} concurrent chats x {result.turns} answers, "
        f"{result.workers} worker process(es) x {result.threads} threads ==",
        f"  load average when the run began: {result.load_before:.2f}",
        error_line,
        *_latency_lines(direct, chatd, main),
        f"  throughput: {chatd.deltas / chatd.seconds:,.0f} deltas/s end to end "
        f"(direct: {direct.deltas / direct.seconds:,.0f}); {received} deltas in all in {m.seconds:.2f} s",
        f"  CPU per delta (serve + workers): {app_cpu / max(received, 1) * 1e6:.0f} us",
        *_process_lines(result),
        f"  PostgreSQL connections at most: {m.peak_connections}",
    ]
    if result.queries:
        q = result.queries
        per_step = q["two_step_turn"] - q["one_step_turn"]
        lines.append(
            f"  DB queries: {per_step} per step, {q['one_step_turn'] - per_step} more per turn "
            f"(1-step turn {q['one_step_turn']}, 2-step turn {q['two_step_turn']}); {q['send']} to send a message"
        )
    if m.idle_socket_bytes is not None:
        kib = m.idle_socket_bytes / 1024
        lines.append(
            f"  idle WebSocket: {kib:.1f} KiB of serve RSS each ({result.idle_sockets} sockets)"
            f"   target < 100 KiB: {_verdict(kib < 100)}"
        )
    return "\n".join(lines)


def _worker_peak(result: RunResult) -> float:
    """Peak RSS of one worker process (the mean when there are several)."""
    peaks = [u.peak_rss for u in result.measured.usage if u.name.startswith("worker")]
    return sum(peaks) / len(peaks)


def memory_per_chat(main: RunResult, big: RunResult) -> str:
    """A worker's memory per running chat: the growth of its peak RSS between the two runs.

    Differencing two runs cancels what every worker holds anyway (code, imports, pools).
    """
    chats_each = main.chats / main.workers
    if big.chats <= chats_each:
        return ""
    per_chat = (_worker_peak(big) - _worker_peak(main)) / (big.chats - chats_each)
    return (
        f"\nworker memory per running chat: {per_chat / 1024:.0f} KiB "
        f"(peak RSS of a worker with {big.chats} chats vs {chats_each:.0f}, difference / extra chats)"
    )
