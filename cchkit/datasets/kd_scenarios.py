"""Constructed bundles for checking the distiller (:func:`cchkit.distill.distill`).

Each generator returns a :class:`~cchkit.bundle.ModalityBundle` with a *student* modality
``"s"`` and a *teacher* modality ``"t"`` built so that the teacher carries label information
the student lacks, which is the situation in which knowledge distillation is supposed to help.

:func:`starved_student_bundle`
    Both modalities are maps of one class-dependent latent ``z`` (a Gaussian mixture, one
    component per class, in ``latent_dim`` dimensions):

    * teacher: a clean linear view ``x_T = z W_T + teacher_noise * e`` with plenty of samples
      (``n_per_class + n_test_per_class + n_teacher_per_class`` per class);
    * student: a different, non-linear, noisy view ``x_S = [tanh(z W_S) + student_noise * e,
      noise_dims pure-noise columns]`` with only ``n_per_class`` samples per class meant for
      training (pass ``train_size=bundle.metadata["n_train"]`` to :func:`distill`) and
      ``n_test_per_class`` per class for testing; optionally a share ``label_noise`` of the
      student's labels replaced by a different, uniformly drawn class (the teacher's labels
      stay clean).

    The student's rows share sample ids with the first teacher rows (the same ``z``), so the
    paired methods (``logit-kd``, ``feature-kd``) can run on it too; the unpaired methods ignore
    the ids (apart from the leakage guard, which keeps the student's test samples out of the
    teacher's training set). With ``paired=False`` no ids are shared.

What was measured on it (``tests/test_distill_trainer.py``; 2 CPU cores) is recorded in that
test, not here: these are the inputs, not a claim that any method wins.
"""

from __future__ import annotations

import numpy as np

from .._random import as_generator

__all__ = ["starved_student_bundle"]


def starved_student_bundle(
    n_per_class: int = 10,
    *,
    n_test_per_class: int = 200,
    n_teacher_per_class: int = 500,
    n_classes: int = 4,
    latent_dim: int = 4,
    student_dim: int = 16,
    noise_dims: int = 16,
    separation: float = 4.0,
    student_noise: float = 0.5,
    teacher_noise: float = 0.1,
    label_noise: float = 0.0,
    paired: bool = True,
    random_state: int | np.random.Generator | None = 0,
):
    """A data-starved, noisy, non-linear student and a clean, data-rich teacher of one latent.

    Parameters
    ----------
    n_per_class : int, default 10
        Student samples per class meant for training.
    n_test_per_class : int, default 200
        Further student samples per class (the student's test split).
    n_teacher_per_class : int, default 500
        Teacher samples per class *beyond* those paired with the student's samples.
    n_classes, latent_dim : int
        Classes; dimension of the shared latent ``z``.
    student_dim, noise_dims : int
        Student view dimension (``tanh`` of a random projection of ``z``) and number of
        appended pure-noise columns.
    separation : float, default 4.0
        Mean distance of the class means of ``z`` from the origin (the within-class noise of
        ``z`` is standard normal): sets how well the clean teacher can do.
    student_noise, teacher_noise : float
        Standard deviation of the additive noise on each view.
    label_noise : float in [0, 1), default 0
        Share of the student's labels (train and test alike) replaced by another class.
    paired : bool, default True
        Share sample ids between the student's rows and the teacher rows of the same ``z``.
    random_state : int, Generator or None

    Returns
    -------
    ModalityBundle
        Modalities ``"s"`` (student) and ``"t"`` (teacher), their own labels; ``metadata``
        holds ``n_train`` (``n_per_class * n_classes``, the ``train_size`` to use) and every
        generator setting.
    """
    from ..bundle import ModalityBundle
    from ..exceptions import InputError

    for name, v in (("n_per_class", n_per_class), ("n_test_per_class", n_test_per_class),
                    ("n_classes", n_classes), ("latent_dim", latent_dim), ("student_dim", student_dim)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise InputError(f"{name} must be a positive integer, got {v!r}.")
    if n_classes < 2:
        raise InputError(f"n_classes must be >= 2, got {n_classes}.")
    if not isinstance(n_teacher_per_class, (int, np.integer)) or n_teacher_per_class < 0:
        raise InputError(f"n_teacher_per_class must be a non-negative integer, got {n_teacher_per_class!r}.")
    if not isinstance(noise_dims, (int, np.integer)) or noise_dims < 0:
        raise InputError(f"noise_dims must be a non-negative integer, got {noise_dims!r}.")
    if not (0.0 <= label_noise < 1.0):
        raise InputError(f"label_noise must be in [0, 1), got {label_noise!r}.")
    for name, v in (("separation", separation), ("student_noise", student_noise), ("teacher_noise", teacher_noise)):
        if not (np.isfinite(v) and v >= 0):
            raise InputError(f"{name} must be a finite number >= 0, got {v!r}.")
    rng = as_generator(random_state)
    k = int(n_classes)
    mu = rng.standard_normal((k, latent_dim))
    mu *= separation / np.linalg.norm(mu, axis=1, keepdims=True)
    n_s_per = int(n_per_class) + int(n_test_per_class)
    y_s = np.repeat(np.arange(k), n_s_per)
    y_extra = np.repeat(np.arange(k), int(n_teacher_per_class))
    y_t = np.concatenate([y_s, y_extra])
    z = mu[y_t] + rng.standard_normal((y_t.size, latent_dim))
    n_s = y_s.size
    w_s = rng.standard_normal((latent_dim, student_dim)) / np.sqrt(latent_dim)
    w_t = rng.standard_normal((latent_dim, student_dim)) / np.sqrt(latent_dim)
    h = np.tanh(z[:n_s] @ w_s)
    x_s = np.hstack([h + student_noise * rng.standard_normal(h.shape), rng.standard_normal((n_s, int(noise_dims)))])
    x_t = z @ w_t + teacher_noise * rng.standard_normal((y_t.size, student_dim))
    lab_s = y_s.copy()
    if label_noise > 0:
        flip = rng.random(n_s) < label_noise
        lab_s[flip] = (lab_s[flip] + rng.integers(1, k, int(flip.sum()))) % k
    if paired:
        ids = {"s": np.arange(n_s), "t": np.arange(y_t.size)}
    else:
        ids = {"s": np.array([f"s:{i}" for i in range(n_s)]), "t": np.array([f"t:{i}" for i in range(y_t.size)])}
    meta = dict(
        generator="starved_student_bundle", n_train=int(n_per_class) * k, n_per_class=int(n_per_class),
        n_test_per_class=int(n_test_per_class), n_teacher_per_class=int(n_teacher_per_class), n_classes=k,
        latent_dim=int(latent_dim), student_dim=int(student_dim), noise_dims=int(noise_dims),
        separation=float(separation), student_noise=float(student_noise), teacher_noise=float(teacher_noise),
        label_noise=float(label_noise), paired=bool(paired),
        random_state=random_state if isinstance(random_state, (int, np.integer)) or random_state is None else "generator",
    )
    return ModalityBundle.from_arrays(
        {"s": x_s, "t": x_t},
        labels={"s": lab_s, "t": y_t},
        ids=ids,
        name="starved-student",
        descriptions={"s": "noisy non-linear view of z, few labelled samples", "t": "clean linear view of z, many samples"},
        metadata=meta,
    )
