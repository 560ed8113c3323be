"""Figures that must agree across the workbooks of one run (a 部门整体 workbook's 项目支出 list and
each project's own sheet): the rules, declared here for the catalogue; ``xlcheck.cross_workbook``
applies them once every workbook of a run is verified."""

from __future__ import annotations

from xlcheck.findings import Severity
from xlcheck.rules.registry import rule

PROJECT_AMOUNT_DIFFERS = rule(
    "project-amount-differs",
    Severity.ERROR,
    "项目金额与项目表不符",
    "Project figure differs from its own sheet",
    "同一单位、同一年度一起校验的工作簿中，部门整体的项目支出表所列某项目的金额与该项目自评表上的金额"
    "（如全年执行数）不相等。两个工作簿各得到一条，各自指明另一处的文件和单元格。",
    "“{name}”这里的{here_label}为 {here}，而《{other_file}》{other_place}的{there_label}为 {there}，两处应相等",
    "'{name}': {here_label} is {here} here but {there_label} in {other_file} ({other_place}) is {there}; "
    "they must be equal",
)
PROJECT_SHEET_MISSING = rule(
    "project-sheet-missing",
    Severity.WARNING,
    "项目没有对应的项目表",
    "Listed project without its sheet",
    "与项目自评表一起校验时，项目支出表列出的某个项目在同一单位、同一年度的项目自评表中找不到"
    "（按项目名称匹配），项目支出合计因此无法与各项目核对。",
    "“{name}”在本次校验的{detail_title}中没有对应的表（同一单位、同一年度已校验 {count} 个项目），"
    "项目支出合计无法与各项目核对；请补报该项目的表，或核对项目名称",
    "'{name}' has none of the {count} {detail_title_en} verified for this unit and year; the list's "
    "total cannot be checked against the projects; send its sheet or check the name",
)
PROJECT_TOTAL_DIFFERS = rule(
    "project-total-differs",
    Severity.ERROR,
    "项目支出合计与各项目表之和不符",
    "Project total differs from the projects' sheets",
    "项目支出表列出的每个项目都有项目自评表时，项目支出表的合计应等于各项目表金额之和"
    "（多出未列入项目支出表的项目表时也会不等）。",
    "{here_label}为 {here}，而同一单位、同一年度的 {count} 个项目表的{there_label}之和为 {there}{extra}",
    "{here_label} is {here}, but the {there_label} of the {count} project sheets of this unit and "
    "year add up to {there}{extra_en}",
)
