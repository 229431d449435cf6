"""Every benchmark of issue 6, one after another, and one table: ``python -m benchmarks [--quick] [--only …]``.

Runs the kernel (``benchmarks.run``), bulk issuance (``benchmarks.bulk``) and serving (``benchmarks.serving``),
each on SQLite and then on PostgreSQL, and scale (``benchmarks.scale``), each as its own process with ``--json``
into a temporary directory, never two at once. Then reads their JSON and prints one Markdown table: figure, target,
measured, ratio to baseline, met?, with the environment line above it and the total time below.

A part that fails, or cannot start (no ``wrk``, PostgreSQL unreachable), shows its rows as "not run: <reason>";
the other parts still run, and the exit status is then 1. Missed targets show as "no" and do not change the exit
status. Progress and the parts' own output go to stderr (``--verbose``) or to a log whose last lines are shown
when a part fails; stdout carries only the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.run import cpu_model

ROOT = Path(__file__).resolve().parent.parent

PARTS = ("kernel", "bulk", "serving", "scale")
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
#: The databases bulk and serving each run on, in this order, and the name the table gives each.
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
#: The kernel groups the table needs: the floor (for the cost in Ed25519 signatures), the pyld-only baseline, ours.
KERNEL_GROUPS = "floor,baseline,ours"

# The targets of issue 6.
SIGN_TARGET = 10_000.0
VERIFY_TARGET = 8_000.0
BULK_ROWS = 100_000
BULK_SECONDS = 60.0
BULK_RSS_MB = 500.0
SCALE_AWARDS = 1_000_000
SCALE_P95_MS = 100.0
#: Serving targets (requests/s, p99 ms) used when the serving JSON does not carry its own.
SERVING_TARGETS = {
    "credential.json": (2000.0, 25.0),
    "badge page": (2000.0, 25.0),
    "POST /api/v1/verify": (500.0, 100.0),
}

#: Sizes of a ``--quick`` smoke run.
QUICK_BULK_ROWS = 2_000
QUICK_SCALE_AWARDS = 2_000
QUICK_SCALE_RUNS = 5
QUICK_SERVING = ["--awards", "30", "--duration", "2", "--warmup", "1"]

NOT_RUN = "not run: "


# == running the parts ==============================================================================================


@dataclass
class Step:
    """One process to run: a part of the suite (bulk and serving run as two steps each, one per database)."""

    key: str  # kernel, bulk_sqlite, bulk_postgres, serving_sqlite, serving_postgres, scale
    label: str
    argv: list[str]
    json_path: Path
    skip: str = ""  # why it cannot run, decided before starting it


@dataclass
class Outcome:
    """What one step left behind: its parsed JSON when it ran, else why not."""

    key: str
    data: Any = None
    reason: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    output: str = ""

    @property
    def ran(self) -> bool:
        return self.data is not None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "…"


def _stop(process: subprocess.Popen[str]) -> None:
    """Interrupt the step's process group (so its own clean-up runs), then kill it if it lingers."""
    for sig, grace in ((signal.SIGINT, 30.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue


def run_step(step: Step, *, timeout: float | None = None, echo: bool = False) -> Outcome:
    """Run ``step`` to its end in its own process group and read the JSON it wrote."""
    if step.skip:
        return Outcome(step.key, reason=step.skip)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(step.argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
    lines: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if echo:
                sys.stderr.write(line)
                sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(process)
    except KeyboardInterrupt:
        _stop(process)
        raise
    reader.join(timeout=10)
    output = "".join(lines)
    outcome = Outcome(step.key, returncode=process.returncode, seconds=time.perf_counter() - started, output=output)
    if timed_out:
        outcome.reason = f"timed out after {timeout:.0f} s"
        return outcome
    try:
        outcome.data = json.loads(step.json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        outcome.reason = f"exited with status {process.returncode} without writing its JSON"
        if line := _last_line(output):
            outcome.reason += f" ({line})"
    except ValueError as exc:
        outcome.reason = f"its JSON is unreadable ({exc})"
    return outcome


def postgres_problem(url: str) -> str:
    """Why the PostgreSQL server at ``url`` cannot be used, or "" when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {_redact(url)} ({_last_line(str(exc))})"
    return ""


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":…@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_database(url: str, name: str) -> str:
    """``url`` pointing at the database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def plan(args: argparse.Namespace, workdir: Path, *, which: Callable[[str], str | None] = shutil.which,
         postgres_check: Callable[[str], str] = postgres_problem) -> list[Step]:
    """The steps for the chosen parts, in the order they run; steps that cannot run say why."""
    python = [sys.executable, "-m"]
    steps: list[Step] = []
    pg_problem: str | None = None

    def pg() -> str:
        nonlocal pg_problem
        if pg_problem is None:
            pg_problem = postgres_check(args.postgres)
        return pg_problem

    if "kernel" in args.only:
        path = workdir / "kernel.json"
        argv = [*python, "benchmarks.run", "--only", KERNEL_GROUPS, "--json", str(path)]
        steps.append(Step("kernel", "kernel", [*argv, *(["--quick"] if args.quick else [])], path))
    if "bulk" in args.only:
        rows = args.bulk_rows or (QUICK_BULK_ROWS if args.quick else BULK_ROWS)
        for backend, name in BACKENDS.items():
            path = workdir / f"bulk_{backend}.json"
            argv = [*python, "benchmarks.bulk", "--backend", backend, "--rows", str(rows), "--json", str(path)]
            if args.quick:
                argv += ["--email-sample", "20"]
            if backend == "postgres":
                argv += ["--database-url", args.postgres]
            skip = pg() if backend == "postgres" else ""
            steps.append(Step(f"bulk_{backend}", f"bulk {name}", argv, path, skip=skip))
    if "serving" in args.only:
        no_wrk = "" if which("wrk") else "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)"
        for backend, name in BACKENDS.items():
            path = workdir / f"serving_{backend}.json"
            argv = [*python, "benchmarks.serving", "--json", str(path), *(QUICK_SERVING if args.quick else [])]
            skip = no_wrk
            if backend == "postgres":
                argv += ["--postgres", args.postgres]
                skip = skip or pg()
            steps.append(Step(f"serving_{backend}", f"serving {name}", argv, path, skip=skip))
    if "scale" in args.only:
        path = workdir / "scale.json"
        database = args.scale_db or ("hscale_quick" if args.quick else "hscale")
        awards = args.scale_awards or (QUICK_SCALE_AWARDS if args.quick else SCALE_AWARDS)
        argv = [*python, "benchmarks.scale", "--postgres", with_database(args.postgres, database),
                "--awards", str(awards), "--json", str(path)]
        if args.quick:  # a small throw-away database, seeded afresh: the seeding is part of what a smoke run checks
            argv += ["--runs", str(QUICK_SCALE_RUNS), "--reseed"]
        steps.append(Step("scale", "scale", argv, path, skip=pg()))
    return steps


# == the table ======================================================================================================


@dataclass
class TableRow:
    figure: str
    target: str
    measured: str
    ratio: str = ""
    met: str = ""

    @property
    def not_run(self) -> bool:
        return self.measured.startswith(NOT_RUN)


def _verdict(ok: bool) -> str:
    return "yes" if ok else "no"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _not_run(rows: Sequence[tuple[str, str]], reason: str) -> list[TableRow]:
    return [TableRow(figure, target, NOT_RUN + reason, "", "—") for figure, target in rows]


KERNEL_FIGURES = (
    # (our row, default baseline row, figure, target text, target rate or None for "no slower than the baseline")
    ("ours_sign", "pyld_sign", "sign eddsa-rdfc-2022 OB 3.0, one badge class, one core", "≥ 10,000/s", SIGN_TARGET),
    ("ours_verify", "pyld_verify", "verify eddsa-rdfc-2022 OB 3.0, one badge class, one core", "≥ 8,000/s",
     VERIFY_TARGET),
    ("ours_sign_arbitrary", "pyld_sign_arbitrary", "sign, arbitrary shapes (each shape new), one core",
     "≥ pyld-only baseline", None),
    ("ours_verify_arbitrary", "pyld_verify_arbitrary", "verify, arbitrary shapes (each shape new), one core",
     "≥ pyld-only baseline", None),
)


def kernel_rows(outcome: Outcome | None, *, quick: bool) -> list[TableRow]:
    """Issue 6 target 1 from ``benchmarks.run --json``: rates, cost in Ed25519 signatures, ratio to pyld-only."""
    static = [(figure, target) for _, _, figure, target, _ in KERNEL_FIGURES]
    if outcome is None or not outcome.ran:
        return _not_run(static, outcome.reason if outcome else "no outcome")
    by_key = {row.get("key"): row for row in outcome.data.get("rows", [])}
    floor = by_key.get("ed25519_sign", {}).get("ops_per_s")
    rows = []
    for key, default_base, figure, target, goal in KERNEL_FIGURES:
        row = by_key.get(key)
        if row is None or not row.get("ops_per_s"):
            why = (row or {}).get("note") or f"no {key} figure in the kernel JSON"
            rows.append(TableRow(figure, target, NOT_RUN + why, "", "—"))
            continue
        rate = float(row["ops_per_s"])
        measured = f"{_rate(rate)}/s"
        if floor:
            cost = float(floor) / rate
            measured += f" ({cost:.1f} Ed25519 signatures each)" if cost < 100 else \
                f" ({cost:,.0f} Ed25519 signatures each)"
        base = by_key.get(row.get("baseline") or default_base, {})
        base_rate = base.get("ops_per_s")
        ratio = f"{rate / base_rate:,.2f}× pyld-only ({_rate(base_rate)}/s)" if base_rate else "n/a (no baseline row)"
        if quick:
            met = "n/a (quick)"
        elif goal is not None:
            met = _verdict(rate >= goal)
        else:
            met = _verdict(rate >= base_rate) if base_rate else "n/a"
        rows.append(TableRow(figure, target, measured, ratio, met))
    return rows


BULK_TARGET = f"≤ {BULK_SECONDS:.0f} s, peak ≤ {BULK_RSS_MB:.0f} MB ({BULK_ROWS:,} rows)"


def bulk_row(backend: str, outcome: Outcome | None, *, quick: bool) -> TableRow:
    """Issue 6 target 3 for one database from ``benchmarks.bulk --json`` (a list with one entry per backend)."""
    name = BACKENDS[backend]
    figure = f"bulk: CSV to issued awards, {name}"
    if outcome is None or not outcome.ran:
        return _not_run([(figure, BULK_TARGET)], outcome.reason if outcome else "no outcome")[0]
    entries = outcome.data if isinstance(outcome.data, list) else [outcome.data]
    found = next((e for e in entries if isinstance(e, dict) and e.get("backend") == backend), None)
    if found is None:
        return _not_run([(figure, BULK_TARGET)], f"no {backend} entry in the bulk JSON")[0]
    rows, total, peak = int(found["rows"]), float(found["total_s"]), float(found["peak_rss_mb"])
    figure = f"bulk: {rows:,}-row CSV to issued awards, {name}"
    measured = f"{total:,.1f} s ({float(found.get('rows_per_s', 0)):,.0f} rows/s issuing), peak {peak:,.0f} MB"
    problems = []
    signing = found.get("signing", "kernel")
    if signing != "kernel":
        problems.append(f"signing {signing}")
    if found.get("failed"):
        problems.append(f"{found['failed']:,} rows failed")
    if "issued" in found and int(found["issued"]) != rows:
        problems.append(f"{int(found['issued']):,} of {rows:,} issued")
    if problems:
        measured += "; " + ", ".join(problems)
    # The per-row issue_award path, timed by benchmarks.bulk on a sample and scaled to the job.
    base = found.get("baseline_total_s")
    ratio = f"{float(base) / total:,.2f}× per-row issue_award ({float(base):,.1f} s)" if base else \
        "n/a (no per-row issue_award figure in the bulk JSON)"
    if quick or rows < BULK_ROWS:
        met = f"n/a ({'quick' if quick else f'{rows:,} rows'})"
    else:
        met = _verdict(total <= BULK_SECONDS and peak <= BULK_RSS_MB and not problems)
    return TableRow(figure, BULK_TARGET, measured, ratio, met)


SERVING_FIGURES = (
    ("credential.json", "serving: public credential.json, 64 connections"),
    ("badge page", "serving: public badge page, 64 connections"),
    ("POST /api/v1/verify", "serving: POST /api/v1/verify (OB 3.0), 64 connections"),
)


def _serving_target(rps: float, p99: float) -> str:
    return f"≥ {rps:,.0f} req/s, p99 ≤ {p99:.0f} ms"


def serving_rows(backend: str, outcome: Outcome | None, *, quick: bool) -> list[TableRow]:
    """Issue 6 target 4 for one database from ``benchmarks.serving --json`` (a list of wrk results by name)."""
    figures = [(name, f"{figure}, {BACKENDS[backend]}") for name, figure in SERVING_FIGURES]
    static = [(figure, _serving_target(*SERVING_TARGETS[name])) for name, figure in figures]
    if outcome is None or not outcome.ran:
        return _not_run(static, outcome.reason if outcome else "no outcome")
    by_name = {entry.get("name"): entry for entry in outcome.data if isinstance(entry, dict)}
    rows = []
    for (name, figure), (_, default_target) in zip(figures, static, strict=True):
        entry = by_name.get(name)
        if entry is None:
            rows.append(TableRow(figure, default_target, NOT_RUN + f"no {name!r} figure in the serving JSON", "", "—"))
            continue
        goal_rps = float(entry.get("target_rps") or SERVING_TARGETS[name][0])
        goal_p99 = float(entry.get("target_p99_ms") or SERVING_TARGETS[name][1])
        rps, p50, p99 = float(entry["requests_per_second"]), float(entry["p50_ms"]), float(entry["p99_ms"])
        measured = f"{rps:,.0f} req/s, p50 {p50:,.1f} ms, p99 {p99:,.1f} ms"
        non_2xx, errors = int(entry.get("non_2xx", 0)), int(entry.get("errors", 0))
        if non_2xx:
            measured += f"; {non_2xx:,} non-2xx"
        if errors:
            measured += f"; {errors:,} socket errors"
        met = "n/a (quick)" if quick else _verdict(rps >= goal_rps and p99 <= goal_p99 and not non_2xx)
        rows.append(TableRow(figure, _serving_target(goal_rps, goal_p99), measured,
                             "n/a (no uncached figure in the serving JSON)", met))
    return rows


SCALE_GROUPS = (
    # (group, figure, names starting with one of these)
    ("list", "scale: issuer's award list (page 1, via Next, last, filters, search)", ("award list",)),
    ("api", "scale: issuer's award list, API (first, next, filters)", ("API list",)),
    ("wallet", "scale: earner's wallet (pages, search)", ("earner's wallet",)),
    ("counts", "scale: analytics counts (dashboard, per award, organisation totals)",
     ("dashboard", "counts for", "org totals", "award detail")),
)
SCALE_TARGET = f"p95 ≤ {SCALE_P95_MS:.0f} ms ({SCALE_AWARDS:,} awards)"
SCALE_TYPED = "scale: deep page typed by number (worst case, no target)"
SCALE_QUERIES = "scale: no query count grows with page size"
SCALE_QUERIES_TEST = "tests/platform/test_scale_queries.py"


def _scale_group(name: str) -> str:
    for group, _, prefixes in SCALE_GROUPS:
        if name.startswith(prefixes):
            return group
    return "other"


def scale_award_count(output: str) -> int | None:
    """The award count ``benchmarks.scale`` prints above its table (its JSON does not carry it)."""
    found = re.findall(r"Scale: ([\d,]+) awards", output)
    return int(found[-1].replace(",", "")) if found else None


def _worst(results: Sequence[Mapping[str, Any]]) -> str:
    worst = max(results, key=lambda r: float(r["p95"]))
    return (f"worst p95 {float(worst['p95']):,.1f} ms of {len(results)} figures "
            f"({worst['name']}, {worst.get('level', '')})")


def scale_rows(outcome: Outcome | None, *, quick: bool) -> list[TableRow]:
    """Issue 6 target 5 from ``benchmarks.scale --json``: the worst p95 of each group of figures."""
    static = [(figure, SCALE_TARGET) for _, figure, _ in SCALE_GROUPS]
    static += [(SCALE_TYPED, "none"), (SCALE_QUERIES, "constant")]
    if outcome is None or not outcome.ran:
        return _not_run(static, outcome.reason if outcome else "no outcome")
    results = [r for r in outcome.data if isinstance(r, dict) and "p95" in r]
    awards = scale_award_count(outcome.output)
    at = f" at {awards:,} awards" if awards is not None else ""
    rows = []
    groups = [*SCALE_GROUPS, ("other", "scale: other figures", ())]
    for group, figure, _ in groups:
        found = [r for r in results if r.get("targeted", True) and _scale_group(str(r["name"])) == group]
        if not found:
            if group != "other":
                rows.append(TableRow(figure, SCALE_TARGET, NOT_RUN + "no such figure in the scale JSON", "", "—"))
            continue
        ok = all(r.get("ok", float(r["p95"]) <= SCALE_P95_MS) for r in found)
        if quick:
            met = "n/a (quick)"
        elif awards is not None and awards < SCALE_AWARDS * 0.99:
            met = f"n/a ({awards:,} awards)"
        else:
            met = _verdict(ok)
        rows.append(TableRow(figure, SCALE_TARGET, _worst(found) + at, "n/a", met))
    typed = [r for r in results if not r.get("targeted", True)]
    rows.append(TableRow(SCALE_TYPED, "none", _worst(typed) + at if typed else "no such figure in the scale JSON",
                         "n/a", "—"))
    queries = {(r["name"], r.get("level")): r.get("queries") for r in results}
    deep = next((name for name, level in queries if name.endswith("via Next") and level == "query"), None)
    first = queries.get(("award list, page 1", "query"))
    depth = ""
    if deep is not None and first is not None:
        depth = (f"; queries per award list page in this run: {first} (page 1), {queries[(deep, 'query')]} "
                 f"({deep.removeprefix('award list, ')})")
    rows.append(TableRow(SCALE_QUERIES, "constant",
                         f"not in the scale JSON: tested in CI by {SCALE_QUERIES_TEST}{depth}", "n/a", "by test"))
    return rows


def build_rows(outcomes: Mapping[str, Outcome], only: Sequence[str], *, quick: bool) -> list[TableRow]:
    """The table's rows for the chosen parts, from the steps' outcomes (a missing outcome is a part not run)."""
    rows: list[TableRow] = []
    if "kernel" in only:
        rows += kernel_rows(outcomes.get("kernel"), quick=quick)
    if "bulk" in only:
        rows += [bulk_row(backend, outcomes.get(f"bulk_{backend}"), quick=quick) for backend in BACKENDS]
    if "serving" in only:
        for backend in BACKENDS:
            rows += serving_rows(backend, outcomes.get(f"serving_{backend}"), quick=quick)
    if "scale" in only:
        rows += scale_rows(outcomes.get("scale"), quick=quick)
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_table(rows: Sequence[TableRow]) -> str:
    lines = ["| figure | target | measured | ratio to baseline | met? |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(_cell(c) for c in (r.figure, r.target, r.measured, r.ratio, r.met))} |" for r in rows]
    return "\n".join(lines)


# == environment ====================================================================================================


def revision() -> str:
    """The commit measured, flagged when the code under measurement has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "insignia", "benchmarks"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return f"{commit} + uncommitted changes" if dirty else commit


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def environment() -> dict[str, Any]:
    return {"cpu": cpu_model(), "cores": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "commit": revision(), "load_average_start": load_average()}


def environment_line(env: Mapping[str, Any]) -> str:
    return (f"Environment: {env['cpu']} ({env['cores']} cores) · {env['python']} · insignia {env['commit']} · "
            f"load average {env['load_average_start']} at the start, {env.get('load_average_end', '?')} at the end")


# == the command ====================================================================================================


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run at small sizes (kernel --quick, 2,000 bulk rows, 2 s of wrk, a "
                             "2,000-award scale database of its own); its figures are not measurements")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts (default: {','.join(PARTS)})")
    parser.add_argument("--json", metavar="PATH", help="also write the table and every part's figures as JSON")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES,
                        help="the PostgreSQL server for bulk, serving and scale (default: DATABASE_URL, else "
                             f"{DEFAULT_POSTGRES}); bulk and serving create and drop their own databases on it")
    parser.add_argument("--scale-db", metavar="NAME",
                        help="the database scale seeds and reuses (default hscale; with --quick hscale_quick, "
                             "seeded afresh each time)")
    parser.add_argument("--scale-awards", type=int, help="awards in the scale database (default 1,000,000)")
    parser.add_argument("--bulk-rows", type=int, help="rows of the bulk CSV (default 100,000)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds each part may take (default 7200)")
    parser.add_argument("--verbose", action="store_true", help="pass every part's own output through to stderr")
    args = parser.parse_args(argv)
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = [part for part in args.only if part not in PARTS]
    if unknown or not args.only:
        parser.error(f"unknown part(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(PARTS)}")
    return args


def _part_summary(step: Step, outcome: Outcome) -> str:
    if not outcome.ran:
        return f"{step.label} not run"
    text = f"{step.label} {outcome.seconds:,.0f} s"
    share = outcome.data.get("cpu_share") if isinstance(outcome.data, dict) else None
    if share:  # the kernel says how much of the CPU it had: the rest went to other processes
        text += f" (had the CPU {float(share):.0%} of it)"
    return text


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    started = time.perf_counter()
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="insignia-benchmarks-") as tmp:
        steps = plan(args, Path(tmp))
        for number, step in enumerate(steps, 1):
            prefix = f"[{number}/{len(steps)}] {step.label}"
            if not step.skip:
                _say(f"{prefix}: {' '.join(step.argv[2:])}")
            outcome = run_step(step, timeout=args.timeout, echo=args.verbose)
            outcomes[step.key] = outcome
            if outcome.ran:
                note = f" (exit status {outcome.returncode})" if outcome.returncode else ""
                _say(f"{prefix}: done in {outcome.seconds:,.0f} s{note}")
            else:
                _say(f"{prefix}: {NOT_RUN}{outcome.reason}")
                if outcome.output and not args.verbose:
                    tail = outcome.output.splitlines()[-25:]
                    _say("\n".join(f"    {line}" for line in tail))
    env["load_average_end"] = load_average()
    elapsed = time.perf_counter() - started
    rows = build_rows(outcomes, args.only, quick=args.quick)

    print(environment_line(env))
    parts = ", ".join(_part_summary(step, outcomes[step.key]) for step in steps)
    kind = "quick smoke run (small sizes: the figures are not measurements)" if args.quick else "full run"
    print(f"Run: {kind}; parts one after another, each in its own process: {parts}")
    print()
    print(format_table(rows))
    print()
    print(f"Total time: {elapsed:,.1f} s")
    if args.json:
        report = {
            "environment": env, "quick": args.quick, "seconds": round(elapsed, 1),
            "rows": [asdict(row) for row in rows],
            "parts": {key: {"ran": o.ran, "reason": o.reason, "returncode": o.returncode,
                            "seconds": round(o.seconds, 1), "figures": o.data,
                            **({"awards": scale_award_count(o.output)} if key == "scale" and o.ran else {})}
                      for key, o in outcomes.items()},
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _say(f"Wrote {args.json}")
    return 1 if any(row.not_run for row in rows) else 0


__all__ = ["Outcome", "Step", "TableRow", "build_rows", "format_table", "main", "plan", "run_step"]
