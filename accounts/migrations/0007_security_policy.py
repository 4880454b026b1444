from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_audit_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="SecurityPolicy",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(
                        default=1, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "require_two_factor_for_staff",
                    models.BooleanField(
                        default=False,
                        help_text="Members of staff must set up two-factor sign-in (an authenticator app) before they can use the admin, and give its code whenever they sign in.",
                    ),
                ),
            ],
            options={
                "verbose_name": "security policy",
                "verbose_name_plural": "security policy",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="security_policy_single_row"
                    )
                ],
            },
        ),
    ]
