"""The frozen teacher: fitting it (with a cache its caller owns), what it gives the student's
steps, and the teacher mini-batches of the unpaired methods, drawn independently of the
student's."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._warn import warn_user
from .losses import class_soft_targets
from .models import KDNet, build_net, freeze, pretrain_teacher
from .splits import Prepared

logger = logging.getLogger("cchkit")

__all__ = ["TeacherCache", "fit_teacher", "TeacherBatcher", "TeacherContext", "teacher_context", "TeacherTargets"]


class TeacherCache:
    """Trained teachers by the exact data and settings that trained them (least recently used
    first out). The caller owns it: :func:`~cchkit.distill.distill` takes one (``teacher_cache``)
    so that the runs of one validation share their teachers, and nothing survives between calls
    that did not share a cache. A hit returns the very weights a fresh training would (training
    is deterministic on CPU)."""

    def __init__(self, size: int = 16) -> None:
        self.size = int(size)
        self._items: OrderedDict[tuple, tuple[dict[str, torch.Tensor], list[float]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple) -> tuple[dict[str, torch.Tensor], list[float]] | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: tuple, net: KDNet, losses: list[float]) -> None:
        self._items[key] = ({k: v.detach().clone() for k, v in net.state_dict().items()}, list(losses))
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def fit_teacher(x: torch.Tensor, y: torch.Tensor, n_classes: int, *, feat_dim: int, hidden: int | Sequence[int],
                epochs: int, batch_size: int, lr: float, seed: int,
                cache: TeacherCache | None = None) -> tuple[KDNet, list[float]]:
    """Pre-train the frozen teacher (:func:`~cchkit.distill.models.pretrain_teacher`), or take
    it from ``cache``, whose key hashes the exact training data and every setting."""
    h = hashlib.sha1()
    h.update(x.detach().cpu().numpy().tobytes())
    h.update(y.detach().cpu().numpy().tobytes())
    hid = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    key = (h.hexdigest(), tuple(x.shape), n_classes, feat_dim, hid, epochs, batch_size, lr, seed, str(x.device))
    net = build_net(x.shape[1], n_classes, feat_dim=feat_dim, hidden=hidden, seed=seed).to(x.device)
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        net.load_state_dict(hit[0])
        return freeze(net), list(hit[1])
    net, losses = pretrain_teacher(net, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    if cache is not None:
        cache.put(key, net, losses)
    return net, losses


class TeacherBatcher:
    """Draws teacher mini-batch indices independently of the student's batches (the unpaired
    methods): a seeded permutation, the student batch's class histogram (``class_matched``), or
    one same-class teacher row per student row (:meth:`draw_aligned`)."""

    def __init__(self, labels: np.ndarray, n_classes: int, rng: np.random.Generator, class_matched: bool) -> None:
        self.labels = labels
        self.rng = rng
        self.class_matched = class_matched
        self.n = labels.shape[0]
        self.perm = rng.permutation(self.n)
        self.pos = 0
        self.pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
        self._warned = False

    def draw_aligned(self, student_labels: np.ndarray) -> np.ndarray:
        """One teacher training sample of the same class per student sample (position by
        position), drawn at random: class-matched re-pairing, which uses labels only."""
        out = np.empty(student_labels.shape[0], dtype=np.int64)
        for c in np.unique(student_labels):
            at = np.flatnonzero(student_labels == c)
            pool = self.pools[c] if self.pools[c].size else np.arange(self.n)
            out[at] = self.rng.choice(pool, size=at.size, replace=True)
        return out

    def draw(self, student_labels: np.ndarray) -> np.ndarray:
        k = student_labels.shape[0]
        if not self.class_matched:
            out = np.empty(k, dtype=np.int64)
            filled = 0
            while filled < k:
                if self.pos >= self.n:
                    self.perm = self.rng.permutation(self.n)
                    self.pos = 0
                take = min(k - filled, self.n - self.pos)
                out[filled : filled + take] = self.perm[self.pos : self.pos + take]
                filled += take
                self.pos += take
            return out
        counts = np.bincount(student_labels, minlength=len(self.pools))
        parts = []
        for c, h in enumerate(counts):
            if h == 0:
                continue
            pool = self.pools[c]
            if pool.size == 0:
                if not self._warned:
                    warn_user("class %d has no teacher training sample; class-matched batches draw it from all classes.", c)
                    self._warned = True
                pool = np.arange(self.n)
            parts.append(self.rng.choice(pool, size=int(h), replace=bool(h > pool.size)))
        return np.concatenate(parts)


@dataclass
class TeacherContext:
    """What the frozen teacher provides to the student's steps, computed once per run."""

    zt_tr: torch.Tensor  # teacher features of its training samples
    lt_tr: torch.Tensor  # teacher logits of its training samples
    class_targets: torch.Tensor | None  # (C, C) class-mean soft labels (class-align)
    zt_pair: torch.Tensor | None = None  # paired methods: teacher features / logits per student row
    lt_pair: torch.Tensor | None = None
    pair_mask: torch.Tensor | None = None
    n_pairs: int = 0


def teacher_context(tnet: KDNet, d: Prepared, n_classes: int, *, class_temperature: float | None, paired: bool,
                    dev: torch.device) -> TeacherContext:
    """The teacher's features and logits on its training rows, its class-mean soft targets at
    ``class_temperature`` (when not None) and, when ``paired``, its outputs per student fit row."""
    with torch.no_grad():
        zt_tr, lt_tr = tnet(d.xt_tr)
        ctx = TeacherContext(zt_tr=zt_tr, lt_tr=lt_tr, class_targets=None)
        if class_temperature is not None:
            ctx.class_targets = class_soft_targets(lt_tr, d.yt_tr, n_classes, T=class_temperature)
        if paired:
            assert d.pair_rows is not None and d.xt_all is not None
            rows = torch.as_tensor(np.maximum(d.pair_rows, 0), device=dev)
            ctx.zt_pair, ctx.lt_pair = tnet(d.xt_all[rows])
            ctx.n_pairs = int((d.pair_rows >= 0).sum())
            ctx.pair_mask = torch.as_tensor(d.pair_rows >= 0, device=dev)
    return ctx


@dataclass(frozen=True)
class TeacherTargets:
    """What one frozen teacher gives the students of one seed: its test accuracy, its logits on
    its own training rows (whose class means at a temperature are ``class-align``'s targets) and,
    where the data are paired, its logits per student fit row with the mask of rows that have a
    pair (``logit-kd``; ``pair_error`` says why not)."""

    accuracy: float
    logits: torch.Tensor  # on the teacher's own training rows
    labels: torch.Tensor
    n_classes: int
    pair_logits: torch.Tensor | None
    pair_mask: torch.Tensor | None
    pair_error: str = ""

    def class_targets(self, temperature: float) -> torch.Tensor:
        """The class-mean soft targets at ``temperature`` (see :func:`class_soft_targets`)."""
        return class_soft_targets(self.logits, self.labels, self.n_classes, T=temperature)


