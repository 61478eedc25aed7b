"""A webhook receiver in a process of its own, as another system would run one.

    python tests/webhooks/receiver.py PORT SECRETS_FILE LOG [--delay S] [--redirect URL]

Every request is verified with the standardwebhooks library (the receiver's side of
the signature) and written to LOG as a JSON line: once when it arrives, and once when
it is answered (200 when the signature holds, 401 when not). ``--delay`` holds each
answer (or the first ``--delay-first`` answers) that long: a slow receiver, to kill a
worker mid-delivery. ``--redirect``
answers every request 302 to that URL.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("secret_file", type=Path)
    parser.add_argument("log", type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--delay-first", type=int, default=None)
    parser.add_argument("--redirect", default=None)
    args = parser.parse_args()
    # One secret per line (one per endpoint it serves); a request must match one.
    verifiers = [Webhook(line.strip()) for line in args.secret_file.read_text().splitlines()]
    lock = threading.Lock()
    count = {"requests": 0}

    def record(entry: dict[str, Any]) -> None:
        with lock, args.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            entry: dict[str, Any] = {"id": headers.get("webhook-id"), "path": self.path}
            entry |= {"verified": False}
            for verifier in verifiers:
                try:
                    payload = verifier.verify(body, headers)
                except WebhookVerificationError as exc:
                    entry["why"] = str(exc)
                else:
                    entry |= {"verified": True, "type": payload["type"], "data": payload["data"]}
                    break
            record({"phase": "arrived", **entry})
            with lock:
                count["requests"] += 1
                slow = args.delay_first is None or count["requests"] <= args.delay_first
            if args.delay and slow:
                time.sleep(args.delay)
            if args.redirect:
                self.send_response(302)
                self.send_header("location", args.redirect)
                status = 302
            else:
                status = 200 if entry["verified"] else 401
                self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            record({"phase": "answered", "status": status, **entry})

        def log_message(self, format: str, *values: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
