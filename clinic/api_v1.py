"""Version 1 of the HTTP API: the paths of shared/API.md."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import (
    PasswordResetConfirmView,
    PasswordResetView,
    ResendVerificationView,
    TokenRefreshView,
    TokenView,
    VerifyEmailView,
)
from care.api import BreakGlassView
from diary.api import AppointmentViewSet, AvailabilityView, HoldDetailView, HoldView
from diary.class_api import ClassPlaceViewSet, GroupClassViewSet
from diary.course_api import CourseViewSet
from notifications.api import NotificationViewSet
from patients.api import MeView, MyEmailView, RegisterView
from practice.api import ClinicInfoView, LocationViewSet, PractitionerViewSet, ServiceViewSet
from records.api import MyRecordExportView, PatientViewSet
from treatments.api.intake import IntakeViewSet, MyIntakeView
from treatments.api.notes import TreatmentNoteViewSet
from treatments.api.outcomes import OutcomeMeasureViewSet
from treatments.api.plans import TreatmentPlanViewSet
from treatments.api.programme import (
    ExerciseViewSet,
    HomeExerciseLogViewSet,
    HomeExerciseViewSet,
    MyExerciseLogViewSet,
    MyProgrammeView,
)
from treatments.api.progress import PatientProgressView
from treatments.api.reports import OutcomesReportView
from waitlist.api import (
    AcceptOfferView,
    AcceptOwnOfferView,
    DeclineOfferView,
    DeclineOwnOfferView,
    OfferView,
    WaitlistEntryViewSet,
)

router = SimpleRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("services", ServiceViewSet, basename="service")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("appointment-series", CourseViewSet, basename="appointment-series")
router.register("classes", GroupClassViewSet, basename="group-class")
router.register("class-places", ClassPlaceViewSet, basename="class-place")
router.register("patients", PatientViewSet, basename="patient")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("treatment-notes", TreatmentNoteViewSet, basename="treatment-note")
router.register("treatment-plans", TreatmentPlanViewSet, basename="treatment-plan")
router.register("outcome-measures", OutcomeMeasureViewSet, basename="outcome-measure")
router.register("intakes", IntakeViewSet, basename="intake")
router.register("exercises", ExerciseViewSet, basename="exercise")
router.register("home-exercises", HomeExerciseViewSet, basename="home-exercise")
router.register("home-exercise-logs", HomeExerciseLogViewSet, basename="home-exercise-log")
router.register("waitlist", WaitlistEntryViewSet, basename="waitlist-entry")

urlpatterns = [
    path("auth/register/", RegisterView.as_view(), name="register"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("clinic/", ClinicInfoView.as_view(), name="clinic"),
    path("holds/", HoldView.as_view(), name="hold"),
    path("holds/<uuid:pk>/", HoldDetailView.as_view(), name="hold-detail"),
    path("auth/verify-email/", VerifyEmailView.as_view(), name="verify-email"),
    path("auth/verify-email/resend/", ResendVerificationView.as_view(), name="verify-email-resend"),
    path("auth/password-reset/", PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm/",
        PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("patients/me/", MeView.as_view(), name="patient-me"),
    path("patients/me/email/", MyEmailView.as_view(), name="patient-me-email"),
    path("patients/me/export/", MyRecordExportView.as_view(), name="patient-me-export"),
    path("patients/me/intake/", MyIntakeView.as_view(), name="patient-me-intake"),
    path("patients/me/programme/", MyProgrammeView.as_view(), name="patient-me-programme"),
    path(
        "patients/me/exercise-logs/",
        MyExerciseLogViewSet.as_view({"get": "list", "post": "create"}),
        name="patient-me-exercise-log-list",
    ),
    path(
        "patients/me/exercise-logs/<int:pk>/",
        MyExerciseLogViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="patient-me-exercise-log-detail",
    ),
    path("patients/<int:pk>/progress/", PatientProgressView.as_view(), name="patient-progress"),
    path("patients/<int:pk>/break-glass/", BreakGlassView.as_view(), name="patient-break-glass"),
    path("reports/outcomes/", OutcomesReportView.as_view(), name="report-outcomes"),
    # Before the router's `waitlist/{pk}/`: a signed-in patient's offers by their id (a
    # UUID, which no signed token is: it has colons), then the links' by the token.
    path(
        "waitlist/offers/<uuid:public_id>/accept/",
        AcceptOwnOfferView.as_view(),
        name="waitlist-own-offer-accept",
    ),
    path(
        "waitlist/offers/<uuid:public_id>/decline/",
        DeclineOwnOfferView.as_view(),
        name="waitlist-own-offer-decline",
    ),
    path("waitlist/offers/<str:token>/", OfferView.as_view(), name="waitlist-offer"),
    path(
        "waitlist/offers/<str:token>/accept/",
        AcceptOfferView.as_view(),
        name="waitlist-offer-accept",
    ),
    path(
        "waitlist/offers/<str:token>/decline/",
        DeclineOfferView.as_view(),
        name="waitlist-offer-decline",
    ),
    *router.urls,
]
