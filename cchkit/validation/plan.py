"""What a validation will run, checked before any training: the candidate teachers, the methods
(the registry's defaults when none are named) and the settings passed through to the distiller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._params import check_params
from .._validation import comma_names
from ..distill import DistillConfig, distill, get_method, list_methods
from ..exceptions import InputError

__all__ = ["checked_candidates", "checked_plan", "default_methods", "RUN_OPTIONS"]

#: Options of a run that are not distiller settings.
RUN_OPTIONS = ("n_threads", "keep_models")


def checked_candidates(bundle: Any, student: str, candidates: Sequence[str] | str) -> list[str]:
    """The candidate teachers (a list or a comma-separated string), once each, all modalities of
    ``bundle`` and none the student."""
    bundle.modality(student)
    if isinstance(candidates, str):
        candidates = comma_names(candidates, "candidates")
    out = list(dict.fromkeys(candidates))
    if not out:
        raise InputError("no candidate teachers were given.")
    for c in out:
        bundle.modality(c)
    if student in out:
        raise InputError(f"the student {student!r} is among the candidate teachers; remove it.")
    return out


def checked_plan(bundle: Any, student: str, candidates: Sequence[str] | str, methods: Sequence[str] | None,
                  distill_params: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The candidate teachers and the methods (``none`` last), checked."""
    candidates = checked_candidates(bundle, student, candidates)
    methods = default_methods(bundle, student, candidates) if methods is None else list(dict.fromkeys(methods))
    known = list_methods()
    bad = [m for m in methods if m not in known]
    if bad:
        raise InputError(f"unknown method(s) {bad}; use some of {', '.join(known)}.")
    if "none" not in methods:
        methods.append("none")
    if not [m for m in methods if m != "none"]:
        raise InputError("methods has only 'none'; give at least one KD method (e.g. 'ucmkd').")
    for key in ("method", "seed", "random_state", "student", "teacher", "bundle"):
        if key in distill_params:
            raise InputError(f"{key!r} cannot be passed through validate(); it is set per run.")
    settings = {k: v for k, v in distill_params.items() if k not in RUN_OPTIONS}
    DistillConfig.build(**settings)  # an unknown setting or a bad value is refused before any training
    _refuse_unread_settings(settings, methods)
    check_params("distill", distill_params, distill.__cchkit_constraints__)
    return candidates, methods


def _refuse_unread_settings(settings: Mapping[str, Any], methods: Sequence[str]) -> None:
    """A method-specific setting that no method of this validation reads is refused by name
    (it would otherwise change nothing, or, worse, how the others train)."""
    for key in settings:
        readers = [m for m in list_methods() if key in get_method(m).own_settings]
        if readers and not set(readers) & set(methods):
            raise InputError(f"{key!r} is a setting of {', '.join(readers)}, which this validation does not run "
                             f"(methods: {', '.join(methods)}); leave it out or add one of those methods.")


def default_methods(bundle: Any, student: str, candidates: Sequence[str]) -> list[str]:
    from ..distill.splits import MIN_TRAIN_PAIRS

    paired = all(bundle.n_paired(student, c) >= MIN_TRAIN_PAIRS for c in candidates)
    return [n for n in list_methods() if get_method(n).by_default and (paired or not get_method(n).paired)]
