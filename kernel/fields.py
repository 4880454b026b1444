"""Model fields shared by the apps."""

from django import forms
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ChoiceArrayField(ArrayField):
    """A set of choices stored as a PostgreSQL array, edited in forms as checkboxes.

    For the clinic's many "tick all that apply" answers: disciplines, symptom locations,
    posture findings, regions treated, red flags.
    """

    def __init__(self, *, choices=None, base_field=None, max_length: int = 40, **kwargs):
        if base_field is None:
            base_field = models.CharField(max_length=max_length, choices=choices)
        kwargs.setdefault("default", list)
        super().__init__(base_field=base_field, **kwargs)

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(
            choices=self.base_field.choices,
            required=not self.blank,
            widget=forms.CheckboxSelectMultiple,
            label=self.verbose_name.capitalize(),
            help_text=self.help_text,
        )
