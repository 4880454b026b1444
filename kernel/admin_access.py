"""What the admin says when a record's page is outside the user's reach."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


class NoAccessAdmin:
    """For a ModelAdmin whose queryset is the user's reach: the pages of a patient's record
    (the patient, their intakes, notes, plans, scores) and the diary. An id outside it is
    either someone else's record or none at all; Django says "… doesn't exist. Perhaps it
    was deleted?", which is wrong for the first and tells a practitioner nothing. This says
    they have no access, the same for both, so the page reveals no more than the list does
    about which records exist."""

    no_access_message = "You don't have access to this patient's record."

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts, object_id):
        # Django's hook for the change, history and delete pages of an id it did not find.
        messages.warning(request, self.no_access_message)
        return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))
