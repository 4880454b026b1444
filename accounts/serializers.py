"""Fields the API's account bodies share (registration is `patients.api`'s)."""

from rest_framework import serializers

from .emails import normalize_email


class NormalizedEmailField(serializers.EmailField):
    """An email address in the one spelling of `accounts.emails`, checked in that spelling
    (a fullwidth address is its plain self, not an invalid one)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(normalize_email(data) if isinstance(data, str) else data)
