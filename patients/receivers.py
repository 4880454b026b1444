"""What the patient register does when a lower app announces something. Connected in
`PatientsConfig.ready`; run inside the announcing transaction."""

from django.dispatch import receiver

from accounts.signals import email_verified

from .services import link_verified_login


@receiver(email_verified, dispatch_uid="patients.link_verified_login")
def link_the_record_of_a_verified_login(sender, request, user, **kwargs) -> None:
    link_verified_login(user=user, request=request)
