"""Settings for processes started by the reliability tests (web, worker, submitters): the
project's settings, with e-mail written to files in ``$RELIABILITY_MAIL_DIR`` so a test can
count what was actually sent."""

import os

from portal.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("RELIABILITY_MAIL_DIR", "/tmp/reliability-mail")
