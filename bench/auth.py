"""What authenticating an xAPI request costs.

Measures, in one run on this machine:

- ``warm``: ``authenticate_basic`` with the credential in the process cache (the steady
  state: one HMAC-SHA256 and a dictionary lookup);
- ``cold``: the same with the cache emptied before every call (one PostgreSQL query);
- a whole request through Django's stack, authenticated (``GET /xapi/activities/state``
  without parameters: authenticated, scope-checked, then refused before any database
  work) against an unauthenticated one
  (``GET /xapi/about``) as the reference, and their ratio.

Target: warm authentication well under 1 ms per request. Writes
``bench/results/auth.json``. Usage: ``make bench-auth`` (or ``python bench/auth.py``).
"""

from __future__ import annotations

import base64
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from bench.timing import per_call_us  # noqa: E402
from tenants import services  # noqa: E402
from tenants.auth import authenticate_basic  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.selectors import credential_cache_clear  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "auth.json"


def main() -> None:
    slug = f"bench-auth-{os.getpid()}"
    tenant = Tenant.objects.create(slug=slug, name=slug, home_region=settings.PROGRESS_REGION)
    issued = services.credential_create(tenant=tenant, key=slug, scopes=["all"])
    key, secret = issued.credential.key, issued.secret
    try:

        def warm():
            authenticate_basic(key=key, secret=secret, source=None, peer_key=None)

        def cold():
            credential_cache_clear()
            authenticate_basic(key=key, secret=secret, source=None, peer_key=None)

        warm()
        warm_us = per_call_us(warm, 20_000)
        cold_us = per_call_us(cold, 500)

        client = Client(HTTP_HOST="127.0.0.1")
        authorization = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        version = {"HTTP_X_EXPERIENCE_API_VERSION": "2.0.0"}

        def about():
            assert client.get("/xapi/about", **version).status_code == 200

        def authenticated():
            response = client.get(
                "/xapi/activities/state", HTTP_AUTHORIZATION=authorization, **version
            )
            assert response.status_code in (400, 501)

        about()
        authenticated()
        about_us = per_call_us(about, 1_000)
        authenticated_us = per_call_us(authenticated, 1_000)
    finally:
        credential_cache_clear()
        issued.credential.delete()
        tenant.delete()

    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "auth_warm_us": round(warm_us, 2),
        "auth_cold_us": round(cold_us, 2),
        "request_about_us": round(about_us, 1),
        "request_authenticated_us": round(authenticated_us, 1),
        "authenticated_over_about": round(authenticated_us / about_us, 3),
        "auth_share_of_request": round(warm_us / authenticated_us, 4),
        "target_warm_under_us": 1000,
        "target_met": warm_us < 1000,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    sys.stdout.write(
        "\n".join(
            [
                f"auth, credential cached      {warm_us:9.2f} µs/request",
                f"auth, cache miss (1 query)   {cold_us:9.2f} µs/request",
                f"GET /xapi/about (no auth)    {about_us:9.1f} µs/request (reference)",
                f"GET /xapi/activities/state   {authenticated_us:9.1f} µs/request (authenticated)",
                f"authenticated / reference    {authenticated_us / about_us:9.3f}",
                f"target: cached auth < 1000 µs -> {'met' if warm_us < 1000 else 'NOT met'}",
                f"written to {RESULTS.relative_to(ROOT)}",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
