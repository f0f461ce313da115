"""The PostgreSQL search engine on its own: query p50 / p95, the committed engine against the one in
the working tree, measured in the same run on the same corpus.

Uses search_bench.py's corpus (`flask demo seed`'s generator, 2,000 businesses, same seed) and query
mix (1-3 words, phrases, misspellings, a category filter with facets, date-sorted). The corpus is
generated once per database and kept: a later run on the same database with the same --cases reuses
it (upgrading the schema first), so before/after comparisons at 100,000 cases do not pay for the
seed each time. Each variant's engine is asked the same queries in turn (A, B, A, B…), as an editor
and as a reporter (permission filter) through the app's search function, and as the editor through
the HTTP search page.

    .venv/bin/python bench/postgres_bench.py --postgres URL [--cases 10000] [--queries 200]
                                             [--variants before,after] [--fresh] [--reindex]

`before` is investigations/search/postgres_backend.py as committed (git HEAD), `after` the working
tree's. --fresh regenerates the corpus; --reindex rebuilds search_documents with the working tree's
engine (the rebuild is timed).
"""
import argparse
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import stamp, upgrade  # noqa: E402
from search_bench import make_app, percentile, query_mix, reset_postgres  # noqa: E402
from sqlalchemy import func, inspect, select, text  # noqa: E402

from investigations.auth.accounts import create_user  # noqa: E402
from investigations.demo import seed  # noqa: E402
from investigations.extensions import db  # noqa: E402
from investigations.models import Case, User  # noqa: E402
from investigations.search import maintenance  # noqa: E402

MODULE = "investigations/search/postgres_backend.py"
EMAIL, PASSWORD = "bench@example.org", "bench password 123"


def committed_backend(path: str | None = None):
    """PostgresBackend as committed (git HEAD), or as in the file at `path`, loaded beside the working tree's."""
    source = Path(path).read_text() if path else subprocess.run(
        ["git", "show", f"HEAD:{MODULE}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("investigations.search.postgres_backend_committed", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "investigations.search"
    exec(compile(source, f"HEAD:{MODULE}", "exec"), module.__dict__)
    return module.PostgresBackend


def working_backend():
    from investigations.search.postgres_backend import PostgresBackend

    return PostgresBackend


def prepare(app, n_cases: int, fresh: bool, reindex: bool, url: str) -> None:
    with app.app_context():
        have = 0
        if not fresh and inspect(db.engine).has_table("cases"):
            have = db.session.scalar(select(func.count()).select_from(Case))
            db.session.rollback()
        if have != n_cases:
            db.session.remove()
            db.engine.dispose()
            reset_postgres(url)
        upgrade()
        if not inspect(db.engine).has_table("search_words"):  # a corpus made while 0012 was a placeholder
            stamp(revision="0011")
            upgrade()
        if have != n_cases:
            create_user(EMAIL, "Bench Editor", "editor", password=PASSWORD)
            db.session.commit()
            print(f"generating {n_cases} cases…", file=sys.stderr)
            started = time.perf_counter()
            app.config["SEARCH_SYNC"] = False
            seed(n_cases, random.Random(11), n_businesses=2000)
            db.session.commit()
            app.config["SEARCH_SYNC"] = True
            print(f"  {time.perf_counter() - started:.0f}s", file=sys.stderr)
            reindex = True
        if reindex:
            print("building the index (working tree's engine)…", file=sys.stderr)
            app.extensions["search_backend"] = working_backend()()
            started = time.perf_counter()
            maintenance.reindex()
            print(f"  rebuild {time.perf_counter() - started:.1f}s", file=sys.stderr)
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", required=True, help="a database of its own: its contents "
                        "are replaced, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_p2")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--variants", default="before,after")
    parser.add_argument("--fresh", action="store_true", help="regenerate the corpus")
    parser.add_argument("--reindex", action="store_true", help="rebuild the index with the working tree's engine")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--before-file", help="the engine to call `before` (default: git HEAD's)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="postgres-bench-"))
    app = make_app(args.postgres, work, "postgres")
    prepare(app, args.cases, args.fresh, args.reindex, args.postgres)
    makers = {"before": lambda: committed_backend(args.before_file), "after": working_backend}
    variants = {name: makers[name]()() for name in args.variants.split(",")}
    mix = query_mix(random.Random(11), args.queries)
    times = {(name, who): [] for name in variants for who in ("editor", "reporter", "http")}
    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == EMAIL))
        reporter = db.session.scalar(select(User).where(User.role == "reporter").order_by(User.id))
        totals = {}
        for name, backend in variants.items():  # warm up; check the variants agree
            for request in mix:
                for who, user in (("editor", editor), ("reporter", reporter)):
                    found = backend.search(request, user)
                    totals.setdefault((who, repr(request)), {})[name] = (
                        found.total, [hit.case_id for hit in found.hits] if request.sort != "relevance" else None,
                        found.facets, found.corrected)
        disagreements = [key for key, answers in totals.items() if len({repr(a) for a in answers.values()}) > 1]
        for key in disagreements[:5]:
            print("variants disagree:", key, {n: (a[0], a[3]) for n, a in totals[key].items()}, file=sys.stderr)
        for request in mix:
            for who, user in (("editor", editor), ("reporter", reporter)):
                for name, backend in variants.items():
                    started = time.perf_counter()
                    backend.search(request, user)
                    times[(name, who)].append(time.perf_counter() - started)
        db.session.remove()
    if not args.no_http:
        client = app.test_client()
        client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        try:
            for request in mix:
                params = {"q": request.text, "sort": request.sort, **request.filters}
                for name, backend in variants.items():
                    app.extensions["search_backend"] = backend
                    started = time.perf_counter()
                    response = client.get("/search", query_string=params)
                    times[(name, "http")].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.status_code
        except Exception as error:  # the page itself broken (templates being edited, say): keep the app figures
            print(f"HTTP measurement stopped: {error!r}", file=sys.stderr)
            for name in variants:
                times[(name, "http")].clear()
    print()
    print(f"Corpus: {args.cases} cases, {args.queries} queries; {os.cpu_count()} cores; "
          f"{len(disagreements)} disagreements between variants")
    print(f"{'':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for (name, who), values in times.items():
        if values:
            label = {"editor": "app search, editor", "reporter": "app search, reporter",
                     "http": "HTTP /search, editor"}[who]
            print(f"{label + ' (' + name + ')':40} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
                  f"{max(values) * 1000:>8.1f}")


if __name__ == "__main__":
    main()
