"""Ingest jobs are bounded by count and by raw bytes, and keep the order they are given."""

from __future__ import annotations

from worker.jobs.packing import JOB_BYTES, JOB_SIZE, job_chunks


def test_jobs_hold_at_most_the_job_size_in_order() -> None:
    ids = [f"m{n}" for n in range(2 * JOB_SIZE + 1)]
    jobs = list(job_chunks(ids))
    assert [len(job) for job in jobs] == [JOB_SIZE, JOB_SIZE, 1]
    assert [i for job in jobs for i in job] == ids


def test_large_messages_make_smaller_jobs() -> None:
    mb = 1024 * 1024
    sizes = {"small1": 20_000, "photo1": 9 * mb, "photo2": 9 * mb, "huge": 40 * mb, "small2": 1}
    jobs = list(job_chunks(sizes, sizes))
    assert jobs == [["small1", "photo1"], ["photo2"], ["huge"], ["small2"]]
    assert all(sum(sizes[i] for i in job) <= JOB_BYTES for job in jobs if len(job) > 1)


def test_without_sizes_only_the_count_bounds_a_job() -> None:
    assert list(job_chunks(["a", "b", "c"], None, size=2)) == [["a", "b"], ["c"]]
    assert list(job_chunks([])) == []
