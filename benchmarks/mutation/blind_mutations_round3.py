"""A third fresh set of mutations (issue #35, item 6), listed from the source of the few-label
validation (its split, teachers, trainer, choice and report), the budget's evidence, the CCH
term pooling and two estimators, before any test was read or written for them. Run as the
first set is (:mod:`blind_mutations`): each mutation alone, the unit tests (goldens and
end-to-end checks excluded), stopping at the first failure. The list was committed before it
was first run, so the first table it wrote is a blind score; ``--after`` runs its survivors
again.

    python benchmarks/mutation/blind_mutations_round3.py [--after [tests/test_x.py ...]] [pytest args...]

Writes benchmarks/results/blind_mutations_round3.md (or blind_mutations_round3_after.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_mutations import run_round  # noqa: E402

#: (name, file, original text, mutated text)
MUTATIONS = [
    # the few-label split
    ("the test rows stay in the training pool", "cchkit/fewlabels/regime.py",
     "pool = np.setdiff1d(labelled_rows, test)", "pool = labelled_rows"),
    ("one validation split once the largest class, not the smallest, has 40 labels", "cchkit/fewlabels/regime.py",
     "many = int(np.bincount(labels[kept], minlength=len(classes)).min()) >= HOLDOUT_MIN_PER_CLASS",
     "many = int(np.bincount(labels[kept], minlength=len(classes)).max()) >= HOLDOUT_MIN_PER_CLASS"),
    ("as many folds as the smallest class has labels, not at most 3", "cchkit/fewlabels/regime.py",
     "k = int(min(CV_FOLDS, counts[counts > 0].min()))", "k = int(max(CV_FOLDS, counts[counts > 0].min()))"),
    ("a fold trains on its own held-out rows", "cchkit/fewlabels/regime.py",
     "return np.setdiff1d(self.labelled, self.folds[f])", "return self.labelled"),
    ("a labelled fraction truncated, without its floor of two rows per class", "cchkit/fewlabels/regime.py",
     "k = max(2, int(round(regime.labelled_fraction * rows.size)))", "k = int(regime.labelled_fraction * rows.size)"),
    # one seed's rows, the teachers and the choice
    ("the student standardised with the test rows' moments too", "cchkit/fewlabels/run.py",
     "fit = x[: n_l + n_u]", "fit = x"),
    ("the test rows join every member's unlabeled rows", "cchkit/fewlabels/run.py",
     "unl[n_l:n_l + n_u] = True", "unl[n_l:] = True"),
    ("ties in held-out accuracy go to the higher negative log-likelihood", "cchkit/fewlabels/run.py",
     "best = nll.loc[top].idxmin()", "best = nll.loc[top].idxmax()"),
    ("the final fits' test accuracies join the choice", "cchkit/fewlabels/run.py",
     'folds = runs[runs["fold"] >= 0].groupby(_KEYS, sort=False)', "folds = runs.groupby(_KEYS, sort=False)"),
    ("a 'same' teacher sees the labels the regime hides", "cchkit/fewlabels/run.py",
     "    out[plan.labelled] = labels[plan.labelled]\n",
     "    out[plan.labelled] = labels[plan.labelled]\n    out[plan.unlabeled] = labels[plan.unlabeled]\n"),
    ("a fold's held-out samples are not barred from its teacher", "cchkit/fewlabels/teachers.py",
     "    if fold is not None:\n        barred |=", "    if False:\n        barred |="),
    ("the placebo teacher keeps the true labels", "cchkit/fewlabels/teachers.py",
     "y_perm[final_rows] = rng.permutation(final_y)", "y_perm[final_rows] = final_y"),
    # the stacked trainer
    ("weight decay without its 1/2", "cchkit/fewlabels/stack.py",
     "return sum(0.5 * (w**2).sum(dim=(1, 2))", "return sum((w**2).sum(dim=(1, 2))"),
    ("every step draws the same first unlabeled rows (the others are never used)", "cchkit/fewlabels/stack.py",
     "return torch.cat([_draw(labelled, labelled_batch, gen), _draw(unlabeled, UNLABELED_BATCH, gen)])",
     "return torch.cat([_draw(labelled, labelled_batch, gen), unlabeled[:UNLABELED_BATCH]])"),
    ("initial weights bounded by 1/fan_in, not 1/sqrt(fan_in)", "cchkit/fewlabels/stack.py",
     "bound = 1.0 / math.sqrt(a)", "bound = 1.0 / a"),
    # the few-label report and its prediction
    ("teachers tied by their mean gain, not their interval", "cchkit/fewlabels/report.py",
     'tied = helpers[helpers["gain_high"] >= helpers["gain_low"].iloc[0]]',
     'tied = helpers[helpers["gain"] >= helpers["gain_low"].iloc[0]]'),
    ("the placebo's gain measured over the teacher, not the baseline", "cchkit/fewlabels/report.py",
     'row |= _interval_cols("placebo_gain", fake - base, (-1, 1))',
     'row |= _interval_cols("placebo_gain", fake - acc, (-1, 1))'),
    ("the student's CV accuracy taken from the best teacher-free student", "cchkit/fewlabels/report.py",
     'student_cv = float(choose(free[free["objective"] == "supervised"])["cv_accuracy"])',
     'student_cv = float(best_free["cv_accuracy"])'),
    ("a paired method allowed when any candidate, not every one, is paired", "cchkit/fewlabels/validate.py",
     "if get_objective(m).paired and not all(bundle.n_paired(student, c) > 0 for c in candidates):",
     "if get_objective(m).paired and not any(bundle.n_paired(student, c) > 0 for c in candidates):"),
    ("the prediction judged only where a teacher helps, not where a gain is significant",
     "cchkit/fewlabels/validate.py",
     'if not t["significant"].any():', 'if not t["helps"].any():'),
    # the evidence
    ("a criterion's sign agreement counts only its 'helps'", "cchkit/validation/evidence.py",
     'agree = int(((decision[sig] == "helps") & (g[sig] > 0) | (decision[sig] == "hurts") & (g[sig] < 0)).sum())',
     'agree = int(((decision[sig] == "helps") & (g[sig] > 0)).sum())'),
    ("gains 'separated' read in table order, not by gain", "cchkit/validation/evidence.py",
     '    order = ok.sort_values("gain", ascending=False)\n    return bool(',
     "    order = ok\n    return bool("),
    ("the Wilson interval's centre shifted by z^2/n, not z^2/2n", "cchkit/_stats.py",
     "centre = p + z * z / (2 * n)", "centre = p + z * z / n"),
    # pooling and estimators
    ("the within-seed variance not divided by the number of seeds", "cchkit/cch.py",
     "within = float(np.nanmean(seed_vars)) / s if", "within = float(np.nanmean(seed_vars)) if"),
    ("InfoNCE's log-sum-exp over the column, not the row", "cchkit/estimators/bounds.py",
     "return scores.diagonal() - torch.logsumexp(scores, dim=1) + math.log(k)",
     "return scores.diagonal() - torch.logsumexp(scores, dim=0) + math.log(k)"),
]


if __name__ == "__main__":
    run_round(MUTATIONS, "blind_mutations_round3", "benchmarks/mutation/blind_mutations_round3.py",
              "Blind mutations, round 3 (issue #35, item 6)")
