"""The one spelling of an email address: what is stored, what a sign-in is matched against,
and what failed sign-ins are counted under.

PostgreSQL's case-insensitive match (`iexact`, i.e. `UPPER(a) = UPPER(b)`) and Python's
`lower()` disagree on letters such as the dotless i, U+0131 (PostgreSQL upper-cases it to
`I`, while Python's `lower()` keeps it): counting failures under one spelling and
matching the account under the other let a look-alike address sign in past a lockout.
So every path reduces the address with `normalize_email` and compares it exactly.
"""

import unicodedata


def normalize_email(typed: str | None) -> str:
    """`typed` without surrounding space, compatibility-normalised (NFKC: a fullwidth z,
    U+FF5A, is `z`) and case-folded (`Zoe` is `zoe`), then normalised again since folding
    can undo the first (Unicode's NFKC_Casefold, near enough). A dotless i (U+0131) or a
    dotted capital I (U+0130) stays a letter of its own: such an address names another
    account, if any."""
    compatible = unicodedata.normalize("NFKC", typed or "").strip()
    return unicodedata.normalize("NFKC", compatible.casefold()).strip()
