"""Stated figures in a report's text: each number with its unit, its decimals and what it is.

A figure is read the way people write them: 1,133.49 or 1133.49, 万元/元/亿元, full-width digits,
99.93% or 百分之九十九点九三. Numbers that are not figures are masked first: years and dates,
document numbers (湛财绩〔2024〕5 号), list numbers ((一), 1.), and anything inside quotation marks
or book-title marks (a project called “……等7项”). A figure is then named by the label just
before it (``labels``); a change (增长 5.2%, 比上年减少 20 万元) or last year's figure is told apart
from this year's, so it is never checked as the figure itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from xlcheck.records import record
from xlcheck.rounding import Interval, decimals_written, stated

#: Written unit → (kind, scale to the unit a field of that kind is kept in: 万元, fraction, 1).
UNITS: dict[str, tuple[str, float]] = {
    "元": ("amount", 1e-4),
    "千元": ("amount", 0.1),
    "万元": ("amount", 1.0),
    "亿元": ("amount", 1e4),
    "%": ("percent", 0.01),
    "‰": ("percent", 0.001),
    "人": ("count", 1.0),
    "名": ("count", 1.0),
    "个": ("count", 1.0),
    "项": ("count", 1.0),
    "户": ("count", 1.0),
    "分": ("score", 1.0),
    "个百分点": ("points", 0.01),
    "百分点": ("points", 0.01),
    "": ("bare", 1.0),
}
_UNIT_PATTERN = "|".join(
    re.escape(u) if u != "分" else "分(?![别钟类管工配析期值数布散批])"
    for u in sorted((u for u in UNITS if u), key=len, reverse=True)
)
_NUMBER = re.compile(
    r"(?<![\d.A-Za-z])(?P<number>-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))(?![\d])"
    rf"\s*(?P<unit>{_UNIT_PATTERN})?"
)
_CHINESE_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_PERCENT_WORDS = re.compile(r"百分之\s*(?P<number>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百点]+)")

#: Not figures: masked before numbers are read (replaced by □, keeping every offset).
_NOT_FIGURES = (
    re.compile(r"“[^”]*”|《[^》]*》|「[^」]*」|『[^』]*』|\"[^\"]*\""),  # names and titles
    re.compile(r"[〔\[【(（]\s*\d{4}\s*[〕\]】)）]\s*\d+\s*号"),  # 湛财绩〔2024〕5 号
    re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"),  # dates
    re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月份?"),
    re.compile(r"(?:19|20)\d{2}\s*(?:年度?|年末|年初)"),  # years
    re.compile(r"(?:^|(?<=[。；：！？\s]))\s*(?:\d+[.．、](?!\d)|[(（]\d+[)）])"),  # 1.  (2)
    re.compile(r"第\s*\d+\s*[项条款章节页次批届期号]?"),
)
#: Words between a label and its number that make the number a change, not the figure.
CHANGE_WORDS = (
    "增长", "增加", "减少", "下降", "降低", "提高", "上升", "同比", "环比", "比上年", "较上年",
    "比去年", "较去年", "增幅", "降幅", "变动", "上年同期", "多支", "少支", "超支", "节约",
)  # fmt: skip
#: Words before a label that make it last year's figure (上年实际支出 1000 万元).
PREVIOUS_WORDS = ("上年", "去年", "上一年", "上年度", "上年同期")
#: Words between a label and its number that make the number a weight, not a score.
WEIGHT_WORDS = ("分值", "满分", "权重", "标准分")
#: Words before a number that make it points taken off (扣 3 分), not a score.
DEDUCTION_WORDS = ("扣",)
#: Where a clause ends: the label of a figure is looked for after the last of these.
CLAUSE_END = "，,。；;：:、！？!?（(\n"
SENTENCE_END = "。！？!?\n"
#: Words that make a figure a total of the figures listed before it in the paragraph.
TOTAL_WORDS = ("合计", "总计", "共计", "总额", "累计")


@record
class Figure:
    """A number stated in a paragraph (offsets into the paragraph's normalised text).

    Attributes:
        value: as written, in the written unit (99.93 for 99.93%, 1133.49 for 1133.49 万元).
        decimals: decimals as written.
        unit: the written unit (万元, %, 人, 分 …; empty for a bare number).
        kind: ``amount``, ``percent``, ``count``, ``score``, ``points`` or ``bare``.
        change: the number is a change or comparison (增长 5.2%, 比上年减少 20 万元).
        previous: the figure is last year's (上年实际支出).
        weight: the number is a weight (分值 5 分), not a score.
        share_word: ``占`` stands between the label and the number (占 72.44%).
    """

    start: int
    end: int
    value: float
    decimals: int
    unit: str
    kind: str
    change: bool = False
    previous: bool = False
    weight: bool = False
    share_word: bool = False

    @property
    def interval(self) -> Interval:
        """What the figure stands for, in the unit its kind is kept in (万元, fraction, 1)."""
        return stated(self.value, self.decimals, UNITS[self.unit][1])

    @property
    def scaled(self) -> float:
        return self.value * UNITS[self.unit][1]


def normalise_text(text: str) -> str:
    """Full-width digits, letters, ％ and ． as ASCII; every offset kept (one character for one).

    Chinese punctuation (，。；：（）) stays as it is: it separates clauses.
    """
    keep = set("，；：（）！？、")
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E and ch not in keep:
            out.append(chr(code - 0xFEE0))
        elif ch in "\u3000\u00a0":
            out.append(" ")
        elif ch == "−":
            out.append("-")
        else:
            out.append(ch)
    return "".join(out)


def mask_non_figures(text: str) -> str:
    """``text`` with years, dates, document and list numbers and quoted names blanked (□)."""
    masked = list(text)
    for pattern in _NOT_FIGURES:
        for match in pattern.finditer(text):
            for index in range(match.start(), match.end()):
                if masked[index].isdigit():
                    masked[index] = "□"
    return "".join(masked)


def chinese_number(words: str) -> tuple[float, int] | None:
    """九十九点九三 → (99.93, 2); 七十二 → (72, 0); None when not a number."""
    whole, _, fraction = words.partition("点")
    total, digit = 0, None
    for ch in whole:
        if ch in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[ch]
        elif ch == "十":
            total += (digit if digit is not None else 1) * 10
            digit = None
        elif ch == "百":
            total += (digit if digit is not None else 1) * 100
            digit = None
        else:
            return None
    total += digit or 0
    if not fraction:
        return float(total), 0
    if not all(ch in _CHINESE_DIGITS for ch in fraction):
        return None
    decimals = "".join(str(_CHINESE_DIGITS[ch]) for ch in fraction)
    return float(f"{total}.{decimals}"), len(decimals)


def find_figures(text: str) -> list[Figure]:
    """Every stated figure in a paragraph's normalised text, in order."""
    masked = mask_non_figures(text)
    found: list[tuple[int, int, float, int, str]] = []
    for match in _PERCENT_WORDS.finditer(masked):
        words = match.group("number")
        parsed = (
            (float(words), decimals_written(words)) if words[0].isdigit() else chinese_number(words)
        )
        if parsed is not None:
            found.append((match.start(), match.end(), *parsed, "%"))
    for match in _NUMBER.finditer(masked):
        if any(start <= match.start() < end for start, end, *_ in found):
            continue
        if match.start() > 0 and masked[match.start() - 1] == "+":
            continue  # +5.2% is a change
        number = match.group("number").replace(",", "")
        unit = match.group("unit") or ""
        found.append((match.start(), match.end(), float(number), decimals_written(number), unit))
    figures: list[Figure] = []
    previous_end = 0
    for start, end, value, decimals, unit in sorted(found):
        lead = masked[max(clause_begin(masked, start), previous_end) : start]
        figures.append(_classify(lead, start, end, value, decimals, unit))
        previous_end = end
    return figures


def _classify(lead: str, start: int, end: int, value: float, decimals: int, unit: str) -> Figure:
    """A figure, judged by ``lead``: its clause's text since the figure before it."""
    kind = UNITS[unit][0]
    words = lead.rstrip(" 为是达到约:：")
    return Figure(
        start,
        end,
        value,
        decimals,
        unit,
        kind,
        change=kind == "points" or any(word in lead for word in CHANGE_WORDS),
        weight=words.endswith(WEIGHT_WORDS),
        share_word="占" in lead,
    )


def clause_begin(text: str, position: int) -> int:
    """Where the clause holding ``position`` starts (just after the last 、，；：。 before it)."""
    index = position
    while index > 0 and text[index - 1] not in CLAUSE_END:
        index -= 1
    return index


def sentence_span(text: str, position: int) -> tuple[int, int]:
    """The sentence (to 。！？) holding ``position``, as (start, end) offsets."""
    start = position
    while start > 0 and text[start - 1] not in SENTENCE_END:
        start -= 1
    end = position
    while end < len(text) and text[end] not in SENTENCE_END:
        end += 1
    return start, min(end + 1, len(text))


def previous_word_before(text: str, position: int) -> bool:
    """Whether last year's words stand right before ``position`` (上年实际支出)."""
    window = text[max(0, position - 4) : position]
    return any(window.endswith(word) for word in PREVIOUS_WORDS)


def figures_between(figures: Sequence[Figure], start: int, end: int) -> list[Figure]:
    return [f for f in figures if start <= f.start < end]
