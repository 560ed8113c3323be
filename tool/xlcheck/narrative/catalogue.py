"""The catalogue of report findings (``xlcheck report check``): codes, meanings, messages.

The same ``Rule`` as the workbook rules' registry (``xlcheck.rules``) in a catalogue of its own,
so that checking a report loads no workbook machinery; ``docs/findings.md`` lists both (``render_catalogue``).
"""

from __future__ import annotations

from xlcheck.findings import Rule, Severity, declare_rule

REPORT_RULES: dict[str, Rule] = {}


def report_rule(
    code: str,
    severity: Severity,
    title: str,
    title_en: str,
    description: str,
    message: str,
    message_en: str,
) -> Rule:
    return declare_rule(
        REPORT_RULES, Rule(code, severity, title, title_en, description, message, message_en)
    )


SUM_MISMATCH = report_rule(
    "report-sum-mismatch",
    Severity.ERROR,
    "合计与分项不符",
    "Total does not add up",
    "报告写出的合计数与同时写出的各分项之和不符，差额超出了各数四舍五入所能解释的范围。",
    "{label}写的是 {actual_text}，但{parts_label}之和为 {expected_text}（{parts}），差 {difference}",
    "{label} is stated as {actual_text}, but {parts_label} add up to {expected_text} ({parts}), {difference} apart",
)
SUM_ROUNDING = report_rule(
    "report-sum-rounding",
    Severity.WARNING,
    "合计与分项有舍位差",
    "Total differs by rounding",
    "合计数与各分项之和不完全相等，但差额在各数四舍五入的范围之内（舍位差），可以不改；如需一致请调整末位。",
    "{label}写的是 {actual_text}，各分项之和为 {expected_text}：差 {difference}，属于四舍五入的舍位差",
    "{label} is stated as {actual_text} and its parts add up to {expected_text}: {difference}, within rounding",
)
SHARE_MISMATCH = report_rule(
    "report-share-mismatch",
    Severity.ERROR,
    "占比不符",
    "Share does not match",
    "“占 x%”与报告写出的部分 ÷ 整体不符。",
    "{label}应为 {expected_text}（{numerator_text} ÷ {denominator_text}），报告写的是 {actual_text}",
    "{label} should be {expected_text} ({numerator_text} ÷ {denominator_text}); the report states {actual_text}",
)
RATE_WRONG_BASE = report_rule(
    "report-rate-wrong-base",
    Severity.ERROR,
    "比率分母用错",
    "Rate on the wrong base",
    "报告写出的比率按它的叫法应以某数为分母，而它实际上是以另一个数为分母算出的（例如把实际支出 ÷ 实际收入写成预算执行率）。",
    "“{words}”{actual_text} 是 {numerator_label} ÷ {wrong_label}（{numerator_text} ÷ {wrong_text}）；{label}应以{base_label}为分母：{numerator_text} ÷ {denominator_text} = {expected_text}",
    "“{words}” {actual_text} is {numerator_label} ÷ {wrong_label} ({numerator_text} ÷ {wrong_text}); {label} is on {base_label}: {numerator_text} ÷ {denominator_text} = {expected_text}",
)
RATE_MISMATCH = report_rule(
    "report-rate-mismatch",
    Severity.ERROR,
    "比率不符",
    "Rate does not match",
    "报告写出的比率与它的分子 ÷ 分母不符，也不是任何其他可能的分母算出的。",
    "“{words}”应为 {expected_text}（{numerator_label} {numerator_text} ÷ {base_label} {denominator_text}），报告写的是 {actual_text}",
    "“{words}” should be {expected_text} ({numerator_label} {numerator_text} ÷ {base_label} {denominator_text}); the report states {actual_text}",
)
SCORE_ABOVE_MAXIMUM = report_rule(
    "report-score-above-maximum",
    Severity.ERROR,
    "总分超过满分",
    "Score above the maximum",
    "报告写出的自评总分超过了评分表的满分（加上模板允许的加分）。",
    "自评得分 {actual_text} 超过了满分 {maximum} 分",
    "The stated score {actual_text} is above the maximum of {maximum}",
)
SCORE_ABOVE_WEIGHT = report_rule(
    "report-score-above-weight",
    Severity.ERROR,
    "得分超过分值",
    "Score above its weight",
    "报告写出的某部分或某项指标的得分超过了它在评分表中的分值。",
    "“{label}”得 {actual_text}，超过了它的分值 {weight} 分",
    "“{label}” scores {actual_text}, above its weight of {weight}",
)
BONUS_USED = report_rule(
    "report-bonus-used",
    Severity.WARNING,
    "使用了加分",
    "Bonus points used",
    "报告写出的总分超过满分但未超过模板允许的加分上限：请确认加分有依据。",
    "自评得分 {actual_text} 超过 {base} 分，使用了加分（上限 {bonus} 分），请确认加分依据",
    "The stated score {actual_text} is above {base}: bonus points used (up to {bonus}); check their basis",
)
GRADE_MISMATCH = report_rule(
    "report-grade-mismatch",
    Severity.ERROR,
    "等级与得分不符",
    "Grade does not match the score",
    "报告写出的等级与自评得分对应的等级不同（按模板的等级划分；优秀、良好等视为同一等级）。",
    "等级应为“{expected_text}”（自评得分 {score}），报告写的是“{actual_text}”",
    "The grade should be “{expected_text}” (score {score}); the report states “{actual_text}”",
)
DIFFERS_FROM_WORKBOOK = report_rule(
    "report-differs-from-workbook",
    Severity.ERROR,
    "与工作簿不一致",
    "Differs from the workbook",
    "报告写出的数字与工作簿中对应单元格（校验后的值）不同：报告、数据表与评分表应当一致。",
    "“{label}”报告写的是 {actual_text}，工作簿 {cell} 为 {expected_text}",
    "“{label}”: the report states {actual_text}, the workbook's {cell} holds {expected_text}",
)
COUNT_MISMATCH = report_rule(
    "report-count-mismatch",
    Severity.ERROR,
    "个数与明细不符",
    "Count does not match the list",
    "报告写出的个数（如“主要支出项目……等 7 项”）与工作簿表格中已填写的行数不同。",
    "报告写的是 {actual_text} 项，工作簿“{sheet}”表填了 {expected_text} 行",
    "The report states {actual_text}, the workbook's “{sheet}” sheet lists {expected_text} rows",
)

SHEET_COUNT_MISMATCH = report_rule(
    "report-sheet-count-mismatch",
    Severity.ERROR,
    "个数与工作簿的表数不符",
    "Count does not match the workbook's sheets",
    "报告写出的个数（如“自评项目共 3 个”）与工作簿中按项重复的表（每个项目一张的项目支出绩效自评表）的张数不同。",
    "报告写的是 {actual_text}，工作簿有 {expected_text} 张“{sheet}”（{names}）",
    "The report states {actual_text}; the workbook has {expected_text} “{sheet}” sheets ({names})",
)


def all_report_rules() -> list[Rule]:
    """The catalogue in code order."""
    return sorted(REPORT_RULES.values(), key=lambda r: r.code)


def render_catalogue() -> str:
    """The report findings' section of ``docs/findings.md``."""
    lines = [
        "## Report finding codes (`xlcheck report check`)",
        "",
        "Generated from `xlcheck.narrative.catalogue`; findings carry `paragraph` and `sentence` instead of `sheet` and `cell`.",
        "",
        "| code | severity | 含义 | meaning | message |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in all_report_rules():
        lines.append(
            f"| `{entry.code}` | {entry.severity.value} | {entry.title}：{entry.description} | {entry.title_en} | {entry.message} |"
        )
    return "\n".join(lines) + "\n"
