"""advise() (cchkit.advice): rank, measure, and recommend from the measurement (issue #26)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.advice import answer_head, measured_choice
from cchkit.cli import app
from cchkit.exceptions import InputError
from cchkit.fewlabels import FewLabelReport
from cchkit.validation.verdict import OUTCOME_PHRASES, OUTCOMES

FAST = dict(epochs=2, min_steps=0, batch_size=32, feat_dim=8)


@pytest.fixture(scope="module")
def bundle(clean_noise_bundle):
    return clean_noise_bundle


def test_the_choice_is_the_largest_significant_positive_gain():
    t = pd.DataFrame({"teacher": ["a", "b", "c", "a"], "method": ["m", "m", "m", "other"],
                      "gain": [0.02, 0.05, 0.09, 0.5], "significant": [True, True, False, True]})
    assert measured_choice(t, "m") == "b"  # c is larger but within noise; "other" is another method
    assert measured_choice(t.assign(significant=False), "m") is None


def _gains(**rows):
    return pd.DataFrame([{"teacher": k, "method": "m", "gain": g, "gain_low": lo, "gain_high": hi,
                          "significant": lo > 0 or hi < 0} for k, (g, lo, hi) in rows.items()])


def test_overlapping_intervals_are_said_first_and_no_single_teacher_is_named():
    t = _gains(text=(0.032, 0.015, 0.049), image=(0.025, 0.007, 0.043), noise=(0.001, -0.010, 0.012))
    head = answer_head("audio", "text", t, "m", "the probe", 0.7)
    assert head.startswith("text or image can teach audio:") and "cannot tell them apart" in head
    assert "Use " not in head and "largest" not in head and "noise" not in head  # noise is separated: below text


def test_one_teacher_is_named_alone_only_when_separated():
    sep = answer_head("audio", "text", _gains(text=(0.05, 0.04, 0.06), image=(0.01, 0.0, 0.02)), "m", "p", 0.7)
    assert sep.startswith("Use text as the teacher of audio") and "separated from the others" in sep
    noisy = answer_head("audio", "text", _gains(text=(0.017, 0.004, 0.029), image=(0.012, -0.004, 0.029)),
                        "m", "p", 0.7)
    assert noisy.startswith("Use text") and "only significant gain" in noisy
    assert "not separated from image +0.012 [-0.004, +0.029] (within noise)" in noisy
    alone = answer_head("audio", None, _gains(text=(0.0, -0.01, 0.01)), "m", "p", 0.7)
    assert alone.startswith("Train audio alone") and "0.700" in alone


def test_every_verdict_outcome_ends_a_sentence():
    assert set(OUTCOME_PHRASES) == set(OUTCOMES)
    assert OUTCOME_PHRASES["not confirmed"] == "was not confirmed"  # "that advice not confirmed" has no verb


def test_advise_answers_from_the_teacher_free_measurement(bundle):
    with pytest.warns(cchkit.exceptions.CchkitWarning, match=r"over twice its budget of 0.001 s: the ranking and the "
                                                            r"first round of 3 seeds for 2 teacher\(s\) always run\."):
        a = cchkit.advise(bundle, "s", top=2, seeds=3, budget=1e-3, rank_params={"representation": "raw"})
    v = a.validation
    assert isinstance(v, FewLabelReport)
    assert set(v.table["teacher"]) == set(a.ranking.top(2)["teacher"])
    assert a.teacher == (v.summary["verdict"]["teachers"] or [None])[0]
    assert a.teacher != "noise"  # a teacher of pure noise is never the answer
    assert a.text.startswith(v.summary["verdict"]["text"])
    held = v.summary["verdict"]["ranking"]
    # the ranking names its criterion and the label regime whose study chose it (every label here)
    assert a.ranking.settings["label_regime"] == "all-same"
    assert f"The ranking ({a.ranking.settings['criterion']}, the study's choice for every label) said" in a.text
    assert f"that advice {OUTCOME_PHRASES[held['outcome']]} ({held['reason']})" in a.text
    assert held["advice"] == a.ranking.recommended
    doc = a.to_dict()
    assert doc["teacher"] == a.teacher and doc["validation"]["summary"]["verdict"]["text"]


def test_advise_over_the_no_kd_student_names_the_default_that_can_take_a_gain_away(bundle):
    a = cchkit.advise(bundle, "s", top=2, seeds=2, budget=1e-3, rank_params={"representation": "raw"},
                      baseline="no-kd", **FAST)
    assert isinstance(a, cchkit.Advice) and a.teacher == measured_choice(a.validation.table, a.validation.summary["method"])
    assert set(a.validation.table["teacher"]) == set(a.ranking.top(2)["teacher"])
    assert ("Use " if a.teacher else "Train s alone") in a.text and f"The ranking ({a.ranking.settings['criterion']}) said" in a.text
    assert ("the default measurement" in a.text) == (a.teacher is not None)
    assert f"that advice {OUTCOME_PHRASES[a.validation.summary['verdict']['outcome']]}." in a.text


def test_the_budget_covers_the_ranking_too(bundle):
    a = cchkit.advise(bundle, "s", top=1, seeds=3, budget=30.0, rank_params={"representation": "raw"})
    left = a.validation.summary["budget"]
    assert 0 < left < 30.0  # the validation got what the ranking left of the 30 s
    assert a.budget == 30.0 and a.validation.summary["seconds"] <= left + 30.0


def test_cli_advise(tmp_path):
    out = tmp_path / "a.json"
    res = CliRunner().invoke(app, ["advise", "-s", "audio", "-c", "text", "--seeds", "3", "--budget", "0.001", "-q",
                                   "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert "teacher" in doc and doc["validation"]["summary"]["power"]["n_seeds"] == 3
    res = CliRunner().invoke(app, ["advise", "-s", "audio", "--scheduler", "tcp://127.0.0.1:1", "-q"])
    assert res.exit_code == 2 and "for the Dask backend" in res.output


# ------------------------------------------------------------- what advise hands over and reads back
class _Measured:
    """A validation report as advise reads it, whose verdict names ``chosen`` in that order."""

    def __init__(self, teachers: list[str], chosen: list[str]) -> None:
        self.table = pd.DataFrame({"teacher": teachers, "method": "logit-kd", "gain": 0.1, "gain_low": 0.05,
                                   "gain_high": 0.15, "significant": True, "beats_placebo": True})
        self.summary = {"method": "logit-kd", "verdict": {"text": "Measured.", "teachers": chosen},
                        "power": {"statement": "enough seeds."}, "prediction": {"text": ""}}

    def to_dict(self) -> dict:
        return {"summary": self.summary}


@pytest.fixture
def measured(monkeypatch):
    """validate replaced by a stub that records what advise asks it to measure; its verdict
    names the candidates in reverse order."""
    import cchkit.validation

    asked: dict = {}

    def stub(bundle, student, candidates, **kwargs):
        asked["candidates"] = list(candidates)
        return _Measured(list(candidates), list(candidates)[::-1])

    monkeypatch.setattr(cchkit.validation, "validate", stub)
    return asked


def test_advise_measures_the_top_best_ranked_candidates_and_no_more(bundle, measured):
    a = cchkit.advise(bundle, "s", top=1, rank_params={"representation": "raw"})
    assert measured["candidates"] == a.ranking.top(1)["teacher"].tolist() and len(measured["candidates"]) == 1
    assert a.teacher == measured["candidates"][0]


@pytest.mark.parametrize("regime", [{}, {"labels_per_class": 5}])
def test_advise_answers_with_the_verdicts_first_teacher(bundle, measured, regime):
    """The verdict lists the teachers it cannot tell apart best first: advise names the first,
    with every label and with few labels."""
    top = {} if regime else {"top": 2, "rank_params": {"representation": "raw"}}
    a = cchkit.advise(bundle, "s", **top, **regime)
    assert len(measured["candidates"]) == 2 and a.teacher == measured["candidates"][-1]


def test_advise_warns_past_twice_its_budget_and_says_why():
    from cchkit.advice import budget_overrun

    assert budget_overrun(19.9, 10.0, 5, 2) is None
    said = budget_overrun(25.0, 10.0, 5, 2)
    assert said.startswith("advise took 25.0 s, over twice its budget of 10 s: the ranking and the first round of 5 "
                           "seeds for 2 teacher(s) always run.")
    assert "with few labels every candidate is measured" in budget_overrun(25.0, 10.0, 5, 3, ranked=False)
    # the fewest seeds it suggests are the fewest a measurement takes
    assert "Fewer --seeds (at least 3)" in said


def test_advise_refuses_fewer_seeds_than_a_measurement_takes():
    """2 seeds passed advise's own check and were refused only inside the validation."""
    from cchkit.advice import budget_overrun

    with pytest.raises(InputError, match=r"advise: seeds must be at least 3 with this baseline"):
        cchkit.advise(cchkit.datasets.load("digits-avt"), "audio", seeds=2)
    assert "Fewer --seeds (at least 2)" in budget_overrun(25.0, 10.0, 5, 2, least=2)  # what baseline='no-kd' takes


@pytest.mark.parametrize("other, near", [((0.030, 0.012, 0.048), True), ((0.003, -0.010, 0.020), True),
                                         ((0.002, -0.010, 0.014), False)])
def test_a_teacher_is_not_separated_from_the_choice_while_its_interval_reaches_the_choices(other, near):
    """The choice's interval starts at 0.015: a teacher whose interval ends at 0.020 reaches it,
    though its mean gain (0.003) does not; one ending at 0.014 does not."""
    from cchkit.advice import not_separated_from

    t = _gains(text=(0.04, 0.015, 0.065), other=other)
    assert not_separated_from(t, "m", "text") == (["other"] if near else [])
