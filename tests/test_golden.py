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

What is stable across machines and what is not (another CPU, another BLAS: the float rounding
of hundreds of SGD steps moves each trained student). Rankings on linear representations are
stable to ~1e-9. A validation's means and interval ends move by up to about 0.01 (within the
tolerance); its per-seed gains move more (one seed's 0.017 became 0.04 on an AVX-512 machine), so
only their count is compared; and a decision that sits near its threshold can flip: a
``significant`` flag whose interval end lies within the tolerance of 0, the stronger baseline
when the two are within the tolerance of each other, and the tuned choice among settings whose
validation accuracies are close. Those are not goldens (:func:`stable_view`): they are left out
of the comparison, with what they decide (the verdict, the power statement and the criterion
statistics, when any flag was left out).

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
    "validate_digits": ["validate", "--baseline", "no-kd", "-s", "audio"],
    "validate_mfeat_mor": ["validate", "--baseline", "no-kd", "-d", "mfeat", "-s", "mor"],
}


def run_case(name: str, out: Path) -> None:
    """Run case ``name`` through the CLI, writing its JSON to ``out``."""
    args = [*CASES[name], "--seed", "0", "-f", "json", "-q", "--device", "cpu", "-o", str(out)]
    subprocess.run([sys.executable, "-m", "cchkit", *args], check=True, timeout=600)


#: (rtol, atol) per case; see the module docstring
TOLERANCE: dict[str, tuple[float, float]] = {name: (1e-6, 1e-6) for name in CASES}
TOLERANCE.update({"rank_encoder": (0.0, 5e-3), "validate_digits": (0.0, 0.02), "validate_mfeat_mor": (0.0, 0.02)})


def stable_view(golden: dict, now: dict, atol: float) -> tuple[dict, dict]:
    """A validation's golden and current JSON without what another machine may flip (see the
    module docstring), decided from the golden: the same keys are removed from both."""
    golden, now = json.loads(json.dumps(golden)), json.loads(json.dumps(now))
    flipped = False
    for g, n in zip(golden.get("rows", []), now.get("rows", [])):
        for row in (g, n):
            row["gain_seeds"] = len(row.get("gain_seeds") or [])
        low, high = g.get("gain_low"), g.get("gain_high")
        if not (isinstance(low, float) and isinstance(high, float)) or min(abs(low), abs(high)) <= atol:
            flipped |= "significant" in g
            for row in (g, n):
                row.pop("significant", None)
        if abs((g.get("acc_none") or 0.0) - (g.get("acc_probe") or 0.0)) <= atol:
            for row in (g, n):
                row.pop("baseline", None)
    for summary in (golden.get("summary", {}), now.get("summary", {})):
        summary.pop("tuned", None)  # a choice among settings whose validation accuracies are close
        if flipped:
            for key in ("verdict", "power", "spearman", "sign_agree", "n_significant", "n_inconclusive", "sign_share",
                        "top_is_best", "gains_separated", "baselines", "baseline"):
                summary.pop(key, None)
    return golden, now


def test_stable_view_leaves_out_a_flag_near_its_threshold_and_what_it_decides():
    gold = {"rows": [{"gain": 0.01, "gain_low": 0.004, "gain_high": 0.016, "significant": True, "gain_seeds": [0.1, 0.2],
                      "acc_none": 0.70, "acc_probe": 0.71, "baseline": "probe"},
                     {"gain": 0.2, "gain_low": 0.15, "gain_high": 0.25, "significant": True, "gain_seeds": [0.2],
                      "acc_none": 0.6, "acc_probe": 0.7, "baseline": "probe"}],
            "summary": {"verdict": {"text": "held"}, "method": "m", "tuned": {"x": 1}}}
    now = json.loads(json.dumps(gold))
    now["rows"][0].update(significant=False, baseline="mlp", gain_seeds=[0.4, 0.0])
    now["summary"]["verdict"]["text"] = "not confirmed"
    g, n = stable_view(gold, now, 0.02)
    assert differences(g, n, 0.0, 0.02) == []
    assert "significant" in g["rows"][1] and g["summary"] == {"method": "m"}
    now["rows"][1]["significant"] = False  # a flag far from its threshold is still a golden
    assert differences(*stable_view(gold, now, 0.02), 0.0, 0.02)


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
    if name.startswith("validate"):
        golden, now = stable_view(golden, now, TOLERANCE[name][1])
    diffs = differences(golden, now, *TOLERANCE[name])
    assert not diffs, f"{name}: {len(diffs)} difference(s), first: " + "; ".join(diffs[:5])


if __name__ == "__main__" and "--refresh" in sys.argv:
    for case in CASES:
        run_case(case, GOLDEN / f"{case}.json")
