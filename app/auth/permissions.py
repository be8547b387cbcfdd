"""Roles and the table from role to the actions it may take."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    officer = "officer"
    inspector = "inspector"
    viewer = "viewer"
    enterprise_manager = "enterprise_manager"
    enterprise_staff = "enterprise_staff"
    # 外聘专家: a user of the county unit who sees only the inspections it is assigned to.
    expert = "expert"


GOVERNMENT_ROLES = frozenset({Role.admin, Role.manager, Role.officer, Role.inspector, Role.viewer})
ENTERPRISE_ROLES = frozenset({Role.enterprise_manager, Role.enterprise_staff})

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.admin: ("系统管理员", "Administrator"),
    Role.manager: ("单位负责人", "Unit manager"),
    Role.officer: ("业务人员", "Officer"),
    Role.inspector: ("检查执法人员", "Inspector"),
    Role.viewer: ("只读人员", "Viewer"),
    Role.enterprise_manager: ("企业负责人", "Enterprise manager"),
    Role.enterprise_staff: ("企业安全员", "Enterprise staff"),
    Role.expert: ("外聘专家", "External expert"),
}


class Permission(StrEnum):
    me_read = "me:read"
    catalogs_read = "catalogs:read"
    org_units_read = "org_units:read"
    org_units_write = "org_units:write"
    users_read = "users:read"
    users_write = "users:write"
    clients_manage = "clients:manage"
    enterprises_read = "enterprises:read"
    enterprises_create = "enterprises:create"
    enterprises_update = "enterprises:update"
    enterprises_update_contact = "enterprises:update_contact"
    hazards_read = "hazards:read"
    hazards_create = "hazards:create"
    hazards_transition = "hazards:transition"
    attachments_read = "attachments:read"
    attachments_write = "attachments:write"
    statistics_read = "statistics:read"
    jobs_read = "jobs:read"
    accountability_read = "accountability:read"
    accountability_write = "accountability:write"
    notifications_read = "notifications:read"
    # Inspections and enforcement (issue 12).
    inspections_read = "inspections:read"
    inspections_write = "inspections:write"
    inspections_transition = "inspections:transition"
    checklists_write = "checklists:write"
    draws_write = "draws:write"
    # The risk register (issue 13).
    risks_read = "risks:read"
    risks_write = "risks:write"
    risks_follow_up = "risks:follow_up"
    draws_read = "draws:read"  # issue 12, draws: government staff read their draws
    # Task lists and dispatch (issue 14).
    tasks_read = "tasks:read"
    tasks_issue = "tasks:issue"
    tasks_progress = "tasks:progress"
    # Public reports (群众举报, issue 15).
    reports_read = "reports:read"
    reports_handle = "reports:handle"
    reports_view_reporter = "reports:view_reporter"
    reports_audit = "reports:audit"
    # Bulk import (issue 16): officers, managers, admins; machine clients when granted.
    imports_write = "imports:write"
    # The change feed (issue 17): every role, of the types it reads, in its scope.
    changes_read = "changes:read"
    # Webhook subscriptions (issue 17): administrators, and machine clients granted it.
    webhooks_manage = "webhooks:manage"


P = Permission

# Accountability (问责) records: read in scope by everyone, an enterprise those about itself;
# written by county staff for any town, bureau or enterprise and by a town for its enterprises
# (the unit rule is the service's: app/services/accountability.py).
# Every person has an inbox (its own notifications only); machine clients have none.
_READ = {
    P.changes_read,
    P.risks_read,
    P.tasks_read,
    P.me_read,
    P.catalogs_read,
    P.enterprises_read,
    P.hazards_read,
    P.attachments_read,
    P.accountability_read,
    P.notifications_read,
}
_GOV_READ = _READ | {P.org_units_read, P.statistics_read, P.inspections_read, P.draws_read}
_GOV_WORK = _GOV_READ | {
    P.risks_follow_up,
    P.tasks_progress,
    P.hazards_create,
    P.hazards_transition,
    P.attachments_write,
    P.inspections_write,
    P.inspections_transition,
}
# Enterprises record their own self-inspections (企业自查) and see the started inspections of
# themselves; an expert only what it is assigned (the scope rule: app/auth/scope.py).
_ENTERPRISE_INSPECTIONS = {
    P.inspections_read,
    P.inspections_write,
    P.inspections_transition,
    P.risks_write,  # an enterprise maintains its own risk register
    P.tasks_progress,  # and works and reports on the tasks assigned to it
}

# Public reports are handled by officers and managers (of the county, and of the units a report
# is routed to: the scope rule); the reporter's identity (保密) is shown only to managers, never
# to an administrator or a machine client; the county's managers and admins read who saw it.
_REPORTS = {P.reports_read, P.reports_handle}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission) - {P.reports_view_reporter},
    Role.manager: frozenset(
        _GOV_WORK
        | {
            P.users_read,
            P.users_write,
            P.enterprises_create,
            P.enterprises_update,
            P.accountability_write,
            P.checklists_write,
            P.draws_write,
            P.tasks_issue,  # county and town managers issue task lists (the unit rule: services)
            P.reports_view_reporter,
            P.reports_audit,  # the county's managers only (the unit rule: services)
            P.imports_write,
        }
        | _REPORTS
    ),
    Role.officer: frozenset(
        _GOV_WORK
        | {
            P.enterprises_create,
            P.enterprises_update,
            P.accountability_write,
            P.draws_write,
            P.imports_write,
        }
        | _REPORTS
    ),
    Role.inspector: frozenset(_GOV_WORK),
    Role.viewer: frozenset(_GOV_READ),
    Role.enterprise_manager: frozenset(
        _READ
        | {
            P.enterprises_update_contact,
            P.hazards_create,
            P.hazards_transition,
            P.attachments_write,
        }
        | _ENTERPRISE_INSPECTIONS
    ),
    Role.enterprise_staff: frozenset(
        _READ
        | {P.hazards_create, P.hazards_transition, P.attachments_write}
        | _ENTERPRISE_INSPECTIONS
    ),
    Role.expert: frozenset(
        {
            P.changes_read,  # of the inspections it is assigned to (the scope rule)
            P.me_read,
            P.catalogs_read,
            P.notifications_read,
            P.attachments_read,
            P.attachments_write,
            P.inspections_read,
            P.inspections_transition,
        }
    ),
}

# What a machine client may be granted: never user or client management.
CLIENT_GRANTABLE = frozenset(Permission) - {
    P.users_write,
    P.clients_manage,
    P.org_units_write,
    P.jobs_read,  # the background queue is the county administrator's to watch
    P.accountability_write,  # a decision to hold a unit to account is taken by a person
    P.notifications_read,  # an inbox is a person's: a client is told `not_a_person`
    P.reports_view_reporter,  # a reporter's identity is shown to a person, and logged
    P.reports_audit,
}

PERMISSION_LABELS: dict[Permission, tuple[str, str]] = {
    P.me_read: ("查看本人信息", "Read own identity"),
    P.catalogs_read: ("查看字典", "Read catalogs"),
    P.org_units_read: ("查看组织单位", "Read org units"),
    P.org_units_write: ("管理组织单位", "Manage org units"),
    P.users_read: ("查看用户", "Read users"),
    P.users_write: ("管理用户", "Manage users"),
    P.clients_manage: ("管理接口客户端", "Manage machine clients"),
    P.enterprises_read: ("查看企业", "Read enterprises"),
    P.enterprises_create: ("登记企业", "Register enterprises"),
    P.enterprises_update: ("修改企业信息", "Update enterprises"),
    P.enterprises_update_contact: ("修改企业联系人", "Update enterprise contacts"),
    P.hazards_read: ("查看隐患", "Read hazards"),
    P.hazards_create: ("登记隐患", "Register hazards"),
    P.hazards_transition: ("办理隐患", "Act on hazards"),
    P.attachments_read: ("查看附件", "Read attachments"),
    P.attachments_write: ("上传附件", "Upload attachments"),
    P.statistics_read: ("查看统计", "Read statistics"),
    P.jobs_read: ("查看后台任务", "Read background jobs"),
    P.accountability_read: ("查看问责记录", "Read accountability records"),
    P.accountability_write: ("作出问责（函告、通报、约谈、曝光）", "Hold units to account"),
    P.notifications_read: ("查看本人通知", "Read own notifications"),
    P.inspections_read: ("查看检查记录", "Read inspections"),
    P.inspections_write: ("安排检查", "Plan inspections"),
    P.inspections_transition: ("办理检查（检查、记录、签名）", "Act on inspections"),
    P.checklists_write: ("管理检查表", "Manage checklists"),
    P.draws_write: ("双随机抽取", "Run double-random draws"),
    P.risks_read: ("查看风险点", "Read risk points"),
    P.risks_write: ("维护本企业风险点", "Maintain the enterprise's risk points"),
    P.risks_follow_up: ("督促风险管控（标记跟踪）", "Mark risk points for follow-up"),
    P.draws_read: ("查看双随机抽取记录", "Read double-random draws"),
    P.tasks_read: ("查看任务清单", "Read task lists"),
    P.tasks_issue: ("编制、下达任务清单", "Draw up and issue task lists"),
    P.tasks_progress: ("办理、报送任务", "Work and report on tasks"),
    P.reports_read: ("查看群众举报", "Read public reports"),
    P.reports_handle: ("办理群众举报（分派、调查、查实、奖励、办结）", "Handle public reports"),
    P.reports_view_reporter: ("查看举报人身份（保密）", "See a reporter's identity"),
    P.reports_audit: ("查看举报人身份查阅记录", "Read who saw reporters' identities"),
    P.imports_write: ("批量导入", "Bulk import"),
    P.changes_read: ("读取变更流", "Read the change feed"),
    P.webhooks_manage: ("管理 Webhook 订阅", "Manage webhook subscriptions"),
}
