"""Logging that never writes a whole citizen ID (CCCD).

``CitizenIdMaskFilter`` sits on every handler configured in ``settings.LOGGING``: it renders
the record's message (and its traceback, where database errors quote key values such as
``Key (citizen_id)=(042095012345)``) and replaces every run of exactly 12 digits by the masked
form used on pages (last four digits kept). Masking at the handler catches what callers forget.
"""

from __future__ import annotations

import logging
import re

# Logging is configured before the app registry is ready, so this module cannot import
# ``portal.models``; ``tests/reliability/test_security.py`` checks both masks agree.
MASK = "\u2022" * 8

# Exactly twelve digits, not part of a longer number (timestamps, amounts, references).
CITIZEN_ID_PATTERN = re.compile(r"(?<!\d)\d{12}(?!\d)")


def mask_citizen_ids(text: str) -> str:
    """``text`` with every 12-digit run masked like ``portal.models.mask_citizen_id``."""
    return CITIZEN_ID_PATTERN.sub(lambda m: MASK + m.group(0)[-4:], text)


class CitizenIdMaskFilter(logging.Filter):
    """Rewrite the record in place: message, arguments and traceback text are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: mask what there is
            message = str(record.msg)
        record.msg = mask_citizen_ids(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_citizen_ids(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_citizen_ids(record.stack_info)
        return True
