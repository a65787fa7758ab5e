"""The product's settings, plus the bare view of the HTTP benchmark (same middleware, same
database settings, same server): ``DJANGO_SETTINGS_MODULE=benchmarks.http.settings``."""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.http.apps.BenchHttpConfig"]
ROOT_URLCONF = "benchmarks.http.urls"
DEBUG = False
