"""Workspaces on a remote host over SSH (paramiko): files through SFTP, commands through
exec channels. The remote side needs only a POSIX shell, setsid and /proc (Linux).

Settings (from the template): host, port (22), username, key_path (a private key file on
this server), host_key (the server's public key line; else ~/.ssh/known_hosts is used, and
unknown hosts are refused), root (base directory, relative to the remote home; default
"chatd-workspaces").
"""

from __future__ import annotations

import contextlib
import posixpath
import select
import shlex
import socket
import stat as stat_module
import threading
import time
import uuid
from typing import Any

import paramiko

from workspaces.backends.base import (
    BACKGROUND_WRAPPER,
    COMMAND_ENV,
    BackendError,
    FileStat,
    ProcessState,
    RunResult,
    WorkspaceBackend,
    shell_env,
)
from workspaces.backends.output import MODEL_OUTPUT_BYTES, OutputCapture

CONNECT_TIMEOUT = 10
POLL_SECONDS = 0.05
TUNNEL_CHUNK = 65536
SIGNAL_NAMES = {"terminate": "TERM", "kill": "KILL"}

_clients: dict[tuple[str, int, str, str], paramiko.SSHClient] = {}
_clients_lock = threading.Lock()
_homes: dict[tuple[str, int, str, str], str] = {}


def close_all() -> None:
    """Drop every cached connection (tests, shutdown)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _homes.clear()


class SSHBackend(WorkspaceBackend):
    def __init__(self, *, settings: dict[str, Any], workspace_id: str, directory: str = "") -> None:
        self.settings = settings
        self.workspace_id = workspace_id
        self.base = str(settings.get("root") or "chatd-workspaces")
        self.root = directory or posixpath.join(self.base, workspace_id)
        self._sftp_client: paramiko.SFTPClient | None = None

    # --- connection -----------------------------------------------------------------------
    def _key(self) -> tuple[str, int, str, str]:
        s = self.settings
        return str(s.get("host", "")), int(s.get("port", 22)), str(s.get("username", "")), str(s.get("key_path", ""))

    def _client(self) -> paramiko.SSHClient:
        key = self._key()
        with _clients_lock:
            client = _clients.get(key)
            transport = client.get_transport() if client else None
            if client is None or transport is None or not transport.is_active():
                client = _connect(*key, host_key=str(self.settings.get("host_key", "")))
                _clients[key] = client
            return client

    def _exec(self, script: str, timeout: float = 30) -> tuple[int, bytes]:
        """Run a short control script; return (exit status, stdout+stderr)."""
        try:
            chan = self._client().get_transport().open_session(timeout=CONNECT_TIMEOUT)
            chan.settimeout(timeout)
            chan.set_combine_stderr(True)
            chan.exec_command(script)
            chan.shutdown_write()
            output = b"".join(iter(lambda: chan.recv(65536), b""))
            return chan.recv_exit_status(), output
        except (paramiko.SSHException, OSError) as exc:
            raise BackendError(f"SSH host unreachable: {exc}") from exc

    def _sftp(self) -> paramiko.SFTPClient:
        """One SFTP session per backend object: path resolution makes many small requests."""
        if self._sftp_client is None:
            try:
                self._sftp_client = self._client().open_sftp()
            except (paramiko.SSHException, OSError) as exc:
                raise BackendError(f"SSH host unreachable: {exc}") from exc
        return self._sftp_client

    def close(self) -> None:
        if self._sftp_client is not None:
            self._sftp_client.close()
            self._sftp_client = None

    def _absolute(self, path: str) -> str:
        return path if path.startswith("/") else posixpath.join(self.home(), path)

    # --- primitives -------------------------------------------------------------------------
    def ensure_root(self) -> None:
        root = self._absolute(self.root)
        script = (
            f"mkdir -p -- {shlex.quote(root)} {shlex.quote(self.state_dir())} && cd -- {shlex.quote(root)} && pwd -P"
        )
        status, output = self._exec(script)
        if status != 0:
            raise BackendError(f"cannot create the workspace directory: {output.decode(errors='replace')}")
        self.root = output.decode().strip()

    def remove_root(self) -> None:
        self._exec(f"rm -rf -- {shlex.quote(self.root)} {shlex.quote(self.state_dir())}")

    def readlink(self, path: str) -> str | None:
        try:
            return str(self._sftp().readlink(path) or "") or None
        except OSError:
            return None

    def stat(self, path: str) -> FileStat | None:
        try:
            st = self._sftp().stat(path)
        except OSError:
            return None
        mode = st.st_mode or 0
        return FileStat(size=st.st_size or 0, is_dir=stat_module.S_ISDIR(mode), mode=mode & 0o7777)

    def read_bytes(self, path: str, offset: int = 0, limit: int = -1) -> bytes:
        with self._sftp().open(path, "rb") as handle:
            handle.seek(offset)
            return bytes(handle.read(None if limit < 0 else limit))

    def write_bytes(self, path: str, data: bytes) -> None:
        parent = posixpath.dirname(path)
        sftp = self._sftp()
        _makedirs(sftp, parent)
        old = self.stat(path)
        temp = posixpath.join(parent, f".chatd-{uuid.uuid4().hex[:12]}")
        try:
            with sftp.open(temp, "wb") as handle:
                handle.write(data)
            sftp.chmod(temp, old.mode if old else 0o644)
            sftp.posix_rename(temp, path)
        except BaseException:
            _remove_quietly(sftp, temp)
            raise

    def run(
        self,
        command: str,
        *,
        workdir: str,
        timeout: float,
        cancelled: threading.Event | None = None,
        env: dict[str, str] | None = None,
        output_limit: int = MODEL_OUTPUT_BYTES,
    ) -> RunResult:
        # sshd starts each session in a new session (setsid), so the shell's pid is the group id.
        script = (
            f"echo $$\n{shell_env({**COMMAND_ENV, **(env or {})})}"
            f"cd -- {shlex.quote(workdir)} || exit 1\nexec sh -c {shlex.quote(command)}\n"
        )
        try:
            chan = self._client().get_transport().open_session(timeout=CONNECT_TIMEOUT)
            chan.set_combine_stderr(True)
            chan.exec_command(script)
            chan.shutdown_write()
        except (paramiko.SSHException, OSError) as exc:
            raise BackendError(f"SSH host unreachable: {exc}") from exc
        stream = _RemoteStream(chan, OutputCapture(output_limit))
        outcome = stream.follow(time.monotonic() + timeout, cancelled)
        if outcome != "exited":
            if stream.pgid:
                self._exec(f"kill -KILL -- -{stream.pgid} 2>/dev/null; true")
            chan.close()
            return RunResult(stream.capture.text(), -1, stream.capture.truncated, **{outcome: True})
        exit_code = chan.recv_exit_status()
        chan.close()
        return RunResult(stream.capture.text(), exit_code, stream.capture.truncated)

    def spawn(self, command: str, *, workdir: str, output_path: str, exit_path: str) -> int:
        args = " ".join(
            shlex.quote(a) for a in (BACKGROUND_WRAPPER, "chatd-background", command, output_path, exit_path)
        )
        script = (
            f"{shell_env(COMMAND_ENV)}mkdir -p -- {shlex.quote(posixpath.dirname(output_path))} || exit 1\n"
            f"cd -- {shlex.quote(workdir)} || exit 1\n"
            f"setsid sh -c {args} </dev/null >/dev/null 2>&1 &\necho $!\n"
        )
        status, output = self._exec(script)
        if status != 0:
            raise BackendError(f"could not start the process: {output.decode(errors='replace').strip()}")
        return int(output.decode().split()[-1])

    def process_state(self, pid: int, exit_path: str) -> ProcessState:
        script = (
            f"if [ -s {shlex.quote(exit_path)} ]; then echo exit $(cat {shlex.quote(exit_path)});"
            f" elif [ -r /proc/{pid}/stat ] && ! sed 's/.*) //' /proc/{pid}/stat | grep -q '^Z';"
            " then echo running; else echo gone; fi"
        )
        _, output = self._exec(script)
        words = output.decode(errors="replace").split()
        if words[:1] == ["exit"] and len(words) == 2:
            return ProcessState(running=False, exit_code=int(words[1]))
        return ProcessState(running=words == ["running"], exit_code=None)

    def pid_alive(self, pid: int) -> bool:
        _, output = self._exec(
            f"if [ -r /proc/{int(pid)}/stat ] && ! sed 's/.*) //' /proc/{int(pid)}/stat | grep -q '^Z';"
            " then echo running; else echo gone; fi"
        )
        return output.decode(errors="replace").split() == ["running"]

    def signal_group(self, pid: int, signal_name: str) -> None:
        self._exec(f"kill -{SIGNAL_NAMES[signal_name]} -- -{int(pid)} 2>/dev/null; true")

    def connect_tcp(self, port: int) -> socket.socket:
        """A direct-tcpip channel to the remote port, handed out as one end of a socket pair
        so callers (asyncio included) see an ordinary socket; a thread pumps the bytes."""
        try:
            channel = (
                self._client()
                .get_transport()
                .open_channel("direct-tcpip", ("127.0.0.1", port), ("127.0.0.1", 0), timeout=CONNECT_TIMEOUT)
            )
        except (paramiko.SSHException, OSError) as exc:
            raise BackendError(f"nothing answers on port {port} of {self.settings.get('host')}: {exc}") from exc
        ours, theirs = socket.socketpair()
        threading.Thread(target=_pump, args=(channel, theirs), name=f"ssh-tunnel-{port}", daemon=True).start()
        return ours

    def home(self) -> str:
        key = self._key()
        if key not in _homes:
            _, output = self._exec('printf %s "$HOME"')
            _homes[key] = output.decode(errors="replace") or "/"
        return _homes[key]

    def os_name(self) -> str:
        _, output = self._exec("uname -sr")
        return output.decode(errors="replace").strip()

    def state_dir(self) -> str:
        return posixpath.join(self._absolute(self.base), ".state", self.workspace_id)


class _RemoteStream:
    """Reads a command channel: the first line is the remote group id, the rest is output."""

    def __init__(self, chan: paramiko.Channel, capture: OutputCapture) -> None:
        self.chan, self.capture = chan, capture
        self.pgid = 0
        self._prefix = b""

    def _take(self, data: bytes) -> None:
        if self.pgid:
            self.capture.feed(data)
            return
        self._prefix += data
        if b"\n" in self._prefix:
            line, rest = self._prefix.split(b"\n", 1)
            self.pgid = int(line.strip() or 0)
            self.capture.feed(rest)

    def follow(self, deadline: float, cancelled: threading.Event | None) -> str:
        """Read until the command exits ("exited"), or "timed_out" / "cancelled"."""
        drain_until: float | None = None
        while True:
            while self.chan.recv_ready():
                self._take(self.chan.recv(65536))
            if self.chan.exit_status_ready():
                # Give trailing output a moment; children that keep the channel open are not waited for.
                drain_until = drain_until or time.monotonic() + 1
                if self.chan.eof_received or time.monotonic() >= drain_until:
                    while self.chan.recv_ready():
                        self._take(self.chan.recv(65536))
                    return "exited"
            elif cancelled is not None and cancelled.is_set():
                return "cancelled"
            elif time.monotonic() >= deadline:
                return "timed_out"
            time.sleep(POLL_SECONDS)


def _pump(channel: paramiko.Channel, sock: socket.socket) -> None:
    """Copy bytes both ways until either side closes, then close both."""
    try:
        while True:
            readable, _, _ = select.select([channel, sock], [], [])
            if channel in readable:
                data = channel.recv(TUNNEL_CHUNK)
                if not data:
                    return
                sock.sendall(data)
            if sock in readable:
                data = sock.recv(TUNNEL_CHUNK)
                if not data:
                    return
                channel.sendall(data)
    except OSError:
        return
    finally:
        channel.close()
        sock.close()


def _connect(host: str, port: int, username: str, key_path: str, *, host_key: str) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    if host_key:
        name = host if port == 22 else f"[{host}]:{port}"
        entry = paramiko.hostkeys.HostKeyEntry.from_line(f"{name} {host_key}")
        if entry is None or entry.key is None:
            raise BackendError("the template's host_key is not a valid public key line")
        client.get_host_keys().add(name, entry.key.get_name(), entry.key)
    else:
        client.load_system_host_keys()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            host,
            port=port,
            username=username or None,
            key_filename=key_path or None,
            look_for_keys=False,
            allow_agent=False,
            timeout=CONNECT_TIMEOUT,
        )
    except (paramiko.SSHException, OSError) as exc:
        client.close()
        raise BackendError(f"cannot connect to {host}:{port}: {exc}") from exc
    return client


def _makedirs(sftp: paramiko.SFTPClient, path: str) -> None:
    missing: list[str] = []
    while path not in ("", "/"):
        try:
            sftp.stat(path)
            break
        except OSError:
            missing.append(path)
            path = posixpath.dirname(path)
    for directory in reversed(missing):
        sftp.mkdir(directory)


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    with contextlib.suppress(OSError):
        sftp.remove(path)
