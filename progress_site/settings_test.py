"""Test settings: the real services, on Redis databases of their own.

The test run must not read or flush a developer's cache or steal tasks from the broker a
`make run` is using at the same time, so both move to databases 14 and 15
(``PROGRESS_TEST_REDIS_DB`` moves the pair).
"""

import os

from progress_site.settings import *  # noqa: F403
from progress_site.settings import CACHES, REDIS_URL

# Two test runs side by side (each with its own DATABASE_URL) each take their own pair.
_REDIS_DB = int(os.environ.get("PROGRESS_TEST_REDIS_DB", "14"))
TEST_REDIS_CACHE_URL = REDIS_URL.rsplit("/", 1)[0] + f"/{_REDIS_DB}"
TEST_CELERY_BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + f"/{_REDIS_DB + 1}"

CACHES["default"]["LOCATION"] = TEST_REDIS_CACHE_URL
CELERY_BROKER_URL = TEST_CELERY_BROKER_URL
# Admin users are created per test; a slow password KDF would dominate those tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A second alias on the same server, for the replica routing tests: a real, separate
# connection. Reads use it only where a test lists it in READ_REPLICA_ALIASES.
DATABASES["replica1"] = DATABASES["default"] | {"TEST": {"MIRROR": "default"}}  # noqa: F405
