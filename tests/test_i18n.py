"""Every UI string has its Chinese translation, and the compiled catalogue is current."""
import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mediation import ROOT

CATALOG = ROOT / "mediation" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def test_every_ui_string_is_translated_to_chinese():
    done = subprocess.run([sys.executable, "tools/i18n.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as fh:
        po = {m.id: m.string for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert mo == po, "run `make messages` to recompile the catalogue"


def test_placeholders_survive_translation():
    import re

    with open(CATALOG / "messages.po", "rb") as fh:
        for m in read_po(fh):
            if m.id and m.string:
                assert set(re.findall(r"%\(\w+\)\w", m.id)) == set(re.findall(r"%\(\w+\)\w", m.string)), m.id


def test_a_labels_colon_follows_the_language(demo, login):
    """QA: English pages read "Held by：金坛区" and "Risk：yellow" (a full-width colon)."""
    from mediation.cases.models import RiskLevel

    from .factories import advance, make_case

    case = advance(make_case(risk_level=RiskLevel.YELLOW), "accept", "assign")
    coord = login("coord-320413109")
    page = coord.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "承办单位：" in page and "风险：" in page
    coord.post("/account/language", data={"lang": "en"})
    page = coord.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Held by: " in page and "Risk: " in page
    assert "Held by：" not in page and "Risk：" not in page
    found = coord.get("/search?q=%E6%B1%A4%E6%A1%82%E7%8F%8D").get_data(as_text=True)  # 汤桂珍
    assert 'search-snippet"><span class="text-body-secondary">' in found and "：</span>" not in found
