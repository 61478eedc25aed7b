"""Reading a page of ``history.list`` records into what changed, per message.

Records come oldest first. For each message the label changes are kept in order, as
operations on its label set: a record that carries the message's labels sets them
(Gmail includes ``labelIds`` with each message), labelsAdded / labelsRemoved add and
remove. Folding them over the labels the ledger has gives the labels as of the page's
last record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Operation = tuple[Literal["set", "add", "remove"], tuple[str, ...]]


@dataclass
class MessageChange:
    added: bool = False  # a messagesAdded record names it
    deleted: bool = False
    operations: list[Operation] = field(default_factory=list)

    def labels_from(self, current: Sequence[str]) -> list[str]:
        labels = list(current)
        for kind, ids in self.operations:
            if kind == "set":
                labels = list(ids)
            elif kind == "add":
                labels += [label for label in ids if label not in labels]
            else:
                labels = [label for label in labels if label not in ids]
        return labels


@dataclass
class HistoryPage:
    changes: dict[str, MessageChange] = field(default_factory=dict)  # in first-seen order
    records: int = 0
    last_record_id: int | None = None

    def _change(self, message: dict[str, Any]) -> MessageChange:
        return self.changes.setdefault(str(message["id"]), MessageChange())

    @classmethod
    def read(cls, records: Iterable[dict[str, Any]]) -> HistoryPage:
        page = cls()
        for record in records:
            page.records += 1
            page.last_record_id = int(record["id"])
            for entry in record.get("messagesAdded") or ():
                change = page._change(entry["message"])
                change.added = True
                _snapshot(change, entry["message"])
            for entry in record.get("labelsAdded") or ():
                change = page._change(entry["message"])
                _snapshot(change, entry["message"])
                change.operations.append(("add", tuple(entry.get("labelIds") or ())))
            for entry in record.get("labelsRemoved") or ():
                change = page._change(entry["message"])
                _snapshot(change, entry["message"])
                change.operations.append(("remove", tuple(entry.get("labelIds") or ())))
            for entry in record.get("messagesDeleted") or ():
                page._change(entry["message"]).deleted = True
        return page


def _snapshot(change: MessageChange, message: dict[str, Any]) -> None:
    labels = message.get("labelIds")
    if labels is not None:
        change.operations.append(("set", tuple(labels)))
