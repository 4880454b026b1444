"""The clinically important changes the clinic starts from, with their sources (a manager
may change them in the admin afterwards), and the instrument versions of the pain scores
and ODIs recorded before versions were kept.

Reversing removes the seeded thresholds and blanks the versions again.
"""

from decimal import Decimal

from django.db import migrations

OSTELO_2008 = (
    "Ostelo RWJG, Deyo RA, Stratford P, et al. Interpreting change scores for pain and "
    "functional status in low back pain: towards international consensus regarding minimal "
    "important change. Spine 2008;33(1):90-94."
)
ABBOTT_SCHMITT_2014 = (
    "Abbott JH, Schmitt JS. Minimum important differences for the patient-specific "
    "functional scale, 4 region-specific outcome measures, and the numeric pain rating "
    "scale. J Orthop Sports Phys Ther 2014;44(8):560-564 (1.3 / 2.3 / 2.7 points for "
    "small / medium / large change; the clinic counts 2)."
)
KAMPER_2010 = (
    "Kamper SJ, Maher CG, Herbert RD, et al. How little pain and disability do patients "
    "with low back pain have to experience to feel that they have recovered? Eur Spine J "
    "2010;19(9):1495-1501."
)

THRESHOLDS = [
    # kind, direction, points, percent, recovered at most, sources
    ("pain", "lower", Decimal("2"), Decimal("30"), Decimal("0"), OSTELO_2008, KAMPER_2010),
    ("odi", "lower", Decimal("10"), Decimal("30"), None, OSTELO_2008, ""),
    ("rmdq", "lower", Decimal("5"), Decimal("30"), Decimal("2"), OSTELO_2008, KAMPER_2010),
    ("psfs", "higher", Decimal("2"), None, None, ABBOTT_SCHMITT_2014, ""),
]
VERSIONS = {"pain": "NRS-11", "odi": "ODI 2.1a"}


def seed(apps, schema_editor) -> None:
    ImportantChange = apps.get_model("treatments", "ImportantChange")
    for kind, direction, points, percent, recovered, source, recovered_source in THRESHOLDS:
        ImportantChange.objects.get_or_create(
            kind=kind,
            defaults={
                "direction": direction,
                "points": points,
                "percent": percent,
                "recovered_at_most": recovered,
                "source": source,
                "recovered_source": recovered_source,
            },
        )
    OutcomeMeasure = apps.get_model("treatments", "OutcomeMeasure")
    for kind, version in VERSIONS.items():
        OutcomeMeasure.objects.filter(kind=kind, instrument_version="").update(
            instrument_version=version
        )


def unseed(apps, schema_editor) -> None:
    apps.get_model("treatments", "ImportantChange").objects.filter(
        kind__in=[row[0] for row in THRESHOLDS]
    ).delete()
    apps.get_model("treatments", "OutcomeMeasure").objects.update(instrument_version="")


class Migration(migrations.Migration):
    dependencies = [("treatments", "0009_outcome_measures_rmdq_psfs_and_thresholds")]

    operations = [migrations.RunPython(seed, unseed)]
