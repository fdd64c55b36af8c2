"""The few-label trainer's stacks (``cchkit.fewlabels.stack``) against what they claim to be:
a linear member is scikit-learn's multinomial logistic regression with ``C = 1 / (w n)``,
members start from torch's ``nn.Linear`` initialisation, and every unlabeled row is drawn."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from cchkit.fewlabels import TeacherView
from cchkit.fewlabels.objectives import Batch, Objective, register_objective, unregister_objective
from cchkit.fewlabels.stack import UNLABELED_BATCH, Member, train_members


def _blobs(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return (rng.normal(size=(3, d))[y] + rng.normal(size=(n, d))).astype(np.float32), y


@pytest.mark.parametrize("decay", [0.03, 0.1, 1.0])
def test_a_linear_member_is_logistic_regression_with_c_one_over_decay_times_n(decay: float):
    """Mean cross-entropy + decay * ||W||^2 / 2 (biases free) has scikit-learn's minimiser with
    C = 1 / (decay * n): the trained member's probabilities match it to 1e-3, where a decay off
    by a factor of 2 moves them by 0.06 or more."""
    x, y = _blobs(150, 5)
    every = np.ones((1, y.size), bool)
    _, _, logits = train_members(x, y, 3, [Member("linear", "supervised", (), decay, None)], every,
                                 np.zeros_like(every), every, [None], seed=0)
    probs = torch.softmax(torch.as_tensor(logits[0]), -1).numpy()
    ref = LogisticRegression(C=1.0 / (decay * y.size), tol=1e-10, max_iter=10_000).fit(x, y).predict_proba(x)
    assert np.abs(probs - ref).max() < 1e-3


def test_members_start_from_torchs_linear_initialisation():
    """No training step: a linear member's logits on standard normal features have the variance of
    nn.Linear's U(-1/sqrt(d), 1/sqrt(d)) weights and bias, (d + 1) / (3 d)."""
    d = 100
    x = np.random.default_rng(1).normal(size=(4000, d)).astype(np.float32)
    y = np.arange(4000) % 3
    every = np.ones((1, y.size), bool)
    _, _, logits = train_members(x, y, 3, [Member("linear", "supervised", (), 1e-3, None)], every,
                                 np.zeros_like(every), every, [None], seed=0, steps=0)
    with torch.random.fork_rng(), torch.no_grad():  # the reference layer leaves the global seed as it was
        torch.manual_seed(0)
        reference = torch.nn.Linear(d, 3)(torch.as_tensor(x)).numpy()
    assert logits.var() == pytest.approx((d + 1) / (3 * d), rel=0.25)
    assert logits.var() == pytest.approx(reference.var(), rel=0.25)


def test_every_unlabeled_row_is_drawn_and_each_step_draws_at_most_its_batch():
    """700 unlabeled rows, 256 drawn per step: over 40 steps every one of them reaches the loss
    (a fixed first 256 would leave 444 unused), and every labelled row is in every step."""
    seen: list[np.ndarray] = []

    @register_objective("row-spy-trial")
    class RowSpy(Objective):
        uses_teacher = True
        row_targets = ("row",)
        grid = tuple({"k": float(k)} for k in range(4))

        def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
            assert teacher is not None
            return {"row": teacher.logits_on_rows[:, 0]}

        def loss(self, b: Batch) -> torch.Tensor:
            seen.append(b.targets["row"][0].numpy().astype(int)[b.unl[0].numpy() > 0])
            labelled = b.targets["row"][0].numpy().astype(int)[b.lab[0].numpy() > 0]
            assert set(labelled.tolist()) == set(range(30))
            return b.labelled_ce()

    try:
        x, y = _blobs(730, 4)
        y = y.copy()
        y[30:] = -1
        lab = np.zeros((1, 730), bool)
        lab[0, :30] = True
        view = TeacherView(np.repeat(np.arange(730, dtype=np.float32)[:, None], 3, axis=1), np.ones(730, bool),
                           tuple(np.zeros((1, 3)) for _ in range(3)))
        train_members(x, y, 3, [Member("linear", "row-spy-trial", (("k", 0.0),), 1e-3, None)], lab, ~lab, lab,
                      [view], seed=0, steps=40)
    finally:
        unregister_objective("row-spy-trial")
    assert len(seen) == 40 and max(s.size for s in seen) == UNLABELED_BATCH
    assert set(np.concatenate(seen).tolist()) == set(range(30, 730))
