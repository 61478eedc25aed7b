"""Typed errors raised by the services. Each carries a message fit for a user."""


class CrmError(Exception):
    """Base class of every error the domain raises on purpose."""


class ValidationError(CrmError, ValueError):
    """Input that the domain refuses: a malformed address, an unknown status, …"""


class InvalidEmailError(ValidationError):
    def __init__(self, email: str, reason: str) -> None:
        super().__init__(f"invalid email address {email!r}: {reason}")
        self.email = email


class InvalidStatusError(ValidationError):
    def __init__(self, field: str, value: object, allowed: list[str]) -> None:
        super().__init__(f"unknown {field} {value!r}; expected one of: {', '.join(allowed)}")
        self.field = field
        self.value = value


class NotFoundError(CrmError, LookupError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} not found: {key}")
        self.kind = kind
        self.key = key


class ConflictError(CrmError):
    """The operation contradicts the stored state (e.g. accepting a rejected quote)."""
