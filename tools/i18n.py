"""Extract UI strings, update the Chinese catalogue and compile it.

    python tools/i18n.py          # extract + update + compile
    python tools/i18n.py --check  # fail when a string has no Chinese translation

English msgids; ``zh_Hans_CN`` is the default UI language, so every msgid needs a
translation there (tests/test_i18n.py enforces it).
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "mediation" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALE = "zh_Hans_CN"


def run(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)


def extract(pot: Path) -> None:
    # --ignore-dirs: the default also skips folders starting with "_" such as templates/_macros.
    run("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location", "--ignore-dirs", ".*",
        "--sort-output", "--omit-header", "-o", str(pot), ".")


def untranslated(po_path: Path, pot_path: Path) -> list[str]:
    from babel.messages.pofile import read_po

    with open(po_path, "rb") as fh:
        po = read_po(fh)
    with open(pot_path, "rb") as fh:
        pot = read_po(fh)
    missing = []
    for msg in pot:
        if not msg.id:
            continue
        have = po.get(msg.id)
        if have is None or not have.string or have.fuzzy:
            missing.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return missing


def main() -> int:
    po = TRANSLATIONS / LOCALE / "LC_MESSAGES" / "messages.po"
    if "--check" in sys.argv:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            pot = Path(tmp) / "messages.pot"
            extract(pot)
            missing = untranslated(po, pot)
        for m in missing:
            print(f"untranslated: {m!r}")
        return 1 if missing else 0
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    extract(POT)
    if po.exists():
        run("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", LOCALE, "--no-fuzzy-matching",
            "--ignore-obsolete")
    else:
        run("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", LOCALE)
    run("compile", "-d", str(TRANSLATIONS), "-l", LOCALE, "--use-fuzzy")
    for m in untranslated(po, POT):
        print(f"untranslated: {m!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
