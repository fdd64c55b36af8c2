"""Byte-identical CLI JSON against outputs saved before the #17 restructuring.

A refactoring must not change a number: each case reruns one ``cchkit`` command with
``--seed 0`` and compares its JSON, byte for byte, with the file saved in ``tests/golden/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, list[str]] = {
    "rank_digits": ["rank", "-s", "audio"],
    "rank_mfeat_all": ["rank", "-d", "mfeat", "-s", "all"],
    "rank_ksg": ["rank", "-s", "audio", "-e", "ksg"],
    "rank_encoder": ["rank", "-s", "audio", "-r", "encoder"],
    "validate_digits": ["validate", "-s", "audio"],
    "validate_mfeat_mor": ["validate", "-d", "mfeat", "-s", "mor"],
}


def run_case(name: str, out: Path) -> None:
    """Run case ``name`` through the CLI, writing its JSON to ``out``."""
    args = [*CASES[name], "--seed", "0", "-f", "json", "-q", "--device", "cpu", "-o", str(out)]
    subprocess.run([sys.executable, "-m", "cchkit", *args], check=True, timeout=600)


def first_difference(a: bytes, b: bytes) -> str:
    """Describe where two outputs first differ, for the failure message."""
    lines_a, lines_b = a.decode().splitlines(), b.decode().splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b)):
        if x != y:
            return f"line {i + 1}: golden {x.strip()!r} != now {y.strip()!r}"
    return f"lengths differ: {len(lines_a)} vs {len(lines_b)} lines"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_json_is_byte_identical_to_golden(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.json"
    run_case(name, out)
    golden = (GOLDEN / f"{name}.json").read_bytes()
    now = out.read_bytes()
    assert now == golden, f"{name}: {first_difference(golden, now)}"


if __name__ == "__main__" and "--refresh" in sys.argv:
    for case in CASES:
        run_case(case, GOLDEN / f"{case}.json")
