"""The clinic's exercise library to start from: the home exercises a back-pain and sciatica
clinic prescribes most, for the strengthen and maintain phases. Practitioners and managers
edit it in the admin; reversing removes only the exercises no programme names."""

from django.db import migrations

# name, category, body region, sets, reps (or seconds held), instructions
LIBRARY = [
    (
        "Bird dog",
        "stability",
        "core",
        3,
        8,
        "On hands and knees, back flat. Reach one arm forward and the opposite leg back until "
        "both are level with your body; hold two seconds, return slowly, change sides. Keep your "
        "hips level: no rocking.",
    ),
    (
        "Glute bridge",
        "strength",
        "glutes",
        3,
        12,
        "Lie on your back, knees bent, feet flat hip-width apart. Squeeze your buttocks and lift "
        "your hips until knees, hips and shoulders are in line; pause, lower slowly. Push through "
        "your heels, not your lower back.",
    ),
    (
        "Dead bug",
        "stability",
        "core",
        3,
        8,
        "Lie on your back, arms up to the ceiling, hips and knees bent at 90 degrees. Keep your "
        "lower back gently pressed to the floor as you lower one arm and the opposite leg "
        "towards the floor; return and change sides.",
    ),
    (
        "McGill curl-up",
        "stability",
        "core",
        3,
        6,
        "Lie on your back, one knee bent, the other leg straight, hands under the small of your "
        "back. Lift head and shoulders a few centimetres as one piece, without bending your neck "
        "or flattening your back; hold 8-10 seconds.",
    ),
    (
        "Side plank",
        "stability",
        "core",
        3,
        20,
        "On your side, propped on your elbow, knees bent (easier) or legs straight. Lift your "
        "hips so your body is in a straight line; hold for the seconds prescribed, then the other "
        "side.",
    ),
    (
        "Sciatic nerve glide",
        "nerve_glide",
        "legs",
        2,
        10,
        "Sit tall on a chair. Straighten the knee of the affected leg while lifting your head to "
        "look up, then bend the knee while bringing your chin down. Move smoothly; a mild "
        "stretch is fine, stop if tingling builds.",
    ),
    (
        "Hip hinge with dowel",
        "mobility",
        "hips",
        3,
        10,
        "Hold a broom handle along your spine touching head, upper back and tailbone. Soften "
        "your knees and push your hips back, bending forward until you feel the hamstrings, "
        "keeping all three contact points; stand up by squeezing your glutes.",
    ),
    (
        "Goblet squat",
        "strength",
        "legs",
        3,
        10,
        "Hold a weight at your chest, feet a little wider than hips. Sit down between your heels "
        "keeping your chest up and knees following your toes; stand up through your whole foot.",
    ),
    (
        "Hip flexor stretch (half kneeling)",
        "stretch",
        "hips",
        2,
        30,
        "Kneel on one knee, the other foot in front. Tuck your tailbone under and shift forward "
        "until you feel a stretch at the front of the kneeling hip; hold for the seconds "
        "prescribed, breathe, change sides.",
    ),
    (
        "Clamshell",
        "strength",
        "glutes",
        3,
        12,
        "Lie on your side, hips and knees bent, feet together. Keeping your feet touching and "
        "your pelvis still, open the top knee; pause and close slowly.",
    ),
    (
        "Cat-camel",
        "mobility",
        "lower_back",
        2,
        10,
        "On hands and knees, slowly round your back up towards the ceiling, then let it sag "
        "gently while lifting your head. Move within a comfortable range, no holding.",
    ),
    (
        "Piriformis stretch",
        "stretch",
        "glutes",
        2,
        30,
        "Lie on your back, cross one ankle over the opposite knee and pull that thigh towards "
        "your chest until you feel a stretch deep in the buttock; hold, change sides.",
    ),
]


def seed(apps, schema_editor) -> None:
    Exercise = apps.get_model("treatments", "Exercise")
    for name, category, region, sets, reps, instructions in LIBRARY:
        Exercise.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "body_region": region,
                "default_sets": sets,
                "default_reps": reps,
                "instructions": instructions,
            },
        )


def unseed(apps, schema_editor) -> None:
    Exercise = apps.get_model("treatments", "Exercise")
    HomeExercise = apps.get_model("treatments", "HomeExercise")
    named = HomeExercise.objects.values("exercise_id")
    Exercise.objects.filter(name__in=[row[0] for row in LIBRARY]).exclude(pk__in=named).delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0013_home_programme")]

    operations = [migrations.RunPython(seed, unseed)]
