"""Many small students trained at once, with gradients from autograd.

Every member of a stack is a student of one *family* (``linear``: softmax regression, no
hidden layer; ``mlp``: one hidden ReLU layer) with its own parameters, rows, objective,
settings and targets. The members of a family are one batched network (parameters of shape
(members, in, out), one batched product per layer) trained full-batch with Adam on the sum of
the members' losses; as Adam's update is element-wise, a member trains exactly as it would
alone. Members of one family and fold start from the same weights, so that the difference
between two objectives is not a difference of initialisation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._parallel import thread_budget
from .._torch import torch_threads
from .objectives import Batch, TeacherView, get_objective, settings_tensor, stack_targets

__all__ = ["Member", "FAMILIES", "WEIGHT_DECAYS", "train_members", "STEPS", "LABELLED_BATCH"]

#: Student families: hidden width (0: linear) and Adam's learning rate.
FAMILIES: dict[str, dict[str, float]] = {"linear": {"hidden": 0, "lr": 0.05}, "mlp": {"hidden": 32, "lr": 0.02}}

#: Weight decays searched by the supervised student of each family (reused by the other objectives);
#: on the mean cross-entropy of n labelled rows, decay w is scikit-learn's C = 1 / (w n): with 5 labels
#: per class the strong end matters.
WEIGHT_DECAYS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)

#: Full-batch Adam steps of every student.
STEPS = 200


@dataclass(frozen=True)
class Member:
    """One student of a stack: who it is (for the report) and how it trains."""

    family: str
    objective: str
    setting: tuple[tuple[str, float], ...]
    weight_decay: float
    fold: int | None
    teacher: str | None = None
    placebo: bool = False

    @property
    def settings(self) -> dict[str, float]:
        return dict(self.setting)


class _StackNet(torch.nn.Module):
    """The members of one family: weights (m, in, out) per layer."""

    def __init__(self, inits: Sequence[list[torch.Tensor]]) -> None:
        super().__init__()
        self.params = torch.nn.ParameterList([torch.nn.Parameter(torch.stack(t).clone()) for t in zip(*inits)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w0, b0 = self.params[0], self.params[1]
        m, d, out = w0.shape
        # the members share their input rows: the first layer is one (rows, d) x (d, m * out) product,
        # laid out member-major once (the batched products and the losses run faster on it)
        h = (x @ w0.permute(1, 0, 2).reshape(d, m * out)).view(x.shape[0], m, out).transpose(0, 1).contiguous()
        h = h + b0.unsqueeze(1)
        for i in range(2, len(self.params), 2):
            h = torch.baddbmm(self.params[i + 1].unsqueeze(1), torch.relu(h), self.params[i])
        return h

    def decay(self) -> torch.Tensor:
        """Per member ``0.5 * sum of squared weights`` (biases are not decayed)."""
        return sum(0.5 * (w**2).sum(dim=(1, 2)) for w in self.params[0::2])  # type: ignore[return-value]


def _init(d: int, c: int, hidden: int, gen: torch.Generator) -> list[torch.Tensor]:
    """nn.Linear's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), per layer."""
    dims = [d, hidden, c] if hidden else [d, c]
    out = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / math.sqrt(a)
        out += [(torch.rand(a, b, generator=gen) * 2 - 1) * bound, (torch.rand(b, generator=gen) * 2 - 1) * bound]
    return out


#: Unlabeled rows drawn for each step.
UNLABELED_BATCH = 256

#: Labelled rows drawn for each step where the caller asks for mini-batches: the searches with
#: many labels, whose members only need to rank settings (the chosen settings' final fits take
#: every labelled row in every step).
LABELLED_BATCH = 256


def _draw(rows: torch.Tensor, size: int | None, gen: torch.Generator) -> torch.Tensor:
    if size is None or rows.numel() <= size:
        return rows
    return rows[torch.randperm(rows.numel(), generator=gen)[:size]]


def _batch_rows(labelled: torch.Tensor, unlabeled: torch.Tensor, gen: torch.Generator,
                labelled_batch: int | None = None) -> torch.Tensor:
    """Every labelled row (or a fresh draw of ``labelled_batch`` of them) and a fresh draw of at
    most :data:`UNLABELED_BATCH` unlabeled rows: each loss term is a mean over rows, estimated
    without bias from its draw."""
    return torch.cat([_draw(labelled, labelled_batch, gen), _draw(unlabeled, UNLABELED_BATCH, gen)])


def _groups(members: Sequence[Member]) -> dict[str, slice]:
    """Each objective's members, which :func:`train_members` hands over as one contiguous run:
    a slice of the stack's logits is a view, where an index would copy them and scatter the
    gradient back."""
    groups: dict[str, slice] = {}
    start = 0
    for name, run in itertools.groupby(members, key=lambda m: m.objective):
        if name in groups:
            raise ValueError(f"the members of objective {name!r} are not contiguous")
        size = sum(1 for _ in run)
        groups[name], start = slice(start, start + size), start + size
    return groups


def _prepare(members: Sequence[Member], views: Sequence[TeacherView | None], lab: torch.Tensor,
             unl: torch.Tensor) -> dict[str, tuple[torch.Tensor, ...]]:
    """Per objective (in stack order): its members' labelled and unlabeled masks, settings and targets."""
    return {name: (lab[ix], unl[ix], settings_tensor([m.settings for m in members[ix]]),
                   stack_targets([get_objective(name).targets(v, m.settings) for m, v in zip(members[ix], views[ix])]))
            for name, ix in _groups(members).items()}


def _cut(x: torch.Tensor, y: torch.Tensor, prepared: Mapping[str, tuple[Any, ...]],
         rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, tuple[Any, ...]]]:
    """A step's rows of the inputs, the labels and each objective's masks and row targets."""
    cut = {}
    for name, (lab_g, unl_g, sets, targets) in prepared.items():
        row_targets = get_objective(name).row_targets
        rt = {k: (v.index_select(1, rows) if k in row_targets else v) for k, v in targets.items()}
        cut[name] = (sets, lab_g.index_select(1, rows), unl_g.index_select(1, rows), rt)
    return x[rows], y[rows], cut


def _family_accuracy(x: torch.Tensor, y: torch.Tensor, members: Sequence[Member], masks: Mapping[str, torch.Tensor],
                     views: Sequence[TeacherView | None], seed: int, steps: int,
                     labelled_batch: int | None = None) -> tuple[np.ndarray, ...]:
    fam = FAMILIES[members[0].family]
    n_classes = int(masks["n_classes"])
    inits: dict[Any, list[torch.Tensor]] = {}
    for m in members:
        key = m.fold
        if key not in inits:
            gen = torch.Generator().manual_seed(int(seed) * 1009 + (-1 if key is None else key) + 7)
            inits[key] = _init(x.shape[1], n_classes, int(fam["hidden"]), gen)
    net = _StackNet([inits[m.fold] for m in members])
    opt = torch.optim.Adam(net.parameters(), lr=float(fam["lr"]), foreach=True)
    wd = torch.tensor([m.weight_decay for m in members], dtype=torch.float32)
    lab, unl = masks["lab"], masks["unl"]
    prepared = _prepare(members, views, lab, unl)
    sizes = [len(t[0]) for t in prepared.values()]
    labelled_rows = torch.nonzero(lab.any(0)).view(-1)
    unlabeled_rows = torch.nonzero(unl.any(0) & ~lab.any(0)).view(-1)
    gen = torch.Generator().manual_seed(int(seed) * 7919 + 3)
    # with every row in every step (full batch), the rows are cut once
    full = ((labelled_batch is None or labelled_rows.numel() <= labelled_batch)
            and unlabeled_rows.numel() <= UNLABELED_BATCH)
    fixed = _cut(x, y, prepared, torch.cat([labelled_rows, unlabeled_rows])) if full else None
    for step in range(steps):
        x_rows, y_rows, cut = fixed or _cut(x, y, prepared, _batch_rows(labelled_rows, unlabeled_rows, gen,
                                                                          labelled_batch))
        opt.zero_grad(set_to_none=True)
        # one view per objective: the backward pass joins their gradients in one copy
        parts = net(x_rows).split(sizes)
        total = (wd * net.decay()).sum()
        for (name, (sets, lab_g, unl_g, rt)), logits in zip(cut.items(), parts):
            b = Batch(logits=logits, y=y_rows, lab=lab_g, unl=unl_g, settings=sets, targets=rt,
                      progress=step / steps, n_labelled_rows=int(labelled_rows.numel()))
            total = total + get_objective(name).loss(b).sum()
        total.backward()
        opt.step()
    with torch.no_grad():
        logits = net(x)
        ev = masks["eval"]
        n_ev = ev.sum(1).clamp_min(1.0)
        acc = ((logits.argmax(-1) == y.view(1, -1)).float() * ev).sum(1) / n_ev
        nll = -(torch.log_softmax(logits, -1).gather(2, y.view(1, -1, 1).expand(len(members), -1, 1)).squeeze(2)
                * ev).sum(1) / n_ev
        return acc.numpy(), nll.numpy(), logits.numpy()


def train_members(x: np.ndarray, y: np.ndarray, n_classes: int, members: Sequence[Member], lab: np.ndarray,
                  unl: np.ndarray, evaluate: np.ndarray, views: Sequence[TeacherView | None], *, seed: int,
                  steps: int = STEPS, labelled_batch: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train every member; return its accuracy and its mean negative log-likelihood on its
    ``evaluate`` rows (members,) and its final logits on every row (members, n, C).

    ``x`` (n, d) and ``y`` (n,) are the rows (labels -1 where a row has none; a member's
    labelled rows must all have one); ``lab``, ``unl``, ``evaluate`` are (members, n) boolean
    masks; ``views[i]`` is member i's teacher (None for a teacher-free objective). Each step
    uses every labelled row, or a fresh draw of ``labelled_batch`` of them.
    """
    if (y[lab.any(axis=0)] < 0).any() or (y[evaluate.any(axis=0)] < 0).any():
        raise ValueError("a member trains or is evaluated on a row without a label")
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(np.maximum(y, 0), dtype=torch.long)
    acc = np.full(len(members), np.nan)
    nll = np.full(len(members), np.nan)
    logits = np.zeros((len(members), x.shape[0], n_classes), dtype=np.float32)
    for fam in FAMILIES:
        # one family's members, each objective's in one contiguous run (see _groups)
        ix = [i for i, m in enumerate(members) if m.family == fam]
        if not ix:
            continue
        order = {o: k for k, o in enumerate(dict.fromkeys(members[i].objective for i in ix))}
        ix.sort(key=lambda i: order[members[i].objective])
        masks = {"lab": torch.as_tensor(lab[ix], dtype=torch.float32), "unl": torch.as_tensor(unl[ix], dtype=torch.float32),
                 "eval": torch.as_tensor(evaluate[ix], dtype=torch.float32), "n_classes": n_classes}
        # threads the machine has idle, whoever calls: a pool larger than that spins under load
        with torch_threads(thread_budget()):
            acc[ix], nll[ix], logits[ix] = _family_accuracy(xt, yt, [members[i] for i in ix], masks,
                                                            [views[i] for i in ix], seed, steps, labelled_batch)
    return acc, nll, logits
