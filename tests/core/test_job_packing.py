"""One packing policy for every way into ingestion: jobs bounded by count and by raw
bytes, each thread's messages together in the order given, each mailbox on its own."""

from __future__ import annotations

from crm_core.inbox import LedgerRef
from worker.intake import JOB_BYTES, JOB_SIZE, pack_jobs

MAILBOX = "info@rendetalje.dk"


def ref(
    gmail_id: str, thread: str | None = None, size: int = 1, mailbox: str = MAILBOX
) -> LedgerRef:
    return LedgerRef(mailbox, gmail_id, size, thread)


def jobs(
    refs: list[LedgerRef], size: int = JOB_SIZE, max_bytes: int = JOB_BYTES
) -> list[list[str]]:
    return [job for _, job in pack_jobs(refs, size, max_bytes)]


def test_jobs_hold_at_most_the_job_size_in_order() -> None:
    ids = [f"m{n}" for n in range(2 * JOB_SIZE + 1)]
    packed = jobs([ref(i) for i in ids])
    assert [len(job) for job in packed] == [JOB_SIZE, JOB_SIZE, 1]
    assert [i for job in packed for i in job] == ids


def test_large_messages_make_smaller_jobs() -> None:
    mb = 1024 * 1024
    sizes = {"small1": 20_000, "photo1": 9 * mb, "photo2": 9 * mb, "huge": 40 * mb, "small2": 1}
    packed = jobs([ref(i, size=n) for i, n in sizes.items()])
    assert packed == [["small1", "photo1"], ["photo2"], ["huge"], ["small2"]]
    assert all(sum(sizes[i] for i in job) <= JOB_BYTES for job in packed if len(job) > 1)


def test_nothing_to_pack_makes_no_job() -> None:
    assert jobs([]) == []


def test_jobs_are_per_mailbox_in_the_order_given() -> None:
    staged = [ref("1", mailbox="a@x.dk"), ref("2", mailbox="b@x.dk"), ref("3", mailbox="a@x.dk")]
    assert list(pack_jobs([*staged, ref("4", mailbox="a@x.dk")])) == [
        ("a@x.dk", ["1", "3", "4"]),
        ("b@x.dk", ["2"]),
    ]
    photos = [ref(str(n), size=JOB_BYTES // 2, mailbox="a@x.dk") for n in range(3)]
    assert list(pack_jobs(photos)) == [("a@x.dk", ["0", "1"]), ("a@x.dk", ["2"])]


def test_each_thread_stays_together_in_the_order_given() -> None:
    messages = [
        ref("a1", "A"),
        ref("b1", "B"),
        ref("a2", "A"),
        ref("n1"),
        ref("c1", "C"),
        ref("b2", "B"),
        ref("a3", "A"),
    ]
    assert jobs(messages, 4) == [["a1", "a2", "a3"], ["b1", "b2", "n1", "c1"]]
    # A thread longer than a job is split, in order; no job is ever over the size.
    long = [ref(f"t{n}", "T") for n in range(7)]
    assert jobs(long, 3) == [["t0", "t1", "t2"], ["t3", "t4", "t5"], ["t6"]]
    # A message given twice goes into one job once.
    assert jobs([*messages[:2], messages[0]], 4) == [["a1", "b1"]]
    packed = jobs(messages + long, 3)
    assert all(len(job) <= 3 for job in packed)
    assert sorted(i for job in packed for i in job) == sorted(
        m.gmail_message_id for m in messages + long
    )


def test_jobs_stay_within_their_bytes_and_a_big_message_goes_alone() -> None:
    photos = [
        ref("a1", "A", 300),
        ref("a2", "A", 900),  # larger than a job may carry: alone
        ref("a3", "A", 300),
        ref("b1", "B", 200),
        ref("c1", "C", 600),
    ]
    packed = jobs(photos, 50, max_bytes=800)
    assert packed == [["a1"], ["a2"], ["a3", "b1"], ["c1"]]
    sizes = {m.gmail_message_id: m.size for m in photos}
    assert all(sum(sizes[i] for i in job) <= 800 for job in packed if len(job) > 1)
