"""Load benchmark: the worklist API under 50 concurrent clients, and a websocket fan-out to 200.

    python bench/bench_load.py                       # both parts, on 50,000 studies
    python bench/bench_load.py --part api --clients 50 --seconds 30
    python bench/bench_load.py --part open --clients 50 --interval 2 --pushes 1 --seconds 60
    python bench/bench_load.py --part ws --sockets 200 --updates 10

Uses its own database, filled once with bench/bench_dashboard.py's fill (50,000 department-shaped
studies: arrivals over 60 days, reports, AI results). Starts the web server as the Procfile
does (config.serve, no access log) on a free port, with the Channels layer on its own Redis
database (`--redis-url`, default db 13 of the local Redis; nothing is flushed).

api: N client threads, each with its own logged-in session, GET /api/worklist/ (first page of
200 rows, the page a radiologist's browser loads) back to back for S seconds; median and 99th
percentile latency, and requests per second.

ws: M logged-in websockets on /ws/worklist/; the bench publishes a study update (the same
`study_publish` the worker calls after a change) and times how long each socket takes to receive
it. Repeated U times; reports median, p99, max and the share received within 1 s.

The clients run on the same machine as the server (2 shared cores here), so the figures include
the clients' own CPU; the machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/triage_bench_load"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def session_for(username: str, role: str) -> str:
    from django.test import Client

    from accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def start_server(env: dict, workers: int = 1) -> tuple[object, str]:
    import requests
    from django.core.management import call_command

    from tests.support.processes import ManagedProcess, free_port, wait_until

    # The login page the readiness check loads needs the static manifest (`make test` builds it;
    # a fresh clone has none): bench_load and bench_pipeline both start the server here.
    call_command("collectstatic", interactive=False, verbosity=0)
    port = free_port()
    # As the Procfile starts it (config.serve: uvicorn, and a database connection pool per process).
    argv = [str(ROOT / ".venv" / "bin" / "python"), "-m", "config.serve", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--workers", str(workers)]
    log = Path(os.environ.get("BENCH_LOG", "/tmp/bench_load_web.log"))
    server = ManagedProcess("web", argv, env, log).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=60, what="uvicorn")
    except Exception:
        server.stop()  # a server that never answered is not left running
        raise
    return server, url


def warm_up(url: str, cookie: str, connections: int = 16) -> None:
    """Off the clock: each web process serialises its first page's rows once (~0.3 s) and builds its
    lazily made parts (URL resolver, serialisers) on its first request. One keep-alive session
    reaches one process only; fresh connections in parallel reach all of them."""
    import requests

    def one() -> None:
        with requests.Session() as session:
            session.cookies.set("sessionid", cookie)
            for _ in range(3):
                session.get(url + "/api/worklist/", timeout=60)

    threads = [threading.Thread(target=one) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def client_cpu_seconds() -> float:
    """CPU time of this (client) process so far: the bench's own share of the 2 cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; 0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU the server side spent over a run: the uvicorn processes (the server's process group) and
    the PostgreSQL backends connected to the bench database (the web processes' pools; not this
    client's own connection). Per request, this is the machine's cost of a read whatever else runs
    on the cores; 2 cores divided by it (plus the client's share) is the most the machine can serve."""

    def __init__(self, server) -> None:
        self.group = server.proc.pid

    def pids(self) -> tuple[list[int], list[int]]:
        from django.db import connection

        web = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == self.group:
                        web.append(int(entry.name))
                except OSError:
                    continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            db = [row[0] for row in cursor.fetchall()]
        return web, db

    def __enter__(self) -> ServerCpu:
        self.web_pids, self.db_pids = self.pids()
        self.began = cpu_seconds(self.web_pids), cpu_seconds(self.db_pids)
        return self

    def __exit__(self, *exc) -> None:
        web_pids, db_pids = self.pids()
        # Backends that the pools opened during the run count from zero.
        new_db = [pid for pid in db_pids if pid not in self.db_pids]
        self.web = cpu_seconds(self.web_pids) - self.began[0]
        self.db = cpu_seconds(self.db_pids) - self.began[1] + cpu_seconds(new_db)

    def per_request_ms(self, requests: int) -> str:
        n = max(1, requests)
        return f"server CPU {1000 * self.web / n:.1f} ms/req web + {1000 * self.db / n:.1f} ms/req PostgreSQL"


def bench_api(url: str, clients: int, seconds: float, cpu: ServerCpu) -> dict:
    import requests

    cookies = [session_for(f"bench-rad-{i}", "radiologist") for i in range(clients)]
    warm_up(url, cookies[0])
    latencies: list[float] = []
    server_ms: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(cookie: str) -> None:
        session = requests.Session()
        session.cookies.set("sessionid", cookie)
        mine, mine_server = [], []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url + "/api/worklist/", timeout=60)
            mine.append(time.perf_counter() - started)
            mine_server += server_view_ms(response)
            if not response.ok:
                errors[0] += 1
        with lock:
            latencies.extend(mine)
            server_ms.extend(mine_server)

    threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
    with cpu:
        began, cpu_began = time.monotonic(), client_cpu_seconds()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elapsed = time.monotonic() - began
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / elapsed,
            "client_cpu": (client_cpu_seconds() - cpu_began) / elapsed,
            "median_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "server_median_ms": statistics.median(server_ms) if server_ms else None}


def server_view_ms(response) -> list[float]:
    """The view's own time from the Server-Timing header (``view;dur=…``), when the server sends it."""
    for part in response.headers.get("Server-Timing", "").split(","):
        name, _, dur = part.strip().partition(";dur=")
        if name == "view" and dur:
            return [float(dur)]
    return []


def bench_open(url: str, clients: int, interval: float, seconds: float, pushes_per_s: float, cpu: ServerCpu) -> dict:
    """Open loop: each client asks for the first page once every ``interval`` seconds (random phase)
    whatever the answers' speed, revalidating with If-None-Match as a browser does; meanwhile a
    study on the first page changes and is pushed ``pushes_per_s`` times a second. Latency counts
    from the scheduled time, so a slow server's queueing is not hidden (no coordinated omission)."""
    import random

    import requests

    from worklist.events import study_publish
    from worklist.selectors import worklist_studies

    cookies = [session_for(f"bench-rad-{i}", "radiologist") for i in range(clients)]
    warm_up(url, cookies[0])
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    began = time.monotonic()
    stop_at = began + seconds

    def client(cookie: str) -> None:
        session = requests.Session()
        session.cookies.set("sessionid", cookie)
        etag = None
        due = began + random.uniform(0, interval)
        while due < stop_at:
            time.sleep(max(0.0, due - time.monotonic()))
            headers = {"If-None-Match": etag} if etag else {}
            response = session.get(url + "/api/worklist/", headers=headers, timeout=60)
            took = time.monotonic() - due
            etag = response.headers.get("ETag", etag)
            with lock:
                latencies.append(took)
                statuses.append(response.status_code)
            due += interval

    pushed = [0]

    def pusher() -> None:
        from django.db import connection

        from worklist.models import Study

        ids = list(worklist_studies(user=None).values_list("pk", flat=True)[:200])
        while time.monotonic() < stop_at:
            study = Study.objects.get(pk=random.choice(ids))
            study.save(update_fields=["updated_at"])  # a change: new updated_at, new row, new page ETag
            study_publish(study.pk)
            pushed[0] += 1
            time.sleep(1 / pushes_per_s)
        connection.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
    if pushes_per_s > 0:
        threads.append(threading.Thread(target=pusher))
    with cpu:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ok = sum(1 for s in statuses if s in (200, 304))
    return {"requests": len(latencies), "errors": len(statuses) - ok, "pushes": pushed[0],
            "not_modified": sum(1 for s in statuses if s == 304) / max(1, len(statuses)),
            "median_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 99) * 1000}


async def _sockets(url: str, cookies: list[str], study_id: int, updates: int) -> list[float]:
    from asgiref.sync import sync_to_async
    from websockets.asyncio.client import connect

    from worklist.events import study_publish

    ws_url = url.replace("http://", "ws://") + "/ws/worklist/"
    sockets = []
    for cookie in cookies:
        socket = await connect(ws_url, origin=url, additional_headers={"Cookie": f"sessionid={cookie}"},
                               open_timeout=30, max_queue=None)
        assert json.loads(await socket.recv())["type"] == "hello"
        sockets.append(socket)
    delays: list[float] = []

    async def receive(socket, sent_at: float) -> float:
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
            if message["type"] == "study.updated" and message["study"]["id"] == study_id:
                return time.perf_counter() - sent_at

    for _ in range(updates):
        await asyncio.sleep(0.5)
        sent_at = time.perf_counter()
        waiting = [asyncio.create_task(receive(s, sent_at)) for s in sockets]
        await sync_to_async(study_publish)(study_id)
        delays += await asyncio.gather(*waiting)
    for socket in sockets:
        await socket.close()
    return delays


def bench_ws(url: str, sockets: int, updates: int) -> dict:
    from worklist.models import Study

    cookies = [session_for(f"bench-ws-{i}", "radiologist") for i in range(sockets)]
    study = Study.objects.order_by("-arrived_at").first()
    delays = asyncio.run(_sockets(url, cookies, study.pk, updates))
    within = sum(1 for d in delays if d <= 1.0) / len(delays)
    return {"deliveries": len(delays), "median_ms": statistics.median(delays) * 1000,
            "p99_ms": percentile(delays, 99) * 1000, "max_ms": max(delays) * 1000, "within_1s": within}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--part", choices=("api", "open", "ws", "all"), default="all",
                        help="all: api, open and ws")
    parser.add_argument("--interval", type=float, default=2.0, help="open loop: seconds between a client's requests")
    parser.add_argument("--pushes", type=float, default=1.0, help="open loop: study changes pushed per second")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn processes (the Procfile runs 2)")
    args = parser.parse_args()

    os.environ["REDIS_URL"] = args.redis_url
    os.environ["LOGIN_THROTTLING"] = "0"  # many bench sessions from one address
    import bench_dashboard

    bench_dashboard.setup_django(args.database_url)
    from django.core.management import call_command

    from worklist.models import Study

    call_command("migrate", verbosity=0)
    if Study.objects.count() < 50_000:
        print("filling the bench database with 50,000 studies (bench_dashboard.fill)…", flush=True)
        bench_dashboard.fill(50_000, 60, 1)
    open_studies = Study.objects.filter(reported_at__isnull=True).count()
    server, url = start_server(dict(os.environ), args.web_workers)
    try:
        print(f"\n{Study.objects.count():,} studies ({open_studies:,} open), {args.web_workers} uvicorn process(es), "
              f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        if args.part in ("api", "all"):
            r = bench_api(url, args.clients, args.seconds, cpu := ServerCpu(server))
            print(f"| GET /api/worklist/, {args.clients} concurrent clients, {args.seconds:g} s | median "
                  f"{r['median_ms']:.0f} ms | p99 {r['p99_ms']:.0f} ms | {r['rps']:.1f} req/s | "
                  f"{r['requests']} requests, {r['errors']} errors | server (view) median "
                  f"{r['server_median_ms'] if r['server_median_ms'] is not None else float('nan'):.1f} ms | "
                  f"client CPU {r['client_cpu']:.2f} cores | {cpu.per_request_ms(r['requests'])} | "
                  f"load {os.getloadavg()[0]:.1f} |")
        if args.part in ("open", "all"):
            r = bench_open(url, args.clients, args.interval, args.seconds, args.pushes, cpu := ServerCpu(server))
            print(f"| open loop: {args.clients} clients, one request every {args.interval:g} s each, "
                  f"{args.pushes:g} study change(s) pushed/s, {args.seconds:g} s | median {r['median_ms']:.0f} ms | "
                  f"p99 {r['p99_ms']:.0f} ms | {r['requests']} requests ({r['not_modified']:.0%} 304), "
                  f"{r['errors']} errors, {r['pushes']} pushes | {cpu.per_request_ms(r['requests'])} | "
                  f"load {os.getloadavg()[0]:.1f} |")
        if args.part in ("ws", "all"):
            r = bench_ws(url, args.sockets, args.updates)
            print(f"| {args.sockets} websockets, {args.updates} updates | median {r['median_ms']:.0f} ms | "
                  f"p99 {r['p99_ms']:.0f} ms | max {r['max_ms']:.0f} ms | {r['within_1s']:.1%} within 1 s | "
                  f"load {os.getloadavg()[0]:.1f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
