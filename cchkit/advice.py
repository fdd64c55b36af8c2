"""One call that answers "which teacher should I use?": rank, then measure, then one verdict.

:func:`advise` ranks the candidate teachers (:func:`~cchkit.ranking.rank_teachers`), validates
the ``top`` best-ranked ones by distilling (:func:`~cchkit.validation.validate`, tuned baselines,
gains over the stronger of the tuned no-KD student and the linear probe, seeds added within
``budget``), and states one recommendation **from the measurement**: the teacher with the
largest significantly positive gain of the primary method, or "train the student alone" when no
teacher's gain is significantly positive. The answer names that teacher alone only when its gain
interval is separated from the others'; otherwise it opens with every significant teacher it cannot
tell apart. The ranking's prediction is shown beside it, with whether it held.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._params import Integral, Interval, Real, validate_params
from ._warn import warn_user
from .datasets import load_bundle
from .exceptions import RankingFailedError
from .ranking import Ranking, rank_teachers, resolve_candidates

__all__ = ["advise", "Advice", "ADVISE_BUDGET", "answer_head", "not_separated_from"]

#: Default seconds for a whole ``advise`` (torch's import, ranking and validation): about what the
#: demo's first round (ranking and 5 tuned seeds) takes on 2 cores, so a default run adds a seed
#: or two at most (timings: benchmarks/results/validate_speed.md).
ADVISE_BUDGET = 10.0
#: What the validation gets when the ranking used the whole budget (its first round still runs).
_LEAST_BUDGET = 1e-3


@dataclass
class Advice:
    """What :func:`advise` found.

    Attributes
    ----------
    teacher : str or None
        The teacher to distil from, by measurement; None: no teacher measurably helps.
    text : str
        The verdict in one paragraph (what the CLI prints first).
    ranking : Ranking or None
        None with few labels (the full-label ranking's criteria would read labels the student
        does not have there).
    validation : ValidationReport, or FewLabelReport with few labels
    budget : float or None
        The seconds the caller gave the whole call (None with few labels: no budget applies).
    seconds : float
        The wall time of the whole call (kept out of :meth:`to_dict`, whose JSON repeats exactly).
    """

    teacher: str | None
    text: str
    ranking: Ranking | None
    validation: Any
    budget: float | None = None
    seconds: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"teacher": self.teacher, "text": self.text,
                "ranking": self.ranking.to_dict() if self.ranking is not None else None,
                "validation": self.validation.to_dict()}

    def __repr__(self) -> str:
        return f"Advice(teacher={self.teacher!r})\n{self.text}"


def measured_choice(table: pd.DataFrame, method: str) -> str | None:
    """The teacher with the largest significantly positive gain of ``method``, or None."""
    t = table[(table["method"] == method) & table["significant"] & (table["gain"] > 0)]
    return None if t.empty else str(t.sort_values("gain", ascending=False)["teacher"].iloc[0])


def _gain(r: Any) -> str:
    return f"{r['gain']:+.3f} [{r['gain_low']:+.3f}, {r['gain_high']:+.3f}]"


def not_separated_from(table: pd.DataFrame, method: str, choice: str) -> list[str]:
    """The other teachers whose ``method`` gain interval reaches the chosen teacher's: the
    validation cannot say the choice is better than them (best mean gain first)."""
    t = table[(table["method"] == method) & (table["teacher"] != choice)]
    low = float(table[(table["method"] == method) & (table["teacher"] == choice)]["gain_low"].iloc[0])
    near = t[t["gain_high"] >= low].sort_values("gain", ascending=False)
    return [str(x) for x in near["teacher"]]


def answer_head(student: str, choice: str | None, table: pd.DataFrame, method: str, over: str,
                baseline_accuracy: float) -> str:
    """advise's first sentence: one teacher only where its gain is separated from the others';
    where intervals overlap it says so first and names every significant teacher among them."""
    if choice is None:
        return (f"Train {student} alone: no candidate's {method} gain over {over} (accuracy "
                f"{baseline_accuracy:.3f}) is significantly positive.")
    t = table[table["method"] == method].set_index("teacher")
    near = not_separated_from(table, method, choice)
    helping = [x for x in near if bool(t.loc[x, "significant"]) and t.loc[x, "gain"] > 0]
    noisy = [x for x in near if x not in helping]
    noisy_part = "; ".join(f"{x} {_gain(t.loc[x])}" for x in noisy)
    if helping:
        named = [choice, *helping]
        gains = ", ".join(f"{x} {_gain(t.loc[x])}" for x in named)
        head = (f"{' or '.join(named)} can teach {student}: {method} gains {gains} over {over}; "
                "this validation cannot tell them apart.")
        return head + (f" Not separated from them either, within noise: {noisy_part}." if noisy else "")
    head = (f"Use {choice} as the teacher of {student}: {method} gains {_gain(t.loc[choice])} over {over}, "
            "the only significant gain")
    if noisy:
        return head + f"; it is not separated from {noisy_part} (within noise)."
    return head + (", separated from the others." if len(t) > 1 else ".")


def _verdict_text(student: str, choice: str | None, report: Any) -> str:
    from .validation.verdict import OUTCOME_PHRASES

    s = report.summary
    base = s.get("baseline", {})
    over = "the linear probe" if base.get("kind") == "probe" else "the tuned no-KD student"
    acc = base.get(base.get("kind", "mlp"), [math.nan])[0]
    head = answer_head(student, choice, report.table, s["method"], over, acc)
    v = s.get("verdict", {})
    said = f"use {v.get('advice')}" if v.get("advice") else "no teacher predicted to help"
    power = s.get("power", {}).get("statement", "")
    outcome = OUTCOME_PHRASES.get(v.get("outcome", ""), "-")
    caution = ("" if choice is None else
               " These gains are over the no-KD student of this validation; `cchkit validate --labelled-fraction 1` "
               "measures them over the best teacher-free student (label smoothing included) against a placebo "
               "teacher, which can take them away.")
    return (f"{head} The ranking ({v.get('criterion', '-')}) said: {said}; that advice {outcome}. "
            f"{power[:1].upper() + power[1:]}{caution}")


@validate_params({"top": [Interval(Integral, 1, None)], "budget": [Interval(Real, 0, None, closed="neither")],
                  "seeds": [Interval(Integral, 2, None)]}, owner="advise")
def advise(bundle: Any, student: str, candidates: Any = None, *, top: int = 3, seeds: int = 5,
           budget: float = ADVISE_BUDGET, random_state: int = 0, device: str = "auto", progress: bool = False,
           rank_params: dict[str, Any] | None = None, label: str = "label", **validate_params_: Any) -> Advice:
    """Rank the candidates, validate the ``top`` best-ranked ones within ``budget`` seconds, and
    recommend from the measurement (see the module docstring).

    Parameters
    ----------
    bundle : ModalityBundle, path or bundled dataset name
    student : str
    candidates : list of str, comma-separated str, or None (every other modality)
    top : int, default 3
        How many of the best-ranked candidates to validate.
    seeds : int, default 5
        Seeds to start with; more are added while the teachers' gain intervals overlap and
        the budget allows.
    budget : float, default ADVISE_BUDGET
        Seconds for the whole call, ranking and validation: the validation gets what the
        ranking left (see :func:`~cchkit.validation.validate`'s ``budget``); its first round of
        ``seeds`` always runs, and a later round that would overrun the budget is not started.
    random_state, device, progress
    rank_params : keyword arguments of :func:`~cchkit.ranking.rank_teachers`
    label : str, default "label"
        With a DataFrame, AnnData or MuData: the column (``obs`` key) holding the labels.
    **validate_params_
        Keyword arguments of :func:`~cchkit.validation.validate` (``methods``, ``epochs``...).
    """
    started = time.perf_counter()
    from .validation import validate  # torch's first import is part of the budget

    bundle = load_bundle(bundle, label=label)
    cands = resolve_candidates(bundle, student, candidates)[0][1]
    regime = {k: validate_params_.pop(k) for k in ("labels_per_class", "labelled_fraction", "teacher_labels")
              if k in validate_params_}
    if regime.get("labels_per_class") is not None or regime.get("labelled_fraction") is not None \
            or bundle.n_unlabeled(student):
        advice = _few_label_advice(bundle, student, cands, seeds, random_state, progress, regime, validate_params_)
        advice.seconds = time.perf_counter() - started
        return advice
    try:
        ranking = rank_teachers(bundle, student, cands, random_state=random_state, device=device, progress=progress,
                                **dict(rank_params or {}))
    except RankingFailedError as exc:  # no candidate could be scored (unpaired data): measure them all the same
        ranking = exc.ranking
    dropped = [t for t in cands if t not in set(ranking.table.loc[ranking.table["error"].fillna("") == "", "teacher"])]
    best = [t for t in ranking.top(top)["teacher"].tolist() if t not in dropped] or [t for t in cands
                                                                                     if t not in dropped][:top]
    if not best:
        best = cands[:top]  # no ranking row at all (unpaired data): measure the first candidates
    left = max(budget - (time.perf_counter() - started), _LEAST_BUDGET)  # the first round runs in any case
    report = validate(bundle, student, best, ranking=ranking, seeds=seeds, budget=left, random_state=random_state,
                      device=device, progress=progress, **validate_params_)
    choice = measured_choice(report.table, report.summary["method"])
    text = _verdict_text(student, choice, report)
    unmeasured = [t for t in dropped if t not in best]
    if len(dropped) == len(cands):
        text += " The ranking could score no candidate (no paired samples?), so no prediction was made."
    elif unmeasured:
        reasons = "; ".join(f"{r.teacher}: {r.error}" for r in ranking.table.itertuples()
                            if r.teacher in unmeasured and r.error)[:300]
        text += (f" Not measured: {', '.join(unmeasured)} (the ranking could not score "
                 f"{'it' if len(unmeasured) == 1 else 'them'}: {reasons}); the answer covers the others only.")
    seconds = time.perf_counter() - started
    _warn_if_over_budget(seconds, budget, seeds, len(best))
    return Advice(teacher=choice, text=text, ranking=ranking, validation=report, budget=float(budget),
                  seconds=seconds)


def _warn_if_over_budget(seconds: float, budget: float, seeds: int, n_teachers: int) -> None:
    """More than twice the budget: say why (the first round always runs) and what fits it."""
    if seconds > 2 * budget:
        warn_user("advise took %.1f s, over twice its budget of %.1f s: the ranking and the first round of %d seeds "
                  "for %d teacher(s) always run. Fewer --seeds (at least 2), a smaller --top or a larger --budget "
                  "makes the budget hold.", seconds, budget, seeds, n_teachers)


def _few_label_advice(bundle: Any, student: str, cands: list[str], seeds: int, random_state: int, progress: bool,
                      regime: dict[str, Any], rest: dict[str, Any]) -> Advice:
    """With few labels: every candidate measured by the few-label validation (no full-label
    ranking: its criteria read labels the student does not have there); the answer is its verdict."""
    from .validation import validate

    report = validate(bundle, student, cands, seeds=seeds, random_state=random_state, progress=progress,
                      **regime, **rest)
    v = report.summary["verdict"]
    text = v["text"] + " " + (report.summary.get("prediction") or {}).get("text", "")
    return Advice(teacher=v["teachers"][0] if v["teachers"] else None, text=text.strip(), ranking=None,
                  validation=report)
