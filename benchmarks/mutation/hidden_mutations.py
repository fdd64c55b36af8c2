"""A fresh set of hidden mutations in distill/, validation/, criteria/, advice and estimators/
(issue #35, part 6): the seven that survived the unit tests before, and eight new ones. Each is
applied alone; the unit tests, goldens excluded, must catch it.

    python benchmarks/mutation/hidden_mutations.py [pytest args...]

Writes benchmarks/results/hidden_mutations.md. The working tree is restored after each run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from formula_mutations import run_set  # noqa: E402

#: the unit tests of those packages (no golden files)
TESTS = ["tests/test_mutations.py", "tests/test_advise.py", "tests/test_criteria.py", "tests/test_formulas.py",
         "tests/test_hostile_round3.py", "tests/test_fewlabels.py", "tests/test_plotting.py",
         "tests/test_distill_batched.py", "tests/test_validate.py"]

#: (name, file, original text, mutated text)
MUTATIONS = [
    ("advice: a significantly negative gain can be the answer", "cchkit/advice.py",
     'table["significant"] & (table["gain"] > 0)]', 'table["significant"]]'),
    ("probe standardised with every row's moments", "cchkit/validation/probe.py",
     "mu, sd = standardize_fit(data[fit])", "mu, sd = standardize_fit(data)"),
    ("dropout not inverted", "cchkit/distill/batched.py",
     "(1.0 / (1.0 - p))[:, None, None]", "torch.ones_like(p)[:, None, None]"),
    ("recommendation: first row predicted to help, not the best-ranked", "cchkit/ranking/table.py",
     "best = self.top(len(self.table), estimator=self.primary_estimator)",
     'best = self.table[self.table["estimator"] == self.primary_estimator]'),
    ("stacks' default temperature drifts from the config's", "cchkit/distill/batched.py",
     "temperature: float = DistillConfig.temperature", "temperature: float = 2.0"),
    ("a budget round may take every seed at once", "cchkit/validation/validate.py",
     "pool[n_done:n_done + min(room, n_done)]", "pool[n_done:n_done + room]"),
    ("I(T;S) helps cut at the mean, not the median", "cchkit/criteria/baselines.py",
     'transform("median")', 'transform("mean")'),
    ("advice: overlapping intervals not said", "cchkit/advice.py",
     'near = t[t["gain_high"] >= low]', 'near = t[t["gain_high"] >= low + 1.0]'),
    ("label gain not floored at 0", "cchkit/criteria/label_gain.py",
     '"label_gain": max(gain.value, 0.0)', '"label_gain": gain.value'),
    ("teachers 'separated' by their means, not their intervals", "cchkit/validation/validate.py",
     'return bool(order["gain_low"].iloc[0] > order["gain_high"].iloc[1:].max())',
     'return bool(order["gain"].iloc[0] > order["gain"].iloc[1:].max())'),
    ("accuracy gap with the sign swapped", "cchkit/criteria/base.py",
     "return table[teacher].astype(float) - table[student].astype(float)",
     "return table[student].astype(float) - table[teacher].astype(float)"),
    ("few labels: helps without beating the placebo", "cchkit/fewlabels/report.py",
     'row["significant"] and row["gain"] > 0 and row["beats_placebo"]', 'row["significant"] and row["gain"] > 0'),
    ("t interval with the normal quantile", "cchkit/_stats.py",
     "stats.t.ppf(0.5 + level / 2, x.size - 1)", "stats.norm.ppf(0.5 + level / 2)"),
    ("duplicate columns: -0.0 and 0.0 told apart", "cchkit/_validation.py",
     "(np.asarray(x, dtype=np.float64) + 0.0).T", "np.asarray(x, dtype=np.float64).T"),
    ("Gaussian bootstrap resamples redrawn per chunk", "cchkit/estimators/gaussian.py",
     "vals = []\n        for start in range(0, self.n_bootstrap, chunk):",
     "vals = []\n        rng = np.random.default_rng(chunk)\n        for start in range(0, self.n_bootstrap, chunk):"),
]


def main() -> None:
    run_set("Hidden mutations (issue #35): the seven survivors named there and eight more; the tests that "
            "catch them were written this round with the mutations in view, so this is a regression guard, "
            "not a blind score", "python benchmarks/mutation/hidden_mutations.py", MUTATIONS, TESTS,
            "hidden_mutations.md", sys.argv[1:])


if __name__ == "__main__":
    main()
