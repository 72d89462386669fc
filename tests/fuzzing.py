"""Hypothesis settings of the bad-input tests.

Bounded and repeatable, so CI runs the same examples every time; set
``PROGRESS_FUZZ_EXAMPLES`` for a longer search on a workstation.
"""

import os

from hypothesis import HealthCheck, settings


def fuzz_settings(examples: int) -> settings:
    """``examples`` per property (or ``PROGRESS_FUZZ_EXAMPLES``), no deadline (the tests
    talk to PostgreSQL), derandomised, and fixtures shared across a property's examples."""
    return settings(
        max_examples=int(os.environ.get("PROGRESS_FUZZ_EXAMPLES", examples)),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
