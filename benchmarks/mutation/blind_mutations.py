"""A fresh set of mutations (issue #35, item 6), listed from the source alone before any test
was read or written for them: each is a slip a contributor could make in distill/, validation/,
criteria/, estimators/, the advice or the few-label trainer. Each is applied alone and the unit
tests run, goldens and end-to-end checks excluded (README, notebooks, wheel, docs), stopping at
the first failure. The list was committed before it was first run, so the first table it wrote
is a blind score (``blind_mutations.md``); ``--after`` runs that run's survivors again once tests
were written for them (``blind_mutations_after.md``), a regression guard.
``--hollow [test_name ...]`` runs again the mutations whose catching test fails on the unmutated
source as well, or is named (a test that failed for want of a tool when the round ran), so that
their results say something (``blind_mutations_hollow.md``).

    python benchmarks/mutation/blind_mutations.py [--after [tests/test_x.py ...] | --hollow [test_name ...]] [pytest args...]

Writes benchmarks/results/blind_mutations.md (or blind_mutations_after.md). The working tree is
restored after each run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from formula_mutations import ROOT, run_set  # noqa: E402

#: every test file but the goldens and the end-to-end checks
EXCLUDED = {"test_golden.py", "test_notebooks.py", "test_readme.py", "test_wheel.py", "test_docs.py"}
TESTS = sorted(f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py") if p.name not in EXCLUDED)

#: (name, file, original text, mutated text)
MUTATIONS = [
    # the few-label trainer and its objectives
    ("soft cross-entropy scaled by tau, not tau^2", "cchkit/fewlabels/objectives.py",
     "return tau**2 * self.per_row_mean(ce, mask)", "return tau * self.per_row_mean(ce, mask)"),
    ("label smoothing spreads eps * C over the classes (sum, not mean, of log p)", "cchkit/fewlabels/objectives.py",
     "nll = (1 - eps) * nll - eps * lp.mean(dim=2)", "nll = (1 - eps) * nll - eps * lp.sum(dim=2)"),
    ("self-training's hard pseudo-labels kept where the student is unsure", "cchkit/fewlabels/builtin.py",
     "(conf >= HARD_CONFIDENCE)", "(conf <= HARD_CONFIDENCE)"),
    ("logit-kd's term averaged over unpaired rows too", "cchkit/fewlabels/builtin.py",
     'mask = b.targets["paired"] * torch.clamp(b.lab + b.unl, max=1.0)', "mask = torch.clamp(b.lab + b.unl, max=1.0)"),
    ("class-align's unlabeled rows take the placeholder label's target, not the posterior's",
     "cchkit/fewlabels/builtin.py",
     "weights = lab * onehot + (1 - lab) * posterior", "weights = onehot + 0 * posterior"),
    ("the stacks draw no unlabeled row", "cchkit/fewlabels/stack.py",
     "return torch.cat([_draw(labelled, labelled_batch, gen), _draw(unlabeled, UNLABELED_BATCH, gen)])",
     "return _draw(labelled, labelled_batch, gen)"),
    ("weight decay on the biases too", "cchkit/fewlabels/stack.py",
     "for w in self.params[0::2])", "for w in self.params)"),
    ("the student standardised with the test rows' moments too", "cchkit/fewlabels/run.py",
     "fit = x[: n_l + n_u]", "fit = x"),
    ("ties between settings go to the higher held-out NLL", "cchkit/fewlabels/run.py",
     "best = nll.loc[top].idxmin()", "best = nll.loc[top].idxmax()"),
    ("a fold's teacher may train on the fold's held-out samples", "cchkit/fewlabels/teachers.py",
     "        barred |= set(ids_s[plan.folds[fold]].tolist())\n", "        pass\n"),
    ("the placebo teacher's labels are not permuted", "cchkit/fewlabels/teachers.py",
     "y_perm[final_rows] = rng.permutation(final_y)", "y_perm[final_rows] = final_y"),
    ("one label too many per class kept", "cchkit/fewlabels/regime.py",
     "kept.append(rows[:k])", "kept.append(rows[:k + 1])"),
    ("test rows join the unlabeled training rows", "cchkit/fewlabels/regime.py",
     "np.setdiff1d(pool, kept)]))", "np.setdiff1d(labelled_rows, kept)]))"),
    ("the gain measured over the placebo, not the best teacher-free student", "cchkit/fewlabels/report.py",
     'row |= _interval_cols("gain", acc - base, (-1, 1))', 'row |= _interval_cols("gain", acc - fake, (-1, 1))'),
    ("the baseline is the supervised student, not the best teacher-free one", "cchkit/fewlabels/report.py",
     "    best_free = choose(free)\n", '    best_free = choose(free[free["objective"] == "supervised"])\n'),
    ("teacher_cv_accuracy's prediction names the least accurate teacher", "cchkit/fewlabels/validate.py",
     'top = str(t.sort_values("teacher_cv_accuracy", ascending=False)["teacher"].iloc[0])',
     'top = str(t.sort_values("teacher_cv_accuracy", ascending=True)["teacher"].iloc[0])'),
    # validation
    ("the t interval from the population standard deviation", "cchkit/_stats.py",
     "se = float(x.std(ddof=1)) / math.sqrt(x.size)", "se = float(x.std(ddof=0)) / math.sqrt(x.size)"),
    ("the detectable gain from the widest interval, not the median one", "cchkit/validation/evidence.py",
     "mdg = float(np.median(half)) if half.size else math.nan", "mdg = float(np.max(half)) if half.size else math.nan"),
    ("a budget round priced by every seed so far, not the latest round", "cchkit/validation/seeds.py",
     "        t_runs, n_round = time.perf_counter(), len(new)\n", "        n_round = len(seeds) + len(new)\n"),
    # criteria
    ("an accuracy gap taken student minus teacher", "cchkit/criteria/base.py",
     "return table[teacher].astype(float) - table[student].astype(float)",
     "return table[student].astype(float) - table[teacher].astype(float)"),
    # estimators
    ("KSG without psi(n)", "cchkit/estimators/knn.py",
     "return float(digamma(k) + digamma(n) - np.mean(digamma(cx) + digamma(cy)))",
     "return float(digamma(k) - np.mean(digamma(cx) + digamma(cy)))"),
    ("Ross's estimator averages psi(N_c) over classes, not samples", "cchkit/estimators/knn.py",
     "- np.mean(digamma(n_c)) - np.mean(digamma(m)))", "- np.mean(digamma(np.unique(n_c))) - np.mean(digamma(m)))"),
    ("the Wishart bias's degrees of freedom off by one the other way", "cchkit/estimators/gaussian.py",
     "digamma((nu - i + 1) / 2.0).sum()", "digamma((nu - i) / 2.0).sum()"),
    # advice and distillation
    ("advise: a teacher whose interval reaches the choice's from below is 'separated'", "cchkit/advice.py",
     'near = t[t["gain_high"] >= low]', 'near = t[t["gain_low"] >= low]'),
    ("vanilla KD without the T^2 factor", "cchkit/distill/losses.py",
     "    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=1).mean()\n    return (T * T) * kl\n",
     "    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=1).mean()\n    return kl\n"),
    ("a class with no teacher sample gets a zero, not a uniform, target", "cchkit/distill/losses.py",
     "uniform = torch.full_like(sums, 1.0 / probs.shape[1])", "uniform = torch.zeros_like(sums)"),
]


def _results(stem: str) -> dict[str, tuple[str, list[str]]]:
    """Per mutation of ``<stem>.md``: its result and the tests its row names."""
    table = (ROOT / "benchmarks" / "results" / f"{stem}.md").read_text()
    out = {}
    for line in table.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 4 and parts[2] in ("caught", "NOT caught"):
            out[parts[0]] = (parts[2], [t.strip() for t in parts[3].split(",") if t.strip()])
    return out


def _fails_unmutated(tests: list[str]) -> bool:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS, "-k",
                           " or ".join(tests)], cwd=ROOT, capture_output=True).returncode != 0


def hollow(mutations: list[tuple[str, str, str, str]], stem: str, named: list[str]) -> list[tuple[str, str, str, str]]:
    """The mutations that ``<stem>.md`` reports as caught by a test named in ``named`` or by tests
    that also fail on the unmutated source now: catches that may say nothing (a test that failed
    for want of a tool, such as the browser of the HTML report's test, when the round ran)."""
    results = _results(stem)
    out = []
    for m in mutations:
        result, tests = results.get(m[0], ("", []))
        if result == "caught" and tests and (set(tests) & set(named) or _fails_unmutated(tests)):
            out.append(m)
    return out


def survivors(mutations: list[tuple[str, str, str, str]], stem: str) -> list[tuple[str, str, str, str]]:
    """The mutations that ``<stem>.md`` reports as not caught."""
    results = _results(stem)
    return [m for m in mutations if results.get(m[0], ("", []))[0] == "NOT caught"]


def run_round(mutations: list[tuple[str, str, str, str]], stem: str, script: str, title: str) -> None:
    """The blind run of ``mutations`` (``<stem>.md``), or with ``--after`` its survivors again
    once tests were written for them (``<stem>_after.md``, a regression guard)."""
    args = sys.argv[1:]
    if "--hollow" in args:
        # test names after --hollow (no "tests/" path): catches by them are run again too
        args.remove("--hollow")
        named = [a for a in args if a.startswith("test_")]
        rest = [a for a in args if a not in named]
        run_set(f"{title}: the blind run's catches by a test that failed without the mutation too, run again",
                " ".join(["python", script, "--hollow", *named]), hollow(mutations, stem, named), TESTS,
                f"{stem}_hollow.md", rest)
        return
    if "--after" in args:
        args.remove("--after")
        # test files named after --after replace the whole unit suite (a quicker guard; the table lists them)
        named = [a for a in args if a.startswith("tests/")]
        rest = [a for a in args if a not in named]
        run_set(f"{title}: the blind run's survivors, run again after tests were written for them (a regression "
                "guard, no longer a blind score)", " ".join(["python", script, "--after", *named]),
                survivors(mutations, stem), named or TESTS, f"{stem}_after.md", rest)
        return
    run_set(f"{title}: a fresh set listed from the source before its tests", f"python {script}", mutations, TESTS,
            f"{stem}.md", args)


if __name__ == "__main__":
    run_round(MUTATIONS, "blind_mutations", "benchmarks/mutation/blind_mutations.py", "Blind mutations (issue #35, item 6)")
