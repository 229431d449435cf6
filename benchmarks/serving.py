"""Serving benchmark: the production server under ``wrk`` (issue 6, target 4).

``python -m benchmarks.serving [--awards 1000] [--duration 10] [--connections 64] [--postgres URL] [--json PATH]
[--server granian,gunicorn]``

What it does, in order:

1. makes a temporary data directory and database (SQLite there, or a fresh PostgreSQL database next to the
   one ``--postgres`` names), migrates it and seeds one organisation, issuer and badge with ``--awards``
   signed OB 3.0 awards (through ``issue_award``, the real path), made public (the whole page renders);
2. starts the production server (granian through ``insignia.site.server``, or with ``--server gunicorn`` gunicorn
   with ``insignia.site.gunicorn_config``: exactly the worker model ``insignia serve`` uses),
   ``INSIGNIA_ENV=production``, DEBUG off, no access log, on a free port;
3. runs ``wrk`` with 64 connections against (a) ``/c/<id>/credential.json`` rotating over every award,
   (b) the public page ``/c/<id>`` rotating likewise, (c) ``POST /api/v1/verify`` rotating over every award's
   stored OB 3.0 credential (rate limit off), after a warm-up each (the first three until each worker's
   cache holds every award once, as in a steady state; ``--cache-url redis://…`` shares one cache between workers), and
   (d), for information, the same credentials with a ``recipient`` to check, which no cached verdict answers:
   the whole verification on every request (the kernel's cost, and what verifying a credential from
   elsewhere costs);
4. prints requests/s and p50/p99 latency beside the target for each, and the CPU time the server's processes
   and wrk spent per request (µs, from /proc and getrusage: unlike rates, barely moved by other load).

wrk runs on the same two cores as the server, so the figures include the load generator's own cost.
The load average before the run is printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

#: (name, path label, requests/s target, p99 target in ms)
TARGETS = {
    "credential.json": (2000.0, 25.0),
    "badge page": (2000.0, 25.0),
    "POST /api/v1/verify": (500.0, 100.0),
}
#: Figures measured for information, beside the targets (the same goal shown for comparison).
INFO = {
    "verify, full check": (500.0, 100.0),
}

ROTATE_LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local counter = 0
local suffix = "%(suffix)s"
-- each run (and thread) starts at a random award, so warm-up rounds and the measurement cover them all
init = function(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000) + #tostring({}))
  counter = math.random(#ids)
end
request = function()
  counter = counter + 1
  local id = ids[(counter %% #ids) + 1]
  return wrk.format("GET", "/c/" .. id .. suffix, {["Accept"] = "%(accept)s"})
end
"""

POST_LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local counter = 0
init = function(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000) + #tostring({}))
  counter = math.random(#bodies)
end
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[(counter %% #bodies) + 1])
end
"""


BENCH_BASE_URL = "https://badges.bench.example"


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx: int
    target_rps: float
    target_p99_ms: float
    #: CPU time of the server's processes (gunicorn's master and workers, SQLite included; not PostgreSQL's own
    #: processes) and of wrk, per request served in the measured run, in µs (0 when it could not be read).
    server_cpu_us: float = 0.0
    wrk_cpu_us: float = 0.0

    @property
    def met(self) -> bool:
        return self.requests_per_second >= self.target_rps and self.p99_ms <= self.target_p99_ms


# == set-up (runs in a child process with the benchmark's environment) ============================================


def seed(count: int, out: Path) -> None:
    """Migrate, then one organisation, issuer and published badge with ``count`` awards; write their ids."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.site.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.utils import timezone

    from insignia.awards.services import issue_award
    from insignia.badges.services import create_badge, publish_badge
    from insignia.core.services import create_organisation
    from insignia.issuers.services import create_issuer

    user = get_user_model().objects.create_user(email="bench@example.org", password=secrets.token_urlsafe(16),
                                                display_name="Bench Owner")
    actor = create_organisation(user=user, name="Benchmark Academy")
    issuer = create_issuer(actor=actor, name="Benchmark Academy", url="https://bench.example",
                           email="badges@bench.example")
    badge = create_badge(actor=actor, issuer=issuer, name="Data Stewardship",
                         description="Curates, documents and protects research data.",
                         criteria_narrative="Pass the **final assessment** with at least 80%.",
                         tags=["data"], design={"initials": "DS"})
    badge = publish_badge(actor=actor, badge=badge)
    ids: list[str] = []
    bodies: list[str] = []  # POST /api/v1/verify bodies, one a line: each award's stored credential
    full: list[str] = []  # the same, with the recipient to check (so no cached verdict can answer)
    # Issued yesterday, as most served awards were: a verdict is re-checked when an instant it depends on passes
    # (issue time + the verifier's clock skew), which would otherwise fall inside the run.
    issued_on = timezone.now().replace(microsecond=0) - timedelta(days=1)
    for number in range(count):
        award = issue_award(actor=actor, badge=badge, recipient=f"learner{number}@example.org",
                            recipient_name=f"Learner {number}", narrative="Completed the *capstone* project.",
                            issued_on=issued_on)
        ids.append(award.public_id)
        bodies.append(json.dumps({"credential": award.credential}))
        full.append(json.dumps({"credential": award.credential, "recipient": f"learner{number}@example.org"}))
        if number == 0:
            (out.parent / "credential.json").write_text(bodies[0], encoding="utf-8")
    from insignia.awards.models import Award

    # Public pages show details: make them listed so the whole page renders, as a shared badge does.
    Award.objects.filter(public_id__in=ids).update(visibility="public", acceptance="accepted")
    out.write_text("\n".join(ids) + "\n", encoding="utf-8")
    (out.parent / "verify.jsonl").write_text("\n".join(bodies) + "\n", encoding="utf-8")
    (out.parent / "verify-full.jsonl").write_text("\n".join(full) + "\n", encoding="utf-8")


# == the run =======================================================================================================


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _postgres_database(url: str) -> tuple[str, str]:
    """A fresh database on the server ``url`` names: (its URL, its name)."""
    import psycopg

    name = f"insignia_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), name


def _drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited with {process.returncode} before answering.")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/verify", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.3)
    raise SystemExit("The server did not answer within a minute.")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"Cannot read the latency {text!r} from wrk.")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50, p99, request, error and non-2xx counts from ``wrk --latency`` output."""
    found: dict[str, float] = {"errors": 0.0, "non_2xx": 0.0}
    for line in output.splitlines():
        line = line.strip()
        if match := re.match(r"(50|99)(?:\.000)?%\s+(\S+)", line):
            found[f"p{match.group(1)}"] = _ms(match.group(2))
        elif match := re.match(r"Requests/sec:\s+([\d.]+)", line):
            found["rps"] = float(match.group(1))
        elif match := re.match(r"(\d+) requests in", line):
            found["requests"] = float(match.group(1))
        elif line.startswith("Socket errors:"):
            found["errors"] = float(sum(int(n) for n in re.findall(r"\d+", line)))
        elif match := re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line):
            found["non_2xx"] = float(match.group(1))
    missing = {"rps", "p50", "p99", "requests"} - set(found)
    if missing:
        raise SystemExit(f"Could not read {', '.join(sorted(missing))} from wrk's output:\n{output}")
    return found


#: Warm-up requests per award and worker. Each request goes to a random award and (by its connection) a random
#: worker, so a worker has never seen a given award with probability about e^-WARM_FILL: with 4, ~2% of them
#: (~40 of 1,000 over two workers), rendered in the measured run's first second and that run's p99 with them
#: (measured on PostgreSQL: 36-84 renders, p99 15.8-36.0 ms between runs); with 10, ~0.005%.
WARM_FILL = 10


def warm_up(base: list[str], url: str, seconds: float, *, fill: int = 0, limit: float = 300.0) -> int:
    """Run wrk for ``seconds``; with ``fill`` > 0, repeat until that many requests were served in warm-up (so
    each worker's own cache holds every page) or ``limit`` seconds passed. Returns the requests served."""
    if seconds <= 0:
        return 0
    served, started = 0, time.monotonic()
    while True:
        output = subprocess.run([*base, f"-d{max(1, round(seconds))}s", url], capture_output=True, text=True,
                                check=True).stdout
        served += int(parse_wrk(output)["requests"])
        if not fill or served >= fill or time.monotonic() - started > limit:
            if fill:
                print(f"# warm-up: {served:,} requests in {time.monotonic() - started:.0f} s "
                      f"({'filled' if served >= fill else f'stopped at the time limit before {fill:,}'})", flush=True)
            return served


def group_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process in process group ``group`` (Linux /proc; 0 elsewhere)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:  # pgrp; then utime and stime at 11 and 12
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(name: str, url: str, script: Path, *, connections: int, threads: int, duration: float,
            warmup: float, fill: int = 0, server_group: int = 0) -> Result:
    base = ["wrk", f"-t{threads}", f"-c{connections}", "--latency", "-s", str(script), "--timeout", "10s"]
    warm_up(base, url, warmup, fill=fill)
    server_before, wrk_before = group_cpu_seconds(server_group) if server_group else 0.0, _children_cpu()
    output = subprocess.run([*base, f"-d{max(1, round(duration))}s", url], capture_output=True, text=True,
                            check=True).stdout
    server_after, wrk_after = group_cpu_seconds(server_group) if server_group else 0.0, _children_cpu()
    figures = parse_wrk(output)
    served = max(1, int(figures["requests"]))
    target_rps, target_p99 = TARGETS.get(name) or INFO[name]
    return Result(name=name, requests_per_second=figures["rps"], p50_ms=figures["p50"], p99_ms=figures["p99"],
                  requests=int(figures["requests"]), errors=int(figures["errors"]), non_2xx=int(figures["non_2xx"]),
                  target_rps=target_rps, target_p99_ms=target_p99,
                  server_cpu_us=round((server_after - server_before) / served * 1e6, 1),
                  wrk_cpu_us=round((wrk_after - wrk_before) / served * 1e6, 1))


def check_verify(base: str, body_file: Path) -> str:
    """The verdict the running server gives the benchmark credential (it must be ``valid``)."""
    request = urllib.request.Request(f"{base}/api/v1/verify", data=body_file.read_bytes(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(json.loads(response.read())["verdict"])


def _met(result: Result) -> str:
    if result.name in INFO:
        return "(info)"
    return "yes" if result.met else "NO"


def print_table(results: list[Result]) -> None:
    print(f"{'figure':<22} {'requests/s':>11} {'target':>8} {'p50 ms':>8} {'p99 ms':>8} {'target':>7}  "
          f"{'non-2xx':>7} {'errors':>6}  met  {'server µs/req':>13} {'wrk µs/req':>10}")
    for result in results:
        print(f"{result.name:<22} {result.requests_per_second:>11,.0f} {result.target_rps:>8,.0f} "
              f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.target_p99_ms:>7.0f}  {result.non_2xx:>7} "
              f"{result.errors:>6}  {_met(result):<3}  {result.server_cpu_us:>13,.0f} "
              f"{result.wrk_cpu_us:>10,.0f}")


def server_argv(port: int, workers: int, threads: int, worker_class: str, server: str = "granian") -> list[str]:
    """The server as ``insignia serve`` starts it (``server``: granian or gunicorn), minus the access log (its cost
    is not the app's). ``threads`` goes to granian through INSIGNIA_THREADS (see ``server_env``)."""
    if server == "granian":
        argv = [sys.executable, "-m", "insignia.site.server", "--host", "127.0.0.1", "--port", str(port)]
        return argv + (["--workers", str(workers)] if workers else [])
    argv = [sys.executable, "-m", "gunicorn", "insignia.site.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--config", "python:insignia.site.gunicorn_config", "--graceful-timeout", "20", "--timeout", "120"]
    if workers:
        argv += ["--workers", str(workers)]
    if worker_class:
        argv += ["--worker-class", worker_class]
    if threads:
        argv += ["--threads", str(threads)]
    return argv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--awards", type=int, default=1000, help="awards to seed (default 1000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per figure (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per figure (default 2)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: the config's choice)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: the config's)")
    parser.add_argument("--worker-class", default="", help="gunicorn worker class (default: the config's)")
    parser.add_argument("--server", default="",
                        help="granian, gunicorn, or both comma-separated (each run on the same data; default: "
                             "INSIGNIA_SERVER or what `insignia serve` runs)")
    parser.add_argument("--postgres", metavar="URL", help="run on a fresh database on this PostgreSQL server")
    parser.add_argument("--cache-url", metavar="URL", help="INSIGNIA_CACHE_URL for the server (e.g. redis://…)")
    parser.add_argument("--only", default="", help="comma-separated: json,page,verify,verify-full")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and print it)")
    parser.add_argument("--data", metavar="DIR",
                        help="SQLite only: seed into DIR and keep it, or reuse what an earlier run seeded there")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed. Install it (Debian/Ubuntu: `apt-get install -y wrk`; macOS: `brew install wrk`) "
              "and run again.", file=sys.stderr)
        return 2
    only = ({part.strip() for part in args.only.split(",") if part.strip()}
            or {"json", "page", "verify", "verify-full"})

    if args.data and args.postgres:
        parser.error("--data keeps a SQLite data directory; it does not combine with --postgres")
    workdir = Path(args.data).resolve() if args.data else Path(tempfile.mkdtemp(prefix="insignia-serving-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "INSIGNIA_ENV": "production",
        "INSIGNIA_DEBUG": "0",
        "INSIGNIA_DATA_DIR": str(workdir / "data"),
        # A public https origin, as in production (did:web refuses loopback hosts); wrk connects to 127.0.0.1 and
        # the server answers its own URLs in-process, so the name never needs to resolve.
        "INSIGNIA_BASE_URL": BENCH_BASE_URL,
        "INSIGNIA_ALLOWED_HOSTS": "127.0.0.1,localhost,badges.bench.example",
        "INSIGNIA_SECRET_KEY": secrets.token_urlsafe(48),
        "INSIGNIA_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "INSIGNIA_VERIFY_RATE_LIMIT": "off",
        "INSIGNIA_LOG_LEVEL": "WARNING",
        "INSIGNIA_ACCESS_LOG": "off",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    if args.cache_url:
        env["INSIGNIA_CACHE_URL"] = args.cache_url
    if args.threads:
        env["INSIGNIA_THREADS"] = str(args.threads)
    from insignia.site import server as servers

    chosen = [name.strip() for name in (args.server or os.environ.get("INSIGNIA_SERVER", "")
                                         or servers.DEFAULT_SERVER).split(",") if name.strip()]
    unknown = set(chosen) - set(servers.SERVERS)
    if unknown:
        parser.error(f"unknown server {', '.join(sorted(unknown))}: choose from {', '.join(servers.SERVERS)}")
    pg_name = ""
    if args.postgres:
        env["DATABASE_URL"], pg_name = _postgres_database(args.postgres)
    else:
        env.pop("DATABASE_URL", None)
    try:
        print(f"# serving benchmark: {args.awards} awards on {'PostgreSQL' if args.postgres else 'SQLite'}, "
              f"{os.cpu_count()} CPUs, load average before seeding {_load()}", flush=True)
        ids_file = workdir / "ids.txt"
        started = time.perf_counter()
        if args.data and ids_file.exists() and (workdir / "seed.json").exists():
            print(f"# reusing the awards seeded in {workdir}", flush=True)
            env.update(json.loads((workdir / "seed.json").read_text(encoding="utf-8")))  # the same keys
        else:
            subprocess.run([sys.executable, "-m", "benchmarks.serving", "_seed", str(args.awards), str(ids_file)],
                           cwd=ROOT, env=env, check=True)
            print(f"# seeded in {time.perf_counter() - started:.1f} s", flush=True)
            if args.data:
                keys = ("INSIGNIA_SECRET_KEY", "INSIGNIA_KEY_ENCRYPTION_KEY")
                (workdir / "seed.json").write_text(json.dumps({key: env[key] for key in keys}), encoding="utf-8")
        scripts = {
            "json": workdir / "json.lua", "page": workdir / "page.lua", "verify": workdir / "verify.lua",
            "verify-full": workdir / "verify-full.lua",
        }
        scripts["json"].write_text(ROTATE_LUA % {"ids": ids_file, "suffix": "/credential.json",
                                                 "accept": "application/vc+ld+json"}, encoding="utf-8")
        scripts["page"].write_text(ROTATE_LUA % {"ids": ids_file, "suffix": "", "accept": "text/html"},
                                   encoding="utf-8")
        scripts["verify"].write_text(POST_LUA % {"bodies": workdir / "verify.jsonl"}, encoding="utf-8")
        scripts["verify-full"].write_text(POST_LUA % {"bodies": workdir / "verify-full.jsonl"}, encoding="utf-8")
        every: dict[str, list[Result]] = {}
        for name in chosen:  # each on the same data, one after the other
            results = run_server(name, args, env, workdir, scripts, only)
            if results is None:
                return 1
            every[name] = results
        for name, results in every.items():
            print(f"# {name}")
            print_table(results)
        if args.json:
            figures = [{"server": name, **asdict(r)} for name, results in every.items() for r in results]
            Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
        return 0 if all(r.non_2xx == 0 for results in every.values() for r in results) else 1
    finally:
        if pg_name and args.postgres:
            _drop_postgres(args.postgres, pg_name)
        if args.keep or args.data:
            print(f"# kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_server(name: str, args: argparse.Namespace, env: dict[str, str], workdir: Path, scripts: dict[str, Path],
               only: set[str]) -> list[Result] | None:
    """Start server ``name`` on a free port, run the figures against it, stop it (SIGTERM, as a deployment
    would); None when the benchmark credential does not verify."""
    port = free_port()
    argv = server_argv(port, args.workers, args.threads, args.worker_class, name)
    log = (workdir / f"server-{name}.log").open("wb")
    server = subprocess.Popen(argv, cwd=ROOT, env={**env, "INSIGNIA_SERVER": name}, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(port, server)
        print(f"# server ({name}): {' '.join(argv[2:])}; INSIGNIA_THREADS={env.get('INSIGNIA_THREADS', 'default')}",
              flush=True)
        print(f"# wrk: {args.connections} connections, {args.wrk_threads} threads, {args.duration:.0f} s per figure "
              f"after {args.warmup:.0f} s warm-up; load average now {_load()}", flush=True)
        base = f"http://127.0.0.1:{port}"
        from insignia.site import gunicorn_config

        workers = args.workers or gunicorn_config.workers  # each fills its own cache in the warm-ups
        verdict = check_verify(base, workdir / "credential.json")
        print(f"# POST /api/v1/verify of the benchmark credential says: {verdict}", flush=True)
        if verdict != "valid":
            print("# the credential does not verify as valid: the figures would not be meaningful", file=sys.stderr)
            return None
        plan = [("json", "credential.json", base + "/"), ("page", "badge page", base + "/"),
                ("verify", "POST /api/v1/verify", base + "/api/v1/verify"),
                ("verify-full", "verify, full check", base + "/api/v1/verify")]
        results = []
        for key, figure, url in plan:
            if key in only:
                results.append(run_wrk(figure, url, scripts[key], connections=args.connections,
                                       threads=args.wrk_threads, duration=args.duration, warmup=args.warmup,
                                       fill=WARM_FILL * args.awards * workers if key in ("json", "page", "verify")
                                       else 0,
                                       server_group=server.pid))
                print(f"# {name}, {figure}: load average now {_load()}", flush=True)
        return results
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_seed":
        seed(int(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
