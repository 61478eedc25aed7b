"""In-memory Gmail mailboxes: messages, threads, labels, the history log and watches.

Every mailbox keeps its messages in a list sorted by ``(internalDate, seq, id)`` and its
history records in a list sorted by history id, so listing and history paging are a
bisect plus a scan of the page (no per-request sorting).
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from . import mime
from .outbox import Outbox
from .protocol import ApiError, JsonObj, b64url, b64url_decode

SYSTEM_LABELS: tuple[str, ...] = (
    "INBOX",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "SENT",
    "DRAFT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)

# history type (as in historyTypes=) -> field name in a history record
HISTORY_FIELDS: dict[str, str] = {
    "messageAdded": "messagesAdded",
    "messageDeleted": "messagesDeleted",
    "labelAdded": "labelsAdded",
    "labelRemoved": "labelsRemoved",
}

MESSAGE_FORMATS = ("minimal", "full", "raw", "metadata")
THREAD_FORMATS = ("minimal", "full", "metadata")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
WATCH_TTL_MS = 7 * 24 * 3600 * 1000
DEFAULT_INITIAL_HISTORY_ID = 100_000

_TOPIC_RE = re.compile(r"^projects/[^/]+/topics/[^/]+$")


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _encode_token(kind: str, *parts: int) -> str:
    text = ":".join([kind, *(str(p) for p in parts)])
    return b64url(text.encode("ascii")).rstrip("=")


def _decode_token(kind: str, token: str, arity: int) -> tuple[int, ...]:
    try:
        text = b64url_decode(token).decode("ascii")
        head, *rest = text.split(":")
        if head != kind or len(rest) != arity:
            raise ValueError(text)
        return tuple(int(p) for p in rest)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, "Invalid pageToken", location="pageToken", location_type="parameter"
        ) from exc


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_date: int
    seq: int
    history_id: int = 0
    rfc822_id: str | None = None
    _snippet: str | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.internal_date, self.seq, self.id)

    @property
    def size_estimate(self) -> int:
        return len(self.raw)

    def snippet(self) -> str:
        if self._snippet is None:
            self._snippet = mime.make_snippet(mime.parse_message(self.raw))
        return self._snippet

    def ref(self) -> JsonObj:
        return {"id": self.id, "threadId": self.thread_id}

    def labelled_ref(self) -> JsonObj:
        return {"id": self.id, "threadId": self.thread_id, "labelIds": list(self.labels)}

    def resource(self, fmt: str = "full", metadata_headers: Sequence[str] = ()) -> JsonObj:
        """The Gmail ``Message`` resource in the given format."""
        res: JsonObj = {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.labels),
            "snippet": self.snippet(),
            "sizeEstimate": self.size_estimate,
            "historyId": str(self.history_id),
            "internalDate": str(self.internal_date),
        }
        if fmt == "raw":
            res["raw"] = b64url(self.raw)
        elif fmt == "full":
            res["payload"] = mime.build_payload(mime.parse_message(self.raw))
        elif fmt == "metadata":
            res["payload"] = mime.metadata_payload(mime.parse_headers(self.raw), metadata_headers)
        return res


@dataclass(frozen=True)
class HistoryRecord:
    id: int
    kind: str  # a key of HISTORY_FIELDS
    message: JsonObj  # {"id", "threadId", "labelIds"} as of this change
    label_ids: tuple[str, ...] = ()

    def touches_label(self, label_id: str) -> bool:
        return label_id in self.message.get("labelIds", ()) or label_id in self.label_ids

    def to_json(self) -> JsonObj:
        entry: JsonObj = {"message": dict(self.message)}
        if self.kind in ("labelAdded", "labelRemoved"):
            entry["labelIds"] = list(self.label_ids)
        return {
            "id": str(self.id),
            "messages": [{"id": self.message["id"], "threadId": self.message["threadId"]}],
            HISTORY_FIELDS[self.kind]: [entry],
        }


@dataclass(frozen=True)
class WatchState:
    topic_name: str
    label_ids: tuple[str, ...]
    label_filter_behavior: str  # "include" or "exclude"
    expiration_ms: int
    history_id: int


class Mailbox:
    """One user's mailbox. All methods are thread-safe."""

    def __init__(
        self,
        email: str,
        *,
        new_id: Callable[[], str],
        initial_history_id: int = DEFAULT_INITIAL_HISTORY_ID,
        now_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self.email = email
        self._new_id = new_id
        self._now_ms = now_ms
        self._lock = threading.RLock()
        self._messages: dict[str, StoredMessage] = {}
        self._order: list[tuple[int, int, str]] = []  # ascending (internalDate, seq, id)
        self._threads: dict[str, list[str]] = {}
        self._by_rfc822_id: dict[str, str] = {}
        self._label_counts: Counter[str] = Counter()
        self._user_labels: dict[str, str] = {}  # id -> name
        self._history: list[HistoryRecord] = []
        self._history_ids: list[int] = []
        self._history_id = initial_history_id
        self._history_floor = initial_history_id
        self._seq = 0
        self._watch: WatchState | None = None
        self._notifications: list[JsonObj] = []
        self.outbox = Outbox(self)

    # ------------------------------------------------------------------ test API

    def deliver(
        self,
        raw: bytes,
        labels: Iterable[str] = ("INBOX", "UNREAD"),
        thread_id: str | None = None,
        *,
        internal_date: int | None = None,
    ) -> str:
        """Add a message; returns its Gmail id. Threads by thread_id, else In-Reply-To /
        References matching an earlier Message-ID, else a new thread."""
        if isinstance(labels, str):
            labels = (labels,)
        headers = mime.quick_headers(raw, ("message-id", "in-reply-to", "references", "date"))
        own_ids = mime.message_ids(headers.get("message-id"))
        rfc822_id = own_ids[0] if own_ids else None
        date = internal_date
        if date is None:
            date = mime.date_ms(headers.get("date"))
        with self._lock:
            msg_id = self._new_id()
            tid = thread_id or self._thread_from_references(headers) or msg_id
            self._seq += 1
            msg = StoredMessage(
                id=msg_id,
                thread_id=tid,
                raw=bytes(raw),
                labels=list(dict.fromkeys(labels)),
                internal_date=date if date is not None else self._now_ms(),
                seq=self._seq,
                rfc822_id=rfc822_id,
            )
            self._messages[msg_id] = msg
            bisect.insort(self._order, msg.key)
            self._threads.setdefault(tid, []).append(msg_id)
            if rfc822_id and rfc822_id not in self._by_rfc822_id:
                self._by_rfc822_id[rfc822_id] = msg_id
            self._label_counts.update(msg.labels)
            self._record("messageAdded", msg)
            return msg_id

    def delete(self, message_id: str) -> None:
        """Delete permanently (not trash); records a messagesDeleted history entry."""
        with self._lock:
            msg = self._require(message_id)
            del self._messages[message_id]
            index = bisect.bisect_left(self._order, msg.key)
            if index < len(self._order) and self._order[index] == msg.key:
                del self._order[index]
            members = self._threads.get(msg.thread_id, [])
            if message_id in members:
                members.remove(message_id)
            if not members:
                self._threads.pop(msg.thread_id, None)
            if msg.rfc822_id and self._by_rfc822_id.get(msg.rfc822_id) == message_id:
                del self._by_rfc822_id[msg.rfc822_id]
            self._label_counts.subtract(msg.labels)
            self._record("messageDeleted", msg)

    def modify_labels(
        self, message_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> list[str]:
        """Change labels; records labelsAdded / labelsRemoved for what actually changed."""
        with self._lock:
            msg = self._require(message_id)
            to_remove = [lbl for lbl in dict.fromkeys(remove) if lbl in msg.labels]
            to_add = [
                lbl for lbl in dict.fromkeys(add) if lbl not in msg.labels and lbl not in to_remove
            ]
            if to_add:
                msg.labels.extend(to_add)
                self._label_counts.update(to_add)
                self._record("labelAdded", msg, to_add)
            if to_remove:
                msg.labels = [lbl for lbl in msg.labels if lbl not in to_remove]
                self._label_counts.subtract(to_remove)
                self._record("labelRemoved", msg, to_remove)
            return list(msg.labels)

    def expire_history_before(self, history_id: int) -> None:
        """Forget history records older than history_id; smaller startHistoryId -> 404."""
        with self._lock:
            cut = bisect.bisect_left(self._history_ids, history_id)
            del self._history[:cut]
            del self._history_ids[:cut]
            self._history_floor = max(self._history_floor, history_id)

    def add_label(self, name: str) -> str:
        with self._lock:
            label_id = f"Label_{len(self._user_labels) + 1}"
            self._user_labels[label_id] = name
            return label_id

    @property
    def history_id(self) -> int:
        with self._lock:
            return self._history_id

    def message(self, message_id: str) -> StoredMessage:
        with self._lock:
            return self._require(message_id)

    def message_ids(self) -> list[str]:
        """All message ids, newest first (the order messages.list uses)."""
        with self._lock:
            return [key[2] for key in reversed(self._order)]

    def thread_ids(self) -> list[str]:
        with self._lock:
            return list(self._threads)

    def watch_state(self) -> WatchState | None:
        with self._lock:
            return self._watch

    def drain_notifications(self) -> list[JsonObj]:
        """Pub/Sub-style notifications ({"emailAddress", "historyId"}) since the last drain."""
        with self._lock:
            out, self._notifications = self._notifications, []
            return out

    # ------------------------------------------------------------------ API handlers

    def profile(self) -> JsonObj:
        with self._lock:
            return {
                "emailAddress": self.email,
                "messagesTotal": len(self._messages),
                "threadsTotal": len(self._threads),
                "historyId": str(self._history_id),
            }

    def list_messages(
        self,
        label_ids: Sequence[str] = (),
        *,
        include_spam_trash: bool = False,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> JsonObj:
        required = list(dict.fromkeys(label_ids))
        hide_spam_trash = not include_spam_trash and not {"SPAM", "TRASH"} & set(required)
        size = max(1, min(MAX_PAGE_SIZE, max_results))
        with self._lock:
            if page_token:
                date, seq = _decode_token("m", page_token, 2)
                index = bisect.bisect_left(self._order, (date, seq)) - 1
            else:
                index = len(self._order) - 1
            page: list[JsonObj] = []
            last: StoredMessage | None = None
            more = False
            while index >= 0:
                msg = self._messages[self._order[index][2]]
                index -= 1
                if not _matches(msg.labels, required, hide_spam_trash):
                    continue
                if len(page) == size:
                    more = True
                    break
                page.append(msg.ref())
                last = msg
            out: JsonObj = {}
            if page:
                out["messages"] = page
            if more and last is not None:
                out["nextPageToken"] = _encode_token("m", last.internal_date, last.seq)
                out["resultSizeEstimate"] = self._estimate(required, hide_spam_trash)
            elif page_token:
                out["resultSizeEstimate"] = self._estimate(required, hide_spam_trash)
            else:
                out["resultSizeEstimate"] = len(page)
            return out

    def search_rfc822_id(self, rfc822_id: str) -> JsonObj:
        """``q=rfc822msgid:ID``: the messages with this Message-ID (brackets optional)."""
        wanted = rfc822_id.strip().strip("<>")
        with self._lock:
            found = [m.ref() for m in self._messages.values() if m.rfc822_id == wanted]
        return (
            {"messages": found, "resultSizeEstimate": len(found)}
            if found
            else {"resultSizeEstimate": 0}
        )

    def get_message(
        self, message_id: str, fmt: str = "full", metadata_headers: Sequence[str] = ()
    ) -> JsonObj:
        with self._lock:  # rendered under the lock: labels and historyId stay consistent
            msg = self._messages.get(message_id)
            if msg is None:
                raise ApiError(404)
            return msg.resource(fmt, metadata_headers)

    def get_thread(
        self, thread_id: str, fmt: str = "full", metadata_headers: Sequence[str] = ()
    ) -> JsonObj:
        with self._lock:
            members = [self._messages[m] for m in self._threads.get(thread_id, ())]
            if not members:
                raise ApiError(404)
            members.sort(key=lambda m: m.key)
            return {
                "id": thread_id,
                "historyId": str(max(m.history_id for m in members)),
                "messages": [m.resource(fmt, metadata_headers) for m in members],
            }

    def get_attachment(self, message_id: str, attachment: str) -> JsonObj:
        with self._lock:
            msg = self._messages.get(message_id)
        if msg is None:
            raise ApiError(404)
        part = mime.part_for_attachment(mime.parse_message(msg.raw), attachment)
        if part is None:
            raise ApiError(400, "Invalid attachment token")
        raw = part.get_payload(decode=True)
        data = raw if isinstance(raw, bytes) else b""
        return {"attachmentId": attachment, "size": len(data), "data": b64url(data)}

    def list_history(
        self,
        start_history_id: int,
        *,
        history_types: Iterable[str] = (),
        label_id: str | None = None,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> JsonObj:
        kinds = set(history_types)
        unknown = kinds - set(HISTORY_FIELDS)
        if unknown:
            raise ApiError(
                400,
                f"Invalid value at 'history_types': {sorted(unknown)[0]}",
                location="historyTypes",
                location_type="parameter",
            )
        size = max(1, min(MAX_PAGE_SIZE, max_results))
        with self._lock:
            if start_history_id < self._history_floor:
                raise ApiError(404)
            after = start_history_id
            if page_token:
                (after,) = _decode_token("h", page_token, 1)
            index = bisect.bisect_right(self._history_ids, after)
            page: list[JsonObj] = []
            last_id = after
            more = False
            while index < len(self._history):
                rec = self._history[index]
                index += 1
                if kinds and rec.kind not in kinds:
                    continue
                if label_id and not rec.touches_label(label_id):
                    continue
                if len(page) == size:
                    more = True
                    break
                page.append(rec.to_json())
                last_id = rec.id
            out: JsonObj = {}
            if page:
                out["history"] = page
            if more:
                out["nextPageToken"] = _encode_token("h", last_id)
            out["historyId"] = str(self._history_id)
            return out

    def list_labels(self) -> JsonObj:
        with self._lock:
            user = dict(self._user_labels)
            for label_id, count in self._label_counts.items():
                if count > 0 and label_id not in SYSTEM_LABELS and label_id not in user:
                    user[label_id] = label_id
        labels: list[JsonObj] = [
            {"id": lbl, "name": lbl, "type": "system"} for lbl in SYSTEM_LABELS
        ]
        labels += [
            {
                "id": lid,
                "name": name,
                "type": "user",
                "messageListVisibility": "show",
                "labelListVisibility": "labelShow",
            }
            for lid, name in user.items()
        ]
        return {"labels": labels}

    def watch(self, body: JsonObj) -> JsonObj:
        topic = body.get("topicName")
        if not isinstance(topic, str) or not _TOPIC_RE.match(topic):
            raise ApiError(
                400, f"Invalid topicName does not match projects/SOME_PROJECT/topics/{topic!s}"
            )
        labels = body.get("labelIds") or []
        behavior = str(
            body.get("labelFilterBehavior") or body.get("labelFilterAction") or "include"
        ).lower()
        if behavior not in ("include", "exclude"):
            raise ApiError(400, f"Invalid labelFilterBehavior: {behavior}")
        with self._lock:
            self._watch = WatchState(
                topic_name=topic,
                label_ids=tuple(str(x) for x in labels),
                label_filter_behavior=behavior,
                expiration_ms=self._now_ms() + WATCH_TTL_MS,
                history_id=self._history_id,
            )
            return {
                "historyId": str(self._history_id),
                "expiration": str(self._watch.expiration_ms),
            }

    def stop(self) -> None:
        with self._lock:
            self._watch = None

    # ------------------------------------------------------------------ internals

    def _require(self, message_id: str) -> StoredMessage:
        msg = self._messages.get(message_id)
        if msg is None:
            raise KeyError(f"no message {message_id!r} in {self.email}")
        return msg

    def _thread_from_references(self, headers: dict[str, str]) -> str | None:
        refs = mime.message_ids(headers.get("in-reply-to"))
        refs += list(reversed(mime.message_ids(headers.get("references"))))
        for ref in refs:
            gmail_id = self._by_rfc822_id.get(ref)
            if gmail_id is not None and gmail_id in self._messages:
                return self._messages[gmail_id].thread_id
        return None

    def _estimate(self, required: list[str], hide_spam_trash: bool) -> int:
        if required:
            estimate = min(self._label_counts[lbl] for lbl in required)
        else:
            estimate = len(self._messages)
            if hide_spam_trash:
                estimate -= self._label_counts["SPAM"] + self._label_counts["TRASH"]
        return max(0, estimate)

    def _record(self, kind: str, msg: StoredMessage, label_ids: Sequence[str] = ()) -> None:
        self._history_id += 1
        if kind != "messageDeleted":
            msg.history_id = self._history_id
        rec = HistoryRecord(self._history_id, kind, msg.labelled_ref(), tuple(label_ids))
        self._history.append(rec)
        self._history_ids.append(rec.id)
        self._notify(msg.labels)

    def _notify(self, labels: Sequence[str]) -> None:
        watch = self._watch
        if watch is None or watch.expiration_ms < self._now_ms():
            return
        if watch.label_ids:
            hit = any(lbl in labels for lbl in watch.label_ids)
            if hit != (watch.label_filter_behavior == "include"):
                return
        self._notifications.append({"emailAddress": self.email, "historyId": str(self._history_id)})


def _matches(labels: list[str], required: list[str], hide_spam_trash: bool) -> bool:
    for lbl in required:
        if lbl not in labels:
            return False
    return not (hide_spam_trash and ("SPAM" in labels or "TRASH" in labels))


class MailStore:
    """All mailboxes of the fake, keyed by lower-cased email address."""

    def __init__(
        self,
        *,
        initial_history_id: int = DEFAULT_INITIAL_HISTORY_ID,
        now_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self._lock = threading.Lock()
        self._mailboxes: dict[str, Mailbox] = {}
        self._initial_history_id = initial_history_id
        self._now_ms = now_ms
        # Gmail ids are 16 hex digits derived from a millisecond clock; so are these.
        self._id_next = now_ms() << 20

    def _new_id(self) -> str:
        with self._lock:
            self._id_next += 1
            return format(self._id_next, "016x")

    def add(self, email: str) -> Mailbox:
        key = email.lower()
        with self._lock:
            box = self._mailboxes.get(key)
            if box is None:
                box = Mailbox(
                    email,
                    new_id=self._new_id,
                    initial_history_id=self._initial_history_id,
                    now_ms=self._now_ms,
                )
                self._mailboxes[key] = box
            return box

    def find(self, email: str) -> Mailbox | None:
        with self._lock:
            return self._mailboxes.get(email.lower())

    def get(self, email: str) -> Mailbox:
        box = self.find(email)
        if box is None:
            raise KeyError(f"no mailbox for {email!r}; call add_user() first")
        return box

    def emails(self) -> list[str]:
        with self._lock:
            return [box.email for box in self._mailboxes.values()]
