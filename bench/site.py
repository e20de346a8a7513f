"""Old import path of tests/harness/site.py, kept while branches written against it are merged.
New code imports `tests.harness.site`."""
from tests.harness.site import *  # noqa: F401,F403
