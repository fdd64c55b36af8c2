"""The ranking's advice in plain words: which teacher, decided by which criterion, how often
that criterion held out, and where the paper's CCH decides otherwise. The CLI and the HTML
report print these same lines."""

from __future__ import annotations

from typing import Any

from ..criteria import advice_rule, track_statement
from ..criteria.regimes import load_regime_records, regime_words, study_words

__all__ = ["advice_lines"]


def advice_lines(ranking: Any) -> list[str]:
    """One line per student (the advice), then the deciding criterion, its rule and its track
    record, then the rows where the CCH's own decision differs."""
    crit = str(ranking.settings.get("criterion", "cch_score"))
    regime = ranking.settings.get("label_regime")
    ok = ranking.table[ranking.table["error"].isna() & (ranking.table["estimator"] == ranking.primary_estimator)]
    lines = []
    for student, teacher in ranking.recommendations.items():
        each = ", ".join(f"{r.teacher}: {r.advice}" for r in ok[ok["student"] == student].itertuples(index=False))
        lines.append(f"advice for {student}: " + (f"use {teacher}" if teacher else "no teacher is predicted to help")
                     + (f" ({each})" if each else ""))
    lines.append(f"decided by {crit}: helps when {advice_rule(crit, regime)}")
    lines.append(f"track record of {crit}: {track_statement(crit, regime)}")
    lines += _regime_lines(ranking, regime)
    t = ranking.table[ranking.table["error"].isna()]
    differ = t[t["advice"] != t["decision"]]
    if len(differ):
        lines.append("the paper's CCH rule (its 95% interval against 0) decides otherwise for " + "; ".join(
            f"{r.student} <- {r.teacher}: {r.decision} (advice: {r.advice})" for r in differ.itertuples(index=False)))
    return lines


def _regime_lines(ranking: Any, regime: str | None) -> list[str]:
    """Which label regime's study the advice and its record come from; where the data hold
    unlabeled rows, that the ranking set them aside and where the label-scarce answer is."""
    unlabeled = ranking.settings.get("unlabeled_rows") or {}
    studied = regime is not None and regime in load_regime_records()
    # in words, as the validation says it; the key names the record in criteria/regime_records.json
    where = (f"{study_words(regime)} chose this criterion and its band" if studied else
             "no study covers these labels, so the criterion and its band are the full-label study's "
             "(gains over a tuned no-KD student)")
    named = f"{regime_words(regime)} ({regime})" if studied else (regime or "not studied")
    lines = [f"label regime: {named}; {where}."]
    expectation = ranking.settings.get("regime_expectation")
    if expectation:
        lines.append(f"expectation: {expectation}.")
    lines += [f"regime: {student} has {unlabeled[student]:,} unlabeled rows, which the ranking set aside (its criteria "
              "read labelled rows only). `cchkit advise` (or `validate`) measures each teacher on the unlabeled rows."
              for student in ranking.students if unlabeled.get(student)]
    return lines
