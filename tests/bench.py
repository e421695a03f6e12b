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


if __name__ == "__main__":
    main()
