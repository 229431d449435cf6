"""``python -m benchmarks``: the one table built from each benchmark's JSON, parts that did not run, the plan.

The canned JSON is made with each benchmark module's own result types (``benchmarks.kernel.Row``,
``benchmarks.serving.Result``, ``benchmarks.scale.Result``) or, for bulk, with the keys ``benchmarks.bulk``
writes, so a change of shape there shows up here. No benchmark is run and no timing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks import all as suite
from benchmarks import scale, serving
from benchmarks.kernel import Row, Timing


def kernel_json(rates: dict[str, float]) -> dict[str, Any]:
    """The shape ``benchmarks.run --json`` writes, with the row keys and baselines of ``benchmarks.kernel``."""
    baselines = {"ours_sign": "pyld_sign", "ours_verify": "pyld_verify",
                 "ours_sign_arbitrary": "pyld_sign_arbitrary", "ours_verify_arbitrary": "pyld_verify_arbitrary"}
    rows = []
    for key, rate in rates.items():
        timing = Timing(median=rate, low=rate * 0.9, high=rate * 1.1, ops=100, repeats=7)
        rows.append(Row(key, "3 ours", key, baseline=baselines.get(key), timing=timing).as_dict())
    rows.append(Row("jwt_rs256_sign", "5 other", "VC-JWT", note="not built yet").as_dict())
    return {"environment": {}, "input": {}, "cross_check": {}, "settings": {"quick": False},
            "rows": rows, "seconds": 80.0, "cpu_share": 0.97}


FAST_KERNEL = {"ed25519_sign": 45_000.0, "pyld_sign": 225.0, "pyld_verify": 220.0, "pyld_sign_arbitrary": 190.0,
               "pyld_verify_arbitrary": 188.0, "ours_sign": 14_000.0, "ours_verify": 8_400.0,
               "ours_sign_arbitrary": 240.0, "ours_verify_arbitrary": 230.0}


def bulk_json(backend: str, *, rows: int = 100_000, total_s: float = 55.0, peak: float = 260.0,
              failed: int = 0) -> list[dict[str, Any]]:
    """The keys ``benchmarks.bulk._measure`` returns (plus ``signing``), one entry per backend run."""
    return [{
        "backend": backend, "rows": rows, "chunk": 1000, "issued": rows - failed, "failed": failed,
        "emails_queued": rows - failed, "emails_skipped_opted_out": 0, "preview_s": 5.0, "run_s": total_s - 5.0,
        "total_s": total_s, "rows_per_s": round(rows / (total_s - 5.0), 1), "check_s": 1.0, "sign_s": 20.0,
        "database_s": 20.0, "other_s": 9.0, "progress_updates": 100, "peak_rss_mb_before": 110.0,
        "peak_rss_mb_after_preview": 200.0, "peak_rss_mb": peak, "emails_per_s": 900.0,
        "breakdown_s": {"build and sign": 20.0}, "signing": "kernel",
    }]


def serving_json(*, verify_rps: float = 600.0, non_2xx: int = 0, names: tuple[str, ...] = tuple(serving.TARGETS)
                 ) -> list[dict[str, Any]]:
    """What ``benchmarks.serving --json`` writes: ``asdict`` of each ``Result``."""
    figures = {"credential.json": (4_700.0, 12.0, 20.0), "badge page": (2_400.0, 20.0, 24.0),
               "POST /api/v1/verify": (verify_rps, 60.0, 90.0)}
    results = []
    for name in names:
        rps, p50, p99 = figures[name]
        target_rps, target_p99 = serving.TARGETS[name]
        results.append(asdict(serving.Result(name=name, requests_per_second=rps, p50_ms=p50, p99_ms=p99,
                                             requests=int(rps * 10), errors=0, non_2xx=non_2xx if
                                             name == "badge page" else 0, target_rps=target_rps,
                                             target_p99_ms=target_p99)))
    return results


SCALE_FIGURES = [
    ("award list, page 1", "query", 9.0, 3), ("award list, page 1", "view", 40.0, 9),
    ("award list, page 20,000 via Next", "query", 11.0, 3), ("award list, page 20,000 typed", "view", 180.0, 9),
    ("API list, first 50", "view", 30.0, 6), ("earner's wallet, page 1", "view", 55.0, 8),
    ("dashboard", "view", 41.0, 7), ("org totals, all time", "query", 12.0, 1),
    ("award detail (with counts)", "view", 35.0, 10),
]


def scale_json(*, slow: str = "") -> list[dict[str, Any]]:
    """What ``benchmarks.scale --json`` writes for each ``Result``; ``slow`` names a figure at 150 ms p95."""
    results = []
    for name, level, p95, queries in SCALE_FIGURES:
        r = scale.Result(name, level, p50=p95 / 2, p95=150.0 if name == slow else p95, queries=queries)
        results.append({**r.__dict__, "targeted": r.targeted, "ok": r.ok})
    return results


SCALE_OUTPUT = "Reusing the seeded database (1,000,000 awards).\n\nScale: 1,000,000 awards in PostgreSQL; p50/p95\n"


def outcomes(**overrides: suite.Outcome | None) -> dict[str, suite.Outcome]:
    found = {
        "kernel": suite.Outcome("kernel", data=kernel_json(FAST_KERNEL), returncode=0, seconds=80.0),
        "bulk_sqlite": suite.Outcome("bulk_sqlite", data=bulk_json("sqlite"), returncode=0),
        "bulk_postgres": suite.Outcome("bulk_postgres", data=bulk_json("postgres", total_s=58.0), returncode=0),
        "serving_sqlite": suite.Outcome("serving_sqlite", data=serving_json(), returncode=0),
        "serving_postgres": suite.Outcome("serving_postgres", data=serving_json(verify_rps=520.0), returncode=0),
        "scale": suite.Outcome("scale", data=scale_json(), returncode=0, output=SCALE_OUTPUT),
    }
    found.update(overrides)
    return {key: value for key, value in found.items() if value is not None}


def by_figure(rows: list[suite.TableRow]) -> dict[str, suite.TableRow]:
    return {row.figure: row for row in rows}


def test_a_full_run_that_meets_every_target() -> None:
    rows = suite.build_rows(outcomes(), suite.PARTS, quick=False)
    table = by_figure(rows)
    sign = table["sign eddsa-rdfc-2022 OB 3.0, one badge class, one core"]
    assert sign.target == "≥ 10,000/s"
    assert sign.measured.startswith("14,000/s (3.2 Ed25519 signatures each)")
    assert sign.ratio == "62.22× pyld-only (225/s)"
    assert sign.met == "yes"
    arbitrary = table["verify, arbitrary shapes (each shape new), one core"]
    assert arbitrary.ratio == "1.22× pyld-only (188/s)"
    assert arbitrary.met == "yes"
    bulk = table["bulk: 100,000-row CSV to issued awards, PostgreSQL"]
    assert bulk.measured.startswith("58.0 s")
    assert "peak 260 MB" in bulk.measured
    assert bulk.ratio.startswith("n/a")
    assert bulk.met == "yes"
    verify_api = table["serving: POST /api/v1/verify (OB 3.0), 64 connections, SQLite"]
    assert verify_api.target == "≥ 500 req/s, p99 ≤ 100 ms"
    assert verify_api.measured == "600 req/s, p50 60.0 ms, p99 90.0 ms"
    assert verify_api.met == "yes"
    verify_api_pg = table["serving: POST /api/v1/verify (OB 3.0), 64 connections, PostgreSQL"]
    assert verify_api_pg.measured == "520 req/s, p50 60.0 ms, p99 90.0 ms"
    assert verify_api_pg.met == "yes"
    award_list = table["scale: issuer's award list (page 1, via Next, last, filters, search)"]
    # the typed deep page (180 ms) has no target: it has its own row and does not count against the list
    assert award_list.measured.startswith("worst p95 40.0 ms of 3 figures (award list, page 1, view)")
    assert award_list.measured.endswith("at 1,000,000 awards")
    assert award_list.met == "yes"
    assert "180.0 ms" in table["scale: deep page typed by number (worst case, no target)"].measured
    counts = table["scale: analytics counts (dashboard, per award, organisation totals)"]
    assert "of 3 figures" in counts.measured
    queries = table["scale: no query count grows with page size"]
    assert suite.SCALE_QUERIES_TEST in queries.measured
    assert "3 (page 1), 3 (page 20,000 via Next)" in queries.measured
    assert not any(row.not_run for row in rows)
    assert len(rows) == 4 + 2 + 3 * 2 + 6
    assert [row.figure for row in rows if row.figure.startswith("serving")] == [
        f"{figure}, {name}" for name in ("SQLite", "PostgreSQL") for _, figure in suite.SERVING_FIGURES]


def test_missed_targets_say_no() -> None:
    slow_kernel = {**FAST_KERNEL, "ours_sign": 9_000.0, "ours_verify_arbitrary": 150.0}
    rows = by_figure(suite.build_rows(outcomes(
        kernel=suite.Outcome("kernel", data=kernel_json(slow_kernel)),
        bulk_sqlite=suite.Outcome("bulk_sqlite", data=bulk_json("sqlite", total_s=75.0)),
        bulk_postgres=suite.Outcome("bulk_postgres", data=bulk_json("postgres", peak=620.0, failed=3)),
        serving_sqlite=suite.Outcome("serving_sqlite", data=serving_json(verify_rps=210.0, non_2xx=12),
                                     returncode=1),
        scale=suite.Outcome("scale", data=scale_json(slow="earner's wallet, page 1"), output=SCALE_OUTPUT),
    ), suite.PARTS, quick=False))
    assert rows["sign eddsa-rdfc-2022 OB 3.0, one badge class, one core"].met == "no"
    assert rows["verify eddsa-rdfc-2022 OB 3.0, one badge class, one core"].met == "yes"
    arbitrary = rows["verify, arbitrary shapes (each shape new), one core"]
    assert arbitrary.ratio.startswith("0.80×")
    assert arbitrary.met == "no"
    assert rows["bulk: 100,000-row CSV to issued awards, SQLite"].met == "no"
    postgres = rows["bulk: 100,000-row CSV to issued awards, PostgreSQL"]
    assert "3 rows failed" in postgres.measured
    assert postgres.met == "no"
    page = rows["serving: public badge page, 64 connections, SQLite"]
    assert "12 non-2xx" in page.measured
    assert page.met == "no"  # fast enough, but errors are not a pass
    assert rows["serving: POST /api/v1/verify (OB 3.0), 64 connections, SQLite"].met == "no"
    # each database has its own verdict
    assert rows["serving: public badge page, 64 connections, PostgreSQL"].met == "yes"
    assert rows["serving: POST /api/v1/verify (OB 3.0), 64 connections, PostgreSQL"].met == "yes"
    wallet = rows["scale: earner's wallet (pages, search)"]
    assert wallet.measured.startswith("worst p95 150.0 ms")
    assert wallet.met == "no"
    assert rows["scale: analytics counts (dashboard, per award, organisation totals)"].met == "yes"


def test_a_part_that_did_not_run_shows_its_rows_as_not_run() -> None:
    found = outcomes(bulk_postgres=suite.Outcome("bulk_postgres", reason="PostgreSQL unreachable at x"),
                     serving_sqlite=suite.Outcome("serving_sqlite", reason="wrk is not installed"),
                     serving_postgres=suite.Outcome("serving_postgres", reason="wrk is not installed"), scale=None)
    rows = suite.build_rows(found, suite.PARTS, quick=False)
    not_run = [row for row in rows if row.not_run]
    assert [row.figure for row in not_run if row.figure.startswith("bulk")] == [
        "bulk: CSV to issued awards, PostgreSQL"]
    assert by_figure(rows)["bulk: CSV to issued awards, PostgreSQL"].measured == "not run: PostgreSQL unreachable at x"
    serving_rows = [row for row in rows if row.figure.startswith("serving")]
    assert len(serving_rows) == 6
    assert all(row.measured == "not run: wrk is not installed" and row.met == "—" for row in serving_rows)
    scale_rows = [row for row in rows if row.figure.startswith("scale")]
    assert len(scale_rows) == 6
    assert all(row.not_run for row in scale_rows)
    # the parts that ran are still in the table, measured
    assert by_figure(rows)["bulk: 100,000-row CSV to issued awards, SQLite"].met == "yes"
    assert by_figure(rows)["sign eddsa-rdfc-2022 OB 3.0, one badge class, one core"].met == "yes"


def test_a_json_missing_a_figure_shows_that_row_as_not_run() -> None:
    partial = {key: rate for key, rate in FAST_KERNEL.items() if key != "ours_verify"}
    rows = by_figure(suite.build_rows(outcomes(
        kernel=suite.Outcome("kernel", data=kernel_json(partial)),
        serving_sqlite=suite.Outcome("serving_sqlite", data=serving_json(names=("credential.json",))),
    ), ["kernel", "serving"], quick=False))
    assert rows["verify eddsa-rdfc-2022 OB 3.0, one badge class, one core"].measured == (
        "not run: no ours_verify figure in the kernel JSON")
    assert rows["serving: public badge page, 64 connections, SQLite"].not_run
    assert rows["serving: public credential.json, 64 connections, SQLite"].met == "yes"
    assert not rows["serving: public badge page, 64 connections, PostgreSQL"].not_run


def test_quick_and_small_runs_claim_no_target() -> None:
    small = outcomes(bulk_sqlite=suite.Outcome("bulk_sqlite", data=bulk_json("sqlite", rows=2_000, total_s=6.0)),
                     scale=suite.Outcome("scale", data=scale_json(), output="Scale: 2,000 awards in PostgreSQL"))
    quick = suite.build_rows(small, suite.PARTS, quick=True)
    assert {row.met for row in quick} <= {"n/a (quick)", "—", "by test"}
    full = by_figure(suite.build_rows(small, suite.PARTS, quick=False))
    assert full["bulk: 2,000-row CSV to issued awards, SQLite"].met == "n/a (2,000 rows)"
    assert full["scale: earner's wallet (pages, search)"].met == "n/a (2,000 awards)"


def test_the_table_is_one_markdown_table_with_five_columns() -> None:
    rows = suite.build_rows(outcomes(serving_sqlite=suite.Outcome("serving_sqlite", reason="a | b")), suite.PARTS,
                            quick=False)
    lines = suite.format_table(rows).splitlines()
    assert lines[0] == "| figure | target | measured | ratio to baseline | met? |"
    assert len(lines) == 2 + len(rows)
    for line in lines:
        cells = line.replace("\\|", "").split("|")
        assert len(cells) == 7, line  # five columns between six pipes
    assert "not run: a \\| b" in suite.format_table(rows)


def test_scale_award_count_is_read_from_the_output() -> None:
    assert suite.scale_award_count(SCALE_OUTPUT) == 1_000_000
    assert suite.scale_award_count("Seeding…\n") is None


# -- running steps: real processes ---------------------------------------------------------------------------------


def python_step(tmp_path: Path, code: str) -> suite.Step:
    path = tmp_path / "out.json"
    return suite.Step("kernel", "kernel", [sys.executable, "-c", code.replace("OUT", str(path))], path)


def test_a_step_that_writes_its_json_ran_even_with_a_nonzero_exit(tmp_path: Path) -> None:
    step = python_step(tmp_path, "import json, sys; print('table'); "
                                 "open('OUT', 'w').write(json.dumps([{'a': 1}])); sys.exit(1)")
    outcome = suite.run_step(step)
    assert outcome.ran
    assert outcome.data == [{"a": 1}]
    assert outcome.returncode == 1
    assert "table" in outcome.output


def test_a_step_that_fails_says_why(tmp_path: Path) -> None:
    outcome = suite.run_step(python_step(tmp_path, "import sys; print('warming up'); "
                                                   "sys.exit('PostgreSQL refused the connection')"))
    assert not outcome.ran
    assert outcome.reason == ("exited with status 1 without writing its JSON "
                              "(PostgreSQL refused the connection)")


def test_a_step_past_its_time_is_stopped(tmp_path: Path) -> None:
    outcome = suite.run_step(python_step(tmp_path, "import time; time.sleep(60)"), timeout=1)
    assert not outcome.ran
    assert outcome.reason == "timed out after 1 s"
    assert outcome.seconds < 30


def test_a_skipped_step_does_not_start(tmp_path: Path) -> None:
    step = python_step(tmp_path, "open('OUT', 'w').write('[]')")
    step.skip = "wrk is not installed"
    outcome = suite.run_step(step)
    assert outcome.reason == "wrk is not installed"
    assert not (tmp_path / "out.json").exists()


# -- the plan and the command ----------------------------------------------------------------------------------------


def plan(tmp_path: Path, *argv: str, wrk: bool = True, postgres: str = "") -> list[suite.Step]:
    args = suite.parse_args(["--postgres", "postgres://postgres@127.0.0.1:5432/postgres", *argv])
    return suite.plan(args, tmp_path, which=lambda name: "/usr/bin/wrk" if wrk else None,
                      postgres_check=lambda url: postgres)


def test_the_full_plan_runs_every_part_at_its_issue_6_size(tmp_path: Path) -> None:
    steps = {step.key: step for step in plan(tmp_path)}
    assert list(steps) == ["kernel", "bulk_sqlite", "bulk_postgres", "serving_sqlite", "serving_postgres", "scale"]
    for step in steps.values():
        assert step.argv[step.argv.index("--json") + 1] == str(step.json_path)
        assert step.json_path.parent == tmp_path
        assert not step.skip
    assert "--quick" not in steps["kernel"].argv
    assert steps["bulk_sqlite"].argv[steps["bulk_sqlite"].argv.index("--rows") + 1] == "100000"
    assert "--postgres" not in steps["serving_sqlite"].argv
    serving_pg = steps["serving_postgres"].argv
    assert serving_pg[serving_pg.index("--postgres") + 1] == "postgres://postgres@127.0.0.1:5432/postgres"
    for key in ("serving_sqlite", "serving_postgres"):
        assert "--duration" not in steps[key].argv
    scale_argv = steps["scale"].argv
    assert scale_argv[scale_argv.index("--postgres") + 1] == "postgres://postgres@127.0.0.1:5432/hscale"
    assert scale_argv[scale_argv.index("--awards") + 1] == "1000000"
    assert "--reseed" not in scale_argv


def test_the_quick_plan_is_small_and_keeps_off_the_million_award_database(tmp_path: Path) -> None:
    steps = {step.key: step for step in plan(tmp_path, "--quick", "--only", "kernel,bulk,scale")}
    assert list(steps) == ["kernel", "bulk_sqlite", "bulk_postgres", "scale"]
    assert "--quick" in steps["kernel"].argv
    assert steps["bulk_postgres"].argv[steps["bulk_postgres"].argv.index("--rows") + 1] == "2000"
    scale_argv = steps["scale"].argv
    assert scale_argv[scale_argv.index("--postgres") + 1].endswith("/hscale_quick")
    assert "--reseed" in scale_argv


def test_the_quick_plan_serves_from_both_databases_with_the_quick_options(tmp_path: Path) -> None:
    steps = {step.key: step for step in plan(tmp_path, "--quick", "--only", "serving")}
    assert list(steps) == ["serving_sqlite", "serving_postgres"]
    quick = dict(zip(suite.QUICK_SERVING[::2], suite.QUICK_SERVING[1::2], strict=True))
    for step in steps.values():
        assert {flag: step.argv[step.argv.index(flag) + 1] for flag in quick} == quick
    assert len({step.json_path for step in steps.values()}) == 2
    assert "--postgres" not in steps["serving_sqlite"].argv
    serving_pg = steps["serving_postgres"].argv
    assert serving_pg[serving_pg.index("--postgres") + 1] == "postgres://postgres@127.0.0.1:5432/postgres"


def test_missing_tools_and_servers_become_skip_reasons(tmp_path: Path) -> None:
    steps = {step.key: step for step in plan(tmp_path, wrk=False, postgres="PostgreSQL unreachable at x")}
    assert steps["serving_sqlite"].skip.startswith("wrk is not installed")
    assert steps["serving_postgres"].skip.startswith("wrk is not installed")  # the first reason found
    assert steps["bulk_postgres"].skip == steps["scale"].skip == "PostgreSQL unreachable at x"
    assert not steps["kernel"].skip
    assert not steps["bulk_sqlite"].skip


def test_a_postgres_problem_skips_only_the_postgres_serving_step(tmp_path: Path) -> None:
    steps = {step.key: step for step in plan(tmp_path, "--only", "serving", postgres="PostgreSQL unreachable at x")}
    assert list(steps) == ["serving_sqlite", "serving_postgres"]
    assert not steps["serving_sqlite"].skip
    assert steps["serving_postgres"].skip == "PostgreSQL unreachable at x"
    # and in the table: SQLite's three rows measured, PostgreSQL's three not run with the reason
    found = {"serving_sqlite": suite.Outcome("serving_sqlite", data=serving_json(), returncode=0),
             "serving_postgres": suite.run_step(steps["serving_postgres"])}
    rows = suite.build_rows(found, ["serving"], quick=False)
    assert [row.met for row in rows if row.figure.endswith(", SQLite")] == ["yes", "yes", "yes"]
    postgres_rows = [row for row in rows if row.figure.endswith(", PostgreSQL")]
    assert len(postgres_rows) == 3
    assert all(row.measured == "not run: PostgreSQL unreachable at x" for row in postgres_rows)


def test_unknown_parts_are_refused() -> None:
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "kernel,everything"])


def test_the_command_without_wrk_reports_serving_not_run_and_exits_1(tmp_path: Path, monkeypatch,
                                                                      capsys) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "all.json"
    assert suite.main(["--only", "serving", "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    for name in ("SQLite", "PostgreSQL"):
        assert (f"| serving: public credential.json, 64 connections, {name} | ≥ 2,000 req/s, p99 ≤ 25 ms | "
                "not run: wrk") in printed
    assert "Environment: " in printed
    assert "Total time: " in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report["parts"]) == ["serving_sqlite", "serving_postgres"]
    assert not any(part["ran"] for part in report["parts"].values())
    assert len(report["rows"]) == 6
    assert all(row["measured"].startswith("not run: wrk is not installed") for row in report["rows"])


def test_an_unreachable_postgres_server_is_reported_not_fatal(tmp_path: Path, capsys) -> None:
    # port 1: nothing listens there, so the connection is refused at once
    code = suite.main(["--only", "scale", "--postgres", "postgres://postgres@127.0.0.1:1/postgres"])
    assert code == 1
    assert "not run: PostgreSQL unreachable at postgres://postgres@127.0.0.1:1/postgres" in capsys.readouterr().out


def test_the_database_url_helpers() -> None:
    assert suite.with_database("postgres://u:pw@db:5433/postgres?sslmode=disable", "hscale") == (
        "postgres://u:pw@db:5433/hscale?sslmode=disable")
    assert suite._redact("postgres://u:pw@db/x") == "postgres://u:…@db/x"
    assert isinstance(suite.parse_args([]), argparse.Namespace)
