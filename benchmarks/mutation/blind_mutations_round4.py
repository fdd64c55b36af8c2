"""A fourth fresh set of mutations (issue #35, item 6), listed from the source of parts no
earlier round touched (the class-structure, unique-information, probe and accuracy criteria,
the shrinkage LDA behind teacher accuracy, Ross's mixed k-NN estimator, the Gaussian
estimator's shrinkage, UCMKD's loss, the no-KD path's row targets and probe, the budget's
next round, the advice's separation, the verdict's ranking advice), plus the few-label teacher's
family choice and the few-label losses' shared helpers, before any test was read or written
for them. Run as the first set is (:mod:`blind_mutations`): each mutation alone, the unit tests
(goldens and end-to-end checks excluded), stopping at the first failure. The list was committed
before it was first run, so the first table it writes is a blind score; ``--after`` runs its
survivors again.

    python benchmarks/mutation/blind_mutations_round4.py [--after [tests/test_x.py ...]] [pytest args...]

Writes benchmarks/results/blind_mutations_round4.md (or blind_mutations_round4_after.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_mutations import run_round  # noqa: E402

#: (name, file, original text, mutated text)
MUTATIONS = [
    # criteria no earlier round mutated
    ("the non-target divergence weighted by the student's distribution, not the teacher's", "cchkit/criteria/class_structure.py",
     "return float((prior * (t * np.log(t / s)).sum(1)).sum())", "return float((prior * (s * np.log(t / s)).sum(1)).sum())"),
    ("the non-target rows not renormalised", "cchkit/criteria/class_structure.py",
     "t, s = t / t.sum(1, keepdims=True), s / s.sum(1, keepdims=True)", "t, s = t, s"),
    ("the class-structure agreement reads the diagonal too", "cchkit/criteria/class_structure.py",
     "    a, b = q_t[off], q_s[off]\n", "    a, b = q_t.ravel(), q_s.ravel()\n"),
    ("MMI unique information with the larger term as redundancy", "cchkit/criteria/pid_unique.py",
     "return i_teacher_label - min(i_teacher_label, i_student_label)",
     "return i_teacher_label - max(i_teacher_label, i_student_label)"),
    ("the probe's mixed target weights the one-hot by w, the teacher by 1 - w", "cchkit/criteria/probe_kd.py",
     "mixed = (1.0 - weight) * onehot + weight * q_teacher[labels]", "mixed = weight * onehot + (1.0 - weight) * q_teacher[labels]"),
    ("the probe's soft-target gradient without its 1/n", "cchkit/criteria/probe_kd.py",
     "grad = x.T @ (np.exp(logp) - targets) / n + l2 * mask * w", "grad = x.T @ (np.exp(logp) - targets) + l2 * mask * w"),
    ("teacher accuracy's signal is the teacher's accuracy alone, not the gap", "cchkit/criteria/teacher_accuracy.py",
     'return table["teacher_accuracy_on_h"].astype(float) - student', 'return table["teacher_accuracy_on_h"].astype(float) + 0 * student'),
    # the shrinkage LDA (teacher accuracy's classifier)
    ("LDA's intercept without the log prior", "cchkit/representations/lda.py",
     'intercept = -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(priors)',
     'intercept = -0.5 * np.einsum("kd,kd->k", means, coef)'),
    ("LDA's pooled covariance unweighted by the priors", "cchkit/representations/lda.py",
     "cov = sum(priors[k] * _class_covariance(x[inverse == k]) for k in range(classes.size))",
     "cov = sum(_class_covariance(x[inverse == k]) for k in range(classes.size)) / classes.size"),
    # estimators
    ("Ross's estimator counts neighbours from k, not from the class's own k_c", "cchkit/estimators/knn.py",
     "            k_all[idx] = kc\n", "            k_all[idx] = k\n"),
    ("Ross's estimator with psi(N) of every row, singletons included, and psi(N_c + 1)", "cchkit/estimators/knn.py",
     "return float(digamma(n) + np.mean(digamma(k_all)) - np.mean(digamma(n_c)) - np.mean(digamma(m)))",
     "return float(digamma(labels.size) + np.mean(digamma(k_all)) - np.mean(digamma(n_c + 1)) - np.mean(digamma(m)))"),
    ("the Gaussian estimator shrinks the correlation towards zero, not the identity", "cchkit/estimators/gaussian.py",
     "                corr = (1 - alpha) * corr + alpha * eye\n", "                corr = (1 - alpha) * corr\n"),
    # distillation losses and the no-KD path
    ("UCMKD's kappa keeps its gradient", "cchkit/distill/losses.py",
     "kappa = log_pt.detach().exp()", "kappa = log_pt.exp()"),
    ("the stacks' paired targets at temperature 1", "cchkit/distill/batched.py",
     "return F.log_softmax(m.targets / m.temperature, dim=1).exp(), m.pair_mask",
     "return F.log_softmax(m.targets, dim=1).exp(), m.pair_mask"),
    ("the probe's C tie goes to the largest C", "cchkit/validation/probe.py",
     "return int(np.nanargmax(scores)) if np.isfinite(scores).any() else 2",
     "return int(len(scores) - 1 - np.nanargmax(scores[::-1])) if np.isfinite(scores).any() else 2"),
    # the budget, the advice and the verdict
    ("a budget round takes one seed fewer than it has room for", "cchkit/validation/seeds.py",
     "return list(pool[n_done:n_done + min(room, n_done)])", "return list(pool[n_done:n_done + min(room - 1, n_done)])"),
    ("teachers are 'not separated' only where the other's interval covers the chosen mean", "cchkit/advice.py",
     'near = t[t["gain_high"] >= low].sort_values("gain", ascending=False)',
     'near = t[t["gain_high"] >= float(table[(table["method"] == method) & (table["teacher"] == choice)]["gain"].iloc[0])].sort_values("gain", ascending=False)'),
    ("the ranking's advice ignores the rank and takes the last helping row", "cchkit/validation/verdict.py",
     "    return str(rows.index[0])\n", "    return str(rows.index[-1])\n"),
    # the few-label losses' helpers and the teacher's family
    ("label smoothing's uniform term as a sum over classes, not a mean", "cchkit/fewlabels/objectives.py",
     "nll = (1 - eps) * nll - eps * lp.mean(dim=2)", "nll = (1 - eps) * nll - eps * lp.sum(dim=2)"),
    ("the soft cross-entropy without its tau^2", "cchkit/fewlabels/objectives.py",
     "return tau**2 * self.per_row_mean(ce, mask)", "return self.per_row_mean(ce, mask)"),
    # as the round ran (13eba6d); the line now reads CANDIDATE_FAMILIES.index (the candidates, of
    # which TEACHER_FAMILIES is the default subset), so a rerun from HEAD reports "mutation site not found"
    ("a teacher's family chosen by the worse cross-validated accuracy", "cchkit/fewlabels/teachers.py",
     "return max(cv, key=lambda fam: (cv[fam], -TEACHER_FAMILIES.index(fam)))",
     "return min(cv, key=lambda fam: (cv[fam], -TEACHER_FAMILIES.index(fam)))"),
]

if __name__ == "__main__":
    run_round(MUTATIONS, "blind_mutations_round4", "benchmarks/mutation/blind_mutations_round4.py",
              "Blind mutations, round 4 (issue #35, item 6)")
