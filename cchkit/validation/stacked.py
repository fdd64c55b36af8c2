r"""The students of one validation, trained as stacks and tuned with one budget for all.

``validate`` needs, for every seed, a no-KD student and one KD student per (teacher, method).
For the methods whose step is a per-member loss (:data:`STACKABLE`) they are all trained at once
as :class:`~cchkit.distill.batched.StackRun` stacks (one per network shape). Tuning takes two
searches of the same size, on the validation splits of the first :data:`TUNE_SEEDS` seeds:

1. **No-KD student**: the 6 settings of :data:`STUDENT_GRID` (learning rate, weight decay, hidden
   layers, dropout), each trained on every tuning seed; the setting with the best validation
   accuracy averaged over those seeds is the student's.
2. **KD students**: on the chosen student setting, the 6 settings of :data:`KD_GRID` (KD weight x
   temperature, the weight never 0), per teacher and method; again the best mean validation
   accuracy over the tuning seeds chooses.

Both searches halve (successive halving, Jamieson & Talwalkar 2016, with eta = 3): at a third of
the epochs (:data:`HALVING_RUNGS`) each group keeps its best ``ceil(6 / 3) = 2`` variants by
validation accuracy so far, averaged over the tuning seeds, and the other variants stop; at two
thirds the better of the two goes on alone and is the choice. A search then costs half of
training every variant to the end, and a survivor trains exactly as it would alone. The KD
settings of the grid differ little, so halving changes which one is chosen more often than it
changes the accuracy reached (``benchmarks/halving.py`` replays full searches to measure both:
``benchmarks/results/halving.md``).

The settings chosen (:class:`Tuned`) then train the students of every later seed, one member
each, so a seed beyond the tuning seeds costs one student per arm instead of a search. Averaging
the validation accuracy over seeds also takes the selection noise of one small validation split
out of the per-seed gains. Both arms select on validation data by the same rule and stop by the
same best-epoch rule, so a KD student can neither switch KD off nor win by being searched
harder: the gain measures KD, not the search. A later seed's test rows may have been validation
rows of a tuning seed; that informs only the choice of one setting among six, for both arms
alike. Test splits are read once, at the end of each training. With ``tune=False`` each student
uses the given settings (one member each).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._parallel import thread_budget
from .._torch import torch_threads
from ..distill.batched import Member, MemberResult, StackRun, StackSettings
from ..distill.methods import get_method, list_methods
from ..distill.prepare import PreparedSeed, prepare_seeds

__all__ = ["stackable_names", "STUDENT_GRID", "KD_GRID", "TUNE_SEEDS", "StudentSetting", "Tuned", "pick_best",
           "tuned_line", "stackable_methods", "tuned_settings", "stacked_runs", "RUN_COLUMNS", "HALVING_RUNGS",
           "HALVING_ETA", "STUDENT_SEARCH", "KD_SEARCH", "halving_survivors", "rank_variants"]

def stackable_names() -> list[str]:
    """The registered methods the stacks train (a ``stack_targets`` kind, see
    :class:`~cchkit.distill.methods.base.KDMethod`); the others run one by one through ``distill``."""
    return [m for m in list_methods() if get_method(m).stack_targets is not None]


#: How many of the first seeds choose the settings of every seed.
TUNE_SEEDS = 3
#: Successive halving in both searches: at these fractions of the epochs each group keeps its
#: best ceil(variants / HALVING_ETA) variants (6 -> 2 at a third of the epochs, 2 -> 1 at two
#: thirds), so a search costs half of training every variant to the end; the cheapest policy
#: whose loss of test accuracy stayed within noise with each bundle left out in turn
#: (benchmarks/halving.py).
HALVING_RUNGS: tuple[float, ...] = (1 / 3, 2 / 3)
HALVING_ETA = 3


@dataclass(frozen=True)
class StudentSetting:
    """One setting of the student network and its optimiser (shared by the KD students)."""

    lr: float = 1e-2
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (64,)
    dropout: float = 0.0

    @property
    def label(self) -> str:
        """``hidden`` as text, e.g. ``"128-64"``."""
        return "-".join(map(str, self.hidden))


#: The no-KD student's search: a balanced fraction of learning rate {3e-3, 1e-2, 3e-2} x weight
#: decay {0, 1e-3} x hidden layers {(64,), (128,), (128, 64)} x dropout {0, 0.2} (each rate and
#: each shape twice, each decay three times, dropout in two), the distiller's defaults first.
STUDENT_GRID: tuple[StudentSetting, ...] = (
    StudentSetting(1e-2, 0.0, (64,), 0.0),
    StudentSetting(3e-2, 1e-3, (64,), 0.0),
    StudentSetting(3e-3, 0.0, (128,), 0.0),
    StudentSetting(1e-2, 1e-3, (128,), 0.2),
    StudentSetting(3e-2, 0.0, (128, 64), 0.2),
    StudentSetting(3e-3, 1e-3, (128, 64), 0.0),
)
#: The KD students' search on the chosen student setting: (KD weight, temperature); no weight 0.
KD_GRID: tuple[tuple[float, float], ...] = tuple((w, t) for w in (0.5, 1.0, 2.0) for t in (2.0, 4.0))
#: Columns of the runs table (one row per teacher, method and seed).
RUN_COLUMNS = ["teacher", "method", "seed", "accuracy", "val_accuracy", "teacher_net_accuracy", "lr", "weight_decay",
               "hidden", "dropout", "kd_weight", "temperature", "seconds", "error"]
#: distill settings a stack honours; any other setting sends a method through ``distill``
_STACK_SETTINGS = {"epochs", "min_steps", "batch_size", "feat_dim", "hidden", "lr", "momentum", "weight_decay",
                   "warmup_epochs", "grad_clip", "lambda1", "temperature", "teacher_epochs", "teacher_lr", "test_size",
                   "train_size", "val_size", "exclude_test_ids", "class_targets", "lambda_fa", "n_threads"}
#: The student settings _given reads from a DistillConfig.
_CONFIG_FIELDS = ("lr", "weight_decay", "hidden", "lambda1", "temperature")


def _config_kd() -> tuple[float, float]:
    """(KD weight, temperature) by default: :class:`~cchkit.distill.DistillConfig`'s, the one
    source of those defaults."""
    from ..distill import DistillConfig

    cfg = DistillConfig()
    return cfg.lambda1, cfg.temperature


@dataclass(frozen=True)
class Tuned:
    """The settings every seed trains with: the student's, and (KD weight, temperature) per
    (teacher, method); ``seeds``, the seeds whose validation splits chose them (empty: given)."""

    student: StudentSetting
    kd: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()
    default_kd: tuple[float, float] = field(default_factory=_config_kd)

    def kd_of(self, teacher: str, method: str) -> tuple[float, float]:
        return self.kd.get((teacher, method), self.default_kd)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: what was chosen, on which seeds."""
        st = dataclasses.asdict(self.student)
        return {"student": {**st, "hidden": list(st["hidden"])}, "chosen_on_seeds": list(self.seeds),
                "kd": [{"teacher": t, "method": m, "kd_weight": w, "temperature": tt}
                       for (t, m), (w, tt) in self.kd.items()],
                "default_kd": {"kd_weight": self.default_kd[0], "temperature": self.default_kd[1]}}


def stackable_methods(methods: Sequence[str], distill_params: Mapping[str, Any]) -> list[str]:
    """The methods of ``methods`` that the stacks train with these settings: a setting that only
    other methods read (:attr:`~cchkit.distill.methods.base.KDMethod.own_settings`, e.g. UCMKD's
    ``inner_lr``) leaves the stacks as they are; a general setting the stacks do not honour, or
    class-align's sampled targets or feature alignment, sends the methods it concerns through
    ``distill``."""
    owned = {k for m in list_methods() for k in get_method(m).own_settings}
    if set(distill_params) - _STACK_SETTINGS - owned:
        return []
    off = distill_params.get("class_targets", "mean") != "mean" or distill_params.get("lambda_fa", 0.0) > 0
    stacks = stackable_names()
    return [m for m in methods if m in stacks and not (off and "class_targets" in get_method(m).own_settings)]


def tuned_line(tuned: Mapping[str, Any] | None) -> str:
    """One line saying what tuning chose (from :meth:`Tuned.summary`), e.g. ``tuned on the
    validation splits of seeds 3, 8, 1: student lr 0.03, weight decay 0, hidden 128-64, dropout
    0.2; KD weight x temperature: image class-align 1 x 2``."""
    if not tuned:
        return "settings: as given (no method trains in stacks)"
    st = tuned["student"]
    kd = "; ".join(f"{k['teacher']} {k['method']} {k['kd_weight']:g} x {k['temperature']:g}" for k in tuned["kd"])
    if not kd and tuned.get("default_kd"):  # given settings: one pair for every KD student
        kd = f"{tuned['default_kd']['kd_weight']:g} x {tuned['default_kd']['temperature']:g} for every teacher"
    where = ("tuned on the validation splits of seeds " + ", ".join(map(str, tuned["chosen_on_seeds"]))
             if tuned["chosen_on_seeds"] else "settings given (tune=False)")
    return (f"{where}: student lr {st['lr']:g}, weight decay {st['weight_decay']:g}, hidden "
            f"{'-'.join(map(str, st['hidden']))}, dropout {st['dropout']:g}"
            + (f"; KD weight x temperature: {kd}" if kd else ""))


def tuned_settings(methods: Sequence[str], distill_params: Mapping[str, Any]) -> list[str]:
    """The distill settings that tuning chooses for these methods (a value passed for one of
    them would not be used, so ``validate`` refuses it unless ``tune=False``)."""
    stacked = stackable_methods(methods, distill_params)
    if not stacked:
        return []
    kd = ["lambda1", "temperature"] if [m for m in stacked if m != "none"] else []
    return ["lr", "weight_decay", "hidden", *kd]


@dataclass(frozen=True)
class _Job:
    """One member's meaning: which seed, teacher and method, and its settings."""

    seed: int
    teacher: str | None
    method: str
    setting: StudentSetting
    kd_weight: float = math.nan
    temperature: float = math.nan

    @property
    def key(self) -> tuple[int, str | None, str]:
        return (self.seed, self.teacher, self.method)


_Done = dict[tuple[int, str | None, str], tuple[_Job, MemberResult]]
_NO_SETTING = StudentSetting(math.nan, math.nan, (), math.nan)


def _settings(n_classes: int, epochs: int, dp: Mapping[str, Any]) -> StackSettings:
    keys = ("feat_dim", "min_steps", "batch_size", "momentum", "warmup_epochs", "grad_clip")
    return StackSettings(n_classes=n_classes, epochs=epochs, **{k: dp[k] for k in keys if k in dp})


def _member(job: _Job, data: int, p: PreparedSeed) -> Member:
    st = job.setting
    common = dict(lr=st.lr, weight_decay=st.weight_decay, dropout=st.dropout)
    kind = get_method(job.method).stack_targets
    if kind == "none":
        return Member(data, p.init_seed, p.batch_seed, **common)
    tt = p.teachers[job.teacher]  # type: ignore[index]
    paired = kind == "paired"
    return Member(data, p.init_seed, p.batch_seed, kd=kind, kd_weight=job.kd_weight,  # type: ignore[arg-type]
                  temperature=job.temperature, targets=tt.pair_logits if paired else tt.class_targets(job.temperature),
                  pair_mask=tt.pair_mask if paired else None, **common)


@dataclass(frozen=True)
class _Search:
    """What a search compares: the group a job belongs to and its variant within the group."""

    key: Any
    variant: Any


def rank_variants(jobs: Sequence[_Job], val: Sequence[float], search: _Search) -> dict[Any, list[Any]]:
    """Per group (``search.key(job)``), its variants (``search.variant(job)``) best first by the
    validation accuracy ``val`` averaged over the group's seeds; a stable sort, so the earlier
    variant in search order wins a tie (and every tie when no job has a validation split)."""
    scores: dict[Any, dict[Any, list[float]]] = {}
    for job, v in zip(jobs, val):
        scores.setdefault(search.key(job), {}).setdefault(search.variant(job), []).append(v)
    out = {}
    for k, by_variant in scores.items():
        mean = {v: float(np.mean(vals)) if np.isfinite(vals).all() else -math.inf for v, vals in by_variant.items()}
        out[k] = sorted(by_variant, key=lambda v: -mean[v])
    return out


def pick_best(jobs: list[_Job], results: list[MemberResult], key: Any, variant: Any) -> dict[Any, Any]:
    """Per group (``key(job)``), the variant (``variant(job)``) with the best validation accuracy
    averaged over seeds (see :func:`rank_variants`)."""
    ranked = rank_variants(jobs, [r.val_accuracy for r in results], _Search(key, variant))
    return {k: order[0] for k, order in ranked.items()}


def halving_survivors(jobs: Sequence[_Job], val: Sequence[float], search: _Search, eta: int) -> list[bool]:
    """Successive halving's cut: per group, the best ``ceil(variants / eta)`` variants go on."""
    ranked = rank_variants(jobs, val, search)
    going = {k: set(order[:math.ceil(len(order) / eta)]) for k, order in ranked.items()}
    return [search.variant(j) in going[search.key(j)] for j in jobs]


def _train(jobs: list[_Job], preps: dict[int, PreparedSeed], settings: StackSettings,
           search: _Search | None = None) -> list[MemberResult | None]:
    """Train the jobs in stacks of one network shape and equal split sizes; results in order.

    With ``search``, successive halving (Jamieson & Talwalkar 2016): at each rung of
    :data:`HALVING_RUNGS` every group keeps its best ``1 / HALVING_ETA`` variants by validation
    accuracy so far (over all stacks) and the others stop; a stopped job's result is None. A job
    that goes on trains exactly as it would alone.
    """
    index = {seed: i for i, seed in enumerate(preps)}
    data = [p.data for p in preps.values()]
    members = [_member(j, index[j.seed], preps[j.seed]) for j in jobs]

    def shape(i: int) -> tuple[Any, ...]:
        d = data[members[i].data]
        return (jobs[i].setting.hidden, d.x_fit.shape[0], d.x_val.shape[0], d.x_test.shape[0])

    out: list[MemberResult | None] = [None] * len(members)
    # a stack is one large batched product per layer, which threads split well (and the values do
    # not depend on the thread count: checked in tests/test_distill_batched.py); OMP_NUM_THREADS caps them
    with torch_threads(thread_budget()):
        stacks = []
        for key in dict.fromkeys(shape(i) for i in range(len(members))):
            idx = np.array([i for i in range(len(members)) if shape(i) == key])
            stacks.append((idx, StackRun([members[i] for i in idx], data, dataclasses.replace(settings, hidden=key[0]))))
        for fraction in (HALVING_RUNGS if search else ()):
            _halve(stacks, jobs, fraction, search)  # type: ignore[arg-type]
        for idx, run in stacks:
            run.run()
            for i, r in zip(idx[run.index], run.results()):
                out[i] = r
    return out


def _halve(stacks: list[tuple[np.ndarray, StackRun]], jobs: list[_Job], fraction: float, search: _Search) -> None:
    """Train every stack up to ``fraction`` of its epochs, then stop the variants that halving cuts."""
    alive: list[int] = []
    val: list[float] = []
    for idx, run in stacks:
        run.run(until=max(1, round(fraction * run.epochs)))
        alive += list(idx[run.index])
        val += [float(v) for v in run.best_val]
    going = dict(zip(alive, halving_survivors([jobs[i] for i in alive], val, search, HALVING_ETA)))
    for idx, run in stacks:
        run.keep([going[i] for i in idx[run.index]])


def _kd_jobs(preps: dict[int, PreparedSeed], teachers: Sequence[str], methods: Sequence[str],
             settings_of: Any) -> list[_Job]:
    """A job per seed, teacher, method and (KD weight, temperature) of ``settings_of(teacher, method)``."""
    jobs = []
    for seed, p in preps.items():
        for teacher in (t for t in teachers if t in p.teachers):
            for method in methods:
                if get_method(method).stack_targets == "paired" and p.teachers[teacher].pair_logits is None:
                    continue
                for setting, (w, t) in settings_of(teacher, method):
                    jobs.append(_Job(seed, teacher, method, setting, w, t))
    return jobs


#: The no-KD search: one group, its variants the student settings.
STUDENT_SEARCH = _Search(key=lambda j: None, variant=lambda j: j.setting)
#: The KD search: one group per (teacher, method), its variants KD weight x temperature.
KD_SEARCH = _Search(key=lambda j: (j.teacher, j.method), variant=lambda j: (j.kd_weight, j.temperature))


def _tune(preps: dict[int, PreparedSeed], teachers: Sequence[str], methods: Sequence[str],
          settings: StackSettings) -> tuple[Tuned, _Done]:
    """The two searches of the module docstring on these seeds: the settings chosen, and the
    chosen members' results (the runs of these seeds)."""
    done: _Done = {}
    jobs = [_Job(seed, None, "none", st) for seed in preps for st in STUDENT_GRID]
    student = _search(jobs, preps, settings, STUDENT_SEARCH, done)[None]
    jobs = _kd_jobs(preps, teachers, methods, lambda t, m: [(student, wt) for wt in KD_GRID])
    kd = _search(jobs, preps, settings, KD_SEARCH, done) if jobs else {}
    return Tuned(student, kd, seeds=tuple(preps)), done


def _search(jobs: list[_Job], preps: dict[int, PreparedSeed], settings: StackSettings, search: _Search,
            done: _Done) -> dict[Any, Any]:
    """The best variant per group (by successive halving); the chosen jobs' results go to ``done``."""
    trained = [(j, r) for j, r in zip(jobs, _train(jobs, preps, settings, search)) if r is not None]
    chosen = pick_best([j for j, _ in trained], [r for _, r in trained], search.key, search.variant)
    done.update({j.key: (j, r) for j, r in trained if search.variant(j) == chosen[search.key(j)]})
    return chosen


def _given(dp: Mapping[str, Any]) -> Tuned:
    """The settings passed (``tune=False``), the others :class:`~cchkit.distill.DistillConfig`'s
    defaults (one source for every default)."""
    from ..distill import DistillConfig

    cfg = DistillConfig.build(**{k: v for k, v in dp.items() if k in _CONFIG_FIELDS})
    hidden = cfg.hidden
    hidden = (int(hidden),) if isinstance(hidden, (int, np.integer)) else tuple(int(h) for h in hidden)
    return Tuned(StudentSetting(cfg.lr, cfg.weight_decay, hidden, 0.0), default_kd=(cfg.lambda1, cfg.temperature))


def _with_settings(preps: dict[int, PreparedSeed], teachers: Sequence[str], methods: Sequence[str],
                   settings: StackSettings, tuned: Tuned, done: _Done) -> _Done:
    """``done`` plus the runs it lacks, each trained once with the ``tuned`` settings."""
    jobs = [_Job(seed, None, "none", tuned.student) for seed in preps]
    jobs += _kd_jobs(preps, teachers, methods, lambda t, m: [(tuned.student, tuned.kd_of(t, m))])
    jobs = [j for j in jobs if j.key not in done]
    return done | {j.key: (j, r) for j, r in zip(jobs, _train(jobs, preps, settings) if jobs else [])}


def _prepare_all(bundle: Any, student: str, teachers: Sequence[str], seeds: list[int], *, paired: bool, epochs: int,
                 device: str, dp: Mapping[str, Any]) -> dict[int, PreparedSeed]:
    """Every seed's split and its teachers, each teacher modality's networks trained as one stack."""
    keys = ("teacher_epochs", "batch_size", "feat_dim", "hidden", "teacher_lr", "test_size", "train_size", "val_size",
            "exclude_test_ids")
    with torch_threads(thread_budget()):
        return prepare_seeds(bundle, student, teachers, seeds, paired=paired, epochs=epochs, device=device,
                             **{k: dp[k] for k in keys if k in dp})


def _row(job: _Job, res: MemberResult | None, teacher: str, teacher_acc: float, error: str = "") -> dict[str, Any]:
    return {"teacher": teacher, "method": job.method, "seed": job.seed,
            "accuracy": res.accuracy if res else math.nan, "val_accuracy": res.val_accuracy if res else math.nan,
            "teacher_net_accuracy": teacher_acc, "lr": job.setting.lr, "weight_decay": job.setting.weight_decay,
            "hidden": job.setting.label, "dropout": job.setting.dropout,
            "kd_weight": job.kd_weight, "temperature": job.temperature, "seconds": math.nan, "error": error}


def _rows(prepared: dict[int, PreparedSeed], teachers: Sequence[str], methods: Sequence[str],
          done: _Done) -> list[dict[str, Any]]:
    rows = []
    for seed, p in prepared.items():
        for teacher in teachers:
            if teacher in p.failed or (seed, None, "none") not in done:  # the input ruled it out for this seed
                err = p.failed.get(teacher, "no teacher could be prepared for this seed")
                rows += [_row(_Job(seed, teacher, m, _NO_SETTING), None, teacher, math.nan, err)
                         for m in ["none", *methods]]
                continue
            tt = p.teachers[teacher]
            rows.append(_row(*done[(seed, None, "none")], teacher, tt.accuracy))
            for method in methods:
                if (seed, teacher, method) in done:
                    rows.append(_row(*done[(seed, teacher, method)], teacher, tt.accuracy))
                else:  # logit-kd without pairs
                    rows.append(_row(_Job(seed, teacher, method, _NO_SETTING), None, teacher, math.nan,
                                     tt.pair_error or "no pairs"))
    return rows


def stacked_runs(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], methods: Sequence[str], *,
                 epochs: int, device: str, tune: bool, distill_params: Mapping[str, Any],
                 tuned: Tuned | None = None) -> tuple[pd.DataFrame, Tuned]:
    """The runs table of the stackable ``methods`` (``none`` included), and the settings they
    used: ``tuned`` when given, else (``tune``) chosen on these seeds or (not ``tune``) the ones
    in ``distill_params``. See the module docstring."""
    dp = dict(distill_params)
    kd_methods = [m for m in methods if m != "none"]
    prepared = _prepare_all(bundle, student, teachers, [int(s) for s in seeds],
                            paired=any(get_method(m).paired for m in kd_methods),
                            epochs=epochs, device=device, dp=dp)
    preps = {s: p for s, p in prepared.items() if p.data is not None}
    settings = _settings(int(bundle.n_classes), epochs, dp)
    done: _Done = {}
    if tuned is None and tune and preps:
        tuned, done = _tune(preps, teachers, kd_methods, settings)
    tuned = tuned or _given(dp)
    done = _with_settings(preps, teachers, kd_methods, settings, tuned, done)
    return pd.DataFrame(_rows(prepared, teachers, kd_methods, done), columns=RUN_COLUMNS), tuned
