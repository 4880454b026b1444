"""How the API knows who is asking: a JWT access token, or the admin's session cookie.

Both doors apply the rules of the token endpoint: a token stops working when its sign-in
is older than its owner's password or than a sign-in may last (`tokens.refusal`); a
session cookie opens the API only when its sign-in has the second factor the login needs
(`two_factor.missing_second_factor`, the admin's own rule). Without that check, a member
of staff signed in to the admin with the password alone (sent to enrol) could read
patients through the API with the same cookie.
"""

from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as BaseSessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication

from .models import User
from .roles import with_role_groups

# DRF imports this module while its own `views` module loads (DEFAULT_AUTHENTICATION_CLASSES),
# before `kernel.errors` can be: what leads to it (`tokens`, `two_factor`) is imported where
# it is used.


class _UsersWithTheirRoles:
    """What simplejwt's `get_user` needs of a user model (`objects.get`, `DoesNotExist`),
    with the patient and practitioner records and the role groups read in the same query."""

    DoesNotExist = User.DoesNotExist

    class objects:  # stands in for a manager
        @staticmethod
        def get(**lookup) -> User:
            return with_role_groups(User.objects.select_related("patient", "practitioner")).get(
                **lookup
            )


class JWTAuthentication(BaseJWTAuthentication):
    """simplejwt's authentication, loading in one query what `roles_of` asks of every
    request user (its patient and practitioner records, its role groups), and refusing
    tokens of a sign-in that has ended (`tokens.refusal`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithTheirRoles

    def get_user(self, validated_token) -> User:
        from . import tokens

        user = super().get_user(validated_token)
        refused = tokens.refusal(user, validated_token.payload, refreshing=False)
        if refused is not None:
            raise exceptions.AuthenticationFailed(refused.detail, code=refused.code)
        return user


class SessionAuthentication(BaseSessionAuthentication):
    """DRF's session authentication (with its CSRF check), for sessions that passed the
    second factor their login needs; any other is refused (403 `two_factor_required`)."""

    def authenticate(self, request):
        from . import two_factor

        authenticated = super().authenticate(request)
        if authenticated is not None and two_factor.session_missing_second_factor(request._request):
            raise exceptions.PermissionDenied(
                "Two-factor sign-in is required of this login: sign in to the admin with "
                "the code (set it up there first if need be).",
                code="two_factor_required",
            )
        return authenticated
