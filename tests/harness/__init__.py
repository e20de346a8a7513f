"""The test harness: a real server process on a seeded data directory (`site`), a client that
behaves as ODK Collect (`collect_client`) and filled-in submissions of any form (`instances`).

The tests import it as `tests.harness.…` (the repository root is on pytest's path) and so do the
benchmarks in bench/, so both drive the product the same way and one copy of each module is loaded.
"""
