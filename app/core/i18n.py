"""Language negotiation: Chinese by default, English when the caller asks for it."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_english(request: HTTPConnection) -> bool:
    """The listed language we speak with the highest quality (RFC 9110 §12.5.4); on a tie the
    first listed; Chinese when neither is acceptable."""
    header = request.headers.get("accept-language", "")
    best, english = 0.0, False
    for part in header.split(","):
        tag, *params = part.split(";")
        tag = tag.strip().lower()
        if not tag.startswith(("zh", "en")):
            continue
        quality = _quality(params)
        if quality > best:
            best, english = quality, tag.startswith("en")
    return english


def unit_name(name: str, name_en: str | None, english: bool) -> str:
    """An org unit's name in the caller's language: ``name_en`` when English is wanted and the
    unit has one, else the Chinese ``name`` (units without an English name stay readable)."""
    return name_en if english and name_en else name


def localized_unit_name(request: HTTPConnection, name: str, name_en: str | None) -> str:
    """``unit_name`` with the language taken from the request (for routers such as ``/me``)."""
    return unit_name(name, name_en, wants_english(request))


# Chinese renderings of pydantic's error types; English falls back to pydantic's own text.
VALIDATION_MESSAGES_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_type": "应为字符串",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 RFC 3339",
    "datetime_from_date_parsing": "时间格式应为 RFC 3339",
    "datetime_type": "时间格式应为 RFC 3339",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为数组",
    "json_invalid": "JSON 格式错误",
    "value_error": "取值无效",
    "too_short": "元素过少",
    "too_long": "元素过多",
    "uuid_parsing": "标识格式不正确",
    "url_parsing": "网址格式不正确",
}
