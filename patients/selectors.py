"""Which patients a user may see, and how staff search for them: the one place that decides
it for the API and the admin."""

import re
from datetime import date

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from .models import Patient


def search_patients(patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Match a front-desk search box: every word must match a name, the email, the mobile
    or the date of birth.

    A date of birth is written YYYY-MM-DD or D/M/YYYY; a phone number may be typed in
    groups ('0412 345 678', '+61 412 345 678', '(03) 9123-4567'): consecutive groups of
    digits are read as one number, matched against the mobile stored in E.164."""
    for word, digits in _search_terms(query):
        match = (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        if digits:
            match |= Q(mobile__contains=digits.lstrip("0"))
        birth_date = _as_date(word)
        if birth_date is not None:
            match |= Q(date_of_birth=birth_date)
        patients = patients.filter(match)
    return patients


def possible_duplicates(
    *, first_name: str, last_name: str, date_of_birth: date, exclude_pk: int | None = None
) -> QuerySet[Patient]:
    """Active patients with the same first and last name (in any case) and date of birth:
    most likely the same person, whom a new record would duplicate."""
    duplicates = Patient.objects.alias(
        first_lower=Lower("first_name"), last_lower=Lower("last_name")
    ).filter(
        last_lower=last_name.strip().lower(),
        first_lower=first_name.strip().lower(),
        date_of_birth=date_of_birth,
        is_active=True,
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    return duplicates.order_by("pk")


_PHONE_PUNCTUATION = str.maketrans("", "", "+-().")


def _search_terms(query: str) -> list[tuple[str, str]]:
    """The query's words, each with the digits it gives a phone number ("" if none);
    consecutive groups of a phone number ("0412 345 678") make one word."""
    terms: list[tuple[str, str]] = []
    joining = False
    for word in query.split():
        digits = word.translate(_PHONE_PUNCTUATION)
        is_phone_group = digits.isdigit() and _as_date(word) is None
        if is_phone_group and joining:
            previous_word, previous_digits = terms[-1]
            terms[-1] = (previous_word + word, previous_digits + digits)
        else:
            terms.append((word, digits if is_phone_group else ""))
        joining = is_phone_group
    return terms


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_AUSTRALIAN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _as_date(word: str) -> date | None:
    """The date a word writes as YYYY-MM-DD or D/M/YYYY, if it is one."""
    if found := _ISO_DATE.fullmatch(word):
        year, month, day = found.groups()
    elif found := _AUSTRALIAN_DATE.fullmatch(word):
        day, month, year = found.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
