"""Distillation methods, in one registry.

Each method is one module here, registered with :func:`register_method` (``paired=True`` for a
method that needs paired samples): a :class:`KDMethod` subclass whose :meth:`KDMethod.loss`
turns one student mini-batch (:class:`Step`) into its objective, with the formula and the paper
in its docstring. :func:`~cchkit.distill.distill`, ``validate`` and the CLI read the registry;
importing this package registers the built-ins.

>>> from cchkit.distill.methods import list_methods
>>> list_methods()
['class-align', 'ucmkd', 'align', 'none', 'logit-kd', 'feature-kd']
"""

from __future__ import annotations

from .base import KDMethod, Step, nan_terms
from .registry import get_method, list_methods, register_method, unregister_method

# the built-ins, registered in the order the documentation lists them (one block each, so that
# import sorting cannot reorder them)
# isort: split
from . import class_align  # noqa: F401,E402

# isort: split
from . import ucmkd  # noqa: F401,E402

# isort: split
from . import align  # noqa: F401,E402

# isort: split
from . import none  # noqa: F401,E402

# isort: split
from . import paired  # noqa: F401,E402

__all__ = ["KDMethod", "Step", "nan_terms", "get_method", "list_methods", "register_method", "unregister_method"]
