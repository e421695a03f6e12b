"""The printed documents (DOCUMENTS.md), each built from the case as bytes. Printed
forms are official Chinese documents, so their wording is Chinese whatever the UI language."""
from flask import current_app
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from ..agreements.models import AgreementKind
from ..diary.models import EntryKind, Performance
from ..extensions import db
from ..i18n import fmt_date, fmt_datetime
from ..labels import (
    ENTRY_KIND_LABELS,
    MODE_LABELS,
    PARTY_ROLE_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
    SEX_LABELS,
)
from ..screening.services import protected_party_ids
from ..transfers.services import mediators_by_unit
from ..users.models import User
from .pdf import REGULAR, FieldGrid, HeadedGrid, RunningHead, build, markup, para, safe, styles

GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), REGULAR),  # empty cells too: else the page names Helvetica
    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
])
WIDTH = 170 * mm


def _label(text: str) -> str:
    return f"<b>{safe(text)}</b>"


def committee_of(unit) -> str:
    """The committee a paper names: ``COMMITTEE_NAME`` when set, else the unit's own
    (上阳村人民调解委员会). Each paper names the unit whose work it records, at the time."""
    return current_app.config.get("COMMITTEE_NAME") or f"{unit.name}人民调解委员会"


def mediators_line(case, entries, sep: str = "\n") -> str:
    """Everyone who mediated the case (``entries``: the diary entries printed), by unit, the
    lowest tier first: "上阳村：上阳村调解员\n薛埠镇：薛埠镇负责人、王芳" (one unit: the names)."""
    groups = mediators_by_unit(case, entries)
    if len(groups) == 1:
        return "、".join(groups[0][1])
    return sep.join(f"{unit.name}：{'、'.join(names)}" for unit, names in groups)


def holders_line(case) -> str:
    """The units that held the case, in order: 上阳村（薛埠镇）→ 薛埠镇."""
    chain = []
    for h in case.holdings:
        if not chain or chain[-1].id != h.unit_id:
            chain.append(h.unit)
    if not chain or chain[-1].id != case.unit_id:
        chain.append(case.unit)
    return " → ".join(u.label for u in chain)


def _party_line(p) -> str:
    bits = [str(PARTY_ROLE_LABELS[p.role]), p.name]
    if p.sex:
        bits.append(str(SEX_LABELS[p.sex]))
    if p.ethnicity:
        bits.append(p.ethnicity)
    if p.known_birth_date:
        bits.append(f"{fmt_date(p.known_birth_date)}生")
    if p.id_number:
        bits.append(f"身份证号 {p.id_masked}")
    return "　".join(bits)


def _case_header(case, entries, s) -> list:
    """Number, the units that held the case and everyone who mediated it, by unit."""
    rows = [
        [markup(_label("案件编号"), s["label"]), para(case.number, s["cell"]),
         markup(_label("承办单位"), s["label"]), para(holders_line(case), s["cell"])],
        [markup(_label("纠纷类别"), s["label"]), para(case.category.name_zh, s["cell"]),
         markup(_label("调解员"), s["label"]), para(mediators_line(case, entries) or "—", s["cell"])],
        [markup(_label("当事人"), s["label"]),
         markup("<br/>".join(safe(_party_line(p)) for p in case.parties), s["cell"]), "", ""],
    ]
    table = Table(rows, colWidths=[22 * mm, 63 * mm, 22 * mm, 63 * mm], repeatRows=0)
    table.setStyle(GRID)
    table.setStyle(TableStyle([("SPAN", (1, 2), (3, 2))]))
    return [table, Spacer(1, 4 * mm)]


LABEL_WIDTH = 28 * mm


def _grid(rows, label_width: float = LABEL_WIDTH) -> FieldGrid:
    """Label | value rows in a ruled grid; a long value breaks across pages."""
    return FieldGrid(rows, label_width=label_width, width=WIDTH)


def _present(case, entry) -> list:
    """The parties ticked present, in the case's order of parties."""
    return [p for p in case.parties if p.id in set(entry.party_ids or [])]


def _mediators_present(case, entry) -> list[str]:
    """The names of the mediators ticked present (a mediator since taken off the case too)."""
    ids = list(getattr(entry, "mediator_ids", None) or [])
    if not ids:
        return []
    known = {u.id: u.display_name for u in ([case.lead_mediator] if case.lead_mediator else [])
             + list(case.co_mediators)}
    missing = [i for i in ids if i not in known]
    if missing:
        known |= {u.id: u.display_name for u in db.session.query(User).filter(User.id.in_(missing))}
    return [known[i] for i in ids if i in known]


def _when(entry) -> str:
    """Date, time and duration: 2026年11月3日 14:30（90 分钟）."""
    when = fmt_date(entry.occurred_on)
    if entry.start_time:
        when += entry.start_time.strftime(" %H:%M")
    if entry.duration_minutes:
        when += f"（{entry.duration_minutes} 分钟）"
    return when


def _next_step(entry) -> str:
    when = f"（{fmt_date(entry.next_date)}）" if entry.next_date else ""
    return (entry.next_step or "") + when


def _entry_rows(case, entry, s) -> list[tuple]:
    """Every field of an entry as (label, value paragraph) rows."""
    parties = {p.id: p for p in case.parties}
    present = "、".join(p.name for p in _present(case, entry))
    mediators = "、".join(_mediators_present(case, entry))

    rows: list[tuple] = []

    def row(label, value):
        rows.append((label, para(value, s["cell"])))

    row("时间", _when(entry))
    row("调解组织", committee_of(entry.unit))
    row("地点", entry.place or "—")
    if entry.mode:
        row("方式", str(MODE_LABELS[entry.mode]))
    row("到场当事人", present or "—")
    if mediators:
        row("到场调解员", mediators)
    if entry.others_present:
        row("其他参加人", entry.others_present)
    row("记录人", entry.author.display_name)
    if entry.issues:
        row("争议焦点", entry.issues)
    for pid, text in entry.positions.items():
        p = parties.get(int(pid))
        if p is not None:
            row(f"{p.name}意见", text)
    if entry.proposals:
        row("调解方案", entry.proposals)
    if entry.result:
        row("结果与进展", entry.result)
    if entry.performance:
        row("履行情况", str(PERFORMANCE_LABELS[entry.performance]))
    for n, item in enumerate(entry.term_performance or [], 1):
        row(f"第{_numeral(n)}项履行", term_finding(item))
    if entry.satisfaction:
        row("满意程度", str(SATISFACTION_LABELS[entry.satisfaction]))
    if entry.remaining_risk:
        row("遗留风险", entry.remaining_risk)
    if entry.next_step or entry.next_date:
        row("下一步", _next_step(entry))
    for a in entry.amendments:
        row("更正", f"{a.text}\n（{a.by.display_name}，{fmt_datetime(a.at)}，理由：{a.reason}）")
    return rows


SECRET = "　<font color='#c00000'>【保密】</font>"


def diary_pdf(case, entries, *, author: str) -> bytes:
    """调解日记: the case header, then every entry given, in order, with all its fields.
    An entry's heading stays with its grid; the part of an entry that goes on over the
    next page is headed "…（续）"; pages after the first carry the case number."""
    s = styles()
    story = [markup("婚姻家庭纠纷调解日记", s["title"]), para(case.number, s["number"]),
             RunningHead(f"婚姻家庭纠纷调解日记　{case.number}")]
    story += _case_header(case, entries, s)
    if not entries:
        story.append(para("（暂无记录）", s["body"]))
    for n, entry in enumerate(entries, 1):
        heading = f"{n}. {fmt_date(entry.occurred_on)}　{ENTRY_KIND_LABELS[entry.kind]}"
        mark = SECRET if entry.confidential else ""
        story.append(HeadedGrid([markup(safe(heading) + mark, s["h2"])], _grid(_entry_rows(case, entry, s)),
                                (safe(heading + "（续）") + mark, s["h2"])))
    return build(story, title=f"{case.number} 调解日记", author=author, subject="婚姻家庭纠纷调解日记")


SIGNATURE_CELL = 50 * mm
_CELL_PADDING = 6  # Table's default left and right padding


def _signature_label(text: str, s):
    """"当事人 汤桂珍（签名）：" as one line, or when too wide for its cell, broken just
    before the bracket: a label never breaks inside "（签名）"."""
    label = text + "："
    style = s["cell"]
    room = SIGNATURE_CELL - 2 * _CELL_PADDING
    cut = label.rfind("（")
    if pdfmetrics.stringWidth(label, REGULAR, style.fontSize) <= room or cut <= 0:
        return markup(safe(label), style)
    return markup(safe(label[:cut].rstrip()) + "<br/>" + safe(label[cut:]), style)


def _signature_block(names: list[str], s) -> Table:
    """Signature places, two to a row: the label, then a ruled blank to sign on
    (a drawn line, so it never wraps like typed underscores would)."""
    cells = []
    for n in names:
        cells += [_signature_label(n, s), ""]
    while len(cells) % 4:
        cells.append("")
    rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]
    table = Table(rows, colWidths=[SIGNATURE_CELL, 35 * mm, SIGNATURE_CELL, 35 * mm])
    style = [("FONT", (0, 0), (-1, -1), REGULAR), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
             ("TOPPADDING", (0, 0), (-1, -1), 8 * mm)]
    for r, row in enumerate(rows):
        for c in (1, 3):
            if row[c - 1] != "":
                style.append(("LINEBELOW", (c, r), (c, r), 0.6, colors.black))
    table.setStyle(TableStyle(style))
    return table


def record_title(entry) -> str:
    """The printed name of one entry's record."""
    if entry.kind is EntryKind.FOLLOW_UP:
        return "人民调解回访记录"
    if entry.kind is EntryKind.INVESTIGATION:
        return "人民调解调查记录"
    return "人民调解记录"


def session_record_pdf(case, entry, *, author: str, committee: str | None = None) -> bytes:
    """人民调解记录 (调查记录 for an investigation, 回访记录 for a follow-up) for one
    entry, to be read back and signed; under the committee of the entry's unit."""
    story, title = session_record_story(case, entry, committee=committee)
    return build(story, title=f"{case.number} {title}", author=author, subject=title)


def _record_head(case, entry, title: str, s) -> list:
    story = [RunningHead(f"{title}（续）　{case.number}"), markup(title, s["title"]), para(case.number, s["number"])]
    if entry.confidential:
        story.insert(2, markup("<font color='#c00000'>【保密】</font>", s["number"]))
    return story


def _closing(signers: list[str], committee: str, s, *, lead: list | None = None) -> KeepTogether:
    """The signatures with the seal and the date, kept on one page together with
    ``lead`` (the lines just before them), so they never stand alone."""
    return KeepTogether([*(lead or []), _signature_block(signers, s), Spacer(1, 8 * mm),
                         para(f"{committee}（印）", s["number"]), para("＿＿＿＿年＿＿月＿＿日", s["number"])])


def session_record_story(case, entry, *, committee: str | None = None,
                         extra: list | None = None) -> tuple[list, str]:
    """The record of one entry as flowables (``extra``, e.g. the entry's scans, goes
    before its end) and its title. Shows the kind, how it was held, the duration, the
    parties and mediators present and the next step; a follow-up prints as 回访记录.
    The committee is that of the unit whose work the entry records (``entry.unit``), not
    the case's holder now."""
    committee = committee or committee_of(entry.unit)
    if entry.kind is EntryKind.FOLLOW_UP:
        return follow_up_story(case, entry, committee=committee, extra=extra), record_title(entry)
    s = styles()
    investigation = entry.kind is EntryKind.INVESTIGATION
    title = record_title(entry)
    parties = {p.id: p for p in case.parties}
    present = _present(case, entry)
    story = _record_head(case, entry, title, s)
    rows = [(k, para(v, s["cell"])) for k, v in [
        ("时间", _when(entry)),
        ("地点", entry.place or "—"),
        ("类型", str(ENTRY_KIND_LABELS[entry.kind])),
        ("方式", str(MODE_LABELS[entry.mode]) if entry.mode else "—"),
        ("当事人", "\n".join(_party_line(p) for p in present) or "—"),
        ("调查人" if investigation else "调解员", "、".join(_mediators_present(case, entry)) or "—"),
        ("参加人", entry.others_present or "—"),
        ("记录人", entry.author.display_name),
        ("调解组织", committee),
        ("事由", f"{case.category.name_zh}纠纷"),
    ]]
    story += [_grid(rows, 22 * mm), Spacer(1, 3 * mm), markup(_label("记录"), s["h2"])]
    body = []
    if entry.issues:
        body.append(f"争议焦点：{entry.issues}")
    for pid, text in entry.positions.items():
        p = parties.get(int(pid))
        if p is not None:
            body.append(f"{PARTY_ROLE_LABELS[p.role]}{p.name}：{text}")
    if entry.proposals:
        body.append(f"调解方案：{entry.proposals}")
    for line in body or ["（无）"]:
        story.append(para(line, s["body"]))
    story += [markup(_label("调查结果" if investigation else "调解结果"), s["h2"]),
              para(entry.result or "—", s["body"]), markup(_label("下一步"), s["h2"]),
              para(_next_step(entry) or "—", s["body"]), Spacer(1, 4 * mm)]
    for a in entry.amendments:
        story.append(para(f"更正（{a.by.display_name}，{fmt_datetime(a.at)}，理由：{a.reason}）：{a.text}", s["body"]))
    signers = [f"当事人 {p.name}（签名）" for p in present] or ["当事人（签名）"]
    signers += ["被调查人（签名）", "调查人（签名）"] if investigation else ["人民调解员（签名）"]
    signers.append("记录人（签名）")
    story.append(_closing(signers, committee, s, lead=[
        para("以上记录已向当事人宣读（或经当事人阅读），确认无误。", s["body"]), Spacer(1, 6 * mm)]))
    return story + list(extra or []) + [RunningHead(None)], title


def term_finding(item: dict) -> str:
    """One term's finding at a follow-up: "三个儿子每月各给母亲生活费600元。——部分履行"."""
    try:
        label = str(PERFORMANCE_LABELS[Performance(item.get("performance"))])
    except ValueError:
        label = "—"
    return f"{item.get('term') or ''}——{label}"


def follow_up_story(case, entry, *, committee: str, extra: list | None = None) -> list:
    """人民调解回访记录 (DOCUMENTS.md §4): who was visited, how, where and when, by whom,
    each term of the agreement performed or not, satisfaction, what was found, what risk
    remains and the next step: every field of the follow-up form."""
    s = styles()
    title = record_title(entry)
    present = _present(case, entry)
    visitors = _mediators_present(case, entry) or [entry.author.display_name]
    terms = [(f"第{_numeral(n)}项", term_finding(item)) for n, item in enumerate(entry.term_performance or [], 1)]
    rows = [(k, para(v, s["cell"])) for k, v in [
        ("当事人", "、".join(p.name for p in present) or "—"),
        ("调解协议编号", case.number), ("回访事由", f"{case.category.name_zh}纠纷调解协议履行情况"),
        ("回访方式", str(MODE_LABELS[entry.mode]) if entry.mode else "走访"),
        ("回访时间", _when(entry)),
        ("地点", entry.place or "—"),
        ("回访人", "、".join(visitors)),
        ("调解组织", committee),
        *([("其他参加人", entry.others_present)] if entry.others_present else []),
        ("履行情况", str(PERFORMANCE_LABELS[entry.performance]) if entry.performance else "—"),
        *terms,
        ("满意程度", str(SATISFACTION_LABELS[entry.satisfaction]) if entry.satisfaction else "—"),
        ("回访情况", entry.result or "—"),
        ("遗留风险", entry.remaining_risk or "—"),
        ("下一步", _next_step(entry) or "—"),
        *[("更正", f"{a.text}\n（{a.by.display_name}，{fmt_datetime(a.at)}，理由：{a.reason}）")
          for a in entry.amendments],
    ]]
    signers = [f"回访人 {name}（签名）" for name in visitors] + [f"被回访人 {p.name}（签名）" for p in present]
    return [*_record_head(case, entry, title, s), _grid(rows), Spacer(1, 8 * mm),
            _closing(signers, committee, s), *(extra or []), RunningHead(None)]


CHINESE_NUMERALS = "一二三四五六七八九十"


def _numeral(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    if n < 20:
        return "十" + CHINESE_NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return CHINESE_NUMERALS[tens - 1] + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")


PROTECTED = "（已保护，不予显示）"


def printed_contacts(p) -> tuple[str, str]:
    """(phone, address) as printed: a protected party's are never printed, since any
    print may reach the other side (see screening.services.protected_party_ids)."""
    if p.id in protected_party_ids(p.case):
        return PROTECTED, PROTECTED
    return p.phone, p.address


def _party_block(p, s) -> list:
    """Three lines per party as on the 2010 form: 姓名 性别 民族 出生 / 职业 联系方式 / 住址 (+ 身份证号)."""
    role = PARTY_ROLE_LABELS[p.role]
    line1 = f"{role}：{p.name}　性别：{SEX_LABELS[p.sex] if p.sex else '＿＿'}　民族：{p.ethnicity or '＿＿'}　" \
            f"出生日期：{fmt_date(p.known_birth_date) if p.known_birth_date else '＿＿＿＿'}"
    phone, address = printed_contacts(p)
    line2 = f"职业或职务：{p.occupation or '＿＿＿＿'}　联系方式：{phone or '＿＿＿＿'}"
    line3 = f"单位或住址：{address or '＿＿＿＿＿＿＿＿'}　身份证号：{p.id_masked or '＿＿＿＿＿＿＿＿'}"
    return [para(line1, s["body"]), para(line2, s["body"]), para(line3, s["body"]), Spacer(1, 2 * mm)]


def agreement_pdf(case, agreement, *, author: str, config, committee: str | None = None) -> bytes:
    """人民调解协议书 as DOCUMENTS.md §1; an oral agreement prints as its register (§4).
    Signed and sealed by the committee of the unit that wrote it (``agreement.unit``)."""
    story, title = agreement_story(case, agreement, committee=committee, config=config)
    return build(story, title=f"{case.number} {title}", author=author, subject=title)


def agreement_story(case, agreement, *, config, committee: str | None = None) -> tuple[list, str]:
    s = styles()
    committee = committee or committee_of(agreement.unit)
    oral = agreement.kind is AgreementKind.ORAL
    title = "人民调解口头协议登记表" if oral else "人民调解协议书"
    story = [RunningHead(f"{title}（续）　编号：{case.number}"), markup(title, s["title"]),
             para(f"编号：{case.number}", s["number"])]
    for p in case.parties:
        story += _party_block(p, s)
    story += [markup(_label("纠纷主要事实、争议事项："), s["h2"]), para(agreement.facts or "—", s["body"])]
    if agreement.disputed_points:
        story += [Spacer(1, 2 * mm), para(agreement.disputed_points, s["body"])]
    story.append(markup(_label("经调解，自愿达成如下协议：") if not oral else _label("口头协议内容："), s["h2"]))
    for n, term in enumerate(agreement.terms, 1):
        story.append(para(f"{_numeral(n)}、{term.content}", s["body"]))
    story.append(markup(_label("履行方式、时限："), s["h2"]))
    for n, term in enumerate(agreement.terms, 1):
        story.append(para(f"{_numeral(n)}、{term.method or '＿＿＿＿'}；{term.deadline or '＿＿＿＿'}", s["body"]))
    story.append(Spacer(1, 3 * mm))
    if not oral:
        story.append(para(f"本协议一式{_numeral(agreement.copies)}份，当事人、人民调解委员会各持一份。", s["body"]))
        if config.get("AGREEMENT_EFFECT_CLAUSE"):
            story.append(para(config["AGREEMENT_EFFECT_CLAUSE"], s["body"]))
        if config.get("AGREEMENT_CONFIRMATION_NOTE"):
            story.append(para(config["AGREEMENT_CONFIRMATION_NOTE"], s["body"]))
    else:
        story.append(para("本口头协议自当事人达成之日起生效，由人民调解员记录其内容（《人民调解法》第二十八条、第三十条）。",
                          s["body"]))
    story.append(Spacer(1, 8 * mm))
    signers = [] if oral else [f"当事人 {p.name}（签名盖章或按指印）" for p in case.parties]
    signers += ["人民调解员（签名）", "记录人（签名）"]
    # Signatures, seal and date stay on one page, as on the paper form.
    story.append(KeepTogether([_signature_block(signers, s), Spacer(1, 10 * mm),
                               para(f"{committee}（印）", s["number"]),
                               para(f"{fmt_date(agreement.reached_on)}", s["number"])]))
    story.append(RunningHead(None))
    return story, title


def diary_book_pdf(title: str, days: list[tuple], *, author: str) -> bytes:
    """调解日记本: entries of one mediator or one unit over a month, grouped by day.
    ``days`` is [(date, [(case, entry), ...]), ...]. A day's heading stays with its
    first entry and an entry's heading with its grid; an entry going on over the next
    page is headed again with its date, case number and "（续）"."""
    s = styles()
    story = [markup("婚姻家庭纠纷调解日记本", s["title"]), para(title, s["number"]),
             RunningHead(f"婚姻家庭纠纷调解日记本　{title}")]
    if not days:
        story.append(para("本月没有记录。", s["body"]))
    for day, items in days:
        day_head = markup(_label(fmt_date(day)), s["h2"])
        for n, (case, entry) in enumerate(items):
            kind = str(ENTRY_KIND_LABELS[entry.kind])
            head = f"{case.number}　{kind}" + (entry.start_time.strftime("　%H:%M") if entry.start_time else "")
            mark = SECRET if entry.confidential else ""
            headings = [day_head] if n == 0 else []
            headings.append(markup(safe(head) + mark, s["entry"]))
            story.append(HeadedGrid(headings, _grid(_entry_rows(case, entry, s)),
                                    (safe(f"{fmt_date(day)}　{case.number}　{kind}（续）") + mark, s["entry"]),
                                    space_after=3 * mm))
    return build(story, title=f"调解日记本 {title}", author=author, subject="调解日记本")
