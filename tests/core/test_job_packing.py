"""Ingest jobs are bounded by count and by raw bytes, and keep the order they are given."""

from __future__ import annotations

from worker.jobs.packing import JOB_BYTES, JOB_SIZE, job_chunks, jobs_by_mailbox


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


def test_jobs_are_per_mailbox_in_the_order_given() -> None:
    staged = [("a@x.dk", "1", 10), ("b@x.dk", "2", 10), ("a@x.dk", "3", 10), ("a@x.dk", "4", 10)]
    jobs = list(jobs_by_mailbox(staged))
    assert jobs == [("a@x.dk", ["1", "3", "4"]), ("b@x.dk", ["2"])]
    photos = [("a@x.dk", str(n), JOB_BYTES // 2) for n in range(3)]
    assert list(jobs_by_mailbox(photos)) == [("a@x.dk", ["0", "1"]), ("a@x.dk", ["2"])]
