"""Benchmarks: ``make bench`` prints figures; nothing here passes or fails.

Run against a throw-away SQLite file with the demo network loaded.
"""
import statistics
import tempfile
import time
from pathlib import Path


def timed(fn, repeat: int = 30) -> tuple[float, float]:
    """Median and best wall time of ``fn`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    from mediation import create_app
    from mediation.demo import load_demo
    from mediation.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{Path(tmp) / 'b.sqlite'}",
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            load_demo()
            db.session.commit()
            print(f"demo load (141 units, 274 accounts): {(time.perf_counter() - start) * 1000:.0f} ms")
        for user, path in [("admin", "/units/"), ("coord-320413109", "/units/"), ("admin", "/users/"),
                           ("med-320413109201", "/")]:
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "jintan-demo"})
            assert client.get(path).status_code == 200
            med, best = timed(lambda c=client, p=path: c.get(p))
            print(f"GET {path:10} as {user:18}: median {med:6.1f} ms, best {best:6.1f} ms")
        client = app.test_client()
        med, best = timed(lambda: client.get("/healthz"))
        print(f"GET /healthz (yardstick)           : median {med:6.1f} ms, best {best:6.1f} ms")
        with app.test_request_context("/"):
            bench_diary_pdf()
    bench_case_file_photos()
    bench_search()


def bench_diary_pdf() -> None:
    """The diary PDF of a case with 50 entries (target: <= 100 ms and <= 200 KB on
    2 cores), next to bare ReportLab drawing the same text with the same fonts."""
    from datetime import date, time, timedelta
    from types import SimpleNamespace as NS

    from reportlab.platypus import Paragraph

    from mediation.cases.models import PartyRole
    from mediation.diary.models import EntryKind, SessionMode
    from mediation.org.models import Tier
    from mediation.printing import documents, pdf

    parties = [NS(id=1, role=PartyRole.APPLICANT, name="汤桂珍", sex=None, ethnicity="汉族", birth_date=None,
                 known_birth_date=None, id_number="320482194203181227", id_masked="3204**********1227"),
               NS(id=2, role=PartyRole.RESPONDENT, name="周国民", sex=None, ethnicity="汉族", birth_date=None,
                 known_birth_date=None, id_number="", id_masked="")]
    village = NS(id=1, name="上阳村", label="上阳村（薛埠镇）", tier=Tier.VILLAGE)
    case = NS(number="（2026）金坛婚调字第0001号", parties=parties, unit=village, holdings=[], events=[],
              category=NS(name_zh="赡养"), lead_mediator=NS(id=9, display_name="上阳村调解员"), co_mediators=[])
    text = "三个儿子为垫付的医药费和每月生活费互相推诿，长子认为老宅已给三子，三子应多出。"
    entries = [NS(kind=EntryKind.SESSION, occurred_on=date(2026, 1, 1) + timedelta(days=i), start_time=time(14, 30),
                  duration_minutes=90, place="上阳村村委会调解室", mode=SessionMode.JOINT, party_ids=[1, 2],
                  others_present="村妇联主任", author=NS(display_name="上阳村调解员"), issues=text, unit=village,
                  mediator_ids=[], term_performance=[],
                  positions={"1": text, "2": text}, proposals=text, result=text, performance=None, satisfaction=None,
                  remaining_risk="", next_step="再约三子面谈", next_date=None, amendments=[], confidential=False)
               for i in range(50)]
    pdf.register_fonts()
    data = documents.diary_pdf(case, entries, author="bench")
    med, best = timed(lambda: documents.diary_pdf(case, entries, author="bench"), repeat=10)
    print(f"diary PDF, 50 entries              : median {med:6.1f} ms, best {best:6.1f} ms, {len(data) / 1024:.0f} KB")
    style = pdf.styles()["body"]
    marked = pdf.safe(text)
    med, best = timed(lambda: pdf.build([Paragraph(marked, style) for _ in range(50 * 6)], title="bare",
                                        author="bench"), repeat=10)
    print(f"bare ReportLab, the same text      : median {med:6.1f} ms, best {best:6.1f} ms")


def _upload_photos(folder: str, n_photos: int, queue) -> None:
    """Child process 1: the demo network and a case with ``n_photos`` 12 MP phone photos,
    uploaded through the service (each reduced once to its thumbnail and print copy)."""
    from mediation import create_app
    from mediation.attachments.models import DocumentKind
    from mediation.attachments.services import store
    from mediation.demo import load_demo
    from mediation.extensions import db
    from tests.factories import advance, make_case, user
    from tests.test_attachments import phone_photo

    app = create_app(_photo_config(folder))
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.commit()
        case = make_case()
        advance(case, "accept", "assign")
        photo = phone_photo()
        start = time.perf_counter()
        for i in range(n_photos):
            store(case, by=user("med-320413109201"), data=photo, filename=f"IMG_{i}.jpg", kind=DocumentKind.OTHER)
        db.session.commit()
        queue.put((case.id, len(photo), (time.perf_counter() - start) * 1000 / n_photos))


def _print_case_file(folder: str, case_id: int, queue) -> None:
    """Child process 2, a fresh worker: print the case file through the page; its peak RSS."""
    import resource

    from mediation import create_app

    client = create_app(_photo_config(folder)).test_client()
    client.post("/login", data={"username": "med-320413109201", "password": "jintan-demo"})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med, best = timed(lambda: client.get(f"/cases/{case_id}/file.pdf"), repeat=3)
    size = len(client.get(f"/cases/{case_id}/file.pdf").data)
    queue.put((med, best, size, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _photo_config(folder: str) -> dict:
    return {"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{Path(folder) / 'b.sqlite'}",
            "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(Path(folder) / "uploads")}


def _in_child(target, *args):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def bench_case_file_photos(n_photos: int = 20) -> None:
    """The case file of a case with 20 full-size phone photos, printed by a fresh worker
    (targets: < 3 s and < 300 MB peak RSS)."""
    with tempfile.TemporaryDirectory() as tmp:
        case_id, photo, upload_ms = _in_child(_upload_photos, tmp, n_photos)
        med, best, size, before, peak = _in_child(_print_case_file, tmp, case_id)
    print(f"upload of a 12 MP photo ({photo / 2**20:.1f} MB)  : {upload_ms:6.1f} ms each (thumbnail and print copy)")
    print(f"case file, {n_photos} photos               : median {med:6.1f} ms, best {best:6.1f} ms, "
          f"{size / 2**20:.1f} MB; worker peak RSS {peak:.0f} MB (after login {before:.0f} MB)")


def bench_search(n_cases: int = 20_000) -> None:
    """Full-text search (issue 7) over ``n_cases`` generated cases on SQLite: building the
    index, then 1-, 2- and 3-character queries (a page of 20 with snippets, and the
    count), next to the LIKE scan they replace."""
    import random
    from datetime import date, timedelta

    from sqlalchemy import func, insert, or_, select

    from mediation import create_app
    from mediation.cases.models import Case, Category, Party, PartyRole, Source
    from mediation.demo import load_demo
    from mediation.diary.models import DiaryEntry, EntryKind
    from mediation.extensions import db
    from mediation.org.models import OrgUnit, Tier
    from mediation.search import search_cases
    from mediation.search.index import rebuild
    from mediation.users.models import User

    rng = random.Random(2026)
    surnames = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
                "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉梅红梅志强春梅海燕德文金凤国民桂珍小红"
    phrases = ["因赡养老人问题发生纠纷", "三个儿子互相推诿", "医药费分担", "老宅归属不清", "彩礼返还", "离婚后子女抚养",
               "家庭暴力", "宅基地使用权", "邻里因排水沟争执", "婆媳矛盾长期积累", "继承房产份额", "抚养费拖欠",
               "上阳村", "薛埠镇", "金坛区", "双方同意调解", "申请人要求", "被申请人认为"]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{Path(tmp) / 's.sqlite'}",
                          "WTF_CSRF_ENABLED": False, "SEARCH_MEMO_SECONDS": 0})  # each search counted
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.commit()
            villages = db.session.scalars(select(OrgUnit).where(OrgUnit.tier == Tier.VILLAGE)).all()
            station = db.session.scalar(select(OrgUnit).where(OrgUnit.tier == Tier.STATION))
            author = db.session.scalar(select(User).where(User.username == "admin"))
            categories = db.session.scalars(select(Category.id)).all()
            start = time.perf_counter()
            name = lambda: rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.randint(1, 2)))  # noqa: E731
            text = lambda k: "，".join(rng.choice(phrases) for _ in range(k)) + "。"  # noqa: E731
            for first in range(0, n_cases, 2000):
                rows = []
                for seq in range(first + 1, min(first + 2000, n_cases) + 1):
                    unit = rng.choice(villages)
                    rows.append(dict(number=f"（2026）金坛婚调字第{seq:05d}号", station_id=station.id, year=2026,
                                     seq=seq,
                                     unit_id=unit.id, origin_unit_id=unit.id, category_id=rng.choice(categories),
                                     source=Source.PARTY, intake_date=date(2026, 1, 1) + timedelta(days=seq % 300),
                                     summary=text(rng.randint(2, 5)), claims=text(1), created_by_id=author.id))
                db.session.execute(insert(Case), rows)
            case_ids = db.session.scalars(select(Case.id)).all()
            db.session.execute(insert(Party), [dict(case_id=c, position=i, role=role, name=name())
                                               for c in case_ids
                                               for i, role in enumerate((PartyRole.APPLICANT, PartyRole.RESPONDENT))])
            db.session.execute(insert(DiaryEntry), [dict(case_id=c, author_id=author.id, unit_id=station.id,
                                                         kind=EntryKind.VISIT, occurred_on=date(2026, 11, 1),
                                                         issues=text(4), result=text(2)) for c in case_ids[::2]])
            db.session.commit()
            print(f"search: {n_cases} generated cases, 2 parties each, a diary entry for every other one: "
                  f"{(time.perf_counter() - start) * 1000:.0f} ms")
            start = time.perf_counter()
            cases, docs = rebuild(db.session.connection())
            db.session.commit()
            print(f"search: reindex, {docs} documents          : {(time.perf_counter() - start) * 1000:.0f} ms")
            admin = db.session.scalar(select(User).where(User.username == "admin"))
            coord = db.session.scalar(select(User).where(User.username == "coord-320413109"))
            for who, label in ((admin, "admin (district)"), (coord, "coord (one town)")):
                for q in ("汤", "人", "桂珍", "汤桂珍", "0012", "宅基地"):
                    results = search_cases(who, q)
                    total = results.total

                    def page(who=who, q=q):
                        r = search_cases(who, q, limit=20)
                        return r.total, r.hits

                    med, best = timed(page, repeat=10)
                    print(f"search {q!r:8} as {label}: {total:5d} cases, page of 20 + count: "
                          f"median {med:6.1f} ms, best {best:6.1f} ms")
            like = "%桂珍%"

            def like_scan():
                return db.session.scalar(select(func.count()).select_from(Case).where(or_(
                    Case.summary.like(like), Case.claims.like(like),
                    Case.id.in_(select(Party.case_id).where(Party.name.like(like))),
                    Case.id.in_(select(DiaryEntry.case_id).where(DiaryEntry.issues.like(like)
                                                                 | DiaryEntry.result.like(like))))))

            med, best = timed(like_scan, repeat=10)
            print(f"LIKE '%桂珍%' scan of the same text (count only): median {med:6.1f} ms, best {best:6.1f} ms")
            client = app.test_client()
            client.post("/login", data={"username": "coord-320413109", "password": "jintan-demo"})
            for path in ("/search?q=汤", "/search?q=桂珍", "/cases/?q=桂珍"):
                assert client.get(path).status_code == 200
                med, best = timed(lambda p=path: client.get(p), repeat=10)
                print(f"GET {path} as coord-320413109: median {med:6.1f} ms, best {best:6.1f} ms")


if __name__ == "__main__":
    main()


def bench_stats(n_cases: int = 20_000) -> None:
    """The statistics dashboard and monthly report (issue 7, point 7) over ``n_cases``
    generated cases on SQLite, spread over the villages, categories, a year of intake
    dates, outcomes and close dates: the page time and its number of queries."""
    import random
    from datetime import date, datetime, timedelta

    from sqlalchemy import event, insert, select

    from mediation import create_app
    from mediation.cases.models import Case, Category, Source
    from mediation.cases.workflow import CaseStatus, Outcome
    from mediation.demo import load_demo
    from mediation.extensions import db
    from mediation.org.models import OrgUnit, Tier
    from mediation.users.models import User

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{Path(tmp) / 'st.sqlite'}",
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.commit()
            units = db.session.scalars(select(OrgUnit).where(OrgUnit.tier != Tier.STATION)).all()
            villages = [u for u in units if u.tier is Tier.VILLAGE]
            station = db.session.scalar(select(OrgUnit).where(OrgUnit.tier == Tier.STATION))
            author = db.session.scalar(select(User).where(User.username == "admin"))
            categories = db.session.scalars(select(Category.id)).all()
            outcomes = [Outcome.SUCCESS] * 6 + [Outcome.PARTIAL, Outcome.FAILED, Outcome.TERMINATED]
            rows = []
            for seq in range(1, n_cases + 1):
                unit = rng.choice(villages) if rng.random() < 0.8 else rng.choice(units)
                intake = date(2026, 1, 1) + timedelta(days=rng.randrange(330))
                accepted = datetime.combine(intake, datetime.min.time()) + timedelta(hours=rng.randrange(24, 96))
                done = rng.random() < 0.7
                concluded = accepted + timedelta(days=rng.randrange(1, 40)) if done else None
                rows.append(dict(
                    number=f"（2026）金坛婚调字第{seq:05d}号", station_id=station.id, year=2026, seq=seq,
                    unit_id=unit.id, origin_unit_id=unit.id, category_id=rng.choice(categories),
                    source=Source.PARTY, intake_date=intake, summary="…", created_by_id=author.id,
                    amount_in_dispute=rng.choice([None, 1000, 25000]), people_involved=rng.choice([2, 3, 6, 12, 40]),
                    dv_flag=rng.random() < 0.05, accepted_at=accepted, due_date=intake + timedelta(days=30),
                    status=CaseStatus.CLOSED if done else CaseStatus.IN_MEDIATION,
                    outcome=rng.choice(outcomes) if done else None, concluded_at=concluded,
                    closed_at=concluded + timedelta(days=3) if done else None))
            for first in range(0, n_cases, 5000):
                db.session.execute(insert(Case), rows[first:first + 5000])
            db.session.commit()
        for user, path in (("admin", "/stats/?period=year&year=2026"), ("admin", "/stats/?period=month&month=2026-11"),
                       ("coord-320413109", "/stats/?period=year&year=2026"), ("admin", "/stats/report?month=2026-11"),
                       ("admin", "/stats/chart/unit.svg?period=year&year=2026"),
                       ("admin", "/stats/report.xlsx?month=2026-11"), ("admin", "/stats/report.pdf?month=2026-11")):
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "jintan-demo"})
            client.get("/")
            with app.app_context():
                seen = []
                listener = lambda *args, seen=seen: seen.append(1)  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", listener)
                assert client.get(path).status_code == 200
                event.remove(db.engine, "before_cursor_execute", listener)
            med, best = timed(lambda c=client, p=path: c.get(p), repeat=5)
            print(f"stats over {n_cases} cases: GET {path:42} as {user:16}: {len(seen):2d} queries, "
                  f"median {med:7.1f} ms, best {best:7.1f} ms")


if __name__ == "__main__":
    bench_stats()
