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
            print(f"demo load (141 units, 273 accounts): {(time.perf_counter() - start) * 1000:.0f} ms")
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


def bench_diary_pdf() -> None:
    """The diary PDF of a case with 50 entries (target: <= 100 ms and <= 200 KB on
    2 cores), next to bare ReportLab drawing the same text with the same fonts."""
    from datetime import date, time, timedelta
    from types import SimpleNamespace as NS

    from reportlab.platypus import Paragraph

    from mediation.cases.models import PartyRole
    from mediation.diary.models import EntryKind, SessionMode
    from mediation.printing import documents, pdf

    parties = [NS(id=1, role=PartyRole.APPLICANT, name="汤桂珍", sex=None, ethnicity="汉族", birth_date=None,
                  id_number="320482194203181227", id_masked="3204**********1227"),
               NS(id=2, role=PartyRole.RESPONDENT, name="周国民", sex=None, ethnicity="汉族", birth_date=None,
                  id_number="", id_masked="")]
    case = NS(number="（2026）金坛婚调字第0001号", parties=parties, unit=NS(label="上阳村（薛埠镇）"),
              category=NS(name_zh="赡养"), lead_mediator=NS(display_name="上阳村调解员"), co_mediators=[])
    text = "三个儿子为垫付的医药费和每月生活费互相推诿，长子认为老宅已给三子，三子应多出。"
    entries = [NS(kind=EntryKind.SESSION, occurred_on=date(2026, 1, 1) + timedelta(days=i), start_time=time(14, 30),
                  duration_minutes=90, place="上阳村村委会调解室", mode=SessionMode.JOINT, party_ids=[1, 2],
                  others_present="村妇联主任", author=NS(display_name="上阳村调解员"), issues=text,
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


if __name__ == "__main__":
    main()
