"""How many messages the next batch request asks for, so that its answer fits in memory.

Gmail gives no sizes before a message is fetched (messages.list and history.list
name ids only), and the client library holds a batch answer several times over
while it takes it apart: a sync whose batches grew to 29 mails with photos of 2 to
6 MB peaked at 1.4 GB, and at 0.3 GB with this sizer (bench/RESULTS.md). Fifty
photo-laden messages in one batch would take gigabytes.

So the batch size follows the sizes seen: a sync starts with one message, at most
doubles the count from one batch to the next, and keeps the typical message seen
lately times the count within ``budget_bytes``. The typical size is the mean of the
last batch, or half the previous typical size when that is larger: after large mail
the batches grow back over a few requests instead of at once. A message larger than
the budget still comes, alone. The quota cost is the same whatever the batch size;
smaller batches only cost round trips.
"""

from __future__ import annotations

from collections.abc import Sequence


class BatchSizer:
    def __init__(self, most: int, budget_bytes: int, first: int = 1) -> None:
        self.most = max(1, most)
        self.budget_bytes = budget_bytes
        self._allowed = max(1, first)  # the growth limit: twice the last batch
        self._typical: float | None = None

    def next_size(self) -> int:
        size = self._allowed
        if self._typical:
            size = min(size, int(self.budget_bytes // self._typical))
        return max(1, min(size, self.most))

    def observe(self, sizes: Sequence[int]) -> None:
        """The raw sizes of the messages one batch brought."""
        if not sizes:
            return
        mean = sum(sizes) / len(sizes)
        self._typical = mean if self._typical is None else max(mean, self._typical / 2)
        self._allowed = min(self.most, 2 * len(sizes))
