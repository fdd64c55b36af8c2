"""Learned representations H_m, as the CCH paper computes its MI terms.

The Cross-modal Complementarity Hypothesis (Xie, Xu & Sanguinetti, "Information-Theoretic
Criteria for Knowledge Distillation in Multimodal Learning", arXiv 2510.13182) compares

.. math::

    \\mathrm{score}(T \\to S) = I(H_T; H_S) - I(H_S; Y),

where :math:`H_T, H_S` are the *trained* representations of the teacher and the student modality
(identical architectures, trained on the labels) and :math:`Y` the label. This module produces
those representations:

* one small MLP per modality, ``d_m -> hidden -> dim -> n_classes`` with ReLU, trained by
  cross-entropy on the labels; :math:`H_m` is the ReLU output of the ``dim``-wide (penultimate)
  layer;
* **cross-fitting**: a stratified K-fold split over the *paired* samples; the representations of
  fold ``f`` come from encoders trained on the other folds only, so no sample is embedded by an
  encoder that saw its label (an in-sample embedding inflates :math:`I(H_S; Y)`);
* early stopping on a stratified internal validation split of the training part.

Speed
-----
The (modality, fold) encoders are independent, so they are trained *together*: stacked along
a leading axis and run with batched matrix products (:func:`~cchkit.representations.batched.fit_group`), mini-batches cut
from one index permutation per model and epoch (no DataLoader). For networks this small the
cost is per-operation overhead, which one stacked run pays once for every encoder (timings:
``benchmarks/results/end_to_end.md``). On a CPU shared with other processes, torch's intra-op
threads spin on cores other work holds; ``n_threads=1`` avoids that (the default leaves the
thread count untouched). Results do not depend on the thread count beyond float rounding.

Dead ReLU units
---------------
A unit that is zero on every held-out sample of a fold gives a constant column, on which MI is
undefined (cchkit's estimators refuse constant columns). Such columns are **dropped** for that
fold, not jittered: a jittered constant column becomes, after the standardisation the k-NN
estimators apply, one more dimension of pure noise, which biases KSG-type estimates; dropping a
column that is constant loses no information at all. The number of columns kept per fold is in
``info["dims"]`` (folds may differ). If every unit of a fold is dead (training collapsed), the
pre-activations of that layer are used instead and a warning is logged
(``info["preactivation_fallback"]``).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from .._params import BOOL, NONE, Integral, Interval, Real, validate_params
from .._random import RandomState, derive_seed
from .._torch import resolve_device, torch_threads
from .._validation import as_float_matrix, as_labels, find_constant_columns, plain, standardize_fit
from .._warn import warn_user
from ..exceptions import InputError
from .batched import MIN_STEPS, VAL_FRACTION, EncoderFit, EncoderJob, TrainSettings, fit_group, group_jobs, make_job
from .set import RepresentationSet

logger = logging.getLogger("cchkit")

__all__ = ["encoder_representations", "ENCODER_DEFAULTS"]

#: Default training settings of :func:`encoder_representations` (the CLI shows them).
ENCODER_DEFAULTS: dict[str, Any] = {
    "dim": 16,
    "hidden": 64,
    "epochs": 60,
    "n_folds": 2,
    "batch_size": 128,
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "patience": 10,
}


def _name_seed(base: int, name: str, fold: int) -> int:
    """A seed for (modality, fold) that depends on the modality's *name*, not its position, so
    a modality gets the same representation whichever other modalities are passed with it."""
    ss = np.random.SeedSequence([int(base), zlib.crc32(name.encode("utf-8")), int(fold)])
    return int(ss.generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)


def _heldout_predictions_linear(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, seed: int) -> np.ndarray:
    """Predictions of a logistic regression fitted on the training fold (for ``given`` modalities)."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(y_tr).size < 2:
        return np.full(x_te.shape[0], y_tr[0])
    clf = LogisticRegression(max_iter=300, random_state=seed)
    clf.fit(x_tr, y_tr)
    return clf.predict(x_te)


#: Keyword options of :func:`encoder_representations` besides the data.
_OPTIONS = sorted(ENCODER_DEFAULTS) + ["given", "random_state", "device", "progress", "n_threads"]


class _FoldStore:
    """Held-out representations per fold, with dims, dropped columns and correct predictions."""

    def __init__(self, names: list[str], codes: np.ndarray, splits: list, n_folds: int) -> None:
        self.codes, self.splits = codes, splits
        self.folds: list[dict[str, np.ndarray]] = [{} for _ in range(n_folds)]
        self.dims: dict[str, list[int]] = {name: [] for name in names}
        self.dropped: dict[str, list[int]] = {name: [] for name in names}
        self.correct: dict[str, int] = {name: 0 for name in names}

    def add(self, name: str, f: int, h: np.ndarray, pred: np.ndarray) -> None:
        """Store fold ``f`` of ``name`` with its constant columns dropped (see the module notes)."""
        const = find_constant_columns(h)
        if const.size == h.shape[1]:
            raise InputError(
                f"modality {name!r}: every representation column is constant on fold {f}; the "
                "encoder learned nothing. Check the inputs or change hidden/lr/epochs."
            )
        if const.size:
            logger.debug("modality %r fold %d: dropping %d constant column(s)", name, f, const.size)
            h = np.delete(h, const, axis=1)
        self.folds[f][name] = np.ascontiguousarray(h)
        self.dims[name].append(int(h.shape[1]))
        self.dropped[name].append(int(const.size))
        self.correct[name] += int((np.asarray(pred) == self.codes[self.splits[f][1]]).sum())


def _checked_modalities(data: Any, n: int) -> dict[str, np.ndarray]:
    """The modalities as float matrices with one row per label and an informative column."""
    if not isinstance(data, Mapping) or not data:
        raise InputError("data must be a non-empty mapping of modality name -> (n, d) matrix.")
    arrays: dict[str, np.ndarray] = {}
    for name, x in data.items():
        arr = as_float_matrix(x, f"modality {name!r}")
        if arr.shape[0] != n:
            raise InputError(
                f"modality {name!r} has {arr.shape[0]} rows but there are {n} labels; the rows must be "
                "the paired samples, in the same order as the labels."
            )
        if find_constant_columns(arr).size == arr.shape[1]:
            raise InputError(f"modality {name!r} has only constant columns; it carries no information.")
        arrays[str(name)] = arr
    return arrays


def _check_classes(codes: np.ndarray, classes: np.ndarray, n_folds: int) -> None:
    """At least two classes, each with a sample in every fold."""
    if classes.shape[0] < 2:
        raise InputError(
            "the labels have a single class; an encoder needs at least 2 classes to learn from "
            "(and I(H; Y) = 0 by definition)."
        )
    counts = np.bincount(codes, minlength=classes.shape[0])
    if counts.min() < n_folds:
        small = [f"{plain(classes[c])!r} ({counts[c]})" for c in np.flatnonzero(counts < n_folds)[:5]]
        raise InputError(
            f"class(es) {', '.join(small)} have fewer samples than n_folds={n_folds}; every fold needs "
            "every class. Lower n_folds, merge or drop the rare classes, or collect more samples."
        )


def _given_list(given: Sequence[str] | str, arrays: Mapping[str, np.ndarray]) -> list[str]:
    given = [given] if isinstance(given, str) else list(given)
    unknown = sorted(set(given) - set(arrays))
    if unknown:
        raise InputError(f"given names modalities that are not in data: {unknown}; data has {sorted(arrays)}.")
    return given


def _embed_given(store: _FoldStore, name: str, x: np.ndarray, seed: int) -> None:
    """A modality that already is a representation, standardised with the training folds'
    statistics, with a logistic regression's held-out predictions."""
    for f, (tr, te) in enumerate(store.splits):
        mu, sd = standardize_fit(x[tr])
        h = (x[te] - mu) / sd
        pred = _heldout_predictions_linear((x[tr] - mu) / sd, store.codes[tr], h, _name_seed(seed, name, f))
        store.add(name, f, h, pred)


def _train_all(jobs: list[EncoderJob], settings: TrainSettings, n_classes: int, device: Any,
               progress: bool, n_threads: int | None) -> dict[tuple[str, int], EncoderFit]:
    """Every (modality, fold) encoder, trained in groups of stacked models."""
    bar = None
    if progress and jobs:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="encoders (modality x fold)", unit="fit")
    results: dict[tuple[str, int], EncoderFit] = {}
    try:
        with torch_threads(n_threads):
            for group in group_jobs(jobs):
                fits = fit_group(group, n_classes=n_classes, settings=settings, device=device,
                                 on_done=(lambda job: bar.update(1)) if bar is not None else None)
                results.update({(job.name, job.fold): fit for job, fit in zip(group, fits)})
    finally:
        if bar is not None:
            bar.close()
    return results


def _store_trained(store: _FoldStore, name: str, fits: list[EncoderFit], fallback: dict[str, list[int]]) -> None:
    """Store a trained modality's folds, falling back to pre-activations where every unit died."""
    for f, fit in enumerate(fits):
        h = fit.h
        if find_constant_columns(h).size == h.shape[1]:
            warn_user(
                "encoder of %r, fold %d: every representation unit is constant on the held-out "
                "fold (dead ReLUs); using the layer's pre-activations instead.",
                name,
                f,
            )
            fallback.setdefault(name, []).append(f)
            h = fit.pre
        store.add(name, f, h, fit.pred)


@validate_params(
    {
        "dim": [Interval(Integral, 1, None)],
        "hidden": [Interval(Integral, 1, None)],
        "epochs": [Interval(Integral, 1, None)],
        "n_folds": [Interval(Integral, 2, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None)],
        "patience": [Interval(Integral, 1, None)],
        "n_threads": [NONE, Interval(Integral, 1, None)],
        "progress": [BOOL],
    }
)
def encoder_representations(
    data: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    dim: int = 16,
    given: Sequence[str] = (),
    random_state: RandomState = 0,
    device: str = "auto",
    progress: bool = False,
    hidden: int = 64,
    epochs: int = 60,
    n_folds: int = 2,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    patience: int = 10,
    n_threads: int | None = None,
    **unknown: Any,
) -> RepresentationSet:
    """Cross-fitted learned representations of paired modalities.

    For each modality ``m`` and each fold ``f`` of a stratified K-fold split, an MLP

    .. math::

        x \\mapsto W_3\\,\\mathrm{ReLU}(\\underbrace{W_2\\,\\mathrm{ReLU}(W_1 \\tilde x + b_1) + b_2}_{\\text{pre}})
        + b_3, \\qquad H_m = \\mathrm{ReLU}(\\text{pre}) \\in \\mathbb{R}^{\\mathrm{dim}},

    (:math:`\\tilde x` the input standardised with the training part's mean and standard
    deviation) is trained with cross-entropy (AdamW, mini-batches, early stopping on a stratified
    15 % validation split of the training part, best epoch restored) on every fold but ``f``, and
    ``H_m`` is evaluated on the samples of fold ``f``. This follows the CCH paper (Xie, Xu &
    Sanguinetti, arXiv 2510.13182), where MI is computed on trained representations of identical
    architectures; cross-fitting keeps :math:`I(H_S; Y)` from being inflated by memorised labels.

    Parameters
    ----------
    data : mapping name -> array (n, d_m)
        Paired modalities: row ``i`` of every array is sample ``i``.
    labels : array (n,)
        Class labels (ints, strings or whole floats), re-encoded as 0..C-1.
    dim : int, default 16
        Width of the representation layer (columns of H_m before dead units are dropped).
    given : sequence of str
        Modalities that already are representations: used as they are (constant columns
        dropped, standardised per fold), not trained. Their accuracy is that of a logistic
        regression fitted on the training folds.
    random_state : int, Generator or None
        Seeds the folds, the validation splits, the initial weights and the shuffling. Each
        (modality, fold) gets a seed derived from the base seed and the modality's *name*, so a
        modality's representation does not depend on which other modalities are passed.
    device : {"auto", "cpu", "cuda", ...}
        Where to train; CPU results are the reference (CUDA kernels may differ in the last bits).
    progress : bool
        Show a tqdm bar over (modality, fold).
    hidden, epochs, n_folds, batch_size, lr, weight_decay, patience
        Training settings: hidden width, maximum epochs, number of cross-fitting folds (>= 2),
        largest mini-batch size (training parts under ``8 * batch_size`` samples are cut into 8
        smaller batches per epoch, so that small data still get enough steps), AdamW learning
        rate and weight decay, early-stopping patience (epochs without a validation-loss
        improvement).
    n_threads : int or None, default None
        None leaves torch's intra-op thread count as it is. An int sets it for the training
        only (restored afterwards). These networks are tiny, so one thread is often the fastest,
        and on a CPU shared with other processes (``pytest -n 2``, parallel jobs) intra-op
        threads can make training ten times slower. Results do not depend on it.

    Returns
    -------
    RepresentationSet
        ``kind="encoder"``; ``folds[f][name]`` the held-out representations of fold ``f``
        (constant columns dropped, see the module notes), ``labels[f]`` their labels (codes
        0..C-1), ``accuracy[name]`` the held-out accuracy pooled over folds. ``info`` holds
        ``"curves"`` (name -> per-fold dicts of ``train_loss``, ``val_loss``, ``val_acc``,
        ``best_epoch``, ``epochs_run``), ``"dims"`` (name -> columns kept per fold),
        ``"dropped_columns"``, ``"preactivation_fallback"``, ``"fold_indices"`` (row indices of
        each fold, into ``data``), ``"classes"``, ``"params"``, ``"seed"`` and ``"seconds"``.

    Raises
    ------
    InputError
        Empty or mismatched inputs, NaN/inf, a single class, a class with fewer samples than
        ``n_folds``, an unknown name in ``given``, bad training settings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> x = {"a": y[:, None] + rng.normal(size=(200, 5)), "b": rng.normal(size=(200, 3))}
    >>> reps = encoder_representations(x, y, dim=4, epochs=5)
    >>> len(reps.folds), reps.n
    (2, 200)
    """
    t0 = time.perf_counter()
    if unknown:
        raise InputError(f"unknown encoder option(s) {sorted(unknown)}; valid options: {', '.join(_OPTIONS)}.")
    settings = TrainSettings(dim=int(dim), hidden=int(hidden), epochs=int(epochs), batch_size=int(batch_size),
                             lr=float(lr), weight_decay=float(weight_decay), patience=int(patience))
    n_folds = int(n_folds)
    codes, classes = as_labels(labels, "labels")
    arrays = _checked_modalities(data, codes.shape[0])
    given = _given_list(given, arrays)
    _check_classes(codes, classes, n_folds)
    from sklearn.model_selection import StratifiedKFold

    dev = resolve_device(device)
    seed = derive_seed(random_state)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    splits = [(tr, te) for tr, te in skf.split(np.zeros((codes.shape[0], 1)), codes)]
    store = _FoldStore(list(arrays), codes, splits, n_folds)
    for name in given:
        _embed_given(store, name, arrays[name], seed)
    trained = [name for name in arrays if name not in given]
    jobs = [
        make_job(name, f, _name_seed(seed, name, f), arrays[name], codes, tr, te)
        for name in trained
        for f, (tr, te) in enumerate(splits)
    ]
    results = _train_all(jobs, settings, int(classes.shape[0]), dev, progress, n_threads)
    fallback: dict[str, list[int]] = {}
    curves: dict[str, list[dict[str, Any]]] = {}
    for name in trained:
        fits = [results[(name, f)] for f in range(n_folds)]
        curves[name] = [fit.curve for fit in fits]
        _store_trained(store, name, fits, fallback)
    accuracy = {name: store.correct[name] / codes.shape[0] for name in arrays}
    for name in arrays:
        logger.info("encoder %r: held-out accuracy %.3f, dims per fold %s", name, accuracy[name], store.dims[name])
    info: dict[str, Any] = {
        "curves": curves,
        "dims": store.dims,
        "dropped_columns": store.dropped,
        "preactivation_fallback": fallback,
        "fold_indices": [te for _, te in splits],
        "classes": classes,
        "given": list(given),
        "params": {**asdict(settings), "n_folds": n_folds, "val_fraction": VAL_FRACTION,
                   "min_steps_per_epoch": MIN_STEPS, "n_threads": n_threads, "device": str(dev)},
        "seed": seed,
        "seconds": time.perf_counter() - t0,
    }
    return RepresentationSet(kind="encoder", folds=store.folds, labels=[codes[te] for _, te in splits],
                             accuracy=accuracy, info=info)
