from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .emails import normalize_email


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """Django's hook (creating users, `User.clean` in admin forms) for the one spelling
        of `accounts.emails`."""
        return normalize_email(email)

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        """The account a sign-in names: exactly its normalised email (never `iexact`,
        whose idea of case is PostgreSQL's, not the lockout's)."""
        return self.get(email=normalize_email(username))


class User(AbstractUser):
    """A login: patients, reception, practitioners and managers alike sign in by email."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    password_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the password last changed: API sign-ins from before then are "
        "refused (accounts/tokens.py).",
    )
    # When the owner proved the address is theirs (accounts/lifecycle.py); a patient
    # books online only once it is set. Changing it also retires every verification link
    # already sent (they are signed over it: accounts/links.py).
    email_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the owner followed the link sent to this address; empty until then.",
    )
    # A new address the owner asked for, applied only when they follow the link sent to it:
    # until then sign-ins and messages keep using `email`.
    pending_email = models.EmailField(
        blank=True,
        editable=False,
        help_text="An address the owner asked to change to, not yet confirmed.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        """How the clinic names the user: their name, or their email if they gave none."""
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs) -> None:
        # Stored as it is matched: a row written past the forms (a shell, a fixture) too.
        self.email = normalize_email(self.email)
        # `set_password` leaves the new password in `_password` until it is saved (Django
        # clears it first when it only re-hashes the same password at sign-in), whichever
        # form or command set it: the moment ends every earlier API sign-in.
        if self._password is not None and not self._state.adding:
            self.password_changed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "password_changed_at"}
        super().save(*args, **kwargs)


class SecurityPolicy(models.Model):
    """The clinic's sign-in policy; exactly one row (id 1), edited by the manager."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    require_two_factor_for_staff = models.BooleanField(
        default=False,
        help_text="Members of staff must set up two-factor sign-in (an authenticator app) "
        "before they can use the admin, and give its code whenever they sign in.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "security policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="security_policy_single_row")
        ]

    def __str__(self) -> str:
        return "Security policy"

    @classmethod
    def current(cls) -> "SecurityPolicy":
        policy, _ = cls.objects.get_or_create(id=cls.SINGLETON_ID)
        return policy

    @classmethod
    def two_factor_required(cls) -> bool:
        """Read without creating the row: its absence means the defaults."""
        return cls.objects.filter(id=cls.SINGLETON_ID, require_two_factor_for_staff=True).exists()
