from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication

from .models import User


class _UsersWithTheirRoles:
    """What simplejwt's `get_user` needs of a user model (`objects.get`, `DoesNotExist`),
    with the patient and practitioner records joined into the same query."""

    DoesNotExist = User.DoesNotExist

    class objects:  # stands in for a manager
        @staticmethod
        def get(**lookup) -> User:
            return User.objects.select_related("patient", "practitioner").get(**lookup)


class JWTAuthentication(BaseJWTAuthentication):
    """simplejwt's authentication, loading in one query what `roles_of` asks of every
    request user (its patient and practitioner records)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithTheirRoles
