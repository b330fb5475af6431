"""Real service processes for integration tests: Orthanc, a Celery worker, the ASGI server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling; report the last error on time-out
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f": {last_error}" if last_error else ""))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedProcess:
    """A subprocess in its own process group that can be stopped, killed and started again."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> ManagedProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def orthanc_process(env: dict[str, str], log_dir: Path, log_name: str = "orthanc.log") -> ManagedProcess:
    return ManagedProcess("orthanc", [str(ROOT / "scripts" / "orthanc.sh")], env, log_dir / log_name)


def orthanc_ready(url: str, auth: tuple[str, str]) -> bool:
    return requests.get(f"{url}/system", auth=auth, timeout=2).ok


def status_from(source_ip: str, url: str, auth: tuple[str, str] | None = None) -> int:
    """The HTTP status of GET `url` sent from `source_ip` (127.0.0.2: another host, as Orthanc's
    remote-access check sees it; loopback answers it on Linux)."""
    import base64
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5, source_address=(source_ip, 0))
    headers = {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()} if auth else {}
    try:
        connection.request("GET", parts.path or "/", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def celery_worker_process(env: dict[str, str], log_dir: Path, *, beat: bool = True,
                          queues: str = "default,inference") -> ManagedProcess:
    """One worker process; by default it both ingests and analyses. Tests about ordering in time
    start two, as the Procfile does (queues "default" with beat, and "inference")."""
    name = queues.replace(",", "-")
    argv = [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queues, "--concurrency", "1",
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"test-{name}-{os.getpid()}@%h"]
    if beat:
        argv += ["-B", "--schedule", str(log_dir / "celerybeat-schedule")]
    log = "worker.log" if queues == "default,inference" else f"worker-{name}.log"
    return ManagedProcess("worker", argv, env, log_dir / log)


def asgi_process(env: dict[str, str], log_dir: Path, port: int) -> ManagedProcess:
    # As the Procfile starts it: config.serve decides which proxies' forwarded headers count.
    argv = [str(VENV_BIN / "python"), "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port)]
    return ManagedProcess("web", argv, env, log_dir / "web.log")
