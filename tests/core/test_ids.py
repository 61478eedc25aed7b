"""Ids: the cuid2 shape, and unique across threads and forked worker processes."""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ThreadPoolExecutor

from crm_core.ids import ID_LENGTH, new_id

SHAPE = re.compile(r"[a-z][0-9a-z]{24}")


def _many(n: int) -> list[str]:
    return [new_id() for _ in range(n)]


def test_ids_have_the_cuid2_shape() -> None:
    for value in _many(1000):
        assert len(value) == ID_LENGTH
        assert SHAPE.fullmatch(value)


def test_ids_are_unique_across_threads_and_forked_processes() -> None:
    new_id()  # the parent has used the generator before forking, as Dramatiq's does
    with multiprocessing.get_context("fork").Pool(2) as pool:
        from_children = pool.map(_many, [20_000, 20_000])
    with ThreadPoolExecutor(4) as threads:
        from_threads = list(threads.map(_many, [10_000] * 4))
    everything = [i for chunk in [*from_children, *from_threads, _many(20_000)] for i in chunk]
    assert len(set(everything)) == len(everything)
