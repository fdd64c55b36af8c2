"""Where a parallel grid runs: joblib's local processes (loky), a Dask cluster, or Ray.

The grid's large inputs (the representations) are sent once: tasks go out in a few chunks per
worker, each chunk a single call that carries the inputs, and with Dask the inputs are
scattered to the workers beforehand. Results do not depend on the backend (every task is
seeded by its own key), so the output is byte-identical to the serial run.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .exceptions import InputError

__all__ = ["BACKENDS", "check_backend", "run_chunked"]

#: Backends :func:`run_chunked` accepts.
BACKENDS: tuple[str, ...] = ("loky", "dask", "ray")
_CHUNKS_PER_WORKER = 4


def check_backend(backend: str, scheduler: str | None) -> None:
    """Refuse an unknown backend, or a scheduler address without the Dask backend."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if scheduler is not None and backend != "dask":
        raise InputError("a scheduler address is for the Dask backend; add backend='dask' (--backend dask).")
    if scheduler is not None:
        check_scheduler_address(scheduler)


#: ``tcp://host:port`` or ``host:port`` (a name, IPv4, or [IPv6]); the port is required
_ADDRESS = re.compile(r"(?:tcp://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})")
#: how long to wait for a scheduler that does not answer
SCHEDULER_TIMEOUT_S = 5


def check_scheduler_address(scheduler: str) -> None:
    """Refuse a Dask scheduler address that cannot be one, before any connection is tried.

    Accepted: ``tcp://host:port`` or ``host:port``. ``tls://`` needs certificates, which cchkit
    does not pass: connect a ``distributed.Client`` yourself and use ``backend="dask"`` without
    an address (the running client is used).
    """
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InputError("the scheduler address is empty; give tcp://host:port.")
    if scheduler.startswith("tls://"):
        raise InputError(
            "a tls:// scheduler needs certificates, which cchkit does not pass; connect a distributed.Client "
            "with its security settings yourself, then run with --backend dask and no --scheduler."
        )
    m = _ADDRESS.fullmatch(scheduler.strip())
    if m is None or not 0 < int(m.group(1)) < 65536:
        raise InputError(f"{scheduler!r} is not a scheduler address; give tcp://host:port (e.g. tcp://127.0.0.1:8786).")


@contextlib.contextmanager
def _dask(scheduler: str | None, shared: Any) -> Iterator[dict[str, Any]]:
    try:
        import distributed
        from joblib import parallel_config
    except ImportError:
        raise InputError("the Dask backend needs dask.distributed: pip install 'dask[distributed]'.") from None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, ValueError, TypeError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}).") from None
        own = True
    else:
        try:
            client, own = distributed.get_client(), False
        except ValueError:
            raise InputError("no Dask client is running; start one (distributed.Client(...)) or give a scheduler address.") from None
    try:
        with parallel_config(backend="dask", scatter=[shared]):
            yield {"n_jobs": sum(client.nthreads().values()) or 1}
    finally:
        if own:
            client.close()


@contextlib.contextmanager
def _ray() -> Iterator[dict[str, Any]]:
    try:
        from joblib import parallel_config
        from ray.util.joblib import register_ray
    except ImportError:
        raise InputError("the Ray backend needs ray: pip install 'ray[default]'.") from None
    register_ray()
    with parallel_config(backend="ray"):
        yield {}


def run_chunked(fn: Callable[..., list], tasks: Sequence[Any], shared: Any, *, n_jobs: int, backend: str = "loky",
                scheduler: str | None = None, on_chunk: Callable[[int], None] | None = None) -> list:
    """``fn(chunk, shared)`` over chunks of ``tasks`` in parallel; the results in task order.

    ``fn`` takes a list of tasks and the shared inputs and returns one result per task;
    ``on_chunk(n)`` (a progress bar's update) is called as each chunk of ``n`` tasks comes back.
    """
    from joblib import Parallel, delayed

    check_backend(backend, scheduler)
    ctx = _dask(scheduler, shared) if backend == "dask" else _ray() if backend == "ray" else contextlib.nullcontext({})
    with ctx as info:
        workers = int(info.get("n_jobs", n_jobs))
        k = max(1, min(len(tasks), workers * _CHUNKS_PER_WORKER))
        chunks = [list(tasks[i::k]) for i in range(k)]
        out: list[Any] = [None] * len(tasks)
        for i, part in enumerate(Parallel(n_jobs=workers, return_as="generator")(delayed(fn)(c, shared) for c in chunks)):
            out[i::k] = part  # chunk i holds tasks i, i + k, i + 2k...
            if on_chunk is not None:
                on_chunk(len(part))
    return out
