"""Domain errors raised by ``dossiers.services``. Pages show them as messages; the API maps
them to status codes (``InvalidInput`` 400/422, ``TransitionNotAllowed`` 409 with the allowed
actions, ``NotPermitted`` 403/404). A service that raises has written nothing."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request. ``code`` is stable, ``message`` is for people."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code

    def __str__(self):
        return self.message


class InvalidInput(DomainError):
    """Bad or missing input; ``fields`` maps a field name to its messages."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message, code=code)
        self.fields = {k: [str(m) for m in v] for k, v in (fields or {}).items()}


class TransitionNotAllowed(DomainError):
    """The action is not open from the dossier's current state; ``allowed`` lists those that
    are (for the caller's roles)."""

    code = "transition_not_allowed"

    def __init__(self, message: str, *, allowed: list[str] | None = None, code: str | None = None):
        super().__init__(message, code=code)
        self.allowed = list(allowed or [])


class NotPermitted(DomainError):
    """The actor has no right to do this here (another centre's dossier, wrong role)."""

    code = "not_permitted"
