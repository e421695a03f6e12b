"""The printed documents (DOCUMENTS.md), each built from the case as bytes. Printed
forms are official Chinese documents, so their wording is Chinese whatever the UI language."""
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from ..diary.models import EntryKind
from ..i18n import fmt_date, fmt_datetime
from ..labels import (
    ENTRY_KIND_LABELS,
    MODE_LABELS,
    PARTY_ROLE_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
    SEX_LABELS,
)
from .pdf import REGULAR, FieldGrid, build, markup, para, safe, styles

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


def _party_line(p) -> str:
    bits = [str(PARTY_ROLE_LABELS[p.role]), p.name]
    if p.sex:
        bits.append(str(SEX_LABELS[p.sex]))
    if p.ethnicity:
        bits.append(p.ethnicity)
    if p.birth_date:
        bits.append(f"{fmt_date(p.birth_date)}生")
    if p.id_number:
        bits.append(f"身份证号 {p.id_masked}")
    return "　".join(bits)


def _case_header(case, s) -> list:
    mediators = [case.lead_mediator.display_name] if case.lead_mediator else []
    mediators += [u.display_name for u in case.co_mediators]
    rows = [
        [markup(_label("案件编号"), s["label"]), para(case.number, s["cell"]),
         markup(_label("承办单位"), s["label"]), para(case.unit.label, s["cell"])],
        [markup(_label("纠纷类别"), s["label"]), para(case.category.name_zh, s["cell"]),
         markup(_label("调解员"), s["label"]), para("、".join(mediators) or "—", s["cell"])],
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


def _entry_rows(case, entry, s) -> list[tuple]:
    """Every field of an entry as (label, value paragraph) rows."""
    parties = {p.id: p for p in case.parties}
    present = "、".join(parties[i].name for i in entry.party_ids if i in parties)

    rows: list[tuple] = []

    def row(label, value):
        rows.append((label, para(value, s["cell"])))

    when = fmt_date(entry.occurred_on)
    if entry.start_time:
        when += entry.start_time.strftime(" %H:%M")
    if entry.duration_minutes:
        when += f"（{entry.duration_minutes} 分钟）"
    row("时间", when)
    row("地点", entry.place or "—")
    if entry.mode:
        row("方式", str(MODE_LABELS[entry.mode]))
    row("到场当事人", present or "—")
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
    if entry.satisfaction:
        row("满意程度", str(SATISFACTION_LABELS[entry.satisfaction]))
    if entry.remaining_risk:
        row("遗留风险", entry.remaining_risk)
    if entry.next_step or entry.next_date:
        when = f"（{fmt_date(entry.next_date)}）" if entry.next_date else ""
        row("下一步", (entry.next_step or "") + when)
    for a in entry.amendments:
        row("更正", f"{a.text}\n（{a.by.display_name}，{fmt_datetime(a.at)}，理由：{a.reason}）")
    return rows


def diary_pdf(case, entries, *, author: str) -> bytes:
    """调解日记: the case header, then every entry given, in order, with all its fields."""
    s = styles()
    story = [markup("婚姻家庭纠纷调解日记", s["title"]), para(case.number, s["number"])]
    story += _case_header(case, s)
    if not entries:
        story.append(para("（暂无记录）", s["body"]))
    for n, entry in enumerate(entries, 1):
        heading = f"{n}. {fmt_date(entry.occurred_on)}　{ENTRY_KIND_LABELS[entry.kind]}"
        mark = "　<font color='#c00000'>【保密】</font>" if entry.confidential else ""
        head = markup(safe(heading) + mark, s["h2"])
        story += [head, _grid(_entry_rows(case, entry, s))]
    return build(story, title=f"{case.number} 调解日记", author=author, subject="婚姻家庭纠纷调解日记")


def _signature_block(names: list[str], s) -> Table:
    """Signature places, two to a row: the label, then a ruled blank to sign on
    (a drawn line, so it never wraps like typed underscores would)."""
    cells = []
    for n in names:
        cells += [markup(safe(n) + "：", s["cell"]), ""]
    while len(cells) % 4:
        cells.append("")
    rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]
    table = Table(rows, colWidths=[50 * mm, 35 * mm, 50 * mm, 35 * mm])
    style = [("FONT", (0, 0), (-1, -1), REGULAR), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
             ("TOPPADDING", (0, 0), (-1, -1), 8 * mm)]
    for r, row in enumerate(rows):
        for c in (1, 3):
            if row[c - 1] != "":
                style.append(("LINEBELOW", (c, r), (c, r), 0.6, colors.black))
    table.setStyle(TableStyle(style))
    return table


def session_record_pdf(case, entry, *, author: str, committee: str) -> bytes:
    """人民调解记录 (or 调查记录 for an investigation) for one entry, to be read back and signed."""
    story, title = session_record_story(case, entry, committee=committee)
    return build(story, title=f"{case.number} {title}", author=author, subject=title)


def session_record_story(case, entry, *, committee: str) -> tuple[list, str]:
    s = styles()
    investigation = entry.kind is EntryKind.INVESTIGATION
    title = "人民调解调查记录" if investigation else "人民调解记录"
    parties = {p.id: p for p in case.parties}
    present = [parties[i] for i in entry.party_ids if i in parties]
    story = [markup(title, s["title"]), para(case.number, s["number"])]
    if entry.confidential:
        story.insert(1, markup("<font color='#c00000'>【保密】</font>", s["number"]))
    rows = [(k, para(v, s["cell"])) for k, v in [
        ("时间", fmt_date(entry.occurred_on) + (entry.start_time.strftime(" %H:%M") if entry.start_time else "")),
        ("地点", entry.place or "—"),
        ("当事人", "\n".join(_party_line(p) for p in (present or case.parties))),
        ("参加人", entry.others_present or "—"),
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
    story += [markup(_label("调解结果"), s["h2"]), para(entry.result or "—", s["body"]), Spacer(1, 4 * mm)]
    for a in entry.amendments:
        story.append(para(f"更正（{a.by.display_name}，{fmt_datetime(a.at)}，理由：{a.reason}）：{a.text}", s["body"]))
    story.append(para("以上记录已向当事人宣读（或经当事人阅读），确认无误。", s["body"]))
    story.append(Spacer(1, 6 * mm))
    signers = [f"当事人 {p.name}（签名）" for p in (present or case.parties)]
    signers += ["被调查人（签名）", "调查人（签名）"] if investigation else ["人民调解员（签名）"]
    signers.append("记录人（签名）")
    story.append(KeepTogether([_signature_block(signers, s), Spacer(1, 8 * mm),
                               para(f"{committee}（印）", s["number"]), para("＿＿＿＿年＿＿月＿＿日", s["number"])]))
    return story, title


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
    from ..screening.services import protected_party_ids

    if p.id in protected_party_ids(p.case):
        return PROTECTED, PROTECTED
    return p.phone, p.address


def _party_block(p, s) -> list:
    """Three lines per party as on the 2010 form: 姓名 性别 民族 出生 / 职业 联系方式 / 住址 (+ 身份证号)."""
    role = PARTY_ROLE_LABELS[p.role]
    line1 = f"{role}：{p.name}　性别：{SEX_LABELS[p.sex] if p.sex else '＿＿'}　民族：{p.ethnicity or '＿＿'}　" \
            f"出生日期：{fmt_date(p.birth_date) if p.birth_date else '＿＿＿＿'}"
    phone, address = printed_contacts(p)
    line2 = f"职业或职务：{p.occupation or '＿＿＿＿'}　联系方式：{phone or '＿＿＿＿'}"
    line3 = f"单位或住址：{address or '＿＿＿＿＿＿＿＿'}　身份证号：{p.id_masked or '＿＿＿＿＿＿＿＿'}"
    return [para(line1, s["body"]), para(line2, s["body"]), para(line3, s["body"]), Spacer(1, 2 * mm)]


def agreement_pdf(case, agreement, *, author: str, committee: str, config) -> bytes:
    """人民调解协议书 as DOCUMENTS.md §1; an oral agreement prints as its register (§4)."""
    story, title = agreement_story(case, agreement, committee=committee, config=config)
    return build(story, title=f"{case.number} {title}", author=author, subject=title)


def agreement_story(case, agreement, *, committee: str, config) -> tuple[list, str]:
    from ..agreements.models import AgreementKind

    s = styles()
    oral = agreement.kind is AgreementKind.ORAL
    title = "人民调解口头协议登记表" if oral else "人民调解协议书"
    story = [markup(title, s["title"]), para(f"编号：{case.number}", s["number"])]
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
        story.append(para(f"本协议一式{agreement.copies}份，当事人、人民调解委员会各持一份。", s["body"]))
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
    return story, title


def diary_book_pdf(title: str, days: list[tuple], *, author: str) -> bytes:
    """调解日记本: entries of one mediator or one unit over a month, grouped by day.
    ``days`` is [(date, [(case, entry), ...]), ...]."""
    s = styles()
    story = [markup("婚姻家庭纠纷调解日记本", s["title"]), para(title, s["number"])]
    if not days:
        story.append(para("本月没有记录。", s["body"]))
    for day, items in days:
        story.append(markup(_label(fmt_date(day)), s["h2"]))
        for case, entry in items:
            head = f"{case.number}　{ENTRY_KIND_LABELS[entry.kind]}" + (
                entry.start_time.strftime("　%H:%M") if entry.start_time else "")
            story.append(markup(safe(head) + ("　<font color='#c00000'>【保密】</font>" if entry.confidential else ""),
                                s["label"]))
            story += [_grid(_entry_rows(case, entry, s)), Spacer(1, 3 * mm)]
    return build(story, title=f"调解日记本 {title}", author=author, subject="调解日记本")
