"""Gmail push: the Cloud Pub/Sub push endpoint and who may call it.

``PushServer`` receives Gmail's change notifications from a Pub/Sub push subscription,
checks them with ``PushAuthenticator`` and hands each mailbox address to a callback that
enqueues its sync.
"""

from worker.http import Readiness, check_readiness
from worker.watch.push_auth import (
    CertificateCache,
    CertificatesUnavailableError,
    MissingCredentialsError,
    PushAuthenticator,
    PushAuthError,
)
from worker.watch.push_server import (
    EnqueueSync,
    MalformedEnvelopeError,
    PushServer,
    mailbox_from_envelope,
)

__all__ = [
    "CertificateCache",
    "CertificatesUnavailableError",
    "EnqueueSync",
    "MalformedEnvelopeError",
    "MissingCredentialsError",
    "PushAuthError",
    "PushAuthenticator",
    "PushServer",
    "Readiness",
    "check_readiness",
    "mailbox_from_envelope",
]
