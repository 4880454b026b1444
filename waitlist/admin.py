"""The waitlist in the admin: reception sees who is waiting for what (urgent first, then
the longest waiting), puts a patient on it and ends entries. Both go through `services`;
who sees which entries is `selectors.entries_for`, as in the API.

Offers of freed time: reception sees the live offers and their expiry (read-only), offers a
free time to an entry by hand ("Offer a time", `offers.offer_by_hand`, the automatic
offers' own path) and withdraws offers, releasing their hold so the time can be booked at
the desk (`offers.withdraw_offers`); both are written to the audit log. The manager sets
the offer policy."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from appointments.models import Status
from appointments.selectors import appointments_for
from audit.models import Action
from audit.services import record
from care.selectors import patients_for
from kernel.admin_query import ForgivingQueryAdmin
from kernel.errors import DomainError
from practice.models import Location, Practitioner, Service, Weekday

from .models import EndReason, OfferPolicy, OfferStatus, WaitlistEntry, WaitlistOffer
from .offers import offer_by_hand, withdraw_offers
from .selectors import entries_for, offers_for
from .services import WISH_FIELDS, Wish, join_waitlist, leave_waitlist


def _autocomplete(field_name: str) -> AutocompleteSelect:
    return AutocompleteSelect(WaitlistEntry._meta.get_field(field_name), admin.site)


class JoinForm(forms.Form):
    """Put a patient on the waitlist: what the API's staff body takes, as a form."""

    patient = forms.ModelChoiceField(queryset=None, widget=_autocomplete("patient"))
    service = forms.ModelChoiceField(queryset=Service.objects.filter(is_active=True))
    practitioners = forms.ModelMultipleChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"),
        required=False,
        help_text="None: any practitioner.",
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.filter(is_active=True),
        required=False,
        help_text="None: any location.",
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None: any day.",
    )
    earliest_time = forms.TimeField(required=False)
    latest_time = forms.TimeField(required=False)
    earliest_date = forms.DateField(required=False)
    latest_date = forms.DateField(help_text="The entry ends after this day.")
    sooner_than = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=_autocomplete("sooner_than"),
        label="Sooner than",
        help_text="The patient's upcoming booking of the service, to bring forward.",
    )
    urgent = forms.BooleanField(required=False)
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients_for(user)
        self.fields["sooner_than"].queryset = appointments_for(user).filter(
            status=Status.BOOKED, start__gt=timezone.now()
        )

    def wish(self) -> Wish:
        return Wish(**{name: self.cleaned_data[name] for name in WISH_FIELDS})

    def refuse(self, refusal: DomainError) -> None:
        """The service's refusal on the field it names, or over the form."""
        named = {name: problems for name, problems in (refusal.fields or {}).items()}
        for name, problems in named.items():
            self.add_error(name if name in self.fields else None, problems)
        if not named:
            self.add_error(None, refusal.detail)


class OpenFilter(admin.SimpleListFilter):
    title = "waiting"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Still waiting"), ("no", "Ended")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = [
        "patient",
        "service",
        "practitioners_wanted",
        "days_and_times",
        "dates",
        "urgent",
        "waiting_since",
        "ended",
    ]
    list_filter = [OpenFilter, "urgent", "service", "practitioners", "locations"]
    search_fields = ["patient__first_name", "patient__last_name"]
    # Who to offer a freed time first: the urgent, then those waiting longest.
    ordering = ["-urgent", "created_at", "pk"]
    readonly_fields = [
        "patient",
        "service",
        "practitioners",
        "locations",
        "weekdays",
        "earliest_time",
        "latest_time",
        "earliest_date",
        "latest_date",
        "sooner_than",
        "urgent",
        "note",
        "created_at",
        "created_by",
        "ended_at",
        "end_reason",
        "offer_a_time",
    ]
    actions = ["end_selected"]

    def get_queryset(self, request):
        # Ordered for every page that lists it (the autocomplete too).
        return entries_for(request.user).order_by(*self.ordering)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an entry is ended (the action), not edited here: the API changes it

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # who waited, and how it ended, is kept

    def has_end_permission(self, request) -> bool:
        return request.user.has_perm("waitlist.change_waitlistentry")

    def has_offer_permission(self, request) -> bool:
        return request.user.has_perm("waitlist.add_waitlistoffer")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/offer/",
                self.admin_site.admin_view(self.offer_view),
                name="waitlist_waitlistentry_offer",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Offer a time")
    def offer_a_time(self, entry: WaitlistEntry) -> str:
        if entry.ended_at is not None:
            return "—"
        url = reverse("admin:waitlist_waitlistentry_offer", args=[entry.pk])
        return format_html('<a href="{}">Offer a free time to this patient</a>', url)

    def offer_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Offer a free time chosen at the desk to this entry: held, offered and messaged as
        the automatic offers are (`offers.offer_by_hand`)."""
        if not self.has_offer_permission(request):
            raise PermissionDenied
        entry = self.get_object(request, object_id)
        if entry is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = OfferForm(request.POST or None, entry=entry)
        if request.method == "POST" and form.is_valid():
            try:
                offer = offer_by_hand(
                    entry=entry,
                    practitioner=form.cleaned_data["practitioner"],
                    start=form.cleaned_data["start"],
                    by=request.user,
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                record(
                    Action.CREATE,
                    request=request,
                    obj=offer,
                    patient_id=entry.patient_id,
                    detail={"offer": offer.pk, "start": offer.start.isoformat()},
                )
                messages.success(request, f"{offer} — held until {offer.expires_at:%d %b %H:%M}.")
                return HttpResponseRedirect(reverse("admin:waitlist_waitlistoffer_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Offer a time to {entry.patient} ({entry.service})",
            "intro": [
                "The time is held for the patient and offered by their consented channels, "
                "with a link to take it or pass; it must fit the entry as the automatic "
                "offers do."
            ],
            "form": form,
            "submit": "Offer this time",
            "submit_name": "offer",
            "back_url": reverse("admin:waitlist_waitlistentry_change", args=[entry.pk]),
        }
        return TemplateResponse(request, "admin/clinic/form_page.html", context)

    @admin.display(description="Practitioners")
    def practitioners_wanted(self, entry: WaitlistEntry) -> str:
        return ", ".join(str(p) for p in entry.practitioners.all()) or "any"

    @admin.display(description="Days and times")
    def days_and_times(self, entry: WaitlistEntry) -> str:
        days = ", ".join(Weekday(day).label[:3] for day in entry.weekdays) or "any day"
        times = [
            f"{word} {moment:%H:%M}"
            for word, moment in (("from", entry.earliest_time), ("until", entry.latest_time))
            if moment is not None
        ]
        return ", ".join([days, *times])

    @admin.display(description="Dates")
    def dates(self, entry: WaitlistEntry) -> str:
        earliest = entry.earliest_date.isoformat() if entry.earliest_date else "now"
        return f"{earliest} to {entry.latest_date.isoformat()}"

    @admin.display(description="Waiting since", ordering="created_at")
    def waiting_since(self, entry: WaitlistEntry):
        return entry.created_at

    @admin.display(description="Ended")
    def ended(self, entry: WaitlistEntry) -> str:
        return entry.get_end_reason_display() if entry.ended_at else "—"

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = JoinForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                entry = join_waitlist(
                    patient=form.cleaned_data["patient"],
                    service=form.cleaned_data["service"],
                    wish=form.wish(),
                    by=request.user,
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                messages.success(request, f"{entry}.")
                return HttpResponseRedirect(reverse("admin:waitlist_waitlistentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Put a patient on the waitlist",
            "intro": [
                "Leave practitioners, locations and days empty for any. The entry ends by "
                "itself after its latest date."
            ],
            "form": form,
            "submit": "Add to the waitlist",
            "submit_name": "add",
            "back_url": reverse("admin:waitlist_waitlistentry_changelist"),
        }
        return TemplateResponse(request, "admin/clinic/form_page.html", context)

    @admin.action(description="End the selected entries (removed by staff)", permissions=["end"])
    def end_selected(self, request, queryset) -> None:
        ended = 0
        for entry in queryset.filter(ended_at__isnull=True):
            leave_waitlist(entry=entry, reason=EndReason.REMOVED_BY_STAFF)
            ended += 1
        messages.success(request, f"{ended} waitlist entries ended.")


class OfferForm(forms.Form):
    """A free time for the entry's service, chosen at the desk."""

    practitioner = forms.ModelChoiceField(queryset=None)
    start = forms.DateTimeField(help_text="The clinic's local time, e.g. 2027-03-23 10:00.")

    def __init__(self, *args, entry: WaitlistEntry, **kwargs):
        super().__init__(*args, **kwargs)
        from appointments.availability import practitioners_for

        self.fields["practitioner"].queryset = Practitioner.objects.filter(
            practitioners_for(entry.service)
        ).select_related("user")

    def refuse(self, refusal: DomainError) -> None:
        named = {name: problems for name, problems in (refusal.fields or {}).items()}
        for name, problems in named.items():
            self.add_error(name if name in self.fields else None, problems)
        if not named:
            self.add_error(None, refusal.detail)


class LiveFilter(admin.SimpleListFilter):
    title = "live"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Live (held, waiting for an answer)"), ("no", "Ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=OfferStatus.OFFERED)
        if self.value() == "no":
            return queryset.exclude(status=OfferStatus.OFFERED)
        return queryset


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    """The offers, live first by their expiry: read-only. Withdrawing (the action) ends
    them and releases their hold, so the time can be booked at the desk."""

    list_display = [
        "patient",
        "service",
        "practitioner",
        "start",
        "status",
        "expires_at",
        "sent_at",
        "offered_by",
    ]
    list_filter = [LiveFilter, "status", "service", "practitioner"]
    search_fields = ["entry__patient__first_name", "entry__patient__last_name"]
    ordering = ["-sent_at", "-pk"]
    fields = readonly_fields = [
        "entry",
        "service",
        "practitioner",
        "location",
        "start",
        "end",
        "status",
        "sent_at",
        "expires_at",
        "ended_at",
        "hold",
        "appointment",
        "offered_by",
    ]
    actions = ["withdraw_selected"]

    def get_queryset(self, request):
        return offers_for(request.user).order_by(*self.ordering)

    def has_add_permission(self, request) -> bool:
        return False  # offered from the entry's page ("Offer a time"), or by the clinic

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an offer is withdrawn (the action), never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # what was offered to whom, and how it ended, is kept

    def has_withdraw_permission(self, request) -> bool:
        return request.user.has_perm("waitlist.change_waitlistoffer")

    @admin.display(description="Patient", ordering="entry__patient__last_name")
    def patient(self, offer: WaitlistOffer):
        return offer.entry.patient

    @admin.action(
        description="Withdraw the selected offers and release their time", permissions=["withdraw"]
    )
    def withdraw_selected(self, request, queryset) -> None:
        live = list(queryset.filter(status=OfferStatus.OFFERED))
        ended = withdraw_offers(
            WaitlistOffer.objects.filter(pk__in=[offer.pk for offer in live]), release=True
        )
        for offer in live:
            record(
                Action.UPDATE,
                request=request,
                obj=offer,
                patient_id=offer.entry.patient_id,
                detail={"offer": offer.pk, "withdrawn": True},
            )
        messages.success(request, f"{ended} offer(s) withdrawn; their time is free to book.")


@admin.register(OfferPolicy)
class OfferPolicyAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    """How freed time is offered, per service or by default: the manager's."""

    list_display = [
        "__str__",
        "enabled",
        "offers_at_once",
        "min_notice_minutes",
        "same_day_minutes",
        "soon_days",
        "soon_minutes",
        "later_minutes",
    ]
    ordering = ["service__name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # turn a service's offers off instead
