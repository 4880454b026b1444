"""A realistic demo clinic for development and demos: `manage.py seed_demo` loads it."""

from .seed import DEFAULT_SEED, SeedSummary, seed_demo

__all__ = ["DEFAULT_SEED", "SeedSummary", "seed_demo"]
