"""Bundles: named modalities with labels and sample ids, in memory (:mod:`.model`) and on disk
(:mod:`.format`); :mod:`.sources` reads AnnData / MuData; :mod:`.readers` is the registry of
the input formats ``load_bundle`` reads (one function and a registration each). Named datasets and
:func:`~cchkit.datasets.load_bundle` live in :mod:`cchkit.datasets`."""

from .format import FORMAT_VERSION, BundleParts, read_bundle_parts, write_bundle_files
from .model import MIN_SAMPLES, Modality, ModalityBundle, PairedView
from .readers import list_readers, register_reader, unregister_reader

__all__ = [
    "Modality",
    "ModalityBundle",
    "PairedView",
    "BundleParts",
    "FORMAT_VERSION",
    "MIN_SAMPLES",
    "read_bundle_parts",
    "write_bundle_files",
    "register_reader",
    "unregister_reader",
    "list_readers",
]
