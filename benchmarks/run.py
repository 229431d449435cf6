"""Run every kernel benchmark and print one table: ``python -m benchmarks.run [--quick] [--json PATH]``.

Single process, pinned to one CPU core where the OS allows it. See ``benchmarks/README.md`` for what
each figure means and for the method.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.kernel import FIGURES, Fixture, Row, Settings, cross_check, describe_input, run_figures

ROOT = Path(__file__).resolve().parent.parent


def pin_to_one_core(core: int = 0) -> str:
    """Pin this process to ``core``; say what happened."""
    setter = getattr(os, "sched_setaffinity", None)
    if setter is None:
        return "not pinned (os.sched_setaffinity is unavailable here)"
    try:
        setter(0, {core})
    except OSError as exc:
        return f"not pinned ({exc})"
    return f"pinned to core {core} (os.sched_setaffinity)"


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def source_revision() -> str:
    """The git commit of the tree being measured, flagged when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "insignia"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return f"{commit} + uncommitted changes under insignia/" if dirty else commit


def environment(pinning: str) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "pinning": pinning,
        "pyld": _version("pyld"),
        "cryptography": _version("cryptography"),
        "insignia": source_revision(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _cost(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def format_table(rows: Sequence[Row]) -> str:
    """One Markdown table: figure, target, median rate and spread, time per op, cost, ratio to its baseline."""
    by_key = {row.key: row for row in rows}
    floor = by_key.get("ed25519_sign")
    floor_rate = floor.timing.median if floor is not None and floor.timing is not None else None
    lines = [
        "| # | figure | target | ops/s (median) | min–max | µs/op | × Ed25519 sign | vs baseline |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.timing is None:
            lines.append(f"| {row.group} | {row.figure} | {row.target} | {row.note} | | | | |")
            continue
        timing = row.timing
        cost = _cost(floor_rate / timing.median) if floor_rate else ""
        ratio = ""
        base = by_key.get(row.baseline) if row.baseline else None
        if base is not None and base.timing is not None:
            ratio = f"{timing.median / base.timing.median:,.2f}× {base.key}"
        lines.append(
            f"| {row.group} | {row.figure} | {row.target} | **{_rate(timing.median)}** | "
            f"{_rate(timing.low)}–{_rate(timing.high)} | {1e6 / timing.median:,.1f} | {cost} | {ratio} |"
        )
    return "\n".join(lines)


def format_header(env: dict[str, Any], sizes: dict[str, Any], checks: dict[str, Any], settings: Settings) -> str:
    """The environment, input and method lines printed above the table."""
    load = env.get("load_average")
    busy = ""
    if load:
        busy = f"load average {load[0]:.2f} at the start"
        if load[0] > 0.5:
            busy += " (other processes compete for the CPU: trust ratios over absolute rates)"
    method = (
        "quick smoke run: 1 repeat of a few ops (not a measurement)"
        if settings.quick
        else f"warm-up, then {settings.repeats} repeats of ~{settings.repeat_seconds} s each, round-robin over all "
        "figures; median (min–max)"
    )
    return "\n".join(
        [
            f"Environment: {env['python']} · {env['cpu']} ({env['cores']} cores) · {env['pinning']} · "
            f"pyld {env['pyld']} · cryptography {env['cryptography']} · insignia {env['insignia']}",
            f"Input: OB 3.0 credential, {sizes['credential_bytes']:,} B compact JSON, {sizes['quads']} quads, "
            f"{sizes['blank_nodes']} blank nodes, {sizes['nquads_bytes']:,} B canonical N-Quads; "
            f"{sizes['distinct_sign_inputs']:,} distinct recipients to sign, {sizes['distinct_verify_inputs']:,} "
            "signed credentials to verify",
            f"Cross-check (credential 0): our N-Quads = pyld's: {checks.get('same_nquads')}; "
            f"our proofValue = pyld-only path's: {checks.get('same_proof_value')}",
            f"Method: {method}" + (f"; {busy}" if busy else ""),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short repeat per figure (a smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--only", metavar="GROUPS", help=f"comma-separated groups to run (default: all of {', '.join(FIGURES)})"
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",")] if args.only else list(FIGURES)
    unknown = [name for name in names if name not in FIGURES]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")

    settings = Settings.for_quick() if args.quick else Settings()
    env = environment(pin_to_one_core())
    started = time.perf_counter()
    cpu_started = time.process_time()
    fixture = Fixture(settings)
    sizes = describe_input(fixture)
    checks = cross_check(fixture)
    rows = run_figures(names, settings, fixture)
    elapsed = time.perf_counter() - started
    cpu_share = (time.process_time() - cpu_started) / elapsed

    print(format_header(env, sizes, checks, settings))
    print()
    print(format_table(rows))
    print()
    print(
        f"Total time: {elapsed:.1f} s; this process had the CPU {cpu_share:.0%} of it"
        + ("" if cpu_share > 0.95 else " (it waited for other processes: absolute rates are low, ratios hold better)")
    )
    if args.json:
        report = {
            "environment": env,
            "input": sizes,
            "cross_check": checks,
            "settings": {
                "quick": settings.quick,
                "repeats": settings.repeats,
                "repeat_seconds": settings.repeat_seconds,
            },
            "rows": [row.as_dict() for row in rows],
            "seconds": elapsed,
            "cpu_share": cpu_share,
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
