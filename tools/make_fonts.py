"""Make the static Noto Sans SC Regular and Bold that the PDFs embed (run once).

ReportLab loads TrueType (glyf) fonts only, and the Noto Sans SC variable font
prints Thin unless it is instanced. Source: the OFL variable font shipped on PyPI
in ``justmytype-intl-cjk``:

    pip download --no-deps -d /tmp/f justmytype-intl-cjk && unzip -d /tmp/f /tmp/f/*.whl
    python tools/make_fonts.py "/tmp/f/justmytype_intl_cjk/fonts/ofl/notosanssc/NotoSansSC[wght].ttf"

Writes mediation/printing/fonts/NotoSansSC-Regular.ttf and -Bold.ttf (SIL OFL 1.1,
see OFL.txt beside them). Needs fontTools (``pip install fonttools``).
"""
import sys
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.varLib.instancer import instantiateVariableFont

OUT = Path(__file__).resolve().parent.parent / "mediation" / "printing" / "fonts"


def main(source: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for weight, style in ((400, "Regular"), (700, "Bold")):
        font = instantiateVariableFont(TTFont(source), {"wght": weight})
        # Name the static face so viewers list it as Noto Sans SC Regular/Bold.
        names = font["name"]
        names.setName("Noto Sans SC", 1, 3, 1, 0x409)
        names.setName(style, 2, 3, 1, 0x409)
        names.setName(f"NotoSansSC-{style}", 6, 3, 1, 0x409)
        font.save(OUT / f"NotoSansSC-{style}.ttf")
        print(f"wrote {OUT / f'NotoSansSC-{style}.ttf'}")


if __name__ == "__main__":
    main(sys.argv[1])
