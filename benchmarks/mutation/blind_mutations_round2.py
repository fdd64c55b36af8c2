"""A second fresh set of mutations (issue #35, item 6), listed from the source of the advice, the
regimes' outlook, the few-label report and verdicts, the distiller's losses and the estimators
before any test was read or written for them. Run as the first set is
(:mod:`blind_mutations`): each mutation alone, the unit tests (goldens and end-to-end checks
excluded), stopping at the first failure. The list was committed before it was first run, so
the first table it wrote is a blind score; ``--after`` runs its survivors again.

    python benchmarks/mutation/blind_mutations_round2.py [--after] [pytest args...]

Writes benchmarks/results/blind_mutations_round2.md (or blind_mutations_round2_after.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_mutations import run_round  # noqa: E402

#: (name, file, original text, mutated text)
MUTATIONS = [
    # advice
    ("advise validates one more best-ranked candidate than top", "cchkit/advice.py",
     'best = [t for t in ranking.top(top)["teacher"]', 'best = [t for t in ranking.top(top + 1)["teacher"]'),
    ("advise warns only past three times its budget", "cchkit/advice.py",
     "if seconds > 2 * budget:", "if seconds > 3 * budget:"),
    ("with few labels advise names the last teacher of the verdict", "cchkit/advice.py",
     'teacher=v["teachers"][0] if v["teachers"] else None', 'teacher=v["teachers"][-1] if v["teachers"] else None'),
    ("not separated: a teacher's mean gain, not its interval, must reach the choice", "cchkit/advice.py",
     'near = t[t["gain_high"] >= low]', 'near = t[t["gain"] >= low]'),
    # the regimes
    ("a studied level stands for data up to 3x away, not 2x", "cchkit/criteria/regimes.py",
     "<= math.log(2) + 1e-12 else None", "<= math.log(3) + 1e-12 else None"),
    ("the data's labels per class are the mean, not the median, of the class counts", "cchkit/criteria/regimes.py",
     "per_class = float(np.median(np.bincount(", "per_class = float(np.mean(np.bincount("),
    ("a teacher's unlabeled rows make its labels 'own'", "cchkit/criteria/regimes.py",
     "np.setdiff1d(ids[labels != -1], known).size", "np.setdiff1d(ids, known).size"),
    ("'no gain expected' from the interval's low end", "cchkit/criteria/regimes.py",
     'return "no gain" if hi < EXPECT_NO_GAIN_BELOW', 'return "no gain" if lo < EXPECT_NO_GAIN_BELOW'),
    # the few-label report, its verdict and its prediction
    ("a significantly negative gain that beats its placebo 'helps'", "cchkit/fewlabels/report.py",
     'row["helps"] = bool(row["significant"] and row["gain"] > 0 and row["beats_placebo"])',
     'row["helps"] = bool(row["significant"] and row["beats_placebo"])'),
    ("a placebo significantly better than the teacher counts as beaten", "cchkit/fewlabels/report.py",
     '                                    and row["vs_placebo"] > 0)', "                                    )"),
    ("the verdict separates the best helper by its mean gain, not its interval's low end",
     "cchkit/fewlabels/report.py",
     'helpers["gain_low"].iloc[0] > helpers["gain_high"].iloc[1:].max()',
     'helpers["gain"].iloc[0] > helpers["gain_high"].iloc[1:].max()'),
    ("the prediction refuted where the best teacher's mean gain is higher, intervals overlapping",
     "cchkit/fewlabels/validate.py",
     'elif ranked.loc[best, "gain_low"] > ranked.loc[top, "gain_high"]:',
     'elif ranked.loc[best, "gain"] > ranked.loc[top, "gain"]:'),
    ("the ranking's advice 'did not hold' whenever another teacher's mean gain is larger",
     "cchkit/validation/verdict.py",
     'better = up[(up.index != advice) & (up["gain_low"] > mine["gain_high"])]',
     'better = up[(up.index != advice) & (up["gain"] > mine["gain"])]'),
    # the distiller's losses
    ("label alignment without its confidence gate", "cchkit/distill/losses.py",
     "per = -(log_ps - kappa * log_pt)", "per = -(log_ps - log_pt)"),
    ("the native Sinkhorn's column marginal 1/n instead of 1/m", "cchkit/distill/losses.py",
     "b = torch.full((m,), 1.0 / m, dtype=c.dtype, device=c.device)\n    u = torch.ones(n",
     "b = torch.full((m,), 1.0 / n, dtype=c.dtype, device=c.device)\n    u = torch.ones(n"),
    ("class-conditional alignment weighted by the teacher's class share", "cchkit/distill/losses.py",
     "total = total + (ms.sum() / n) * sinkhorn_alignment(", "total = total + (mt.sum() / n) * sinkhorn_alignment("),
    # estimators
    ("the Bhattacharyya distance's quadratic term at 1/4, not 1/8", "cchkit/estimators/gaussian.py",
     "bd = 0.125 * (diff * sol).sum(-1)", "bd = 0.25 * (diff * sol).sum(-1)"),
    ("the label form's Wilks bias without its factor 2", "cchkit/estimators/gaussian.py",
     "label_bias = k_extra / (2.0 * n) if self.bias_correction else 0.0",
     "label_bias = k_extra / n if self.bias_correction else 0.0"),
    ("Fano's bound with log C, not log(C - 1)", "cchkit/estimators/variational.py",
     "return max(0.0, h_y - h_e - e * math.log(max(n_classes - 1, 1)))",
     "return max(0.0, h_y - h_e - e * math.log(max(n_classes, 1)))"),
    ("Fano's standard error divides by n outside the square root", "cchkit/estimators/variational.py",
     "return slope * math.sqrt(e * (1 - e) / n)", "return slope * math.sqrt(e * (1 - e)) / n"),
    ("MINE's marginal term a log-sum, not a log-mean, of e^T", "cchkit/estimators/mine.py",
     "log_et = torch.logsumexp(marginal, dim=0) - math.log(marginal.numel())",
     "log_et = torch.logsumexp(marginal, dim=0)"),
]


if __name__ == "__main__":
    run_round(MUTATIONS, "blind_mutations_round2", "benchmarks/mutation/blind_mutations_round2.py",
              "Blind mutations, round 2 (issue #35, item 6)")
