"""One call that answers "which teacher should I use?": rank, then measure, then one verdict.

:func:`advise` ranks the candidate teachers (:func:`~cchkit.ranking.rank_teachers`), validates
the ``top`` best-ranked ones by distilling (:func:`~cchkit.validation.validate`: each teacher's
gain over the best teacher-free student, beside a placebo teacher, seeds added within
``budget``), and states one recommendation **from the measurement**: the teacher whose gain is
significantly positive and beats its placebo, or "train the student alone". It names one teacher
only when its gain interval is separated from the others'; otherwise every helping teacher it
cannot tell apart. The ranking's prediction is shown beside it, with whether it held. With few
labels there is no ranking (its criteria would read labels the student does not have) and every
candidate is measured; ``baseline="no-kd"`` gives the earlier answer, over the tuned no-KD student.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._params import NONE, Integral, Interval, Real, validate_params
from ._stats import MIN_SEEDS
from ._warn import warn_user
from .criteria import default_criterion
from .criteria.regimes import load_regime_records, regime_words
from .datasets import load_bundle
from .exceptions import InputError, RankingFailedError
from .ranking import Ranking, rank_teachers, resolve_candidates

__all__ = ["advise", "Advice", "ADVISE_BUDGET", "ADVISE_TOP", "answer_head", "not_separated_from", "budget_overrun"]

#: Default seconds for a whole ``advise`` (torch's import, ranking and validation): a little more
#: than the demo's first round (ranking and 5 seeds) takes on 2 cores, so a default run adds a
#: seed at most (timings: benchmarks/results/validate_speed.md).
ADVISE_BUDGET = 45.0
#: How many of the best-ranked candidates ``advise`` validates with every label.
ADVISE_TOP = 3
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
        The seconds the caller gave the whole call.
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
               " These gains are over the tuned no-KD student (--baseline no-kd); the default measurement, over the "
               "best teacher-free student (label smoothing included) and against a placebo teacher, can take them "
               "away.")
    return (f"{head} The ranking ({v.get('criterion', '-')}) said: {said}; that advice {outcome}. "
            f"{power[:1].upper() + power[1:]}{caution}")


#: The fewest seeds ``baseline="no-kd"`` takes (an interval over seeds needs two; the default measurement,
#: whose gains are judged by a t interval with its placebo beside, takes MIN_SEEDS).
NO_KD_MIN_SEEDS = 2


@validate_params({"top": [Interval(Integral, 1, None), NONE], "budget": [Interval(Real, 0, None, closed="neither")],
                  "seeds": [Interval(Integral, NO_KD_MIN_SEEDS, None)]}, owner="advise")
def advise(bundle: Any, student: str, candidates: Any = None, *, top: int | None = None, seeds: int = 5,
           budget: float = ADVISE_BUDGET, random_state: int = 0, device: str = "auto", progress: bool = False,
           rank_params: dict[str, Any] | None = None, label: str = "label", **validate_params_: Any) -> Advice:
    """Rank the candidates, validate the ``top`` best-ranked ones within ``budget`` seconds, and
    recommend from the measurement (see the module docstring).

    Parameters
    ----------
    bundle : ModalityBundle, path or bundled dataset name
    student : str
    candidates : list of str, comma-separated str, or None (every other modality)
    top : int or None
        How many of the best-ranked candidates to validate (None: :data:`ADVISE_TOP`). With few
        labels every candidate is measured and nothing is ranked, so ``top`` is refused there.
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
    least = _least_seeds(validate_params_)
    if seeds < least:  # refused before the ranking runs, not after it
        raise InputError(f"advise: seeds must be at least {least} with this baseline (a gain's interval needs them), "
                         f"got {seeds}.")
    bundle = load_bundle(bundle, label=label)
    cands = resolve_candidates(bundle, student, candidates)[0][1]
    regime = {k: validate_params_.pop(k) for k in ("labels_per_class", "labelled_fraction", "teacher_labels")
              if k in validate_params_}
    if regime.get("labels_per_class") is not None or regime.get("labelled_fraction") is not None \
            or bundle.n_unlabeled(student):
        _refuse_ranking_options(top, rank_params, device)
        left = max(budget - (time.perf_counter() - started), _LEAST_BUDGET)
        advice = _few_label_advice(bundle, student, cands, seeds, left, random_state, progress, regime,
                                   validate_params_)
        advice.budget, advice.seconds = float(budget), time.perf_counter() - started
        _warn_if_over_budget(advice.seconds, budget, seeds, len(cands), ranked=False, least=least)
        return advice
    if regime.get("teacher_labels", "auto") != "auto":  # it would be dropped: nothing here reads it
        raise InputError("advise: teacher_labels applies only with few labels (labels_per_class, labelled_fraction, "
                         "or rows without a label in the data); leave it out.")
    top = ADVISE_TOP if top is None else top
    # the ranking's grid goes where the validation's seeds go, unless rank_params says otherwise
    parallel = {k: validate_params_[k] for k in ("n_jobs", "backend", "scheduler") if k in validate_params_}
    ranking, best, dropped = _ranked(bundle, student, cands, top, random_state, device, progress,
                                     {**parallel, **(rank_params or {})})
    left = max(budget - (time.perf_counter() - started), _LEAST_BUDGET)  # the first round runs in any case
    if validate_params_.get("baseline", "teacher-free") == "no-kd":
        choice, text, report = _no_kd_answer(bundle, student, best, ranking, seeds, left, random_state, device,
                                             progress, validate_params_)
    else:
        choice, text, report = _teacher_free_answer(bundle, student, best, ranking, seeds, left, random_state,
                                                    progress, validate_params_)
    text += _unmeasured_note(ranking, cands, best, dropped)
    seconds = time.perf_counter() - started
    _warn_if_over_budget(seconds, budget, seeds, len(best), least=least)
    return Advice(teacher=choice, text=text, ranking=ranking, validation=report, budget=float(budget),
                  seconds=seconds)


def _ranked(bundle: Any, student: str, cands: list[str], top: int, random_state: int, device: str, progress: bool,
            rank_params: dict[str, Any] | None) -> tuple[Ranking, list[str], list[str]]:
    """The ranking, the ``top`` best-ranked candidates it could score, and those it could not."""
    try:
        ranking = rank_teachers(bundle, student, cands, random_state=random_state, device=device, progress=progress,
                                **dict(rank_params or {}))
    except RankingFailedError as exc:  # no candidate could be scored (unpaired data): measure them all the same
        ranking = exc.ranking
    dropped = [t for t in cands if t not in set(ranking.table.loc[ranking.table["error"].fillna("") == "", "teacher"])]
    best = [t for t in ranking.top(top)["teacher"].tolist() if t not in dropped] or [t for t in cands
                                                                                     if t not in dropped][:top]
    return ranking, best or cands[:top], dropped  # no ranking row at all (unpaired data): the first candidates


def _no_kd_answer(bundle: Any, student: str, best: list[str], ranking: Ranking, seeds: int, left: float,
                  random_state: int, device: str, progress: bool, rest: dict[str, Any]) -> tuple[str | None, str, Any]:
    """``baseline="no-kd"``: gains over the tuned no-KD student, the ranking compared by validate."""
    from .validation import validate  # torch's first import is part of the budget

    report = validate(bundle, student, best, ranking=ranking, seeds=seeds, budget=left, random_state=random_state,
                      device=device, progress=progress, **rest)
    choice = measured_choice(report.table, report.summary["method"])
    return choice, _verdict_text(student, choice, report), report


def _teacher_free_answer(bundle: Any, student: str, best: list[str], ranking: Ranking, seeds: int, left: float,
                         random_state: int, progress: bool, rest: dict[str, Any]) -> tuple[str | None, str, Any]:
    """The default: gains over the best teacher-free student with placebo teachers; the answer is
    that measurement's verdict, then what the ranking said and whether it held."""
    from .validation import validate  # torch's first import is part of the budget
    from .validation.verdict import OUTCOME_PHRASES, advice_verdict

    report = validate(bundle, student, best, seeds=seeds, budget=left, random_state=random_state, progress=progress,
                      **rest)
    s = report.summary
    t = report.table.copy()
    t["significant"] = t["significant"] & ((t["gain"] < 0) | t["beats_placebo"])  # a gain its placebo matches is not the teacher's
    criterion = str(ranking.settings.get("criterion", "cch_score"))
    held = advice_verdict(ranking.recommended, criterion, t, s["method"], "teacher-free")
    s["verdict"]["ranking"] = held
    said = f"use {held['advice']}" if held["advice"] else "no teacher predicted to help"
    power = s["power"]["statement"]
    regime = ranking.settings.get("label_regime")
    chosen = (f", the study's choice for {regime_words(regime)}" if regime in load_regime_records()
              and criterion == default_criterion(regime) else "")
    text = (f"{s['verdict']['text']} The ranking ({criterion}{chosen}) said: {said}; that advice "
            f"{OUTCOME_PHRASES[held['outcome']]} ({held['reason']}). {power[:1].upper() + power[1:]}")
    return (s["verdict"]["teachers"] or [None])[0], text, report


def _unmeasured_note(ranking: Ranking, cands: list[str], best: list[str], dropped: list[str]) -> str:
    unmeasured = [t for t in dropped if t not in best]
    if len(dropped) == len(cands):
        return " The ranking could score no candidate (no paired samples?), so no prediction was made."
    if not unmeasured:
        return ""
    reasons = "; ".join(f"{r.teacher}: {r.error}" for r in ranking.table.itertuples()
                        if r.teacher in unmeasured and r.error)[:300]
    return (f" Not measured: {', '.join(unmeasured)} (the ranking could not score "
            f"{'it' if len(unmeasured) == 1 else 'them'}: {reasons}); the answer covers the others only.")


def _least_seeds(validate_params_: dict[str, Any]) -> int:
    return NO_KD_MIN_SEEDS if validate_params_.get("baseline", "teacher-free") == "no-kd" else MIN_SEEDS


def budget_overrun(seconds: float, budget: float, seeds: int, n_teachers: int, ranked: bool = True,
                   least: int = MIN_SEEDS) -> str | None:
    """What ``advise`` warns when it took more than twice its budget: why (the first round
    always runs) and what would fit (no fewer than ``least`` seeds); None within twice the budget."""
    if seconds > 2 * budget:
        first = "the ranking and the first round" if ranked else "the first round"
        smaller = "a smaller --top" if ranked else "fewer --candidates"
        return (f"advise took {seconds:.1f} s, over twice its budget of {budget:.3g} s: {first} of {seeds} seeds for "
                f"{n_teachers} teacher(s) always run{'' if ranked else ' (with few labels every candidate is measured)'}."
                f" Fewer --seeds (at least {least}), {smaller} or a larger --budget makes the budget hold.")
    return None


def _warn_if_over_budget(seconds: float, budget: float, seeds: int, n_teachers: int, ranked: bool = True,
                         least: int = MIN_SEEDS) -> None:
    message = budget_overrun(seconds, budget, seeds, n_teachers, ranked, least)
    if message:
        warn_user("%s", message)


def _refuse_ranking_options(top: int | None, rank_params: dict[str, Any] | None, device: str) -> None:
    """With few labels nothing is ranked: the options of the ranking would be dropped, so they are refused."""
    given = [name for name, used in (("top", top is not None), ("rank_params", bool(rank_params)),
                                     ("device", device != "auto")) if used]
    if given:
        raise InputError(f"advise: {', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply with few labels "
                         "(every candidate is measured by the few-label validation and none is ranked); leave "
                         f"{'it' if len(given) == 1 else 'them'} out.")


def _few_label_advice(bundle: Any, student: str, cands: list[str], seeds: int, budget: float, random_state: int,
                      progress: bool, regime: dict[str, Any], rest: dict[str, Any]) -> Advice:
    """With few labels: every candidate measured by the few-label validation within ``budget``
    seconds (no full-label ranking: its criteria read labels the student does not have there);
    the answer is its verdict."""
    from .validation import validate

    report = validate(bundle, student, cands, seeds=seeds, budget=budget, random_state=random_state,
                      progress=progress, **regime, **rest)
    v = report.summary["verdict"]
    text = v["text"] + " " + (report.summary.get("prediction") or {}).get("text", "")
    return Advice(teacher=v["teachers"][0] if v["teachers"] else None, text=text.strip(), ranking=None,
                  validation=report)
