"""PDFs read back with pypdf: Chinese text present, fonts embedded, pages numbered,
confidential entries left out unless included, IDs masked, markup printed literally."""
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from mediation.extensions import db
from mediation.timeutil import local_today

from .factories import advance, make_case, write_entry

ID = "320482194203181227"


def text_of(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", "", text), reader


def embedded_fonts(reader: PdfReader) -> set[str]:
    """Names of fonts whose program is embedded (FontFile2: TrueType)."""
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    names.add(str(descendant.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def busy_case(demo):
    """A case with 30 entries, one of them confidential."""
    start = local_today() - timedelta(days=29)
    case = make_case(applicant="张<三>&", respondent="李喆堃䶮", intake_date=start - timedelta(days=1))
    case.parties[0].id_number = ID
    db.session.commit()
    advance(case, "accept", "assign")
    for i in range(30):
        write_entry(case, occurred_on=start + timedelta(days=i), issues=f"第{i + 1}次争议焦点：西旸村的宅基地",
                    result=f"进展{i + 1}号", confidential=(i == 7))
    return case


def test_diary_pdf(busy_case, login):
    resp = login("coord-320413109").get(f"/cases/{busy_case.id}/diary.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition and quote("调解日记") in disposition
    text, reader = text_of(resp.data)
    assert "婚姻家庭纠纷调解日记" in text and busy_case.number in text
    for i in range(30):
        if i == 7:
            assert f"进展{i + 1}号" not in text  # confidential: left out
        else:
            assert f"进展{i + 1}号" in text
    assert "3204**********1227" in text and ID not in text
    assert "张<三>&" in text and "李喆堃䶮" in text and "西旸村" in text
    assert {"/AAAAAA+NotoSansSC-Regular", "/AAAAAA+NotoSansSC-Bold"} <= {re.sub(r"/[A-Z]{6}\+", "/AAAAAA+", n)
                                                              for n in embedded_fonts(reader)}
    pages = len(reader.pages)
    assert pages >= 3 and f"第1页共{pages}页" in text and f"第{pages}页共{pages}页" in text
    assert reader.metadata.title == f"{busy_case.number} 调解日记" and reader.metadata.author == "薛埠镇负责人"
    assert busy_case.events[-1].kind == "printed"


def test_confidential_entries_print_only_on_purpose_and_marked(busy_case, login):
    med = login("med-320413109201")
    text, _ = text_of(med.get(f"/cases/{busy_case.id}/diary.pdf").data)
    assert "进展8号" not in text
    text, _ = text_of(med.get(f"/cases/{busy_case.id}/diary.pdf?confidential=1").data)
    assert "进展8号" in text and "【保密】" in text
    # Someone who may not see it cannot ask for it.
    text, _ = text_of(login("coord-320413109").get(f"/cases/{busy_case.id}/diary.pdf?confidential=1").data)
    assert "进展8号" not in text


def test_amendments_print(busy_case, login):
    entry = busy_case.events and __import__("mediation.diary.services", fromlist=["x"]).visible_entries(
        __import__("tests.factories", fromlist=["user"]).user("med-320413109201"), busy_case)[0]
    login("med-320413109201").post(f"/cases/{busy_case.id}/diary/{entry.id}/amend",
                                   data={"text": "金额应为8600元", "reason": "笔误"})
    text, _ = text_of(login("med-320413109201").get(f"/cases/{busy_case.id}/diary.pdf").data)
    assert "金额应为8600元" in text and "笔误" in text


def test_a_character_no_font_has_is_marked(demo, login):
    case = make_case(applicant="王\U000f0001明")
    advance(case, "accept", "assign")
    write_entry(case)
    text, _ = text_of(login("med-320413109201").get(f"/cases/{case.id}/diary.pdf").data)
    assert "王〔缺字U+F0001〕明" in text


def test_session_record(busy_case, login):
    entry = __import__("mediation.diary.services", fromlist=["x"]).visible_entries(
        __import__("tests.factories", fromlist=["user"]).user("med-320413109201"), busy_case)[3]
    resp = login("med-320413109201").get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf")
    text, reader = text_of(resp.data)
    assert "人民调解记录" in text and "第4次争议焦点" in text and "调解结果" in text
    assert "人民调解员（签名）" in text and "记录人（签名）" in text and "当事人张<三>&（签名）" in text
    assert "上阳村人民调解委员会（印）" in text


def test_outsiders_get_404(busy_case, login):
    for outsider in ("med-320413109202", "coord-320413106"):
        assert login(outsider).get(f"/cases/{busy_case.id}/diary.pdf").status_code == 404


def test_diary_book_groups_a_month_by_day(busy_case, login):
    med = login("med-320413109201")
    # The confidential 8th entry was written 22 days ago: use its month.
    month = (local_today() - timedelta(days=22)).strftime("%Y-%m")
    page = med.get(f"/diary/?month={month}").get_data(as_text=True)
    assert busy_case.number in page
    text, reader = text_of(med.get(f"/diary/book.pdf?month={month}&confidential=1").data)
    assert "婚姻家庭纠纷调解日记本" in text and "上阳村调解员" in text and busy_case.number in text
    assert "进展8号" in text  # the mediator asked for its own confidential entry
    text, _ = text_of(login("coord-320413109").get(f"/diary/book.pdf?month={month}&scope=unit").data)
    assert "进展7号" in text and "进展8号" not in text
    text, _ = text_of(login("med-320413109202").get(f"/diary/book.pdf?month={month}&scope=unit").data)
    assert busy_case.number not in text
    assert med.get("/diary/book.pdf?month=nonsense").status_code == 404


def test_case_file_has_cover_index_with_pages_and_every_document(busy_case, login, app, tmp_path):
    from PIL import Image as PILImage

    from .factories import make_agreement

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    med = login("med-320413109201")
    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case)
    buffer = io.BytesIO()
    PILImage.new("RGB", (600, 800), (250, 250, 250)).save(buffer, "JPEG")
    med.post(f"/cases/{busy_case.id}/attachments/", data={"file": (io.BytesIO(buffer.getvalue()), "id.jpg"),
                                                          "kind": "id_proof", "title": "申请人身份证复印件"},
             content_type="multipart/form-data")
    resp = med.get(f"/cases/{busy_case.id}/file.pdf")
    assert resp.status_code == 200 and quote("调解卷宗") in resp.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(resp.data))
    raw_index = reader.pages[1].extract_text()
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    assert "调解卷宗" in pages[0] and busy_case.number in pages[0]
    assert "卷内目录" in pages[1]
    # Each document named in the index starts on the page the index gives.
    for name in ("人民调解受理登记表", "当事人权利义务告知书", "身份证明", "人民调解记录", "人民调解协议书",
                 "结案报告表"):
        number = re.search(re.escape(name) + r"\s+(\d+)", raw_index)
        assert number, name
        start = int(number.group(1))
        assert name in pages[start - 1], name
    assert "申请人身份证复印件" in "".join(pages)
    text = "".join(pages)
    assert "进展30号" in text and "进展8号" not in text  # confidential left out
    assert "当事人享有的权利" in text and "经调解，自愿达成如下协议" in text and "封底" in text
    assert "320482194203181227" not in text


def test_very_long_text_splits_across_pages(demo, login):
    case = make_case()
    advance(case, "accept", "assign")
    long_text = ("调解员多次走访了解情况，双方对赡养费数额分歧较大。" * 400)[:10000]
    write_entry(case, issues=long_text, result="结果" * 2000)
    text, reader = text_of(login("med-320413109201").get(f"/cases/{case.id}/diary.pdf").data)
    assert len(reader.pages) >= 4 and text.count("双方对赡养费数额分歧较大") >= 300


def test_intake_papers(busy_case, login):
    text, reader = text_of(login("med-320413109201").get(f"/cases/{busy_case.id}/intake.pdf").data)
    assert "人民调解受理登记表" in text and "当事人权利义务告知书" in text and "经当事人同意" in text
    assert "要求调解公开进行或者不公开进行" in text and len(reader.pages) >= 2


def test_case_file_with_long_terms_scans_and_amendments(busy_case, login, app, tmp_path):
    """Regression: flowables reused between the two passes broke the layout."""
    from PIL import Image as PILImage

    from mediation.diary.services import visible_entries

    from .factories import make_agreement, user

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    advance(busy_case, "start", by="med-320413109201")
    long_term = "被申请人自2026年12月起每月支付抚养费800元，至子女年满十八周岁止，每逢节假日可探望两次。" * 6
    make_agreement(busy_case, terms=[{"content": long_term, "method": "转账", "deadline": "每月5日前"}] * 5)
    med = login("med-320413109201")
    for size in ((600, 800), (4000, 1000)):
        buffer = io.BytesIO()
        PILImage.new("RGB", size, (240, 240, 240)).save(buffer, "JPEG")
        med.post(f"/cases/{busy_case.id}/attachments/", data={"file": (io.BytesIO(buffer.getvalue()), "a.jpg"),
                                                              "kind": "agreement", "title": "签字件"},
                 content_type="multipart/form-data")
    entry = visible_entries(user("med-320413109201"), busy_case)[0]
    entry.created_at = entry.created_at.replace(year=entry.created_at.year - 1)
    db.session.commit()
    med.post(f"/cases/{busy_case.id}/diary/{entry.id}/amend", data={"text": "更正后的金额8600元", "reason": "笔误"})
    resp = med.get(f"/cases/{busy_case.id}/file.pdf")
    assert resp.status_code == 200
    text, _ = text_of(resp.data)
    assert "更正后的金额8600元" in text and text.count("签字件") == 2
    text, _ = text_of(med.get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf").data)
    assert "更正后的金额8600元" in text


def test_confidential_entries_print_marked_and_only_on_purpose(busy_case, login):
    from mediation.diary.services import visible_entries

    from .factories import user

    med = login("med-320413109201")
    month = (local_today() - timedelta(days=22)).strftime("%Y-%m")
    text, _ = text_of(med.get(f"/diary/book.pdf?month={month}").data)
    assert "进展8号" not in text
    text, _ = text_of(med.get(f"/diary/book.pdf?month={month}&confidential=1").data)
    assert "进展8号" in text and "【保密】" in text
    secret = [e for e in visible_entries(user("med-320413109201"), busy_case) if e.confidential][0]
    text, _ = text_of(med.get(f"/cases/{busy_case.id}/diary/{secret.id}/record.pdf").data)
    assert "【保密】" in text


def test_timeline_names_the_printed_document(busy_case, login):
    med = login("med-320413109201")
    med.get(f"/cases/{busy_case.id}/diary.pdf")
    timeline = med.get(f"/cases/{busy_case.id}").get_data(as_text=True).split('id="timeline"')[1]
    assert "材料类型：打印调解日记" in timeline


def scan_pdf(pages: int, *, label: str = "SCAN", landscape: bool = False, password: str | None = None) -> bytes:
    """A PDF as a scanner makes it: one line of text per page (Helvetica: pypdf reads it
    back), optionally landscape shown through /Rotate, optionally with a password."""
    from pypdf import PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    size = (A4[1], A4[0]) if landscape else A4
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=size)
    for n in range(pages):
        c.setFont("Helvetica", 28)
        c.drawString(72, size[1] - 120, f"{label} PAGE {n + 1} OF {pages}")
        c.rect(20, 20, size[0] - 40, size[1] - 40)
        c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    if landscape:
        for page in writer.pages:
            page.rotate(90)
    if password:
        writer.encrypt(user_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_case_file_merges_uploaded_pdfs_in_their_place(busy_case, login, app, tmp_path):
    from .factories import make_agreement

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case)
    med = login("med-320413109201")
    for data, kind, title in ((scan_pdf(2, label="EVIDENCE"), "evidence", "银行流水"),
                              (scan_pdf(1, label="SIGNED", landscape=True), "agreement", "协议签字件"),
                              (scan_pdf(1, password="secret"), "receipt", "加密的收据"),
                              (b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n", "confirmation", "损坏的裁定书")):
        med.post(f"/cases/{busy_case.id}/attachments/", data={"file": (io.BytesIO(data), f"{kind}.pdf"),
                                                              "kind": kind, "title": title},
                 content_type="multipart/form-data")
    resp = med.get(f"/cases/{busy_case.id}/file.pdf")
    assert resp.status_code == 200
    reader = PdfReader(io.BytesIO(resp.data))
    assert reader.metadata.title == f"{busy_case.number} 调解卷宗" and resp.data.startswith(b"%PDF-1.7")
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    total = len(pages)
    # Every page, the merged ones too, is numbered out of the real total.
    for n, text in enumerate(pages, 1):
        assert f"第{n}页共{total}页" in text, n
    raw_index = reader.pages[1].extract_text()

    def start(name):
        return int(re.search(re.escape(name) + r"\s+(\d+)", raw_index).group(1))

    # The uploaded pages sit inside their section, in order, one page each.
    evidence = [n for n, text in enumerate(pages, 1) if "EVIDENCEPAGE" in text]
    assert len(evidence) == 2 and "EVIDENCEPAGE1OF2" in pages[evidence[0] - 1]
    assert "EVIDENCEPAGE2OF2" in pages[evidence[1] - 1] and evidence[1] == evidence[0] + 1
    assert start("证据材料") <= evidence[0] < evidence[1] < start("人民调解记录")
    assert "银行流水" in pages[start("证据材料") - 1]
    signed = [n for n, text in enumerate(pages, 1) if "SIGNEDPAGE1OF1" in text]
    assert len(signed) == 1 and start("人民调解协议书") <= signed[0] < start("履行凭证")
    # Unreadable uploads are listed with a visible note, and do not stop the print.
    text = "".join(pages)
    assert "加密的收据" in text and "损坏的裁定书" in text
    assert text.count("无法读取") == 2 and "receipt.pdf" in text and "confirmation.pdf" in text


def fonts_not_embedded(reader: PdfReader) -> set[str]:
    """Names of the fonts in any page's /Font resources whose program is not embedded."""
    missing = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                descriptor = descendant.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(descendant["/BaseFont"]))
    return missing


def test_every_pdf_names_only_embedded_fonts(busy_case, login):
    from mediation.diary.services import visible_entries

    from .factories import make_agreement, user

    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case)
    entry = visible_entries(user("med-320413109201"), busy_case)[0]
    month = (local_today() - timedelta(days=22)).strftime("%Y-%m")
    med = login("med-320413109201")
    for path in (f"/cases/{busy_case.id}/diary.pdf", f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf",
                 f"/cases/{busy_case.id}/agreement.pdf", f"/cases/{busy_case.id}/file.pdf",
                 f"/cases/{busy_case.id}/intake.pdf", f"/diary/book.pdf?month={month}"):
        reader = PdfReader(io.BytesIO(med.get(path).data))
        assert fonts_not_embedded(reader) == set(), path  # no Helvetica left from the canvas


def test_a_pdf_reads_only_the_glyphs_it_embeds(busy_case, login, monkeypatch):
    """Each worker keeps the fonts for its life: it reads a document's glyphs from the file,
    never a whole table (the outlines are 9 MB), and keeps no map only shaping uses."""
    from mediation.printing import pdf

    pdf.register_fonts()
    reads = []
    real = pdf._OnDisk._read
    monkeypatch.setattr(pdf._OnDisk, "_read", lambda self, n, at: reads.append(n) or real(self, n, at))
    resp = login("coord-320413109").get(f"/cases/{busy_case.id}/diary.pdf")
    text, _ = text_of(resp.data)
    assert "婚姻家庭纠纷调解日记" in text and "李喆堃䶮" in text
    assert reads and max(reads) < 64 * 1024
    face = pdf.pdfmetrics.getFont(pdf.REGULAR).face
    assert face.glyphToChar == {} and len(face.hmetrics) == len(face.glyphPos) - 1
    bold = pdf.pdfmetrics.getFont(pdf.BOLD).face  # one character map for both faces
    assert bold.charToGlyph is face.charToGlyph and len(bold.charWidths) == len(face.charToGlyph)


def test_characters_beyond_the_bmp_copy_out_or_are_marked(demo, login):
    """𬌗 (U+2C317) is in the font: it prints and copies out as itself (ReportLab wrote
    an invalid ToUnicode entry for it). 𠮷 (U+20BB7) is not: it is visibly marked."""
    case = make_case(applicant="王𬌗明", respondent="𠮷田䶮")
    advance(case, "accept", "assign")
    write_entry(case, issues="咬𬌗不正与𫓧（U+2B4E7）")
    text, _ = text_of(login("med-320413109201").get(f"/cases/{case.id}/diary.pdf").data)
    assert "王𬌗明" in text and "咬𬌗不正与𫓧" in text
    assert "〔缺字U+20BB7〕田䶮" in text


def test_lines_never_start_with_closing_nor_end_with_opening_punctuation():
    from reportlab.platypus import Paragraph

    from mediation.printing import pdf

    style = pdf.styles()["cell"]
    # At 10 points a 200-point line holds 20 characters: the 21st is a comma, and
    # the 40th an opening bracket, so naive breaking puts "，" first and "（" last.
    text = ("字" * 20 + "，" + "字" * 18 + "（括号）。") * 30 + "王\U000f0001明"

    def lines(paragraph) -> list[str]:
        paragraph.wrap(200, 10000)
        bl = paragraph.blPara
        if bl.kind == 0:
            return ["".join(words) for _space, words in bl.lines]
        return ["".join(w.text for w in line.words) for line in bl.lines]

    naive = lines(Paragraph(pdf.safe(text), style))
    assert any(line.startswith("，") for line in naive)  # ReportLab alone: why this exists
    for paragraph in (pdf.para(text, style), pdf.para(text.replace("\U000f0001", ""), style)):
        wrapped = lines(paragraph)
        assert len(wrapped) > 30
        assert not [line for line in wrapped[1:] if line[:1] in "，。、；：！？）》」』"]
        assert not [line for line in wrapped[:-1] if line[-1:] in "（《「『"]
        assert max(pdf.pdfmetrics.stringWidth(line, pdf.REGULAR, 10) for line in wrapped) <= 200
        assert "".join(wrapped).replace("〔缺字 U+F0001〕", "") == text.replace("\U000f0001", "")


def test_a_value_with_many_lines_breaks_across_pages(demo, login):
    """A cell taller than a page used to stop the print (ReportLab LayoutError)."""
    case = make_case()
    advance(case, "accept", "assign")
    write_entry(case, result="\n".join(f"第{n}行" for n in range(1, 201)))
    resp = login("med-320413109201").get(f"/cases/{case.id}/diary.pdf")
    text, reader = text_of(resp.data)
    assert len(reader.pages) >= 3 and "第1行" in text and "第200行" in text and "结果与进展（续）" in text


def test_ideographic_spaces_are_kept():
    """Forms space their parts with U+3000; the markup cleaner used to squeeze it to " "."""
    from mediation.printing import pdf

    style = pdf.styles()["cell"]
    for paragraph in (pdf.para("申请人　汤桂珍  汉族", style), pdf.para("申请人　汤桂珍  汉族\U000f0001", style),
                      pdf.markup(pdf.safe("申请人　汤桂珍  汉族"), style)):
        paragraph.wrap(400, 1000)
        bl = paragraph.blPara
        line = "".join(bl.lines[0][1]) if bl.kind == 0 else "".join(w.text for w in bl.lines[0].words)
        assert line.startswith("申请人　汤桂珍 汉族"), line


# --- issue: printing, second round -------------------------------------------------------------------------------
# Fakes stand for cases and entries where a test is about layout only (as tests/bench.py does).

STEMS = "甲乙丙丁戊己庚辛壬癸丑寅卯辰巳酉戌亥"  # printed nowhere else: what a test writes is found again
FILLER = STEMS + "，。、；：（）《》“”！？ ABCdef123"


def _village():
    from types import SimpleNamespace as NS

    from mediation.org.models import Tier

    return NS(id=1, name="上阳村", label="上阳村（薛埠镇）", tier=Tier.VILLAGE)


VILLAGE = _village()


def fake_case(n: int = 1, *, parties: int = 2):
    from types import SimpleNamespace as NS

    from mediation.cases.models import PartyRole

    people = [NS(id=i + 1, role=PartyRole.APPLICANT if i == 0 else PartyRole.RESPONDENT,
                 name=["汤桂珍", "周国民", "周国华", "周国强"][i], sex=None, ethnicity="汉族", birth_date=None,
                 known_birth_date=None, id_number="", id_masked="", phone="", address="", occupation="")
              for i in range(parties)]
    lead = NS(id=900, display_name="上阳村调解员")
    return NS(id=n, number=f"（2026）金坛婚调字第{n:04d}号", parties=people, unit=VILLAGE, holdings=[], events=[],
              category=NS(name_zh="赡养"), lead_mediator=lead, co_mediators=[NS(id=901, display_name="薛埠镇调解员")])


def fake_entry(**values):
    from datetime import date
    from types import SimpleNamespace as NS

    from mediation.diary.models import EntryKind, SessionMode

    data = dict(kind=EntryKind.SESSION, occurred_on=date(2026, 11, 3), start_time=None, duration_minutes=None,
                place="", mode=SessionMode.JOINT, party_ids=[1, 2], mediator_ids=[], others_present="",
                author=NS(display_name="上阳村调解员"), issues="", positions={}, proposals="", result="",
                performance=None, satisfaction=None, remaining_risk="", next_step="", next_date=None, amendments=[],
                confidential=False, unit=VILLAGE, term_performance=[])
    data.update(values)
    return NS(**data)


@pytest.fixture(scope="module")
def zh():
    """A request context printing in Chinese, for the documents themselves (no database)."""
    from flask_babel import force_locale

    from .conftest import make_app

    app = make_app("sqlite://")
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        yield app


def pages_of(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def stems(text: str) -> str:
    return "".join(ch for ch in text if ch in STEMS)


def filler(length: int, breaks: bool, seed: int) -> str:
    import random

    rng = random.Random(seed)
    chars = [rng.choice(FILLER) for _ in range(length)]
    if breaks:
        for _ in range(rng.randint(1, 1 + length // 40)):
            chars.insert(rng.randint(0, len(chars)), "\n")
    return "".join(chars)


FIELDS = ("issues", "position1", "position2", "proposals", "result", "remaining_risk", "next_step")


def printed_order(entry) -> str:
    """The text of an entry's fields in the order its grid prints them."""
    return stems(entry.issues + "".join(entry.positions.values()) + entry.proposals + entry.result
                 + entry.remaining_risk + entry.next_step)


def test_the_reported_diary_prints(demo, login):
    """Regression: one entry with these field lengths gave a 500 (a split paragraph was
    drawn without its lines: 'CJKParagraph' object has no attribute 'blPara')."""
    case = make_case()
    advance(case, "accept", "assign")
    applicant, respondent = case.parties

    def chinese(n: int, start: int) -> str:  # as typed: Chinese characters only
        return (STEMS * 100)[start:start + n]

    values = {"issues": chinese(300, 1), "positions": {str(applicant.id): chinese(700, 2),
                                                       str(respondent.id): chinese(300, 3)},
              "result": chinese(10, 4), "next_step": chinese(700, 5)}
    write_entry(case, **values)
    med = login("med-320413109201")
    resp = med.get(f"/cases/{case.id}/diary.pdf")
    assert resp.status_code == 200
    expected = stems(values["issues"] + values["positions"][str(applicant.id)]
                     + values["positions"][str(respondent.id)] + values["result"] + values["next_step"])
    assert stems("".join(pages_of(resp.data))) == expected
    resp = med.get(f"/diary/book.pdf?month={local_today().strftime('%Y-%m')}")
    assert resp.status_code == 200 and stems("".join(pages_of(resp.data))) == expected


@st.composite
def diary_entries(draw):
    from datetime import date, timedelta

    entries = []
    for n in range(draw(st.integers(1, 6))):
        text = {f: filler(draw(st.integers(0, 1500)), draw(st.booleans()), draw(st.integers(0, 10**6)))
                if draw(st.booleans()) else "" for f in FIELDS}
        positions = {k: v for k, v in (("1", text["position1"]), ("2", text["position2"])) if v}
        entries.append(fake_entry(occurred_on=date(2026, 11, 1) + timedelta(days=n // 2), positions=positions,
                                  **{f: text[f] for f in FIELDS if not f.startswith("position")}))
    return entries


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(entries=diary_entries())
def test_diary_and_diary_book_print_every_field_whatever_its_length(zh, entries):
    """Any mix of field lengths (0–1500 characters, with and without line breaks) prints,
    in the diary and in the diary book, and every character of every field is there,
    in order, once."""
    from mediation.printing import documents

    case = fake_case()
    expected = "".join(printed_order(e) for e in entries)
    data = documents.diary_pdf(case, entries, author="test")
    assert stems("".join(pages_of(data))) == expected
    days: dict = {}
    for e in entries:
        days.setdefault(e.occurred_on, []).append((case, e))
    data = documents.diary_book_pdf("上阳村调解员　2026年11月", sorted(days.items()), author="test")
    assert stems("".join(pages_of(data))) == expected


def jpeg(size=(600, 800)) -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", size, (240, 240, 240)).save(buffer, "JPEG")
    return buffer.getvalue()


def attach(client, case, data: bytes, name: str, kind: str, title: str, entry=None):
    form = {"file": (io.BytesIO(data), name), "kind": kind, "title": title}
    if entry is not None:
        form["entry_id"] = str(entry.id)
    return client.post(f"/cases/{case.id}/attachments/", data=form, content_type="multipart/form-data")


def index_starts(reader: PdfReader) -> dict[str, int]:
    """Each document the index (page 2) names, with the page it gives."""
    return {name: int(page) for name, page in re.findall(r"\d+\s+(\S+)\s+(\d+)", reader.pages[1].extract_text())}


def test_other_files_have_their_own_section_in_the_case_file(busy_case, login, app, tmp_path):
    """"其他" files used to print straight under the closing report, with no index row
    nor heading, and a note for an unreadable one on an unlabelled page."""
    from .factories import make_agreement

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case)
    med = login("med-320413109201")
    attach(med, busy_case, jpeg(), "x.jpg", "other", "村委会出具的情况说明")
    attach(med, busy_case, scan_pdf(1, password="secret"), "locked.pdf", "other", "加密的其他材料")
    resp = med.get(f"/cases/{busy_case.id}/file.pdf")
    reader = PdfReader(io.BytesIO(resp.data))
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    starts = index_starts(reader)
    assert "其他材料" in starts and starts["其他材料"] > starts["结案报告表"]
    other = starts["其他材料"]
    assert pages[other - 1].startswith("其他材料") and "村委会出具的情况说明" in pages[other - 1]
    assert "人民调解结案报告表" not in pages[other - 1]  # a page of its own
    assert not any("村委会出具的情况说明" in p or "加密的其他材料" in p for p in pages[:other - 1])
    assert "加密的其他材料" in "".join(pages[other - 1:]) and "无法读取" in "".join(pages[other - 1:])


def test_a_file_attached_to_an_entry_goes_with_its_record(busy_case, login, app, tmp_path):
    from mediation.diary.services import visible_entries

    from .factories import user

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    med = login("med-320413109201")
    entry = visible_entries(user("med-320413109201"), busy_case)[4]  # 第5次
    assert attach(med, busy_case, jpeg(), "sign.jpg", "evidence", "第五次调解签字页", entry).status_code == 302
    reader = PdfReader(io.BytesIO(med.get(f"/cases/{busy_case.id}/file.pdf").data))
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    record = next(n for n, p in enumerate(pages) if "第5次争议焦点" in p)
    following = next(n for n, p in enumerate(pages) if "第6次争议焦点" in p)
    placed = [n for n, p in enumerate(pages) if "第五次调解签字页" in p]
    assert placed and all(record <= n < following for n in placed)
    assert "证据材料" not in index_starts(reader)  # not in the evidence section as well


def test_case_file_cover_names_the_archivist_and_the_file_customarily(busy_case, login):
    from mediation.agreements.models import AgreementKind
    from mediation.printing.case_file import file_name

    from .factories import make_agreement

    assert file_name(fake_case(parties=4)) == "汤桂珍与周国民等赡养纠纷"
    assert file_name(fake_case(parties=2)) == "汤桂珍与周国民赡养纠纷"
    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case, kind=AgreementKind.ORAL)
    advance(busy_case, "conclude", "follow_up", "close", by="med-320413109201")
    advance(busy_case, "archive")  # by the coordinator, 薛埠镇负责人
    reader = PdfReader(io.BytesIO(login("med-320413109201").get(f"/cases/{busy_case.id}/file.pdf").data))
    cover = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert "立卷人薛埠镇负责人" in cover and "上阳村调解员" in cover  # the mediator is the 人民调解员
    starts = index_starts(reader)
    assert "人民调解口头协议登记表" in starts and "人民调解协议书" not in starts
    oral = reader.pages[starts["人民调解口头协议登记表"] - 1].extract_text()
    assert "人民调解口头协议登记表" in re.sub(r"\s+", "", oral)


def test_a_follow_up_prints_as_its_record(busy_case, login):
    from mediation.diary.models import EntryKind, Performance, Satisfaction, SessionMode

    entry = write_entry(busy_case, kind=EntryKind.FOLLOW_UP, mode=SessionMode.PHONE, party_ids=[],
                        performance=Performance.PARTLY, satisfaction=Satisfaction.BASICALLY, issues="",
                        result="已付两个月生活费", remaining_risk="三子仍有怨言", next_step="一个月后再回访")
    resp = login("med-320413109201").get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf")
    text, _ = text_of(resp.data)
    assert quote("回访记录") in resp.headers["Content-Disposition"]
    assert "人民调解回访记录" in text and "人民调解记录" not in text and "（无）" not in text
    for expected in ("履行情况部分履行", "满意程度基本满意", "遗留风险三子仍有怨言", "已付两个月生活费", "回访方式电话",
                     "下一步一个月后再回访", "当事人—"):
        assert expected in text, expected
    assert "张<三>&" not in text and "李喆堃䶮" not in text  # nobody was ticked present


def test_a_record_shows_kind_mode_duration_mediators_and_next_step(busy_case, login):
    from datetime import time

    from mediation.diary.models import EntryKind, SessionMode

    from .factories import user

    applicant = busy_case.parties[0]
    entry = write_entry(busy_case, kind=EntryKind.VISIT, mode=SessionMode.SEPARATE, start_time=time(14, 30),
                        occurred_on=local_today() - timedelta(days=1),
                        duration_minutes=90, party_ids=[applicant.id], mediator_ids=[user("med-320413109201").id],
                        next_step="再约三子面谈", next_date=local_today())
    text, _ = text_of(login("med-320413109201").get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf").data)
    for expected in ("类型走访", "方式背靠背", "14:30（90分钟）", "调解员上阳村调解员", "下一步再约三子面谈",
                     "当事人申请人　张<三>&".replace("　", ""), "当事人张<三>&（签名）"):
        assert expected in text, expected
    assert "李喆堃䶮" not in text  # not present: neither listed nor asked to sign


def test_mediators_may_print_with_confidential_entries_and_the_timeline_says_so(busy_case, login):
    from mediation.cases.models import CaseEvent
    from mediation.diary.services import visible_entries

    from .factories import user

    med = login("med-320413109201")
    page = med.get(f"/cases/{busy_case.id}").get_data(as_text=True)
    assert f"/cases/{busy_case.id}/diary.pdf?confidential=1" in page and "打印（含保密记录）" in page
    assert f"/cases/{busy_case.id}/file.pdf?confidential=1" in page
    page = login("coord-320413109").get(f"/cases/{busy_case.id}").get_data(as_text=True)
    assert "confidential=1" not in page  # not the case's mediator
    med.get(f"/cases/{busy_case.id}/diary.pdf?confidential=1")
    med.get(f"/cases/{busy_case.id}/diary.pdf")
    entry = visible_entries(user("med-320413109201"), busy_case)[3]
    med.get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf")
    printed = [e.changes for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == busy_case.id, CaseEvent.kind == "printed")
        .order_by(CaseEvent.id))]
    assert printed[0]["confidential_included"] is True and printed[1]["confidential_included"] is False
    assert printed[2]["document"] == "session_record" and printed[2]["entry"] == entry.id
    assert printed[2]["entry_date"] == entry.occurred_on.isoformat() and printed[2]["confidential_included"] is False


def test_a_diary_book_print_is_on_the_timeline_of_each_case_in_it(busy_case, login):
    from mediation.cases.models import CaseEvent

    other = make_case(applicant="王芳", respondent="李强")
    advance(other, "accept", "assign")
    write_entry(other, result="另一案进展")
    month = local_today().strftime("%Y-%m")
    login("med-320413109201").get(f"/diary/book.pdf?month={month}")
    for case in (busy_case, other):
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                            CaseEvent.kind == "printed")).all()
        assert [e.changes["document"] for e in events] == ["diary_book"], case.number
        assert events[0].changes["month"] == month and events[0].changes["confidential_included"] is False
        assert events[0].changes["entries"]


def test_a_photo_caption_stays_with_its_photo(zh, tmp_path):
    """Wherever the page ends, a photo's caption is on the photo's page."""
    from types import SimpleNamespace as NS

    from reportlab.platypus import Spacer

    from mediation.attachments.models import DocumentKind
    from mediation.printing import case_file, pdf

    photo = NS(id=1, kind=DocumentKind.EVIDENCE, title="现场照片甲", filename="a.jpg", is_image=True,
               content_type="image/jpeg")
    for room in range(30, 160, 10):  # points left on the first page above the caption
        story = [Spacer(1, 722 - room), *case_file._scans([photo], DocumentKind.EVIDENCE,
                                                            lambda a: io.BytesIO(jpeg()), {}, {})]
        reader = PdfReader(io.BytesIO(pdf.build(story, title="", author="")))
        with_photo = [n for n, page in enumerate(reader.pages) if page.images]
        assert len(with_photo) == 1, room
        assert "现场照片甲" in reader.pages[with_photo[0]].extract_text(), room


def test_an_uploaded_pdfs_title_is_on_the_page_of_its_first_page(zh):
    from types import SimpleNamespace as NS

    from reportlab.platypus import Spacer

    from mediation.attachments.models import DocumentKind
    from mediation.printing import case_file, pdf

    scan = NS(id=7, kind=DocumentKind.EVIDENCE, title="银行流水乙", filename="b.pdf", is_image=False,
              content_type="application/pdf")
    uploads = {7: case_file.pdf_pages(scan_pdf(2))}
    for room in range(300, 420, 20):  # around the least room a page of a PDF needs (120 mm)
        slots: dict = {}
        story = [Spacer(1, 722 - room), *case_file._scans([scan], DocumentKind.EVIDENCE, None, uploads, slots)]
        reader = PdfReader(io.BytesIO(pdf.build(story, title="", author="")))
        first_page = slots[(7, 0)][0]
        assert "银行流水乙" in reader.pages[first_page - 1].extract_text(), room


def test_every_page_of_a_session_record_names_it(zh):
    """A page that holds only the signatures (or the end of a long record) says which
    record of which case it is."""
    from mediation.printing import documents

    case = fake_case()
    for n in range(20, 48, 3):
        entry = fake_entry(result="\n".join(f"第{i}段调解经过" for i in range(n)))
        pages = pages_of(documents.session_record_pdf(case, entry, author="t", committee="上阳村人民调解委员会"))
        assert len(pages) >= 2
        for page in pages:
            assert case.number in page and "人民调解记录" in page, n


def test_diary_book_headings_never_stand_alone_and_continued_entries_are_named(zh):
    from datetime import date, timedelta

    from mediation.printing import documents

    labels = ("时间", "地点", "到场当事人", "记录人", "争议焦点", "意见", "结果与进展", "下一步")
    heading = re.compile(r"（2026）金坛婚调字第\d{4}号调解(\d\d:\d\d)?(（续）)?")
    for seed in range(6):
        days = []
        for d in range(6):
            items = [(fake_case(10 * d + i), fake_entry(occurred_on=date(2026, 11, 1) + timedelta(days=d),
                                                        issues=filler(60 + 170 * ((seed + d + i) % 5), False, i),
                                                        result=filler(40 * (seed + 1), True, d)))
                     for i in range(3)]
            days.append((items[0][1].occurred_on, items))
        pages = pages_of(documents.diary_book_pdf("上阳村调解员　2026年11月", days, author="t"))
        for n, page in enumerate(pages):
            body = page.split(f"第{n + 1}页共")[0]
            if n:  # a page goes on with a named entry: its day (and case number) first, or an entry's heading
                assert re.match(r"2026年11月\d+日|（2026）金坛婚调字第", body), (seed, n, body[:40])
            last = list(heading.finditer(body))[-1]
            assert any(label in body[last.end():] for label in labels), (seed, n)  # not alone at the foot


def test_a_continued_diary_entry_is_named_on_the_next_page(zh):
    from mediation.printing import documents

    pages = pages_of(documents.diary_pdf(fake_case(), [fake_entry(issues=filler(3000, True, 7))], author="t"))
    assert len(pages) >= 3
    for page in pages[1:]:
        assert page.startswith("1.2026年11月3日调解（续）"), page[:30]


def test_signature_labels_never_break_inside_their_brackets(busy_case, login):
    from .factories import make_agreement

    advance(busy_case, "start", by="med-320413109201")
    make_agreement(busy_case)
    raw = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        login("med-320413109201").get(f"/cases/{busy_case.id}/agreement.pdf").data)).pages)
    assert raw.count("（签名盖章或按指印）：") == 2 and "（签名）：" in raw


def test_the_case_list_pagination_is_labelled_in_chinese(demo, login):
    for n in range(25):
        make_case(applicant=f"申请人{n}", commit=False)
    db.session.commit()
    page = login("coord-320413109").get("/cases/").get_data(as_text=True)
    assert 'aria-label="Page navigation"' not in page and 'aria-label="分页导航"' in page


# --- issue 14: papers carry the right names ----------------------------------------------------------------------

def test_each_paper_names_the_committee_and_mediators_whose_work_it_records(demo, login):
    """A village case escalated to 薛埠镇 and there settled: the intake register, the rights
    notice and the village's own session record stay 上阳村's; the town's record and the
    agreement are 薛埠镇's; the delegated follow-up is 上阳村's again; the case file's cover
    names every mediator by unit, the village first."""
    from mediation.cases import workflow
    from mediation.diary.models import EntryKind, Performance
    from mediation.transfers.models import EscalationReason, Urgency

    from .factories import make_agreement, unit, user

    village, town = "上阳村人民调解委员会", "薛埠镇人民调解委员会"
    three_days_ago = local_today() - timedelta(days=3)
    case = make_case(intake_date=three_days_ago, rights_notice_date=three_days_ago)
    advance(case, "accept", "assign", "start")
    own = write_entry(case, issues="村里第一次调解", mediator_ids=[user("med-320413109201").id])
    workflow.transition(case, "escalate", by=user("med-320413109201"), to_unit=unit("320413109"),
                        reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=Urgency.NORMAL, note="")
    db.session.commit()
    workflow.transition(case, "receive", by=user("coord-320413109"), lead_mediator=user("coord-320413109"),
                        co_mediators=[], note="")
    db.session.commit()
    theirs = write_entry(case, by="coord-320413109", issues="镇里再次调解")
    make_agreement(case, by="coord-320413109")
    med = login("med-320413109201")
    coord = login("coord-320413109")

    text, reader = text_of(coord.get(f"/cases/{case.id}/intake.pdf").data)
    register = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert village in text and town not in text
    assert "受理人：薛埠镇负责人" in register and "登记人：上阳村调解员" in register
    text, _ = text_of(med.get(f"/cases/{case.id}/diary/{own.id}/record.pdf").data)
    assert village in text and town not in text and "调解员上阳村调解员" in text
    text, _ = text_of(coord.get(f"/cases/{case.id}/diary/{theirs.id}/record.pdf").data)
    assert town in text and village not in text
    text, _ = text_of(coord.get(f"/cases/{case.id}/agreement.pdf").data)
    assert town in text and village not in text
    text, _ = text_of(coord.get(f"/cases/{case.id}/diary.pdf").data)
    assert f"调解组织{village}" in text and f"调解组织{town}" in text
    assert "上阳村（薛埠镇）→薛埠镇" in text

    # The town hands the follow-up visit to the village: its record is the village's.
    advance(case, "conclude", "follow_up", by="coord-320413109")
    workflow.transition(case, "delegate", by=user("coord-320413109"), to_unit=unit("320413109201"),
                        instruction="回访", due_date=local_today())
    db.session.commit()
    visit = write_entry(case, by="med-320413109201", kind=EntryKind.FOLLOW_UP, mode=None,
                        performance=Performance.PERFORMED, issues="")
    assert visit.unit.code == "320413109201"
    text, _ = text_of(med.get(f"/cases/{case.id}/diary/{visit.id}/record.pdf").data)
    assert "人民调解回访记录" in text and village in text and town not in text

    reader = PdfReader(io.BytesIO(coord.get(f"/cases/{case.id}/file.pdf").data))
    cover = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert town in cover  # the file is the holder's
    assert "人民调解员上阳村：上阳村调解员薛埠镇：薛埠镇负责人" in cover, cover


def test_the_register_has_the_2010_fields_and_the_agreement_the_birth_date_of_the_id(demo, login):
    """受理登记表: each party's age, phone and address (a protected party's masked), who
    registered and who accepted it, and when; the 协议书 prints the birth date that a valid
    ID number carries when none was entered."""
    from mediation.cases.models import RiskLevel

    from .factories import make_agreement

    case = make_case(intake_date=local_today())
    applicant, respondent = case.parties
    applicant.id_number, applicant.phone, applicant.address = ID, "13800000101", "薛埠镇上阳村3组12号"
    respondent.phone, respondent.address, respondent.sex = "13800000102", "薛埠镇上阳村5组1号", None
    respondent.occupation = "个体"
    db.session.commit()
    advance(case, "accept", "assign")
    med = login("med-320413109201")
    register = re.sub(r"\s+", "", PdfReader(io.BytesIO(med.get(f"/cases/{case.id}/intake.pdf").data))
                      .pages[0].extract_text())
    age = local_today().year - 1942 - ((local_today().month, local_today().day) < (3, 18))
    for expected in (f"年龄：{age}岁", "联系方式：13800000101", "单位或住址：薛埠镇上阳村3组12号", "职业或职务：个体",
                     "联系方式：13800000102", "登记人：上阳村调解员", "受理人：薛埠镇负责人",
                     f"受理日期：{local_today().year}年{local_today().month}月{local_today().day}日"):
        assert expected in register, expected
    # Flagged: the screened-at-risk contacts are not printed.
    case.dv_flag, case.risk_level = True, RiskLevel.ORANGE
    db.session.commit()
    register = re.sub(r"\s+", "", PdfReader(io.BytesIO(med.get(f"/cases/{case.id}/intake.pdf").data))
                      .pages[0].extract_text())
    assert "13800000101" not in register and "3组12号" not in register and "已保护" in register
    case.dv_flag, case.risk_level = False, RiskLevel.NONE
    db.session.commit()
    advance(case, "start", by="med-320413109201")
    make_agreement(case)
    text, _ = text_of(med.get(f"/cases/{case.id}/agreement.pdf").data)
    assert "出生日期：1942年3月18日" in text


def test_each_record_downloads_under_its_own_name(busy_case, login):
    from mediation.diary.models import EntryKind

    med = login("med-320413109201")
    first = write_entry(busy_case, occurred_on=local_today(), kind=EntryKind.INVESTIGATION, mode=None)
    second = write_entry(busy_case, occurred_on=local_today())
    names = set()
    for entry, kind, slug in ((first, "调查记录", "investigation-record"), (second, "调解记录", "session-record")):
        disposition = med.get(f"/cases/{busy_case.id}/diary/{entry.id}/record.pdf").headers["Content-Disposition"]
        day = local_today().isoformat()
        assert quote(f"{kind}-{day}-第") in disposition and f"{slug}-{day}-entry-" in disposition, disposition
        names.add(disposition)
    assert len(names) == 2
    # The number is the entry's place in the case's diary (30 entries before these two).
    assert quote("第31条") in med.get(f"/cases/{busy_case.id}/diary/{first.id}/record.pdf").headers[
        "Content-Disposition"]


def test_the_intake_registers_signatures_seal_and_remark_stay_on_one_page(demo, login):
    """QA: a long summary left page 2 of the register holding only the seal's date and the remark."""
    med = login("med-320413109201")
    for n in range(300, 1700, 70):
        case = make_case(summary="双方因宅基地和赡养问题发生纠纷，" * (n // 16))
        reader = PdfReader(io.BytesIO(med.get(f"/cases/{case.id}/intake.pdf").data))
        pages = [p.extract_text().replace(" ", "").replace("\n", "") for p in reader.pages]
        (remark,) = [i for i, t in enumerate(pages) if "此表由人民调解委员会填写" in t]
        assert "（印章）" in pages[remark] and "登记人（签名）" in pages[remark] and "受理人：" in pages[remark], n
