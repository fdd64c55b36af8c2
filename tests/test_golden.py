"""CLI JSON against saved outputs: the regression net under every refactoring.

Each case reruns one ``cchkit`` command with ``--seed 0`` and compares its JSON with the file
saved in ``tests/golden/``: the same keys, the same strings (decisions, notes) and the same
numbers within a stated tolerance, so that a new numpy or torch release, whose last digits may
differ, does not fail ``make test`` while any real change does:

* ranking cases on linear representations (numpy / scipy / torch float64 linear algebra):
  ``|now - golden| <= 1e-6 + 1e-6 |golden|``;
* ``rank -r encoder`` (float32 training of the encoders): within ``5e-3`` absolute;
* the validate cases: within ``0.02`` absolute. A difference in the last float digits (another
  BLAS, another summation order) can move one trained student's accuracy by up to 9 of 600
  test predictions (benchmarks/results/validate_speed.md: 0.015), which moves a mean over 5
  seeds and its interval bounds by up to about 0.01;
* sentences that quote numbers (a verdict, a power statement): the same words, each quoted
  number within the case's tolerance plus one unit of its last printed digit.

Serial and parallel runs of one version are compared byte for byte elsewhere
(``tests/test_hostile_inputs.py``).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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


#: (rtol, atol) per case; see the module docstring
TOLERANCE: dict[str, tuple[float, float]] = {name: (1e-6, 1e-6) for name in CASES}
TOLERANCE.update({"rank_encoder": (0.0, 5e-3), "validate_digits": (0.0, 0.02), "validate_mfeat_mor": (0.0, 0.02)})


def differences(golden: Any, now: Any, rtol: float, atol: float, where: str = "") -> list[str]:
    """Where ``now`` departs from ``golden``: keys, strings, flags exactly; numbers within tolerance."""
    if isinstance(golden, dict) and isinstance(now, dict):
        if list(golden) != list(now):
            return [f"{where}: keys {list(golden)} != {list(now)}"]
        return [d for k in golden for d in differences(golden[k], now[k], rtol, atol, f"{where}.{k}")]
    if isinstance(golden, list) and isinstance(now, list):
        if len(golden) != len(now):
            return [f"{where}: {len(golden)} items != {len(now)}"]
        return [d for i, (g, n) in enumerate(zip(golden, now)) for d in differences(g, n, rtol, atol, f"{where}[{i}]")]
    numbers = (int, float)
    if isinstance(golden, numbers) and isinstance(now, numbers) and not isinstance(golden, bool):
        ok = math.isclose(now, golden, rel_tol=rtol, abs_tol=atol) if math.isfinite(golden) else now == golden
        return [] if ok else [f"{where}: golden {golden!r} != now {now!r}"]
    if isinstance(golden, str) and isinstance(now, str) and golden != now:
        return [] if _same_text(golden, now, rtol, atol) else [f"{where}: golden {golden!r} != now {now!r}"]
    return [] if golden == now else [f"{where}: golden {golden!r} != now {now!r}"]


_NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")


def _same_text(golden: str, now: str, rtol: float, atol: float) -> bool:
    """Sentences that quote numbers (a verdict, a power statement): the same words, and every
    quoted number within the tolerance plus half a unit of its last printed digit."""
    if _NUMBER.sub("#", golden) != _NUMBER.sub("#", now):
        return False
    for g, n in zip(_NUMBER.findall(golden), _NUMBER.findall(now)):
        digits = len(g.split(".")[1].split("e")[0])
        if not math.isclose(float(n), float(g), rel_tol=rtol, abs_tol=atol + 10.0**-digits):
            return False
    return True


def test_tolerance_catches_a_moved_number_and_a_changed_word():
    gold = {"rows": [{"cch_score": 0.5, "decision": "helps"}]}
    assert differences(gold, {"rows": [{"cch_score": 0.5 + 1e-9, "decision": "helps"}]}, 1e-6, 1e-6) == []
    assert differences(gold, {"rows": [{"cch_score": 0.51, "decision": "helps"}]}, 1e-6, 1e-6)
    assert differences(gold, {"rows": [{"cch_score": 0.5, "decision": "hurts"}]}, 1e-6, 1e-6)
    said = {"text": "zer +0.011 [-0.003, +0.024]. Advice held."}
    assert differences(said, {"text": "zer +0.011 [-0.001, +0.023]. Advice held."}, 0.0, 5e-3) == []
    assert differences(said, {"text": "zer +0.011 [-0.003, +0.024]. Advice did not hold."}, 0.0, 5e-3)
    assert differences(said, {"text": "zer +0.051 [-0.003, +0.024]. Advice held."}, 0.0, 5e-3)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_json_matches_golden_within_tolerance(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.json"
    run_case(name, out)
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    now = json.loads(out.read_text())
    diffs = differences(golden, now, *TOLERANCE[name])
    assert not diffs, f"{name}: {len(diffs)} difference(s), first: " + "; ".join(diffs[:5])


if __name__ == "__main__" and "--refresh" in sys.argv:
    for case in CASES:
        run_case(case, GOLDEN / f"{case}.json")
