"""Dask distributed cluster setup: the one place neurosim starts or joins a cluster.

Work that outgrows one process (sharded simulation, parameter sweeps) runs on a
``dask.distributed`` cluster: a :class:`~dask.distributed.LocalCluster` on this machine by
default (one single-threaded worker process per core), or an existing cluster given by its
scheduler address (``tcp://host:8786``). The dashboard address is printed on stderr so a user
can watch the tasks.

Example
-------
>>> from neurosim.cluster import cluster
>>> with cluster(workers=2) as client:               # doctest: +SKIP
...     futures = client.map(pow, [1, 2, 3], [2, 2, 2])
...     client.gather(futures)
[1, 4, 9]
"""
from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

from neurosim.errors import BackendUnavailableError, ValidationError

#: seconds to wait for an existing scheduler before giving up
CONNECT_TIMEOUT_S = 10.0


def default_workers() -> int:
    """Worker processes of a local cluster: one per core."""
    return os.cpu_count() or 1


@contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None, threads_per_worker: int = 1, *,
            memory_limit: str | float | None = "auto", announce: TextIO | None = sys.stderr) -> Iterator:
    """A :class:`dask.distributed.Client` on a new local cluster or an existing one.

    Parameters
    ----------
    workers : int, optional
        Worker processes of a new :class:`~dask.distributed.LocalCluster` (default: one per
        core). Ignored when ``scheduler`` is given.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``): use that cluster instead.
    threads_per_worker : int
        Threads of each local worker (1: the simulation engines use the cores themselves).
    memory_limit : str or float, optional
        Per-worker memory limit of a local cluster (dask's syntax, e.g. ``'2GB'``).
    announce : file, optional
        Where the dashboard address is printed (None: nowhere).

    Yields
    ------
    dask.distributed.Client
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BackendUnavailableError("sharding needs dask distributed: pip install 'dask[distributed]'") from None
    if scheduler is not None:
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise ValidationError(f"scheduler must be an address such as tcp://host:8786, got {scheduler!r}")
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ValidationError(f"scheduler {scheduler}: cannot connect ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else 'timed out'})") from None
        try:
            _announce(client, announce)
            yield client
        finally:
            client.close()
        return
    n = default_workers() if workers is None else int(workers)
    if n <= 0:
        raise ValidationError(f"workers must be a positive number of processes, got {workers}")
    if int(threads_per_worker) <= 0:
        raise ValidationError(f"threads_per_worker must be positive, got {threads_per_worker}")
    local = LocalCluster(n_workers=n, threads_per_worker=int(threads_per_worker), processes=True,
                         memory_limit=memory_limit, dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        with Client(local) as client:
            _announce(client, announce)
            yield client
    finally:
        local.close()


def _announce(client, stream: TextIO | None) -> None:
    if stream is None:
        return
    workers = len(client.scheduler_info().get("workers", {}))
    print(f"dask cluster: {workers} workers, scheduler {client.scheduler.address}, "
          f"dashboard {client.dashboard_link}", file=stream)
