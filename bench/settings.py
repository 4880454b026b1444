"""Settings for the HTTP benchmark only (bench/api.py): production settings, plus the
benchmark's baseline endpoints from bench/urls.py. Never used by the product."""

from clinic.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
