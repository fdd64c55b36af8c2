"""Tests written against mutations that survived the unit tests (issue #35, part 6): each says
which change of the code it catches. benchmarks/mutation/hidden_mutations.py applies them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cchkit.advice import measured_choice
from cchkit.criteria import get_criterion
from cchkit.distill import DistillConfig
from cchkit.distill.batched import Member
from cchkit.ranking import RANKING_COLUMNS, Ranking
from cchkit.validation.probe import linear_probe


def test_a_significantly_negative_gain_is_never_the_advice():
    """Catches: the advice taking the largest significant gain whatever its sign."""
    t = pd.DataFrame({"teacher": ["a", "b"], "method": ["m", "m"], "gain": [-0.09, -0.02],
                      "significant": [True, True]})
    assert measured_choice(t, "m") is None
    assert measured_choice(t.assign(gain=[-0.09, 0.01]), "m") == "b"


def test_the_probe_is_standardised_with_its_training_rows_only():
    """Catches: moments taken over every row (the test rows would reach the fit). Moving the
    rows the probe never trains on must leave its fit, and so its validation accuracy, alone."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    x = rng.normal(size=(180, 4)) + y[:, None]
    base = linear_probe(x, y, 0)
    from cchkit.distill.splits import student_split

    fit, val, test = student_split(y, 0, test_size=0.3)
    moved = x.copy()
    moved[test] = moved[test] * 50.0 + 1e3  # far off, as a leak through the moments would notice
    again = linear_probe(moved, y, 0)
    assert (again.C, again.val_accuracy) == (base.C, base.val_accuracy)


def test_the_recommendation_is_the_best_ranked_teacher_predicted_to_help_not_the_first_row():
    """Catches: the advice taken as the first teacher in table order that is predicted to help."""
    rows = []
    for teacher, rank in (("second", 2), ("first", 1), ("third", 3)):
        row = dict.fromkeys(RANKING_COLUMNS, np.nan)
        row.update(student="s", teacher=teacher, estimator="gaussian", rank=rank, predicts_gain=True, error=None,
                   cch_score=1.0 / rank)
        rows.append(row)
    table = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    assert Ranking(table=table, settings={"estimators": ["gaussian"]}).recommended == "first"


def test_the_stacks_default_temperature_is_the_configs():
    """Catches: the stacks' default temperature drifting from DistillConfig's."""
    assert Member.__dataclass_fields__["temperature"].default == DistillConfig().temperature


def test_i_teacher_student_cuts_at_the_median_not_the_mean():
    """Catches: the cut at the mean over candidates. Values 1, 2, 3, 10: median 2.5 (3 and 10
    help), mean 4 (only 10 would)."""
    t = pd.DataFrame({"student": ["s"] * 4, "i_teacher_student": [1.0, 2.0, 3.0, 10.0]})
    assert list(get_criterion("i_teacher_student").decide(t)) == ["hurts", "hurts", "helps", "helps"]


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_keeps_the_expected_activation(p):
    """Catches: dropout not inverted (kept units not scaled by 1/(1 - p)): over many draws a
    hidden unit's mean multiplier is 1, as at evaluation."""
    from types import SimpleNamespace

    import torch

    from cchkit.distill import batched

    member = SimpleNamespace(dropout=p, batch_seed=3)  # what the masks read of a stack member
    drop = batched.DropoutMasks([member], [64], 2000, torch.device("cpu"))
    keep = drop.batch(drop.epoch(), slice(0, 2000))[0]
    assert float(keep.mean()) == pytest.approx(1.0, abs=0.03)
    assert set(np.unique(keep.numpy()).round(6)) <= {0.0, round(1 / (1 - p), 6)}


def test_a_budget_round_at_most_doubles_the_seeds():
    """Catches: a budget round allowed to take every seed left at once."""
    from cchkit.validation.validate import next_seeds

    pool = list(range(100, 120))
    assert next_seeds(pool, 5, room=50) == pool[5:10]  # doubling: 5 more, not 15
    assert next_seeds(pool, 5, room=2) == pool[5:7]
    assert next_seeds(pool, 18, room=50) == pool[18:20]


def test_the_t_interval_uses_students_t_quantile():
    """Catches: the normal quantile in place of Student's t (too narrow with 3 seeds). Values
    1, 2, 3: mean 2, se 1/sqrt(3), t(0.975, 2 df) = 4.3027."""
    from cchkit._stats import t_interval

    m, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]))
    assert m == 2.0 and hi - m == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5) and m - lo == pytest.approx(hi - m)


def _teacher_free_seeds(rows: list, rng: np.random.Generator):
    """Five seeds' best teacher-free rows (accuracy about 0.6), appended to ``rows``; yields (seed, its accuracy)."""
    for seed in range(5):
        base = 0.6 + rng.normal(0, 0.01)
        rows.append({"seed": seed, "teacher": "", "method": "best teacher-free", "chosen": "supervised",
                     "accuracy": base, "baseline": base, "placebo": np.nan, "teacher_cv": np.nan, "student_cv": np.nan})
        yield seed, base


def test_a_gain_that_does_not_beat_its_placebo_does_not_help():
    """Catches: "helps" read from the gain alone. The teacher gains +0.10 on every seed (with
    noise) and so does its placebo: significant, but nothing of the teacher's knowledge."""
    from cchkit.fewlabels.report import summarise_table

    rng = np.random.default_rng(0)
    rows = []
    for seed, base in _teacher_free_seeds(rows, rng):
        acc = base + 0.10 + rng.normal(0, 0.01)
        for teacher, placebo in (("real", base), ("smoothing", acc - rng.normal(0, 0.005) ** 2)):
            rows.append({"seed": seed, "teacher": teacher, "method": "logit-kd", "chosen": "", "accuracy": acc,
                         "baseline": base, "placebo": placebo, "teacher_cv": 0.8, "student_cv": 0.6})
    t = summarise_table(pd.DataFrame(rows), "s", {"real": "same", "smoothing": "same"}).set_index("teacher")
    assert t.loc["real", "significant"] and t.loc["real", "helps"]
    assert t.loc["smoothing", "significant"] and not t.loc["smoothing", "helps"]


@pytest.mark.parametrize("gain, placebo_gain", [(-0.05, -0.15), (0.05, 0.15)])
def test_a_teacher_helps_only_with_a_positive_gain_above_its_placebo(gain, placebo_gain):
    """Catches: "helps" without the gain's sign, or a placebo beaten whatever the sign of the
    margin. A gain of -0.05 beats a placebo at -0.15 and does not help; a gain of +0.05 under a
    placebo at +0.15 does not beat it."""
    from cchkit.fewlabels.report import summarise_table

    rng = np.random.default_rng(1)
    rows = []
    for seed, base in _teacher_free_seeds(rows, rng):
        rows.append({"seed": seed, "teacher": "t", "method": "logit-kd", "chosen": "", "baseline": base,
                     "accuracy": base + gain + rng.normal(0, 0.005), "placebo": base + placebo_gain + rng.normal(0, 0.005),
                     "teacher_cv": 0.8, "student_cv": 0.6})
    r = summarise_table(pd.DataFrame(rows), "s", {"t": "same"}).iloc[0]
    assert r["significant"] and np.sign(r["gain"]) == np.sign(gain)
    assert bool(r["beats_placebo"]) == (gain > placebo_gain) and not r["helps"]


def test_the_detectable_gain_is_the_median_half_width_of_the_teachers_intervals():
    """Catches: the widest (or the mean) half-width quoted as the smallest gain the seeds can see.
    Half-widths 0.01, 0.02 and 0.06: the median is 0.02 (the mean 0.03, the widest 0.06)."""
    from cchkit.validation.evidence import power_statement

    t = pd.DataFrame([dict(teacher=k, method="m", gain=g, gain_low=g - h, gain_high=g + h)
                      for k, g, h in (("a", 0.05, 0.01), ("b", 0.04, 0.02), ("c", 0.0, 0.06))])
    assert power_statement(t, "m", 5)["min_detectable_gain"] == pytest.approx(0.02)


class _Clock:
    """A clock that moves only when seeds run: the first round costs 1 s a seed (it tunes), the
    later ones 0.125 s (binary fractions: the budget arithmetic is exact)."""

    def __init__(self) -> None:
        self.now, self.calls, self.methods = 0.0, 0, ["m"]

    def perf_counter(self) -> float:
        return self.now

    def runs(self, seeds: list[int]) -> pd.DataFrame:
        self.now += len(seeds) * (1.0 if self.calls == 0 else 0.125)
        self.calls += 1
        return pd.DataFrame({"seed": seeds})

    def table(self, seeds: list[int], runs: pd.DataFrame) -> tuple[pd.DataFrame, None]:
        return pd.DataFrame(), None


def test_a_budget_round_is_priced_by_the_latest_round_not_the_tuning_one(monkeypatch):
    """Catches: the next round priced by the mean cost of every seed so far (the first round's
    tuning included), which starves the budget. 2 seeds tune in 2 s of a 3 s budget: 1 seed fits
    (priced at 1 s); then at 0.125 s a seed 3 (the count at most doubles), then the 4 that fill
    the budget: 10 seeds (priced by the mean of every seed so far, 8)."""
    from cchkit.validation import seeds as seeds_module

    clock = _Clock()
    monkeypatch.setattr(seeds_module, "time", clock)
    monkeypatch.setattr(seeds_module, "power_statement", lambda *a, **k: {"separated": False})
    seeds, _, stop = seeds_module.seeds_until_separated(clock, list(range(20)), 2, 3.0, 0.0)
    assert len(seeds) == 10 and stop == "budget spent"
