"""All models, imported here so Alembic and the app see one metadata."""

from app.models.accountability import AccountabilityRecord
from app.models.base import Base
from app.models.changes import Change, ChangeHorizon
from app.models.enterprises import Enterprise
from app.models.exports import ExportJob
from app.models.hazards import (
    Attachment,
    Hazard,
    HazardCounter,
    HazardEvent,
    HazardRollup,
    Reminder,
)
from app.models.imports import ExternalId, ImportJob
from app.models.inspections import (
    BlacklistEntry,
    Checklist,
    Draw,
    Inspection,
    InspectionAssignee,
    InspectionCounter,
    InspectionDecision,
    InspectionEvent,
    MajorHazardInstallation,
)
from app.models.jobs import Job as Job
from app.models.notifications import Notification
from app.models.org_units import OrgUnit
from app.models.public_reports import (
    PublicReport,
    PublicReportCounter,
    PublicReportEvent,
    PublicReportRoute,
    ReporterView,
)
from app.models.rate_limits import RateLimit
from app.models.risks import RiskPoint, RiskPointEvent
from app.models.tasks import Task, TaskAssignee, TaskEvent, TaskList, TaskReport
from app.models.users import (
    ApiClient,
    IdempotencyRecord,
    LoginThrottle,
    PrincipalChange,
    RefreshToken,
    User,
)
from app.models.webhooks import WebhookDelivery, WebhookSubscription

__all__ = [
    "AccountabilityRecord",
    "ApiClient",
    "Attachment",
    "Base",
    "BlacklistEntry",
    "Change",
    "ChangeHorizon",
    "Checklist",
    "Draw",
    "Enterprise",
    "ExportJob",
    "ExternalId",
    "Hazard",
    "HazardCounter",
    "HazardEvent",
    "HazardRollup",
    "IdempotencyRecord",
    "ImportJob",
    "Inspection",
    "InspectionAssignee",
    "InspectionCounter",
    "InspectionDecision",
    "InspectionEvent",
    "LoginThrottle",
    "MajorHazardInstallation",
    "Notification",
    "OrgUnit",
    "PrincipalChange",
    "PublicReport",
    "PublicReportCounter",
    "PublicReportEvent",
    "PublicReportRoute",
    "RateLimit",
    "RefreshToken",
    "Reminder",
    "ReporterView",
    "RiskPoint",
    "RiskPointEvent",
    "Task",
    "TaskAssignee",
    "TaskEvent",
    "TaskList",
    "TaskReport",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
