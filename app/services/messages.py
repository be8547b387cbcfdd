"""The texts the service writes to people (reminders, notifications), one template per kind.

A message is stored with its kind, its ``data`` and its Chinese text as written (the record of
what was sent). Read under ``Accept-Language: en``, it is written again in English from the same
template and data, so the two languages never drift and a later kind (task lists, reports,
inspections) only adds its template here. The data carries what the text said at the time (the
hazard's number, title and deadline then), so a later change to the hazard does not rewrite
what was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple


class Text(NamedTuple):
    title: str
    body: str


Template = Callable[[Mapping[str, Any], bool], Text]
TEMPLATES: dict[str, Template] = {}


def template(kind: str) -> Callable[[Template], Template]:
    def register(fn: Template) -> Template:
        TEMPLATES[kind] = fn
        return fn

    return register


def render(kind: str, data: Mapping[str, Any], english: bool) -> Text:
    """The title and body of a message of ``kind`` (a registered template) in one language."""
    return TEMPLATES[kind](data, english)


def localized(
    kind: str, data: Mapping[str, Any] | None, title: str, body: str, english: bool
) -> Text:
    """A stored message in the caller's language: Chinese as stored; English from its template,
    or the stored text when the kind has no template or its data lacks what the template needs
    (never an error on read)."""
    if not english or kind not in TEMPLATES or not data:
        return Text(title, body)
    try:
        return render(kind, data, english=True)
    except (KeyError, TypeError, ValueError):
        return Text(title, body)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


@template("hazard_deadline_warning")
def _deadline_warning(d: Mapping[str, Any], english: bool) -> Text:
    """预警: ``days_left`` days before the deadline (0: on the day)."""
    number, title, deadline, days = d["number"], d["title"], d["deadline"], int(d["days_left"])
    if english:
        when = f"today ({deadline})" if days == 0 else f"on {deadline}, in {_days(days)}"
        act = "today" if days == 0 else "in time"
        return Text(
            f"Deadline warning: hazard {number}",
            f'Hazard {number} "{title}" is due {when}; please complete the rectification {act}.',
        )
    if days == 0:
        body = f"隐患 {number}《{title}》的整改期限为今天（{deadline}），请于今日完成整改。"
    else:
        body = (
            f"隐患 {number}《{title}》的整改期限为 {deadline}，还有 {days} 天到期，请按期完成整改。"
        )
    return Text(f"隐患整改期限预警：{number}", body)


@template("hazard_overdue")
def _overdue(d: Mapping[str, Any], english: bool) -> Text:
    """逾期: ``days_overdue`` days after the deadline."""
    number, title, deadline, days = d["number"], d["title"], d["deadline"], int(d["days_overdue"])
    if english:
        return Text(
            f"Overdue: hazard {number}",
            f'Hazard {number} "{title}" is {_days(days)} overdue (deadline {deadline}); '
            "please see that it is rectified.",
        )
    return Text(
        f"隐患逾期提醒：{number}",
        f"隐患 {number}《{title}》已逾期 {days} 天（整改期限 {deadline}），请督促整改。",
    )


@template("task_list_issued")
def _task_list_issued(d: Mapping[str, Any], english: bool) -> Text:
    """A list issued: to the users of every assignee unit and enterprise."""
    title, unit = d["title"], d["unit"]
    if english:
        return Text(
            f"Task list issued: {title}",
            f'{unit} has issued the task list "{title}" with tasks for you; please see to them.',
        )
    return Text(
        f"任务清单下达：{title}",
        f"{unit}下达了任务清单《{title}》，其中有本单位的任务，请抓好落实。",
    )


@template("task_assigned")
def _task_assigned(d: Mapping[str, Any], english: bool) -> Text:
    """A sub-task split down to its assignees."""
    title, code, unit = d["title"], d["code"], d["unit"]
    if english:
        return Text(
            f"Task assigned: {code} {title}",
            f'{unit} has assigned you the task {code} "{title}"; please see to it.',
        )
    return Text(
        f"任务分解下达：{code} {title}",
        f"{unit}向本单位分解下达了任务 {code}《{title}》，请抓好落实。",
    )


@template("task_overdue")
def _task_overdue(d: Mapping[str, Any], english: bool) -> Text:
    """A part of a task past its deadline and not done (the daily run; once per task)."""
    code, title, deadline = d["code"], d["title"], d["deadline"]
    if english:
        return Text(
            f"Task overdue: {code} {title}",
            f'Your part of the task {code} "{title}" was due on {deadline} and is not done.',
        )
    return Text(
        f"任务逾期提醒：{code} {title}",
        f"本单位承担的任务 {code}《{title}》已超过完成期限（{deadline}）尚未完成，请抓紧落实。",
    )


@template("task_report_returned")
def _task_report_returned(d: Mapping[str, Any], english: bool) -> Text:
    """A progress report returned (退回): to the users of the assignee that submitted it."""
    title, code, unit, period, reason = d["title"], d["code"], d["unit"], d["period"], d["reason"]
    if english:
        return Text(
            f"Report returned: {code} {title} ({period})",
            f'{unit} has returned your progress report on task {code} "{title}" for {period}: '
            f"{reason}. Please submit it again.",
        )
    return Text(
        f"进展报告退回：{code} {title}（{period}）",
        f"{unit}退回了本单位关于任务 {code}《{title}》{period} 的进展报告，理由：{reason}。请重新报送。",
    )


@template("hazard_supervised")
def _hazard_supervised(d: Mapping[str, Any], english: bool) -> Text:
    """挂牌督办: to the enterprise, its town and its enforcement department (not the unit that
    listed it), and to the supervisor it named."""
    number, title, unit, deadline = d["number"], d["title"], d["unit"], d.get("deadline")
    if english:
        unit = d.get("unit_en") or unit  # units without an English name stay readable
        due = f" by {deadline}" if deadline else ""
        return Text(
            f"Listed supervision: hazard {number}",
            f'{unit} has put hazard {number} "{title}" under listed supervision; '
            f"please see that it is rectified{due}.",
        )
    due = f"，整改期限 {deadline}" if deadline else ""
    return Text(
        f"重大隐患挂牌督办：{number}",
        f"{unit}对隐患 {number}《{title}》挂牌督办{due}，请督促按期整改到位。",
    )


@template("inspection_to_sign")
def _inspection_to_sign(d: Mapping[str, Any], english: bool) -> Text:
    """A completed inspection record: to each listed inspector who has still to sign it."""
    number, enterprise = d["number"], d["enterprise"]
    if english:
        return Text(
            f"Inspection record to sign: {number}",
            f"The record of inspection {number} of {enterprise} is complete; "
            "please check and sign it.",
        )
    return Text(
        f"检查记录待签名：{number}",
        f"对{enterprise}的检查 {number} 已完成，请核对检查记录并签名。",
    )


_WEBHOOK_REASONS = {
    "failing": ("连续投递失败超过停用期限", "deliveries kept failing past the disabling period"),
    "owner_unavailable": (
        "其所属账号已停用或已无相应权限",
        "its owner was deactivated or lost a permission it needs",
    ),
    "cursor_expired": (
        "未投递的变更已超过保留期限被删除",
        "the changes it had not delivered were deleted by retention",
    ),
    "secret_unavailable": ("签名密钥无法解密", "its signing secret cannot be opened"),
}


@template("webhook_disabled")
def _webhook_disabled(d: Mapping[str, Any], english: bool) -> Text:
    """A subscription the service disabled: to its owner (a client's: the county's admins)."""
    url, reason = d["url"], d["reason"]
    zh, en = _WEBHOOK_REASONS.get(reason, (reason, reason))
    if english:
        return Text(
            "Webhook subscription disabled",
            f"The webhook subscription to {url} was disabled: {en}. Fix the cause and enable "
            "it again; it resumes with the change it could not deliver.",
        )
    return Text(
        "Webhook 订阅已停用",
        f"向 {url} 投递的 Webhook 订阅已停用：{zh}。排除原因后重新启用，将从未能投递的变更继续投递。",
    )
