"""How many inputs each schemathesis case draws. `make test` draws 15 per operation and role,
which keeps the suite inside its budget on two cores; CI's second pass (`.ci/run`, against
the machine's servers) sets CLINIC_FUZZ_EXAMPLES=30 and draws twice as many. Derandomized:
the same number draws the same inputs, so a failure comes back with the same run."""

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CLINIC_FUZZ_EXAMPLES", "15"))
# CI's deeper pass also runs the coverage phase (boundary and invalid values, some hundreds
# per operation) as every role, not only as those whose input is read differently.
DEEP = EXAMPLES >= 30
# For a caller refused before anything they send is read (no sign-in, or a role the
# operation is not for): a few random inputs, no coverage phase.
REFUSED_EXAMPLES = 5


def drawing(examples: int) -> settings:
    """A fuzz test's Hypothesis settings: `examples` inputs, the same ones every run, no
    deadline (a request may wait on the database), no example database, no health checks
    (schemathesis's strategies are large by nature)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
