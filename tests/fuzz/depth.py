"""How many inputs each schemathesis case draws. `make test` draws 15 per operation and role,
which keeps the suite inside its budget on two cores; CI's second pass (`.ci/run`, against
the machine's servers) sets CLINIC_FUZZ_EXAMPLES=30 and draws twice as many. Derandomized:
the same number draws the same inputs, so a failure comes back with the same run."""

import os

EXAMPLES = int(os.environ.get("CLINIC_FUZZ_EXAMPLES", "15"))
