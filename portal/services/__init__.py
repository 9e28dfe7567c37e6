"""Domain rules. Services take the acting user explicitly, flush but never commit."""


class DomainError(Exception):
    """A rule was broken; ``field`` names the form field the message belongs to (or None)."""

    def __init__(self, field: str | None, message: str, *, status: int = 422):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


class Repeat(Exception):
    """The form's one-time key was used already; ``entry`` is what the first submission made."""

    def __init__(self, entry):
        super().__init__("repeated submission")
        self.entry = entry
