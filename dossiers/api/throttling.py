"""Throttles. Tracking a dossier without login is scoped separately and keyed by address, so
guessing codes and digits is slow for everybody, logged in or not."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class TrackingThrottle(SimpleRateThrottle):
    scope = "tracking"

    def get_rate(self):
        # Read at request time (not import time) so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def tracking_allowed(request) -> bool:
    """For the HTML tracking page: the same budget as the API endpoint."""
    return TrackingThrottle().allow_request(request, None)
