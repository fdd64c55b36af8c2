"""Mutations of this round's code (issues #34 and #35): the label regime a ranking decides in,
its record, the few-label advice's budget and refusals, and the file-format registry. Each is
applied alone; the unit tests, goldens excluded, must catch it. The tests were written with the
code, before these mutations were listed, but by the same hands: a regression guard, not a
blind score.

    python benchmarks/mutation/regime_mutations.py [pytest args...]

Writes benchmarks/results/regime_mutations.md. The working tree is restored after each run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from formula_mutations import run_set  # noqa: E402

#: the unit tests of that code (no golden files), fastest first
TESTS = ["tests/test_criteria_regimes.py", "tests/test_cli_commands.py", "tests/test_criteria_study.py",
         "tests/test_fewlabels.py"]

#: (name, file, original text, mutated text)
MUTATIONS = [
    ("a label count within a factor 4 of a studied level counts as studied", "cchkit/criteria/regimes.py",
     "<= math.log(2) + 1e-12", "<= math.log(4) + 1e-12"),
    ("label counts matched on a linear, not a log, scale", "cchkit/criteria/regimes.py",
     "key=lambda k: abs(math.log(labels_per_class / k))", "key=lambda k: abs(labels_per_class - k)"),
    ("a teacher with labels the student lacks is not 'own'", "cchkit/criteria/regimes.py",
     'studied_regime(per_class, "own" if own else "same")', 'studied_regime(per_class, "same")'),
    ("data with some labels counted as fully labelled", "cchkit/criteria/regimes.py",
     "    if labelled.all():\n", "    if labelled.any():\n"),
    ("the regime's record never read (always the full-label study)", "cchkit/criteria/track_record.py",
     "entry = load_regime_records().get(regime) if regime else None", "entry = None"),
    ("the advice ignores the regime's band", "cchkit/criteria/track_record.py",
     "    crit = get_criterion(criterion)\n    record = record_for(regime)",
     "    crit = get_criterion(criterion)\n    record = record_for(None)"),
    ("the ranking's default criterion is the full-label study's whatever the regime", "cchkit/ranking/rank.py",
     "settings.criterion = criterion or default_criterion(settings.regime)",
     "settings.criterion = criterion or default_criterion()"),
    ("the record quotes the criterion's in-sample top-1 as the held-out one", "cchkit/criteria/regimes.py",
     "f\"{proc['top1_right']} of {proc['n_students']} held-out students",
     "f\"{crit['top1_right']} of {proc['n_students']} held-out students"),
    ("few-label advise drops its budget", "cchkit/advice.py",
     "report = validate(bundle, student, cands, seeds=seeds, budget=budget, random_state=random_state,",
     "report = validate(bundle, student, cands, seeds=seeds, random_state=random_state,"),
    ("few-label advise drops top instead of refusing it", "cchkit/advice.py",
     '(("top", top is not None),', '(("top", False),'),
    ("the labels the data hold are never placed in a studied regime", "cchkit/fewlabels/track_record.py",
     "return studied_regime(per_class, mode) if per_class is not None else None", "return None"),
    ("a grouping flag a file format does not read is dropped", "cchkit/bundle/tables.py",
     "and k not in fmt.options and v != _UNSET[k]]", "and k not in fmt.options and False]"),
]


def main() -> None:
    run_set("Mutations of the label-regime code (issues #34, #35): a regression guard written by the same hands",
            "python benchmarks/mutation/regime_mutations.py", MUTATIONS, TESTS, "regime_mutations.md", sys.argv[1:])


if __name__ == "__main__":
    main()
