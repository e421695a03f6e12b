"""Merge a dict ZH {msgid: Chinese} from a Python file into the zh_Hans_CN catalogue,
for untranslated entries only; then compile.   python tools/merge_zh.py FILE.py"""
import runpy
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "mediation" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

zh = runpy.run_path(sys.argv[1])["ZH"]
with open(PO, "rb") as fh:
    catalog = read_po(fh)
n = 0
for message in catalog:
    if message.id and not message.string and message.id in zh:
        message.string = zh[message.id]
        n += 1
with open(PO, "wb") as fh:
    write_po(fh, catalog, sort_output=True, no_location=True)
print(f"merged {n}")
subprocess.run([sys.executable, str(ROOT / "tools" / "i18n.py")], check=True)
