"""The case file (卷宗, DOCUMENTS.md §4): cover, index with page numbers, then every
document in the prescribed order, uploaded scans in their place."""
import io
import logging
from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, PageBreak, Spacer, Table, TableStyle

from ..agreements.models import AgreementKind
from ..attachments.models import DocumentKind
from ..diary.models import EntryKind
from ..i18n import fmt_date
from ..labels import OUTCOME_LABELS, PARTY_ROLE_LABELS, SEX_LABELS, SOURCE_LABELS
from ..timeutil import age_on, local_date_of, local_today
from ..transfers.services import holder_at
from .documents import (
    GRID,
    WIDTH,
    _grid,
    _label,
    _signature_block,
    agreement_story,
    committee_of,
    mediators_line,
    printed_contacts,
    session_record_story,
)
from .pdf import PAGE, REGULAR, build, markup, para, safe, styles

if TYPE_CHECKING:
    from pypdf import Transformation

log = logging.getLogger(__name__)


class _Mark(Flowable):
    """Invisible: notes the page a section starts on, for the index."""

    def __init__(self, key: int, pages: dict):
        super().__init__()
        self.key, self.pages = key, pages
        self.width = self.height = 0

    def draw(self):
        self.pages[self.key] = self.canv.getPageNumber()


def _accepted(case):
    """The acceptance step (the latest, after a reopening none is added), or None."""
    steps = [e for e in case.events if e.kind == "accept"]
    return steps[-1] if steps else None


def register_unit(case):
    """The unit whose committee fills the intake register: the one that accepted the case
    (or, before acceptance, the one that registered it), not whoever holds it now."""
    accepted = _accepted(case)
    return holder_at(case, accepted.at) if accepted is not None else case.origin_unit


def notice_unit(case):
    """The unit that gave the notice of rights and duties: the holder when its date was
    recorded (at registration, or the edit that entered it)."""
    when = case.created_at
    for e in case.events:
        if e.kind == "edited" and "rights_notice_date" in (e.changes or {}):
            when = e.at
    return holder_at(case, when)


def _age(p, on) -> str:
    born = p.known_birth_date
    return f"{age_on(born, on)}岁" if born else "＿＿"


def register_party_lines(case, p, s) -> list:
    """A party on the 2010 register: 姓名 性别 民族 年龄 / 职业或职务 联系方式 / 单位或住址
    (a protected party's phone and address are not printed)."""
    phone, address = printed_contacts(p)
    role = PARTY_ROLE_LABELS[p.role]
    line1 = (f"{role}：{p.name}　性别：{SEX_LABELS[p.sex] if p.sex else '＿＿'}　民族：{p.ethnicity or '＿＿'}　"
             f"年龄：{_age(p, case.intake_date)}")
    line2 = f"职业或职务：{p.occupation or '＿＿＿＿'}　联系方式：{phone or '＿＿＿＿'}"
    line3 = f"单位或住址：{address or '＿＿＿＿＿＿＿＿'}" + (f"　身份证号：{p.id_masked}" if p.id_number else "")
    return [para(line1, s["body"]), para(line2, s["body"]), para(line3, s["body"]), Spacer(1, 1.5 * mm)]


def intake_register(case, committee: str | None = None) -> list:
    """人民调解受理登记表 (DOCUMENTS.md §2), filled in the name of the committee that accepted
    the case: the parties with age, contacts and address, who registered and who accepted it, when."""
    s = styles()
    committee = committee or committee_of(register_unit(case))
    applicants = "、".join(p.name for p in case.parties if p.role.value == "applicant")
    respondents = "、".join(p.name for p in case.parties if p.role.value == "respondent")
    accepted = _accepted(case)
    accepted_by = accepted.actor.display_name if accepted is not None and accepted.actor else "＿＿＿＿"
    accepted_on = fmt_date(local_date_of(case.accepted_at)) if case.accepted_at else "＿＿＿＿年＿＿月＿＿日"
    return [
        markup("人民调解受理登记表", s["title"]), para(case.number, s["number"]),
        para(f"{fmt_date(case.intake_date)}，本人民调解委员会依"
             f"{'当事人申请' if case.source.value == 'party' else '职权（主动调解）'}，经当事人同意，调解"
             f"{applicants}与{respondents}之间的纠纷。", s["body"]),
        Spacer(1, 3 * mm),
        para(f"纠纷类型：{case.category.name_zh}", s["body"]),
        para(f"案件来源：{SOURCE_LABELS[case.source]}" + (f"（{case.referrer}）" if case.referrer else ""), s["body"]),
        markup(_label("当事人："), s["h2"]), *[x for p in case.parties for x in register_party_lines(case, p, s)],
        markup(_label("纠纷简要情况："), s["h2"]), para(case.summary, s["body"]),
        *([markup(_label("当事人申请事项："), s["h2"]), para(case.claims, s["body"])] if case.claims else []),
        Spacer(1, 3 * mm),
        # The signatures, the seal with its date and the remark move to a new page together: a
        # page holding only the seal's date and the remark read as a blank one (QA).
        KeepTogether([
            para(f"登记人：{case.created_by.display_name}　登记日期：{fmt_date(case.intake_date)}", s["body"]),
            para(f"受理人：{accepted_by}　受理日期：{accepted_on}", s["body"]),
            Spacer(1, 6 * mm),
            _signature_block(["当事人（签名）", "登记人（签名）"], s),
            Spacer(1, 6 * mm), para(f"{committee}（印章）", s["number"]), para(fmt_date(case.intake_date), s["number"]),
            para("备注：此表由人民调解委员会填写", s["small"]),
        ]),
    ]


RIGHTS = [
    ("一、人民调解委员会的性质", ["人民调解委员会是依法设立的调解民间纠纷的群众性组织，调解不收取任何费用。"]),
    ("二、调解原则", ["在当事人自愿、平等的基础上进行调解；", "不违背法律、法规和国家政策；",
                   "尊重当事人的权利，不得因调解而阻止当事人依法通过仲裁、行政、司法等途径维护自己的权利。"]),
    ("三、调解协议的效力", ["经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。",
                        "双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院申请司法确认。"]),
    ("四、当事人享有的权利", ["（一）选择或者接受人民调解员；", "（二）接受调解、拒绝调解或者要求终止调解；",
                          "（三）要求调解公开进行或者不公开进行；", "（四）自主表达意愿、自愿达成调解协议。"]),
    ("五、当事人承担的义务", ["（一）如实陈述纠纷事实；", "（二）遵守调解现场秩序，尊重人民调解员；",
                          "（三）尊重对方当事人行使权利。"]),
]


def rights_notice(case, committee: str | None = None) -> list:
    """当事人权利义务告知书, in the name of the committee that gave it (``notice_unit``)."""
    s = styles()
    committee = committee or committee_of(notice_unit(case))
    story = [markup("当事人权利义务告知书", s["title"]), para(case.number, s["number"]),
             para("根据有关法律、法规的要求，现将人民调解委员会的性质、调解原则和法律效果，以及当事人在调解活动中"
                  "享有的权利和承担的义务告知如下：", s["body"])]
    for head, lines in RIGHTS:
        story.append(markup(_label(head), s["h2"]))
        story += [para(line, s["body"]) for line in lines]
    given = fmt_date(case.rights_notice_date) if case.rights_notice_date else "＿＿＿＿年＿＿月＿＿日"
    story += [Spacer(1, 8 * mm), _signature_block([f"当事人 {p.name}（签名）" for p in case.parties], s),
              Spacer(1, 4 * mm), para(f"告知日期：{given}", s["number"]), para(f"{committee}", s["number"])]
    return story


def _closing_report(case, user) -> list:
    s = styles()
    mediators = "、".join([case.lead_mediator.display_name] if case.lead_mediator else [])
    rows = [(k, para(v, s["cell"])) for k, v in [
        ("卷号", case.number), ("承办单位", case.unit.label), ("承办人", mediators or "—"),
        ("受案时间", fmt_date(case.intake_date)),
        ("结案时间", fmt_date(case.closed_at) if case.closed_at else "—"),
        ("当事人", "\n".join(f"{p.name}　{printed_contacts(p)[1] or ''}" for p in case.parties)),
        ("案件来源", str(SOURCE_LABELS[case.source])),
        ("纠纷简要事实", case.summary),
        ("调解结果", str(OUTCOME_LABELS[case.outcome]) if case.outcome else "—"),
        ("填表人", user.display_name), ("填表时间", fmt_date(local_today())),
    ]]
    return [markup("人民调解结案报告表", s["title"]), _grid(rows)]


class _PdfSlot(Flowable):
    """Room for one page of an uploaded PDF: the rest of the frame (a fresh page when
    less than MIN_HEIGHT is left). Notes its page and box; the page is merged into
    that box once the layout is done, so page numbers and the index count it."""

    MIN_HEIGHT = 120 * mm

    def __init__(self, key, slots: dict, caption: list | None = None):
        """``caption``: paragraphs drawn above the slot (the file's title), kept with it."""
        super().__init__()
        self.key, self.slots, self.caption = key, slots, caption or []
        self.width = self.height = 0

    def wrap(self, availWidth, availHeight):  # noqa: N803 - ReportLab's names
        self.width = availWidth
        self._caption = sum(p.wrap(availWidth, 1e6)[1] for p in self.caption)
        # Less room than that: too tall, so the frame moves it to the next page.
        least = self.MIN_HEIGHT + self._caption
        self.height = availHeight - 1 if availHeight >= least else least
        return self.width, self.height

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802, N803
        top = y + self.height
        for p in self.caption:
            top -= p.height
            p.drawOn(canvas, x, top)
        self.slots[self.key] = (canvas.getPageNumber(), x, y, self.width, self.height - self._caption)


def _fit(page, box) -> "Transformation":
    """Place a page (its crop box, turned by its /Rotate) in ``box`` (x, y, width,
    height): as large as fits, centred, at the top."""
    from pypdf import Transformation  # pypdf (15 MB) is loaded by the workers that merge a PDF

    x, y, w, h = box
    crop = page.cropbox
    width, height = float(crop.width), float(crop.height)
    fit = Transformation().translate(-float(crop.left), -float(crop.bottom))
    turn = (page.rotation or 0) % 360  # clockwise, as viewers show the page
    if turn == 90:
        fit, width, height = fit.rotate(-90).translate(0, width), height, width
    elif turn == 180:
        fit = fit.rotate(180).translate(width, height)
    elif turn == 270:
        fit, width, height = fit.rotate(90).translate(height, 0), height, width
    scale = min(w / width, h / height)
    return fit.scale(scale, scale).translate(x + (w - width * scale) / 2, y + h - height * scale)


MAX_MERGED_PAGES = 200  # as MAX_PDF_PAGES at upload


def pdf_pages(data: bytes) -> list | None:
    """The pages of an uploaded PDF, ready to merge, or None when it cannot be read
    (damaged, or encrypted with a password): the case file then says so instead."""
    from pypdf import PdfReader, PdfWriter  # (see _fit)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        if len(reader.pages) > MAX_MERGED_PAGES:
            return None  # (uploaded before the page limit): listed with a note, not merged
        pages = list(reader.pages)
        trial = PdfWriter()
        for page in pages:
            # A dry run of what the merge will do, so that a broken page shows here.
            trial.add_blank_page(PAGE[0], PAGE[1]).merge_transformed_page(page, _fit(page, (0, 0, *PAGE)))
        return pages or None
    except Exception:  # noqa: BLE001 - any damage to an upload must not stop the print
        log.warning("case file: an uploaded PDF cannot be read", exc_info=True)
        return None


def _merge_uploads(data: bytes, slots: dict, uploads: dict) -> bytes:
    """Draw each uploaded PDF page into the slot the layout kept for it."""
    if not slots:
        return data
    from pypdf import PdfReader, PdfWriter  # (see _fit)

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.pdf_header = "%PDF-1.7"  # what the uploads use may be newer than ReportLab's 1.3 header says
    for (attachment_id, n), (page_number, *box) in slots.items():
        target = writer.pages[page_number - 1]
        source = uploads[attachment_id][n]
        target.merge_transformed_page(source, _fit(source, box))
        target.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _LayoutOnlyImage(Image):
    """A photo's place on the page, not drawn: the first of the two passes only lays out,
    so it need not carry every photo's bytes."""

    def draw(self):
        pass


def _scans(attachments, kind: DocumentKind | None, read, uploads: dict, slots: dict,
           layout_only: bool = False) -> list:
    """Uploaded photos and PDFs of this kind (all given: None), each under its title: photos fitted to
    the page, every page of a PDF in a page-sized slot (see _PdfSlot); a PDF that
    cannot be read is listed with a visible note."""
    s = styles()
    out = []
    for a in attachments if kind is None else (a for a in attachments if a.kind is kind):
        caption = para(a.title or a.filename, s["label"])
        source = read(a) if a.is_image else None
        if source is not None:
            # The frame is a little narrower than the text width (its padding): keep inside it.
            image = (_LayoutOnlyImage if layout_only else Image)(source, width=WIDTH - 8 * mm, height=180 * mm,
                                                                  kind="proportional")
            out.append(KeepTogether([caption, image]))  # a caption never parts from its photo
        elif uploads.get(a.id):
            pages = uploads[a.id]
            note = para(f"（电子文件 {a.filename}，共 {len(pages)} 页）", s["small"])
            # The title goes on the page of the file's first page.
            out += [_PdfSlot((a.id, n), slots, [caption, note] if n == 0 else None) for n in range(len(pages))]
            continue  # the last page is full: a spacer would start an empty one
        elif a.is_image:
            out.append(KeepTogether([caption, markup(
                '<font color="#c00000">' + safe(f"（照片 {a.filename} 无法读取，未能并入卷宗，请查看系统中的原件）")
                + "</font>", s["small"])]))
        else:
            out.append(KeepTogether([caption, markup(
                '<font color="#c00000">' + safe(f"（电子文件 {a.filename} 无法读取（已损坏或有密码），"
                                                "未能并入卷宗，请查看系统中的原件）") + "</font>", s["small"])]))
        out.append(Spacer(1, 4 * mm))
    return out


def agreement_name(agreement) -> str:
    """The agreement's name in the index, as its page is titled."""
    if agreement is not None and agreement.kind is AgreementKind.ORAL:
        return "人民调解口头协议登记表"
    return "人民调解协议书"


def file_name(case) -> str:
    """卷名 in the customary form: the first applicant and the first respondent, "等"
    for the others of each side, then the kind of dispute: 汤桂珍与周国民等赡养纠纷."""
    def side(role: str) -> str:
        names = [p.name for p in case.parties if p.role.value == role]
        return names[0] + ("等" if len(names) > 1 else "") if names else ""

    applicants, respondents = side("applicant"), side("respondent")
    parties = "与".join(x for x in (applicants, respondents) if x)
    return f"{parties}{case.category.name_zh}纠纷"


def filed(case, user) -> tuple[str, str]:
    """(立卷人, 立卷日期): who archived the case and when; before it is archived, who
    prints the file, and today."""
    if case.archived_at is not None:
        archived = [e for e in case.events if e.kind == "archive"]
        by = archived[-1].actor if archived and archived[-1].actor else None
        return (by.display_name if by else "—"), fmt_date(local_date_of(case.archived_at))
    return user.display_name, fmt_date(local_today())


def case_file_pdf(case, *, entries, agreement, attachments, read_attachment, user, committee: str, config,
                  read_pdf=None) -> bytes:
    """The bound file in the order of DOCUMENTS.md §4. ``read_attachment`` gives a
    photo as a file object, ``read_pdf`` an uploaded PDF's bytes."""
    s = styles()
    uploads = {a.id: pdf_pages(read_pdf(a)) for a in attachments
               if read_pdf is not None and a.content_type == "application/pdf"}
    sessions = [e for e in entries if e.kind is not EntryKind.FOLLOW_UP and e.kind is not EntryKind.INVESTIGATION]
    investigations = [e for e in entries if e.kind is EntryKind.INVESTIGATION]
    follow_ups = [e for e in entries if e.kind is EntryKind.FOLLOW_UP]
    # A file attached to a printed entry goes with that entry's record, whatever its kind.
    printed = {e.id for e in entries}
    by_entry: dict[int, list] = {}
    for a in attachments:
        if a.entry_id in printed:
            by_entry.setdefault(a.entry_id, []).append(a)
    loose = [a for a in attachments if a.entry_id not in printed]

    def build_sections(slots: dict, layout_only: bool):
        """Fresh flowables for each pass: ReportLab flowables keep layout state."""
        def records(items):
            out = []
            for n, e in enumerate(items):
                extra = _scans(by_entry.get(e.id, []), None, read_attachment, uploads, slots, layout_only)
                story, _title = session_record_story(case, e, extra=extra)  # its own unit's committee
                out += ([PageBreak()] if n else []) + story
            return out

        K = DocumentKind

        def scans(kind):
            return _scans(loose, kind, read_attachment, uploads, slots, layout_only)

        def headed(name, flowables):
            """A section of scans only starts with its name, as a divider would."""
            return [markup(name, s["title"]), *flowables] if flowables else []

        agreement_pages = agreement_story(case, agreement, config=config)[0] if agreement else []
        sections = [  # (name, flowables, required)
            ("人民调解受理登记表", intake_register(case) + scans(K.APPLICATION), True),
            ("当事人权利义务告知书", rights_notice(case) + scans(K.RIGHTS_NOTICE), True),
            ("身份证明", headed("身份证明", scans(K.ID_PROOF)), True),
            ("授权委托书", headed("授权委托书", scans(K.AUTHORISATION)), False),
            ("调查记录", records(investigations) + scans(K.INVESTIGATION), False),
            ("证据材料", headed("证据材料", scans(K.EVIDENCE)), False),
            ("人民调解记录", records(sessions) + scans(K.SESSION_RECORD), True),
            (agreement_name(agreement), agreement_pages + scans(K.AGREEMENT), True),
            ("履行凭证", headed("履行凭证", scans(K.RECEIPT)), False),
            ("回访记录", records(follow_ups) + scans(K.FOLLOW_UP), False),
            ("司法确认材料", headed("司法确认材料", scans(K.CONFIRMATION)), False),
            ("结案报告表", _closing_report(case, user), True),
            ("其他材料", headed("其他材料", scans(K.OTHER)), False),
        ]
        return sections

    def story(page_of: dict, marks: dict, slots: dict, layout_only: bool = False) -> list:
        sections = build_sections(slots, layout_only)
        present = [(name, flow) for name, flow, _required in sections if flow]
        missing = [name for name, flow, required in sections if required and not flow]
        mediators = mediators_line(case, entries)  # everyone who mediated it, by unit, the village first
        start = fmt_date(case.accepted_at or case.intake_date)
        ended = case.concluded_at or case.closed_at  # mediation ends at its conclusion
        end = fmt_date(ended) if ended else "　"
        filed_by, filed_on = filed(case, user)
        cover = [Spacer(1, 20 * mm), para(committee, s["title"]), Spacer(1, 10 * mm),
                 markup('<font size="32">调 解 卷 宗</font>', s["title"]), Spacer(1, 25 * mm)]
        cover_rows = [
            ("卷名", file_name(case)), ("卷号", case.number), ("人民调解员", mediators or "—"),
            ("调解日期", f"{start} 至 {end}"), ("立卷人", filed_by), ("立卷日期", filed_on),
            ("保管期限", config["CASE_FILE_RETENTION"]), ("备注", ""),
        ]
        rows = [[markup(_label(k), s["label"]), para(v, s["body"])] for k, v in cover_rows]
        table = Table(rows, colWidths=[35 * mm, 110 * mm],
                      rowHeights=[None if k == "人民调解员" else 12 * mm for k, _v in cover_rows])
        table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), REGULAR), ("LINEBELOW", (1, 0), (1, -1), 0.5, "black"),
                                   ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        out = cover + [table, PageBreak(), markup("卷内目录", s["title"])]
        index = [[markup(_label(h), s["label"]) for h in ("序号", "文书名称", "页号", "备注")]]
        for n, (name, _flow) in enumerate(present, 1):
            index.append([para(str(n), s["cell"]), para(name, s["cell"]), para(str(page_of.get(n, "")), s["cell"]), ""])
        for name in missing:
            index.append(["", para(name, s["cell"]), "", para("缺", s["cell"])])
        table = Table(index, colWidths=[15 * mm, 95 * mm, 20 * mm, 40 * mm], repeatRows=1)
        table.setStyle(GRID)
        out.append(table)
        for n, (_name, flow) in enumerate(present, 1):
            out += [PageBreak(), _Mark(n, marks), *flow]
        out += [PageBreak(), markup("封底", s["title"]), Spacer(1, 10 * mm),
                _signature_block(["立卷人", "检查人"], s), Spacer(1, 4 * mm),
                para("立卷日期：＿＿＿＿年＿＿月＿＿日　　检查日期：＿＿＿＿年＿＿月＿＿日", s["body"])]
        return out

    # Two passes: the first finds the page each document starts on, the second prints
    # the index with those numbers (the index has the same length both times).
    first: dict = {}
    build(story({}, first, {}, layout_only=True), title="", author="")
    second: dict = {}
    slots: dict = {}
    data = build(story(first, second, slots), title=f"{case.number} 调解卷宗", author=user.display_name,
                 subject="调解卷宗")
    return _merge_uploads(data, slots, uploads)


__all__ = ["case_file_pdf", "safe"]
