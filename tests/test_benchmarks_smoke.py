"""The benchmark runner works: a quick pass over a few figures yields positive rates (no timing assertions)."""

from __future__ import annotations

import pytest

from benchmarks.kernel import Fixture, Settings, describe_input, measure, run_figures
from benchmarks.run import format_table


@pytest.fixture(scope="module")
def quick() -> tuple[Settings, Fixture]:
    settings = Settings.for_quick()
    return settings, Fixture(settings)


def test_measure_reports_positive_rates() -> None:
    timing = measure(lambda value: value * 2, [1, 2, 3], Settings.for_quick())
    assert timing.repeats == 1
    assert timing.ops >= 2
    assert 0 < timing.low <= timing.median <= timing.high


def test_floor_and_kernel_sign_verify_figures(quick: tuple[Settings, Fixture]) -> None:
    settings, fixture = quick
    rows = run_figures(["floor", "ours"], settings, fixture)
    keys = {row.key for row in rows}
    assert {"ed25519_sign", "sha256_nquads", "ours_sign", "ours_verify"} <= keys
    for row in rows:
        assert row.timing is not None, row.note
        assert row.timing.median > 0
        assert row.timing.ops > 0
    table = format_table(rows)
    assert "create_proof" in table
    assert "issue 6" in table


def test_input_description(quick: tuple[Settings, Fixture]) -> None:
    _settings, fixture = quick
    sizes = describe_input(fixture)
    assert sizes["credential_bytes"] > 1000
    assert sizes["quads"] > 0
    assert sizes["blank_nodes"] > 0
