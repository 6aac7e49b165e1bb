"""The app a test's worker subprocess runs: ``flask --app tests.app.jobs.worker_app:create_app worker``,
with the test job kinds registered."""

from conference_app import create_app  # noqa: F401  (what --app names)
from tests.app.jobs import kinds_for_tests  # noqa: F401  (the test kinds)
