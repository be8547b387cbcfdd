"""Every problem `code` the service answers, with its HTTP status and titles: the one list that
``GET /api/v1/catalogs`` (``problem_codes``) and ``GET /problems/{code}`` read, and that
tests/test_problem_catalogue.py checks against the code base (a code raised anywhere must be
here, and every entry here must be raised somewhere).

A problem's ``type`` is ``/problems/{code}`` (``TYPE_BASE`` in app/core/errors.py), a URI
reference relative to the request URL (RFC 9457 §3.1.1) that resolves on this service.
"""

from __future__ import annotations

from typing import NamedTuple


class ProblemCode(NamedTuple):
    code: str
    status: int
    title_zh: str
    title_en: str


PROBLEM_CODES: tuple[ProblemCode, ...] = (
    # 400
    ProblemCode("bad_request", 400, "请求有误", "Bad request"),
    ProblemCode("malformed_body", 400, "请求体格式错误", "Malformed request body"),
    # The token endpoint's RFC 6749 `invalid_grant` for a refresh token (issue 9, item 10).
    ProblemCode(
        "invalid_refresh_token",
        400,
        "刷新令牌无效、已过期、已使用或已撤销",
        "Refresh token invalid, expired, used or revoked",
    ),
    # Framework errors whose status has no code of its own (the fallback of the HTTP handler).
    ProblemCode("http_error", 400, "请求失败", "Request failed"),
    # 401
    ProblemCode("unauthorized", 401, "未认证或认证失败", "Not authenticated"),
    ProblemCode("invalid_token", 401, "访问令牌无效或已过期", "Invalid or expired access token"),
    ProblemCode("invalid_credentials", 401, "用户名或密码错误", "Wrong username or password"),
    ProblemCode("invalid_client", 401, "客户端凭据错误", "Wrong client credentials"),
    ProblemCode("invalid_metrics_token", 401, "指标访问令牌错误", "Wrong metrics token"),
    # 403
    ProblemCode("forbidden", 403, "无权执行此操作", "Forbidden"),
    ProblemCode("role_not_grantable", 403, "无权授予该角色", "Role not grantable by the caller"),
    ProblemCode("outside_scope", 403, "超出管辖范围", "Outside the caller's scope"),
    ProblemCode("not_a_person", 403, "仅限个人账号", "Only a person's account may do this"),
    ProblemCode(
        "reporter_confidential",
        403,
        "无权查看举报人身份",
        "The reporter's identity is confidential",
    ),
    ProblemCode("action_forbidden", 403, "无权对该隐患执行此操作", "Action not permitted"),
    ProblemCode(
        "acceptance_evidence_forbidden",
        403,
        "无权上传验收材料",
        "Acceptance evidence not permitted",
    ),
    # 404 .. 415
    ProblemCode("not_found", 404, "资源不存在", "Not found"),
    ProblemCode("method_not_allowed", 405, "不支持该请求方法", "Method not allowed"),
    ProblemCode("not_acceptable", 406, "无法提供所请求的格式", "Not acceptable"),
    ProblemCode("request_timeout", 408, "请求发送过慢，已超时", "Request not received in time"),
    ProblemCode("conflict", 409, "资源冲突", "Conflict"),
    ProblemCode("invalid_transition", 409, "当前状态不允许此操作", "Action not allowed now"),
    # issue 16: the file of an export job that is not built (yet, or at all)
    ProblemCode("export_not_ready", 409, "导出文件尚未生成", "The export file is not ready"),
    # issue 16: an export job's file deleted after ANJIAN_EXPORT_RETENTION_HOURS
    ProblemCode("export_expired", 410, "导出文件已过期删除", "The export file has expired"),
    ProblemCode("gone", 410, "资源已不存在", "Gone"),
    # issue 17: a change-feed cursor before what retention keeps
    ProblemCode(
        "cursor_expired",
        410,
        "变更游标已过保留期限",
        "The cursor is older than the retained changes",
    ),
    ProblemCode("duplicate_username", 409, "用户名已存在", "Username already taken"),
    ProblemCode("duplicate_region_code", 409, "区划代码已被使用", "Region code already taken"),
    ProblemCode(
        "duplicate_credit_code", 409, "统一社会信用代码已存在", "Credit code already registered"
    ),
    # issue 17: a PUT by external id naming (by its credit code) a record that has another id
    # in that system
    ProblemCode(
        "external_id_mismatch",
        409,
        "该记录在此系统中已有另一外部编号",
        "The record has another id in this system",
    ),
    ProblemCode(
        "idempotency_in_progress",
        409,
        "相同 Idempotency-Key 的请求正在处理",
        "A request with this Idempotency-Key is in progress",
    ),
    ProblemCode(
        "idempotency_not_replayable",
        409,
        "该 Idempotency-Key 的结果无法重放",
        "The answer under this Idempotency-Key cannot be replayed",
    ),
    ProblemCode(
        "rung_out_of_order", 409, "问责须逐级进行，不能越级", "Accountability rung out of order"
    ),
    ProblemCode("precondition_failed", 412, "资源已被修改，请刷新后重试", "Precondition failed"),
    ProblemCode("payload_too_large", 413, "请求体过大", "Payload too large"),
    ProblemCode("unsupported_media_type", 415, "不支持的媒体类型", "Unsupported media type"),
    # 422
    ProblemCode("validation_error", 422, "请求参数校验失败", "Validation failed"),
    ProblemCode("unknown_parameter", 422, "未知的查询参数", "Unknown query parameter"),
    ProblemCode("unsupported_grant_type", 422, "不支持的授权类型", "Unsupported grant_type"),
    ProblemCode("repeated_parameter", 422, "查询参数重复", "Repeated query parameter"),
    # issue 17: a webhook URL that may not be called (its form, or a private address: SSRF).
    ProblemCode("webhook_url_refused", 422, "不允许的 Webhook 地址", "Webhook URL refused"),
    ProblemCode("invalid_link", 403, "下载链接无效", "Invalid download link"),
    ProblemCode("link_expired", 403, "下载链接已过期", "Download link expired"),
    ProblemCode("invalid_character", 422, "文本含有无法保存的字符", "Unstorable character"),
    ProblemCode(
        "invalid_idempotency_key", 422, "Idempotency-Key 格式无效", "Invalid Idempotency-Key"
    ),
    ProblemCode(
        "idempotency_key_reused",
        422,
        "Idempotency-Key 已用于不同的请求",
        "Idempotency-Key reused for a different request",
    ),
    ProblemCode("wrong_current_password", 422, "当前密码错误", "Wrong current password"),
    ProblemCode(
        "filter_conflicts_with_grouping",
        422,
        "筛选条件与分组维度冲突",
        "Filter conflicts with the grouping",
    ),
    ProblemCode("field_not_writable", 422, "无权修改此字段", "Field not writable"),
    ProblemCode("region_outside_county", 422, "区划不在本县内", "Region outside the county"),
    ProblemCode("unknown_enterprise", 422, "企业不存在", "Unknown enterprise"),
    ProblemCode("unknown_hazard", 422, "隐患不存在", "Unknown hazard"),
    ProblemCode("unknown_org_unit", 422, "单位不存在", "Unknown org unit"),
    # Bulk import (issue 16): the codes of an import's row errors and file errors.
    ProblemCode("invalid_value", 422, "单元格取值无效", "Invalid cell value"),
    ProblemCode("duplicate_in_file", 422, "文件中重复的记录", "Duplicate key in the file"),
    ProblemCode("external_id_conflict", 422, "外部编号冲突", "External ids conflict"),
    ProblemCode("missing_column", 422, "缺少必填列", "Missing required column"),
    ProblemCode(
        "credit_code_check_failed", 422, "统一社会信用代码校验位错误", "Credit code check failed"
    ),
    ProblemCode(
        "caller_changed", 422, "导入发起人已停用或凭据已变更", "The importer's account changed"
    ),
    ProblemCode("file_missing", 422, "上传的文件已不存在", "The uploaded file is gone"),
    ProblemCode(
        "import_interrupted", 422, "导入多次中断，未写入任何数据", "The import was interrupted"
    ),
    ProblemCode("kind_not_importable", 422, "该类型的记录不能导入", "This kind cannot be imported"),
    ProblemCode(
        "importer_not_inspector", 403, "导入人不是所列检查人员", "The importer is not an inspector"
    ),
    ProblemCode(
        "password_not_changed", 422, "已有用户的密码未通过导入修改", "Existing password not changed"
    ),
    ProblemCode("unknown_encoding", 422, "无法识别的文件编码", "Unknown file encoding"),
    ProblemCode("header_not_found", 422, "未找到表头行", "Header row not found"),
    ProblemCode("duplicate_column", 422, "表头中有重复的列", "Duplicate column"),
    ProblemCode("unreadable_file", 422, "文件无法读取", "Unreadable file"),
    ProblemCode("unsupported_file_type", 415, "不支持的文件类型", "Unsupported file type"),
    ProblemCode("file_too_large", 413, "文件解压后过大", "File too large"),
    ProblemCode("too_many_rows", 413, "行数超过上限", "Too many rows"),
    ProblemCode("too_many_cells", 413, "单元格数超过上限", "Too many cells"),
    # Public reports (issue 15).
    ProblemCode("unknown_region", 422, "行政区划不在受理范围内", "Region not served"),
    ProblemCode("region_required", 422, "须填写所在行政区划", "A region code is required"),
    ProblemCode("too_many_photos", 422, "照片过多", "Too many photos"),
    ProblemCode("field_not_allowed", 422, "该操作不接受此字段", "Field not taken by this action"),
    ProblemCode("judgment_required", 422, "重大隐患须填写判定依据", "Judgment required"),
    ProblemCode(
        "unknown_judgment_clause", 422, "判定依据条款不属于所选判定标准", "Unknown judgment clause"
    ),
    ProblemCode("found_at_too_early", 422, "发现时间过早", "Found-at date too early"),
    ProblemCode("deadline_too_late", 422, "整改期限过晚", "Deadline too late"),
    ProblemCode(
        "deadline_reason_required", 422, "须说明整改期限的理由", "Deadline reason required"
    ),
    ProblemCode("extension_too_long", 422, "延期过长", "Extension too long"),
    ProblemCode("evidence_required", 422, "须附整改材料", "Evidence required"),
    ProblemCode("plan_incomplete", 422, "整改方案不完整", "Rectification plan incomplete"),
    ProblemCode("invalid_attachment", 422, "附件无效", "Invalid attachment"),
    ProblemCode("image_too_large", 422, "图片尺寸过大", "Image too large"),
    ProblemCode("image_trailing_data", 422, "图片末尾有多余数据", "Trailing data after image"),
    ProblemCode("image_malformed", 422, "图片无法解析", "Malformed image"),
    ProblemCode("pdf_active_content", 422, "PDF 含有脚本等活动内容", "PDF has active content"),
    ProblemCode("pdf_unreadable", 422, "PDF 无法读取", "Unreadable PDF"),
    ProblemCode("pdf_too_complex", 422, "PDF 结构过于复杂", "PDF too complex"),
    ProblemCode("pdf_encrypted", 422, "PDF 已加密", "Encrypted PDF"),
    # Inspections and enforcement (issue 12).
    ProblemCode(
        "inspection_locked", 409, "检查记录已完成或签名，不能直接修改", "Inspection locked"
    ),
    ProblemCode(
        "results_incomplete", 409, "检查项尚未全部记录结果", "Checklist results incomplete"
    ),
    ProblemCode("hazard_already_linked", 409, "隐患已关联其他检查", "Hazard already linked"),
    # Inspections: the people of a visit in progress (i12-itest).
    ProblemCode(
        "certified_inspectors_required",
        409,
        "执法检查须保留两名以上持有执法证的检查人员",
        "Two certified inspectors required",
    ),
    ProblemCode("unknown_inspector", 422, "检查人员无效", "Unknown inspector"),
    ProblemCode("unknown_expert", 422, "外聘专家无效", "Unknown expert"),
    ProblemCode("inspectors_required", 422, "须指定检查人员", "Inspectors required"),
    ProblemCode("unknown_checklist", 422, "检查表不存在", "Unknown checklist"),
    ProblemCode("unknown_checklist_item", 422, "检查项不存在", "Unknown checklist item"),
    ProblemCode("invalid_follow_up", 422, "回头检查的复查对象无效", "Invalid follow-up"),
    ProblemCode("outcome_required", 422, "须作出处理决定", "Outcome required"),
    ProblemCode("invalid_outcome", 422, "处理决定无效", "Invalid outcome"),
    ProblemCode("penalty_not_allowed", 422, "此类检查不作出处罚", "Penalty not allowed"),
    ProblemCode(
        "exempt_findings_only",
        422,
        "依法不予处罚的隐患不能作为罚款依据",
        "Findings exempt from penalty",
    ),
    ProblemCode("unknown_risk_point", 422, "风险点不存在", "Unknown risk point"),
    ProblemCode("invalid_assessment", 422, "风险评价输入无效", "Invalid risk assessment"),
    # issue 14, task lists and tasks
    ProblemCode("unknown_task_list", 422, "任务清单不存在", "Unknown task list"),
    ProblemCode("unknown_task", 422, "任务不存在", "Unknown task"),
    ProblemCode("unknown_assignee", 422, "责任单位不是该任务的责任单位", "Unknown assignee"),
    ProblemCode("duplicate_assignee", 422, "责任单位重复", "Assignee named twice"),
    ProblemCode(
        "assignee_out_of_scope", 422, "责任单位不在下达单位的范围内", "Assignee out of scope"
    ),
    ProblemCode("task_list_not_draft", 409, "任务清单已下达", "Task list already issued"),
    ProblemCode("not_a_dispatch_list", 409, "不是调度指标清单", "Not a dispatch list"),
    ProblemCode("invalid_period", 422, "报告期不符合任务周期或尚未开始", "Invalid report period"),
    ProblemCode("unknown_indicator", 422, "调度指标不属于该清单", "Unknown indicator"),
    ProblemCode(
        "report_already_submitted", 409, "该报告期已报送进展报告", "Report already submitted"
    ),
    ProblemCode(
        "risk_point_without_measures",
        409,
        "风险点尚无管控措施",
        "Risk point has no control measures",
    ),
    ProblemCode(
        "risk_color_derived",
        422,
        "企业风险等级由风险点确定",
        "Risk colour derived from risk points",
    ),
    ProblemCode("hazard_not_exempt", 422, "该隐患不属于依法不予处罚的情形", "Hazard not exempt"),
    # issue 12, double-random draws (双随机一公开)
    ProblemCode("draw_pool_empty", 422, "没有符合条件的企业可供抽取", "Empty enterprise pool"),
    ProblemCode(
        "draw_unpaired", 422, "抽中企业无法配齐回避属地的检查人员", "No pair of inspectors"
    ),
    ProblemCode("inspector_not_certified", 422, "检查人员没有执法证号", "Inspector not certified"),
    # issue 12, checklists and blacklist (i12-check)
    ProblemCode(
        "checklist_read_only",
        409,
        "检查表为只读（平台预置或由风险点生成）",
        "Checklist is read-only",
    ),
    ProblemCode(
        "checklist_not_current", 409, "只能修改检查表的当前版本", "Not the current version"
    ),
    ProblemCode(
        "duplicate_checklist_code", 409, "检查表编号已被使用", "Checklist code already taken"
    ),
    ProblemCode("duplicate_item_code", 422, "检查项编号重复", "Duplicate checklist item code"),
    ProblemCode(
        "blacklist_entry_removed", 409, "该黑名单记录已移出", "Blacklist entry already removed"
    ),
    # end i12-check
    # 429, 5xx
    ProblemCode("too_many_requests", 429, "请求过于频繁", "Too many requests"),
    ProblemCode("rate_limited", 429, "请求过于频繁，请稍后再试", "Rate limit exceeded"),
    ProblemCode("login_throttled", 429, "登录失败次数过多，请稍后再试", "Too many failed sign-ins"),
    ProblemCode("internal_error", 500, "服务器内部错误", "Internal error"),
    ProblemCode(
        "database_unavailable",
        503,
        "数据库暂时不可用，请稍后重试",
        "The database is unavailable; retry later",
    ),
    ProblemCode(
        "reporter_unavailable",
        503,
        "举报人身份暂时无法读取（密钥未配置）",
        "The reporter's identity cannot be opened (its key is not configured)",
    ),
)

PROBLEM_CODES_BY_CODE: dict[str, ProblemCode] = {p.code: p for p in PROBLEM_CODES}
assert len(PROBLEM_CODES_BY_CODE) == len(PROBLEM_CODES), "duplicate problem code"
