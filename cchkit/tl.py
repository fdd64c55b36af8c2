"""scverse-style tools: run cchkit on an AnnData or a MuData and store the result in it.

Following scanpy's conventions (``sc.tl.*`` computes and writes into the object, ``sc.pl.*``
plots from it), :func:`rank_teachers`, :func:`validate` and :func:`advise` store their table and
settings under ``data.uns["cchkit"]`` (``"ranking"`` / ``"validation"`` / ``"advice"``): the table
as a DataFrame, the settings or summary as JSON text (so the object still writes to ``.h5ad`` /
``.h5mu``). ``modalities=`` chooses the modalities (AnnData: name -> ``"X"``,
``"layers:<key>"`` or ``"obsm:<key>"``; MuData: ``mod`` names).
:mod:`cchkit.pl` plots them.

>>> import cchkit
>>> cchkit.tl.rank_teachers(mdata, student="rna", label_key="cell_type")   # doctest: +SKIP
>>> mdata.uns["cchkit"]["ranking"]["table"]                                # doctest: +SKIP
>>> cchkit.pl.ranking(mdata)                                               # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .bundle import ModalityBundle
from .datasets import in_memory_kind, load_bundle
from .exceptions import InputError

__all__ = ["rank_teachers", "validate", "advise", "bundle_of", "stored"]


def bundle_of(data: Any, label_key: str, modalities: Any = None) -> ModalityBundle:
    """The bundle of an AnnData (modalities ``X`` and every ``obsm`` key, or ``modalities``) or a
    MuData (one per ``mod``, or the ``modalities`` named), labels from the ``obs`` column
    ``label_key``."""
    if in_memory_kind(data) in ("mudata", "anndata"):
        return load_bundle(data, label=label_key, modalities=modalities)
    raise InputError(f"cchkit.tl works on an AnnData or a MuData, got a {type(data).__name__}; for other data use "
                     "cchkit.rank_teachers / cchkit.validate.")


def _writable(table: Any) -> Any:
    """The table with text columns as strings (missing: "") and nullable integers as integers
    (floats where one is missing), the types ``.h5ad`` / ``.h5mu`` store."""
    import pandas as pd

    out = table.reset_index(drop=True).copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in out[col]]
        elif isinstance(out[col].dtype, pd.Int64Dtype):  # h5ad stores no nullable integers
            out[col] = out[col].astype("int64" if out[col].notna().all() else "float64")
    return out


def _store(data: Any, key_added: str, what: str, table: Any, meta: dict[str, Any], copy: bool) -> Any:
    held = data.uns.get(key_added, {})
    if not isinstance(held, Mapping):  # someone else's entry: refused, never overwritten
        raise InputError(f".uns[{key_added!r}] holds a {type(held).__name__}, not cchkit's results; pass "
                         "key_added='...' to store them under another key.")
    target = data.copy() if copy else data
    slot = dict(target.uns.get(key_added, {}))
    slot[what] = {"table": _writable(table), "json": json.dumps(meta, default=str, allow_nan=True)}
    target.uns[key_added] = slot
    return target if copy else None


def rank_teachers(data: Any, student: str, *, label_key: str = "label", candidates: Sequence[str] | str | None = None,
                  modalities: Any = None, key_added: str = "cchkit", copy: bool = False, **kwargs: Any) -> Any:
    """:func:`cchkit.rank_teachers` on ``data``; stores ``data.uns[key_added]["ranking"]`` with
    ``table`` (the ranking's rows) and ``json`` (its settings). Returns the copy when ``copy``,
    else None (scanpy's convention)."""
    from .ranking import rank_teachers as rank

    ranking = rank(bundle_of(data, label_key, modalities), student, candidates, **kwargs)
    return _store(data, key_added, "ranking", ranking.table, ranking.settings, copy)


def validate(data: Any, student: str, *, label_key: str = "label", candidates: Sequence[str] | str | None = None,
             modalities: Any = None, key_added: str = "cchkit", copy: bool = False, **kwargs: Any) -> Any:
    """:func:`cchkit.validate` on ``data`` (candidates default to every other modality); stores
    ``data.uns[key_added]["validation"]`` with ``table`` and ``json`` (its summary, the verdict
    first)."""
    from .validation import validate as run

    bundle = bundle_of(data, label_key, modalities)
    if candidates is None:
        candidates = [m for m in bundle.names if m != student]
    report = run(bundle, student, candidates, **kwargs)
    summary = {"verdict": report.summary.get("verdict"), **_summary(report)}
    return _store(data, key_added, "validation", report.table, summary, copy)


def _summary(report: Any) -> dict[str, Any]:
    """A validation's summary as stored; a teacher-free one also carries its teacher-free
    students (``baseline_students``), which its plot draws."""
    out = {k: v for k, v in report.summary.items() if k != "verdict"}
    if hasattr(report, "baselines"):
        out["baseline_students"] = report.baselines.to_dict(orient="records")
    return out


def advise(data: Any, student: str, *, label_key: str = "label", candidates: Sequence[str] | str | None = None,
           modalities: Any = None, key_added: str = "cchkit", copy: bool = False, **kwargs: Any) -> Any:
    """:func:`cchkit.advise` on ``data``; stores ``data.uns[key_added]["advice"]`` with ``table``
    (the measurement behind the answer) and ``json`` (``teacher`` and ``text`` first, then the
    validation's summary), and the ranking and validation beside it as :func:`rank_teachers` and
    :func:`validate` would (few labels: no ranking)."""
    from .advice import advise as run

    advice = run(bundle_of(data, label_key, modalities), student, candidates, **kwargs)
    report = advice.validation
    meta = {"teacher": advice.teacher, "text": advice.text, "verdict": report.summary.get("verdict"),
            **_summary(report)}
    target = _store(data, key_added, "advice", report.table, meta, copy)
    held = data if target is None else target
    _store(held, key_added, "validation", report.table, {"verdict": report.summary.get("verdict"), **_summary(report)},
           False)
    if advice.ranking is not None:
        _store(held, key_added, "ranking", advice.ranking.table, advice.ranking.settings, False)
    return target


def stored(data: Any, what: str, key: str = "cchkit") -> tuple[Any, dict[str, Any]]:
    """The (table, settings or summary) that :func:`rank_teachers` / :func:`validate` stored."""
    try:
        slot = data.uns[key][what]
        if not ("table" in slot and "json" in slot):
            raise KeyError(what)
    except (KeyError, AttributeError, TypeError):
        tool = {"ranking": "rank_teachers", "advice": "advise"}.get(what, "validate")
        raise InputError(f"no cchkit {what} in .uns[{key!r}]; run cchkit.tl.{tool}(...) first.") from None
    return slot["table"], json.loads(slot["json"])

