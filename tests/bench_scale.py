"""``make bench``: the pages at scale, measured on generated databases (issue 12.7).

For each database (SQLite, PostgreSQL) and size (100,000 and 1,000,000 cases by default;
``make bench BENCH_SIZES=100000 BENCH_DBS=sqlite``) this builds the database with
``flask demo generate`` once and keeps it (``instance/bench/sqlite-<size>.sqlite``, the
PostgreSQL database ``bench_<size>``; delete them to start again), serves the app with
gunicorn (2 workers) on loopback beside a bare Flask "hello" on the same gunicorn, logs in
and measures, in the same run:

* each page's p50 and p95 over sequential requests (logged in, full layout), its SQL queries
  (the same request in-process, counted), and requests per second with 8 clients;
* the anchors: "hello" requests per second, the page's main query run alone (p50), and bare
  ReportLab drawing the same diary as the diary PDF;
* the workers' resident memory after the run, and 100 concurrent users (mixed reads and
  lead reports) for 30 s: p95 and errors.

It prints the figures and writes ``docs/BENCHMARKS.md``. Nothing passes or fails.
"""
import argparse
import http.client
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from mediation import ROOT

BENCH_DIR = ROOT / "instance" / "bench"
PG_BASE = os.environ.get("MEDIATION_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "jintan-demo"
TARGETS = {  # page -> (target p50 ms, target queries) at 1,000,000 cases (issue 12)
    "district case list": (30, 10), "town case list": (30, 10), "home (coordinator)": (30, 10),
    "case detail": (30, 10), "search, 1 character": (50, 10), "search, 2 characters": (50, 10),
    "statistics, district year": (200, 10), "statistics, town": (200, 10),
    "inbox (busy village mediator)": (50, 10), "50-entry diary PDF": (100, 10),
}


# --- databases --------------------------------------------------------------------------------

def db_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{BENCH_DIR / f'sqlite-{size}.sqlite'}"
    from sqlalchemy.engine import make_url

    return make_url(PG_BASE).set(database=f"bench_{size}").render_as_string(hide_password=False)


def _env(url: str) -> dict:
    return {**os.environ, "MEDIATION_DATABASE_URL": url, "MEDIATION_SECRET_KEY": "bench-secret"}


def ensure_database(kind: str, size: int) -> dict:
    """Build the database once (migrations, then the generator); its generation figures."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    meta_path = BENCH_DIR / f"{kind}-{size}.json"
    url = db_url(kind, size)
    flask = [sys.executable, "-m", "flask", "--app", "mediation"]
    if meta_path.exists():  # built by an earlier run: brought up to the code's schema
        subprocess.run([*flask, "db", "upgrade"], env=_env(url), check=True, capture_output=True)
        return json.loads(meta_path.read_text())
    if kind == "postgresql":
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "bench_{size}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "bench_{size}" ENCODING \'UTF8\' TEMPLATE template0'))
        admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(BENCH_DIR / f"sqlite-{size}.sqlite") + suffix).unlink(missing_ok=True)
    subprocess.run([*flask, "db", "upgrade"], env=_env(url), check=True, capture_output=True)
    print(f"generating {size:,} cases on {kind} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([*flask, "demo", "generate", "--cases", str(size), "--seed", "1"], env=_env(url), check=True)
    meta = {"kind": kind, "size": size, "generate_seconds": round(time.perf_counter() - start, 1)}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta["generate_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    meta_path.write_text(json.dumps(meta))
    return meta


def prepare(url: str) -> dict:
    """The accounts and objects the pages are measured with (a 50-entry diary made once)."""
    from sqlalchemy import func, select

    from mediation import create_app
    from mediation.cases.models import Case
    from mediation.diary.models import DiaryEntry, EntryKind, SessionMode
    from mediation.diary.services import write_entry
    from mediation.extensions import db
    from mediation.inbox.models import Notification
    from mediation.timeutil import local_today
    from mediation.users.models import User

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret"})
    with app.app_context():
        town = "320413109"
        case = db.session.scalar(select(Case).join(Case.unit).where(Case.unit.has(code=town)).order_by(Case.id.desc())
                                 .limit(1))
        busy = db.session.execute(select(User.username, func.count(Notification.id)).join(
            Notification, Notification.user_id == User.id).where(User.username.like("med-%"))
            .group_by(User.username).order_by(func.count(Notification.id).desc()).limit(1)).first()
        long = db.session.scalar(select(DiaryEntry.case_id).group_by(DiaryEntry.case_id)
                                 .having(func.count(DiaryEntry.id) >= 50).limit(1))
        if long is None:  # one case with a 50-entry diary, written through the service
            target = db.session.scalar(
                select(Case).where(Case.status.in_(["in_mediation", "assigned"]), Case.lead_mediator_id.is_not(None),
                                   Case.unit.has(tier="village")).order_by(Case.id.desc()).limit(1))
            author = target.lead_mediator
            for i in range(50):
                write_entry(target, by=author, values={
                    "kind": EntryKind.SESSION, "occurred_on": local_today(), "mode": SessionMode.SEPARATE,
                    "issues": f"第{i + 1}次调解：三个儿子为垫付的医药费和每月生活费互相推诿，长子认为老宅已给三子。",
                    "result": "初步达成一致，约定下次继续。", "party_ids": [p.id for p in target.parties]})
            db.session.commit()
            long = target.id
        long_case = db.session.get(Case, long)
        busy_case = db.session.scalar(select(Case.id).join(User, User.id == Case.lead_mediator_id)
                                      .where(User.username == busy[0]).order_by(Case.id.desc()).limit(1))
        return {"case": case.id, "busy": busy[0], "busy_case": busy_case, "long": long, "year": local_today().year,
                "long_user": long_case.lead_mediator.username}


# --- HTTP --------------------------------------------------------------------------------------

class Client:
    """One keep-alive connection with the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in resp.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return resp.status, payload

    def get(self, path):
        return self.request("GET", path)

    def csrf(self, path) -> str:
        _status, body = self.get(path)
        m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
            rb'value="([^"]+)"[^>]*name="csrf_token"', body)
        return m.group(1).decode() if m else ""

    def login(self, username: str) -> "Client":
        token = self.csrf("/login")
        status, _ = self.request("POST", "/login", {"csrf_token": token, "username": username, "password": PASSWORD})
        assert status == 302, f"login as {username}: {status}"
        return self


def timed_requests(client: Client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        status, _body = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert status == 200, f"{path}: {status}"
    return out


def throughput(port: int, path: str, username: str | None, clients: int = 8, seconds: float = 4.0) -> float:
    """Requests per second with ``clients`` threads, each on its own connection."""
    done = [0] * clients
    sessions = []
    for _ in range(clients):
        c = Client(port)
        if username:
            c.cookie = LOGINS[username].cookie
        sessions.append(c)
    stop = time.perf_counter() + seconds

    def run(i):
        while time.perf_counter() < stop:
            sessions[i].get(path)
            done[i] += 1
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


LOGINS: dict[str, Client] = {}


def pct(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(round(q / 100 * (len(samples) - 1))))]


# --- in-process: queries per page and the main query alone ------------------------------------

def in_process(url: str, pages: list[tuple], ctx: dict) -> dict:
    """{page: (queries, main query p50 ms)}."""
    from sqlalchemy import event, select

    from mediation import access, create_app
    from mediation.cases.models import Case
    from mediation.extensions import db
    from mediation.inbox.services import inbox_of
    from mediation.stats import services as stats
    from mediation.users.models import User

    # Not remembered here: the search's main query is its count of the query's pieces.
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "WTF_CSRF_ENABLED": False,
                      "SEARCH_MEMO_SECONDS": 0})
    out = {}
    with app.app_context():
        counter = {"n": 0}

        def count(*_a, **_k):
            counter["n"] += 1
        event.listen(db.engine, "before_cursor_execute", count)
        clients = {}
        for name, path, username, _main in pages:
            if username not in clients:
                c = app.test_client()
                c.post("/login", data={"username": username, "password": PASSWORD})
                clients[username] = c
            clients[username].get(path)
            counter["n"] = 0
            clients[username].get(path)
            out[name] = [counter["n"], None]
        event.remove(db.engine, "before_cursor_execute", count)

        def user(username):
            return db.session.scalar(select(User).where(User.username == username))

        def unit(code):
            from mediation.org.models import OrgUnit
            return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))

        def first_list_page(username):
            """The list's own query: the first page of 20 in its index's order, newest first."""
            from mediation.cases import listing
            from mediation.cases.views import KEY_OF, LIST_KEYS
            from mediation.paging import keyset_page

            stmt = listing.filtered_cases(user(username), {"view": "subtree"})[0]
            return keyset_page(stmt, LIST_KEYS["newest"], KEY_OF["newest"], per_page=20).items

        def search_probe(query):
            """What a search asks before its page: is the query common (its pieces counted
            through the index, which a worker then remembers), and where a common one's walk stops."""
            from mediation.search.services import search_cases

            results = search_cases(user("coord-320413109"), query)
            return results.common, results.since

        mains = {
            "search, 1 character": lambda: search_probe("王"),
            "search, 2 characters": lambda: search_probe("赡养"),
            "district case list": lambda: first_list_page("admin"),
            "town case list": lambda: first_list_page("coord-320413109"),
            "case detail": lambda: db.session.execute(access.cases_query(user("coord-320413109"))
                                                      .where(Case.id == ctx["case"])).all(),
            "statistics, district year": lambda: stats.compute(unit("320413"), stats.Period.year(ctx["year"])),
            "statistics, town": lambda: stats.compute(unit("320413109"), stats.Period.year(ctx["year"])),
            "inbox (busy village mediator)": lambda: inbox_of(user(ctx["busy"])),
        }
        for name, fn in mains.items():
            fn()
            samples = []
            for _ in range(10):
                start = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
            if name in out:
                out[name][1] = statistics.median(samples)
    return out


def bare_reportlab(url: str, case_id: int) -> float:
    """Bare ReportLab drawing the same diary's text (one Paragraph per field), p50 ms."""
    from reportlab.platypus import Paragraph
    from sqlalchemy import select

    from mediation import create_app
    from mediation.diary.models import DiaryEntry
    from mediation.extensions import db
    from mediation.printing import pdf

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret"})
    with app.app_context(), app.test_request_context("/"):
        entries = db.session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case_id)).all()
        texts = [t for e in entries for t in (e.issues, e.result, e.place, e.next_step, *e.positions.values()) if t]
        pdf.register_fonts()
        style = pdf.styles()["body"]
        samples = []
        for _ in range(7):
            start = time.perf_counter()
            pdf.build([Paragraph(pdf.safe(t), style) for t in texts], title="bare", author="bench")
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)


# --- gunicorn ---------------------------------------------------------------------------------

def serve(app_spec: str, port: int, url: str | None, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**(_env(url) if url else os.environ), **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", app_spec], env=env, cwd=ROOT)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz" if url else "/")
            c.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn on {port} did not start")


def worker_rss_mb(proc: subprocess.Popen) -> float:
    """The largest resident memory among the master's workers (MB)."""
    out = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
    values = [int(line.split()[1]) for line in out.splitlines() if line.strip()]
    return max(values) / 1024 if values else 0.0


def load_run(port: int, paths: list[str], users: list[str], grid: str, n_users: int = 100,
             seconds: float = 30.0, own_paths: dict | None = None) -> dict:
    """``n_users`` concurrent users (threads) for ``seconds``: mostly reads, one in ten a lead report."""
    import random

    lat, errors, kinds = [], [0], {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    base = {u: LOGINS[u].cookie for u in users}
    grid_client = Client(port).login(grid)
    token = grid_client.csrf("/leads/new")

    def run(i):
        rng = random.Random(i)
        c = Client(port)
        writer = i % 10 == 0
        who = users[i % len(users)]
        c.cookie = grid_client.cookie if writer else base[who]
        mine = (own_paths or {}).get(who, paths)
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                if writer:
                    status, _ = c.request("POST", "/leads/new", {
                        "csrf_token": token, "who": "某户", "where": "上阳村3组", "what": "夫妻争吵，邻居报告。",
                        "urgency": "normal", "contact_phone": ""})
                    ok = status in (200, 302)
                else:
                    status, _ = c.get(rng.choice(mine))
                    ok = status == 200
                what = f"{'POST lead' if writer else 'GET'} {status}"
            except Exception as exc:  # noqa: BLE001 - counted as an error
                ok, what = False, type(exc).__name__
            with lock:
                lat.append((time.perf_counter() - start) * 1000)
                if not ok:
                    errors[0] += 1
                    kinds[what] = kinds.get(what, 0) + 1
            time.sleep(rng.uniform(0.5, 1.5))  # think time
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": len(lat), "p50": pct(lat, 50), "p95": pct(lat, 95), "errors": errors[0],
            "error_kinds": kinds, "rps": len(lat) / seconds}


# --- the run ----------------------------------------------------------------------------------

def run_one(kind: str, size: int, port: int) -> dict:
    meta = ensure_database(kind, size)
    url = db_url(kind, size)
    ctx = prepare(url)
    town_case, year = ctx["case"], ctx["year"]
    pages = [
        ("district case list", "/cases/?view=subtree", "admin", True),
        ("town case list", "/cases/?view=subtree", "coord-320413109", True),
        ("home (coordinator)", "/", "coord-320413109", False),
        ("case detail", f"/cases/{town_case}", "coord-320413109", True),
        ("search, 1 character", "/search?q=%E7%8E%8B", "coord-320413109", True),
        ("search, 2 characters", "/search?q=%E8%B5%A1%E5%85%BB", "coord-320413109", True),
        ("statistics, district year", f"/stats/?period=year&year={year}", "admin", True),
        ("statistics, town", f"/stats/?unit=320413109&period=year&year={year}", "coord-320413109", True),
        ("inbox (busy village mediator)", "/inbox/", ctx["busy"], True),
        ("50-entry diary PDF", f"/cases/{ctx['long']}/diary.pdf", ctx["long_user"], False),
    ]
    app_proc = serve("mediation:create_app()", port, url)
    hello_proc = serve("tests.bench_hello:app", port + 1, None)
    result = {"kind": kind, "size": size, "load_before": os.getloadavg()[0],
              "generate_seconds": meta.get("generate_seconds"),
              "generate_cpu_seconds": meta.get("generate_cpu_seconds"), "pages": {}}
    try:
        LOGINS.clear()
        for _n, _p, username, _m in pages:
            if username not in LOGINS:
                LOGINS[username] = Client(port).login(username)
        hello = throughput(port + 1, "/", None)
        result["hello_rps"] = hello
        print(f"\n== {kind}, {size:,} cases ==  bare Flask hello: {hello:.0f} req/s", flush=True)
        for name, path, username, _main in pages:
            c = LOGINS[username]
            timed_requests(c, path, 3)
            samples = timed_requests(c, path, 20 if "PDF" not in name else 10)
            rps = throughput(port, path, username, seconds=3.0)
            result["pages"][name] = {"p50": pct(samples, 50), "p95": pct(samples, 95), "rps": rps, "path": path}
            print(f"{name:32} p50 {pct(samples, 50):8.1f} ms  p95 {pct(samples, 95):8.1f} ms  {rps:7.1f} req/s "
                  f"({rps / hello * 100:5.1f} % of hello)", flush=True)
        result["rss_mb"] = worker_rss_mb(app_proc)
        first_asked(port + 2, url, pages, result)
        read_paths = ["/", "/cases/?view=subtree", f"/cases/{town_case}", "/inbox/", "/search?q=%E8%B5%A1%E5%85%BB"]
        own = {ctx["busy"]: [p if not p.startswith("/cases/") or "?" in p else f"/cases/{ctx['busy_case']}"
                             for p in read_paths]}  # each user reads a case they may see
        result["load"] = load_run(port, read_paths, ["coord-320413109", ctx["busy"], "admin"], "grid-320413109201",
                                  own_paths=own)
        result["rss_after_load_mb"] = worker_rss_mb(app_proc)
        ld = result["load"]
        print(f"100 users, 30 s: {ld['requests']} requests, p50 {ld['p50']:.0f} ms, p95 {ld['p95']:.0f} ms, "
              f"{ld['errors']} errors {ld['error_kinds']}; worker RSS {result['rss_after_load_mb']:.0f} MB", flush=True)
    finally:
        for proc in (app_proc, hello_proc):
            proc.terminate()
            proc.wait(timeout=30)
    for name, (queries, main_ms) in in_process(url, pages, ctx).items():
        result["pages"][name]["queries"] = queries
        result["pages"][name]["main_ms"] = main_ms
    result["bare_reportlab_ms"] = bare_reportlab(url, ctx["long"])
    return result


def first_asked(port: int, url: str, pages: list[tuple], result: dict) -> None:
    """The search pages as when their query is asked for the first time: a server whose workers
    remember nothing (SEARCH_MEMO_SECONDS=0) counts the query's pieces on every request."""
    proc = serve("mediation:create_app()", port, url, {"MEDIATION_SEARCH_MEMO_SECONDS": "0"})
    try:
        for name, path, username, _main in pages:
            if name.startswith("search"):
                c = Client(port)
                c.cookie = LOGINS[username].cookie  # signed cookies: any server of the app takes them
                timed_requests(c, path, 2)
                samples = timed_requests(c, path, 20)
                result["pages"][name].update(first_p50=pct(samples, 50), first_p95=pct(samples, 95))
                print(f"{name + ', first asked':32} p50 {pct(samples, 50):8.1f} ms  p95 {pct(samples, 95):8.1f} ms",
                      flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        mem = f"{kb / 2**20:.0f} GB"
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} memory, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


HAND_MARK = "## Added by hand"


def write_markdown(results: list[dict], path: Path) -> None:
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`tests/bench_scale.py`); regenerate with `make bench` "
             "(`BENCH_SIZES=100000 BENCH_DBS=sqlite` for a shorter run).", "",
             f"Machine: {machine()}. The machine is shared: other processes were running, so the figures are an "
             "upper bound of what the code costs. Server: gunicorn, 2 workers, loopback; p50/p95 over 20 "
             "sequential requests of a logged-in user (10 for the PDF), requests/s with 8 clients for 3 s, "
             "queries counted in-process for the same request. \"main query\" is the page's central query run "
             "alone (the scoped case query, the statistics' read, the inbox query; for a search, its count of "
             "the query's pieces and where a common query's walk stops, which a worker remembers for five "
             "minutes: the search rows are of a query asked before, and each section gives them asked for the "
             "first time).", "",
             "Reading these figures: the machine's load average when each run began is given with it (on "
             "2 cores, a load near 0 means the run had the machine to itself).", ""]
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = old[old.index(HAND_MARK):] if HAND_MARK in old else ""
    # Sections of databases and sizes not measured on this machine are kept as they were.
    measured = {(r["kind"], r["size"]) for r in results}
    sections = [(r["size"], r["kind"] != "sqlite", None, r) for r in results]
    for m in re.finditer(r"^## (\w+), ([\d,]+) cases\n.*?(?=^## |\Z)", old, re.S | re.M):
        key = (m.group(1), int(m.group(2).replace(",", "")))
        if key not in measured:
            sections.append((key[1], key[0] != "sqlite", m.group(0).rstrip("\n").split("\n") + [""], None))
    sections.sort(key=lambda s: (s[0], s[1]))
    for _size, _pg, kept_lines, r in sections:
        if kept_lines is not None:
            lines += kept_lines
            continue
        lines += [f"## {r['kind']}, {r['size']:,} cases", ""]
        if r.get("load_before") is not None:
            lines += [f"Load average (1 minute) when the run began: {r['load_before']:.2f}.", ""]
        if r.get("generate_seconds"):
            cpu = f" ({r['generate_cpu_seconds']:.0f} s of CPU)" if r.get("generate_cpu_seconds") else ""
            lines.append(f"Generated with `flask --app mediation demo generate --cases {r['size']}` in "
                         f"{r['generate_seconds']:.0f} s{cpu}.")
        lines += [f"Bare Flask \"hello\" on the same gunicorn: {r['hello_rps']:.0f} requests/s. "
                  f"Bare ReportLab drawing the same 50-entry diary: {r['bare_reportlab_ms']:.0f} ms.", "",
                  "| page | p50 ms | p95 ms | queries | req/s | % of hello | main query ms | target p50 | met |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, p in r["pages"].items():
            target, tq = TARGETS[name]
            slowest = max(p["p50"], p.get("first_p50") or 0)  # a search: asked before, or for the first time
            met = "yes" if slowest <= target and p.get("queries", 99) <= tq else "no"
            main = f"{p['main_ms']:.1f}" if p.get("main_ms") is not None else "—"
            lines.append(f"| {name} | {p['p50']:.1f} | {p['p95']:.1f} | {p.get('queries', '?')} | {p['rps']:.1f} | "
                         f"{p['rps'] / r['hello_rps'] * 100:.1f} % | {main} | ≤ {target} ms, ≤ {tq} queries | {met} |")
        ld = r["load"]
        detail = r["pages"]["case detail"]["rps"] / r["hello_rps"] * 100
        town = r["pages"]["town case list"]["rps"] / r["hello_rps"] * 100
        first = [f"{name.split(', ')[1]} p50 {p['first_p50']:.1f} ms, p95 {p['first_p95']:.1f} ms"
                 for name, p in r["pages"].items() if p.get("first_p50") is not None]
        lines += [""]
        if first:
            lines.append("- Search asked for the first time (a server that remembers nothing, "
                         "`MEDIATION_SEARCH_MEMO_SECONDS=0`): " + "; ".join(first)
                         + " (target p50 ≤ 50 ms; the table's \"met\" takes the slower of the two).")
        lines += [f"- Case detail at {detail:.1f} % of hello (target ≥ 40 %), town list at {town:.1f} % "
                  "(target ≥ 20 %).",
                  f"- Worker RSS after the page runs: {r['rss_mb']:.0f} MB; after the load run: "
                  f"{r['rss_after_load_mb']:.0f} MB (target ≤ 150 MB).",
                  f"- 100 concurrent users for 30 s (reads of home, lists, detail, inbox and search with 0.5–1.5 s "
                  f"think time; one user in ten reporting leads): {ld['requests']} requests ({ld['rps']:.0f}/s), "
                  f"p50 {ld['p50']:.0f} ms, p95 {ld['p95']:.0f} ms, {ld['errors']} errors"
                  + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(ld.get("error_kinds", {}).items())) + ")"
                     if ld.get("error_kinds") else "")
                  + " (target p95 ≤ 300 ms, 0 errors).", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    # A section written by hand at the end ("## Added by hand ...") is kept as it is.
    path.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "100000,1000000")
    parser.add_argument("--dbs", default=os.environ.get("BENCH_DBS") or "sqlite,postgresql")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT") or 5090))
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        for kind in [k.strip() for k in args.dbs.split(",") if k.strip()]:
            result = run_one(kind, size, args.port)
            (BENCH_DIR / f"result-{kind}-{size}.json").write_text(json.dumps(result))
            # After each run, with the latest figures of every database and size measured so far.
            results = [json.loads(p.read_text()) for p in BENCH_DIR.glob("result-*.json")]
            results.sort(key=lambda r: (r["size"], r["kind"] != "sqlite"))
            write_markdown(results, Path(args.out))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
