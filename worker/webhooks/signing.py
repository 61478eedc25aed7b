"""The Standard Webhooks headers of one delivery (https://www.standardwebhooks.com).

``webhook-signature`` is ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under
the endpoint's ``whsec_`` secret, computed by the ``standardwebhooks`` library, the
same code a receiver uses to verify it.
"""

from __future__ import annotations

from datetime import datetime

from standardwebhooks import Webhook


def signed_headers(secret: str, webhook_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
        "user-agent": "rendetalje-crm-webhooks",
    }
