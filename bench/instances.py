"""Old import path of tests/harness/instances.py, kept while branches written against it are merged.
New code imports `tests.harness.instances`."""
from tests.harness.instances import *  # noqa: F401,F403
