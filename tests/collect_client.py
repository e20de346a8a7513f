"""Old import path of tests/harness/collect_client.py, kept while branches written against it are
merged. New code imports `tests.harness.collect_client`."""
from tests.harness.collect_client import *  # noqa: F401,F403
