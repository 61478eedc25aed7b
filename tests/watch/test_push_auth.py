"""PushAuthenticator and CertificateCache on their own (no push server)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from worker.config import PushSettings
from worker.watch.push_auth import (
    CertificateCache,
    CertificatesUnavailableError,
    MissingCredentialsError,
    PushAuthenticator,
    PushAuthError,
)

from .keys import (
    AUDIENCE,
    OMIT,
    SERVICE_ACCOUNT,
    SHARED_TOKEN,
    CertsServer,
    FakeClock,
    attacker_key,
    bearer,
    claims,
    google_key,
    rotated_key,
    unsigned_token,
)


def oidc_settings(certs: CertsServer, **overrides: Any) -> PushSettings:
    values: dict[str, Any] = {
        "audience": AUDIENCE,
        "service_account_email": SERVICE_ACCOUNT,
        "certs_url": certs.url,
    }
    values.update(overrides)
    return PushSettings(**values)


@pytest.fixture
def authenticator(certs: CertsServer, clock: FakeClock) -> PushAuthenticator:
    settings = oidc_settings(certs)
    return PushAuthenticator(settings, certificates=CertificateCache(certs.url, clock=clock))


def test_genuine_token_is_accepted(authenticator: PushAuthenticator) -> None:
    authenticator.authenticate(bearer(google_key().sign(claims())), {})


def test_header_names_and_scheme_in_any_case(authenticator: PushAuthenticator) -> None:
    authenticator.authenticate({"AUTHORIZATION": "bearer " + google_key().sign(claims())}, {})


def test_service_account_compared_ignoring_case(authenticator: PushAuthenticator) -> None:
    authenticator.authenticate(bearer(google_key().sign(claims(email=SERVICE_ACCOUNT.upper()))), {})


def test_short_form_issuer_is_accepted(authenticator: PushAuthenticator) -> None:
    authenticator.authenticate(bearer(google_key().sign(claims(iss="accounts.google.com"))), {})


def test_small_clock_skew_is_tolerated(authenticator: PushAuthenticator) -> None:
    import time

    now = int(time.time())
    token = google_key().sign(claims(iat=now + 10, exp=now - 10))
    authenticator.authenticate(bearer(token), {})


FORGED: list[tuple[str, dict[str, str], str]] = [
    ("wrong audience", bearer(google_key().sign(claims(aud="https://evil.test/"))), "audience"),
    ("list audience", bearer(google_key().sign(claims(aud=[AUDIENCE, "x"]))), "audience"),
    ("wrong issuer", bearer(google_key().sign(claims(iss="https://evil.test"))), "issuer"),
    ("expired", bearer(google_key().sign(claims(iat=1_600_000_000, exp=1_600_003_600))), "expired"),
    ("issued in the future", bearer(google_key().sign(claims(iat=4_000_000_000))), "not valid yet"),
    ("no exp", bearer(google_key().sign(claims(exp=OMIT))), "iat or exp"),
    ("other key, same kid", bearer(attacker_key().sign(claims(), kid="google-key-1")), "signature"),
    ("other key, unknown kid", bearer(attacker_key().sign(claims())), "unknown key"),
    ("wrong service account", bearer(google_key().sign(claims(email="x@evil.test"))), "account"),
    ("no email", bearer(google_key().sign(claims(email=OMIT))), "service account"),
    ("email_verified false", bearer(google_key().sign(claims(email_verified=False))), "verified"),
    ("email_verified string", bearer(google_key().sign(claims(email_verified="true"))), "verified"),
    ("email_verified missing", bearer(google_key().sign(claims(email_verified=OMIT))), "verified"),
    ("malformed JWT", bearer("not.a-jwt"), "malformed"),
    ("garbage segments", bearer("e30.!!!.abc"), "malformed"),
    ("two segments", bearer("eyJhbGciOiJSUzI1NiJ9.e30"), "malformed"),
    (
        "alg none",
        bearer(unsigned_token(claims(), {"alg": "none", "kid": "google-key-1", "typ": "JWT"})),
        "algorithm",
    ),
    (
        "alg HS256",
        bearer(unsigned_token(claims(), {"alg": "HS256", "kid": "google-key-1"})),
        "algorithm",
    ),
    ("no kid", bearer(unsigned_token(claims(), {"alg": "RS256"})), "no signing key"),
    (
        "signature stripped",
        bearer(google_key().sign(claims()).rsplit(".", 1)[0] + "."),
        "signature",
    ),
    ("basic auth", {"Authorization": "Basic dXNlcjpwYXNz"}, "not a bearer"),
    ("empty bearer", {"Authorization": "Bearer "}, "not a bearer"),
]


@pytest.mark.parametrize(
    ("headers", "reason"), [case[1:] for case in FORGED], ids=[case[0] for case in FORGED]
)
def test_forged_tokens_are_rejected_for_the_right_reason(
    authenticator: PushAuthenticator, headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(PushAuthError) as raised:
        authenticator.authenticate(headers, {})
    assert not isinstance(raised.value, MissingCredentialsError)
    assert reason in raised.value.reason
    # Reasons get logged: they must never carry the token.
    token = headers["Authorization"].partition(" ")[2]
    if token:
        assert token not in str(raised.value)
        assert token.split(".")[0] not in str(raised.value)


def test_no_credentials_is_missing_credentials(authenticator: PushAuthenticator) -> None:
    with pytest.raises(MissingCredentialsError):
        authenticator.authenticate({}, {})


def test_without_configured_service_account_any_verified_email_passes(
    certs: CertsServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = oidc_settings(certs, service_account_email=None)
    authenticator = PushAuthenticator(
        settings, certificates=CertificateCache(certs.url, clock=clock)
    )
    assert "service_account_email" in caplog.text
    authenticator.authenticate(bearer(google_key().sign(claims(email="x@y.test"))), {})
    with pytest.raises(PushAuthError, match="verified"):
        authenticator.authenticate(bearer(google_key().sign(claims(email_verified=False))), {})


# ---------------------------------------------------------------- certificates cache


def test_certificates_are_fetched_once_for_many_tokens(
    authenticator: PushAuthenticator, certs: CertsServer
) -> None:
    for _ in range(25):
        authenticator.authenticate(bearer(google_key().sign(claims())), {})
    assert certs.hits == 1


def test_unknown_kid_triggers_one_refetch_and_no_more_for_a_while(
    authenticator: PushAuthenticator, certs: CertsServer, clock: FakeClock
) -> None:
    authenticator.authenticate(bearer(google_key().sign(claims())), {})
    assert certs.hits == 1
    clock.advance(60)
    for _ in range(5):
        with pytest.raises(PushAuthError, match="unknown key"):
            authenticator.authenticate(bearer(attacker_key().sign(claims())), {})
    assert certs.hits == 2
    # Known keys keep working from the cache meanwhile.
    authenticator.authenticate(bearer(google_key().sign(claims())), {})
    assert certs.hits == 2


def test_key_rotation_is_picked_up_by_the_refetch(
    authenticator: PushAuthenticator, certs: CertsServer, clock: FakeClock
) -> None:
    authenticator.authenticate(bearer(google_key().sign(claims())), {})
    certs.publish(google_key(), rotated_key())
    clock.advance(60)
    authenticator.authenticate(bearer(rotated_key().sign(claims())), {})
    assert certs.hits == 2


def test_cache_control_max_age_is_respected(certs: CertsServer, clock: FakeClock) -> None:
    certs.max_age = 600
    cache = CertificateCache(certs.url, clock=clock)
    assert cache.certificate("google-key-1") is not None
    clock.advance(599)
    assert cache.certificate("google-key-1") is not None
    assert certs.hits == 1
    clock.advance(2)
    assert cache.certificate("google-key-1") is not None
    assert certs.hits == 2


def test_without_max_age_the_default_ttl_applies(certs: CertsServer, clock: FakeClock) -> None:
    certs.max_age = None
    cache = CertificateCache(certs.url, clock=clock, default_ttl=100)
    cache.certificate("google-key-1")
    clock.advance(99)
    cache.certificate("google-key-1")
    assert certs.hits == 1
    clock.advance(2)
    cache.certificate("google-key-1")
    assert certs.hits == 2


def test_tiny_max_age_does_not_mean_a_fetch_per_request(
    certs: CertsServer, clock: FakeClock
) -> None:
    certs.max_age = 0
    cache = CertificateCache(certs.url, clock=clock, min_refetch_interval=30)
    for _ in range(10):
        cache.certificate("google-key-1")
        clock.advance(1)
    assert certs.hits == 1


def test_failed_refresh_keeps_the_cached_certificates(certs: CertsServer, clock: FakeClock) -> None:
    cache = CertificateCache(certs.url, clock=clock, default_ttl=100)
    assert cache.certificate("google-key-1") is not None
    certs.fail = True
    clock.advance(3600)
    assert cache.certificate("google-key-1") is not None
    assert certs.hits == 2


def test_unreachable_certificates_are_unavailable_not_forged(
    certs: CertsServer, clock: FakeClock
) -> None:
    certs.fail = True
    authenticator = PushAuthenticator(
        oidc_settings(certs), certificates=CertificateCache(certs.url, clock=clock)
    )
    with pytest.raises(CertificatesUnavailableError):
        authenticator.authenticate(bearer(google_key().sign(claims())), {})
    # Retried at most once per min_refetch_interval, not on every request.
    with pytest.raises(CertificatesUnavailableError):
        authenticator.authenticate(bearer(google_key().sign(claims())), {})
    assert certs.hits == 1
    certs.fail = False
    clock.advance(31)
    authenticator.authenticate(bearer(google_key().sign(claims())), {})


def test_certificate_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        CertificateCache("file:///etc/passwd")


# ---------------------------------------------------------------- shared token


@pytest.fixture
def shared() -> PushAuthenticator:
    return PushAuthenticator(PushSettings(shared_token=SecretStr(SHARED_TOKEN)))


def test_shared_token_in_query_or_header(shared: PushAuthenticator) -> None:
    shared.authenticate({}, {"token": SHARED_TOKEN})
    shared.authenticate({"X-Push-Token": SHARED_TOKEN}, {})


@pytest.mark.parametrize(
    ("headers", "query", "missing"),
    [
        ({}, {"token": SHARED_TOKEN[:-1]}, False),
        ({}, {"token": SHARED_TOKEN + "x"}, False),
        ({}, {"token": "æøå"}, False),
        ({"X-Push-Token": "wrong"}, {}, False),
        ({}, {"token": ""}, True),
        ({}, {"Token": SHARED_TOKEN}, True),
        ({}, {"shared_token": SHARED_TOKEN}, True),
        ({"Authorization": f"Bearer {SHARED_TOKEN}"}, {}, True),
        ({"X-Token": SHARED_TOKEN}, {}, True),
    ],
    ids=[
        "truncated",
        "extended",
        "non-ascii",
        "wrong header",
        "empty",
        "query name case",
        "other query name",
        "as bearer",
        "other header",
    ],
)
def test_bad_or_misplaced_shared_token_is_rejected(
    shared: PushAuthenticator, headers: dict[str, str], query: dict[str, str], missing: bool
) -> None:
    with pytest.raises(PushAuthError) as raised:
        shared.authenticate(headers, query)
    assert isinstance(raised.value, MissingCredentialsError) is missing
    assert SHARED_TOKEN not in str(raised.value)


def test_either_method_suffices_when_both_are_configured(
    certs: CertsServer, clock: FakeClock
) -> None:
    both = PushAuthenticator(
        oidc_settings(certs, shared_token=SecretStr(SHARED_TOKEN)),
        certificates=CertificateCache(certs.url, clock=clock),
    )
    both.authenticate(bearer(google_key().sign(claims())), {})
    both.authenticate({}, {"token": SHARED_TOKEN})
    both.authenticate(bearer("garbage"), {"token": SHARED_TOKEN})
    with pytest.raises(PushAuthError, match="malformed token; wrong shared token"):
        both.authenticate(bearer("garbage"), {"token": "nope"})


# ---------------------------------------------------------------- nothing configured


@pytest.mark.parametrize(
    "settings",
    [PushSettings(), PushSettings(audience="", shared_token=SecretStr(""))],
    ids=["defaults", "empty values"],
)
def test_nothing_configured_rejects_everything(settings: PushSettings) -> None:
    authenticator = PushAuthenticator(settings)
    assert not authenticator.configured
    for headers, query in [
        ({}, {}),
        ({}, {"token": ""}),
        (bearer(google_key().sign(claims())), {}),
    ]:
        with pytest.raises(PushAuthError, match="not configured"):
            authenticator.authenticate(headers, query)
