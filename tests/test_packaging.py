"""The package builds without setuptools warnings and ships its data (issue 14, point 14):
the network, passwords and demo data, static files, translations and the PDF fonts."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_build_warns_of_no_ignored_package_and_ships_the_data(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "mediation", src / "mediation", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "build_py",
                          "--build-lib", str(tmp_path / "lib")], cwd=src, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    log = out.stdout + out.stderr
    assert "would be ignored" not in log and "absent from the `packages` configuration" not in log, log
    built = tmp_path / "lib" / "mediation"
    for path in ("data/jintan_network.csv", "data/common_passwords.json", "data/demo_scenarios.json",
                 "static/app.css", "static/app.js", "translations/zh_Hans_CN/LC_MESSAGES/messages.mo",
                 "printing/fonts/NotoSansSC-Regular.ttf", "printing/fonts/NotoSansSC-Bold.ttf",
                 "printing/fonts/OFL.txt"):
        assert (built / path).is_file(), path
    assert not list(built.rglob("__pycache__"))


def test_the_readme_says_how_to_pick_the_port_and_what_a_statistics_viewer_does(app, demo, login):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PORT=5077 make run" in readme
    assert "PORT ?=" in makefile and "--bind $(HOST):$(PORT)" in makefile
    row = next(line for line in readme.splitlines() if line.startswith("| statistics viewer"))
    assert "come later" not in row and "dashboard" in row and "monthly report" in row
    viewer = login("stats")
    assert viewer.get("/stats/").status_code == 200
    assert viewer.get("/stats/report").status_code == 200
    assert viewer.get("/cases/").status_code in (403, 404)
