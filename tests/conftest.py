"""Shared helpers for the npcore test suite.

* :func:`parse_truth_table` reads the e2e-style truth tables used by the conformance
  cases and by ``test_reachability.py``: a header line of destination peer names, then
  one row per source, ``.`` allowed and ``X`` denied (the format of kubernetes
  ``test/e2e/network/netpol/truthtable.go``, with ``-`` for "don't care").  The header may
  start with a ``-`` corner mark (so that a YAML block scalar can hold it unindented).
* :func:`matrix_table` renders an npcore ``Matrix`` in the same format, so a failing
  comparison prints two tables that can be read side by side.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from npcore.reachability import Matrix

TruthTable = dict[tuple[str, str], bool | None]

# Property tests never fail on timing (the machines are shared and noisy).  In CI the
# examples are derived from each test (derandomize), so a landing run is reproducible;
# elsewhere they are random, to keep exploring.
settings.register_profile(
    "netpol",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("netpol")


def parse_truth_table(text: str) -> tuple[list[str], TruthTable]:
    """Parse an e2e-style truth table into ``(peers, {(src, dst): allowed})``.

    ``-`` cells are "don't care" and map to ``None``.  Raises ``ValueError`` on a ragged
    table, an unknown cell symbol, or rows that are not the header's peers.
    """
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty truth table")
    header, rows = lines[0], lines[1:]
    if len(header) == len(rows) + 1 and header[0] == "-":
        header = header[1:]  # the corner mark, as truthtable.go's PrettyPrint writes it
    if len(set(header)) != len(header):
        raise ValueError(f"duplicate peer in header: {header}")
    table: TruthTable = {}
    sources: list[str] = []
    for row in rows:
        src, cells = row[0], row[1:]
        if len(cells) != len(header):
            raise ValueError(f"row {src!r} has {len(cells)} cells, header has {len(header)}")
        sources.append(src)
        for dst, cell in zip(header, cells, strict=True):
            if cell not in (".", "X", "-"):
                raise ValueError(f"row {src!r}, column {dst!r}: unknown cell {cell!r}")
            table[(src, dst)] = None if cell == "-" else cell == "."
    if sources != header:
        raise ValueError(f"rows {sources} must list the header's peers {header} in order")
    return header, table


def matrix_table(m: Matrix, peers: list[str] | None = None) -> str:
    """Render ``m`` as a truth table over ``peers`` (default: all of the matrix's peers)."""
    names = list(m.peers) if peers is None else peers
    width = max(len(n) for n in names)
    lines = ["-".ljust(width) + " " + " ".join(names)]
    for src in names:
        cells = [("." if m.allowed(src, dst) else "X").center(len(dst)) for dst in names]
        lines.append(src.ljust(width) + " " + " ".join(cells))
    return "\n".join(lines)


def mismatches(m: Matrix, expected: TruthTable) -> list[str]:
    """The cells where ``m`` disagrees with ``expected`` ("don't care" cells skipped)."""
    out = []
    for (src, dst), want in expected.items():
        if want is None:
            continue
        got = m.allowed(src, dst)
        if got != want:
            out.append(
                f"{src} -> {dst}: expected {'allowed' if want else 'denied'}, got "
                f"{'allowed' if got else 'denied'}"
            )
    return out


@pytest.fixture
def truth_table() -> Callable[[str], tuple[list[str], TruthTable]]:
    """The :func:`parse_truth_table` function, for tests that cannot import conftest."""
    return parse_truth_table


def assert_matrix(m: Matrix, expected_text: str) -> None:
    """Assert that ``m`` equals the truth table ``expected_text`` on every listed cell."""
    peers, expected = parse_truth_table(expected_text)
    wrong = mismatches(m, expected)
    assert not wrong, (
        "matrix differs from the expected truth table:\n  "
        + "\n  ".join(wrong)
        + "\nexpected:\n"
        + expected_text.strip()
        + "\nactual:\n"
        + matrix_table(m, peers)
    )


@pytest.fixture
def check_matrix() -> Callable[[Matrix, str], None]:
    """The :func:`assert_matrix` function."""
    return assert_matrix
