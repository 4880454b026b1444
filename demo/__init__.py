"""A realistic demo clinic for development and demos: `manage.py seed_demo` loads it
(`demo.seed.seed_demo`)."""
