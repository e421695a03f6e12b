"""A teaching case as a PDF (A4, the embedded Chinese fonts, page numbers, metadata).
Printed wording is Chinese whatever the UI language, as for every printed document."""
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from ..printing.pdf import build, para, styles

SECTIONS = (("facts", "基本案情"), ("process", "调解过程"), ("outcome", "调解结果"), ("legal_point", "以案释法"))


def teaching_pdf(tc, *, author: str) -> bytes:
    s = styles()
    story = [para(tc.title or "以案释法案例", s["title"]),
             para(f"e家学 · 以案释法 · {tc.category.name_zh}", s["number"])]
    for field, heading in SECTIONS:
        text = getattr(tc, field) or ""
        if not text.strip():
            continue
        story.append(para(heading, s["h2"]))
        for paragraph in text.splitlines():
            if paragraph.strip():
                story.append(para(paragraph.strip(), s["body"]))
                story.append(Spacer(1, 1.5 * mm))
    return build(story, title=tc.title or "以案释法案例", author=author, subject="以案释法")
