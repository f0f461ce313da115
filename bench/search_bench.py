"""Search benchmark: index build, size and query latency, against SQLite FTS5 on the same corpus.

Generates N synthetic complaints with `flask demo seed`'s generator (80 to 400 words drawn with
Zipf-like frequencies, 2,000 businesses, 16 categories) in a throw-away instance, builds the index with `flask search reindex`'s code, then runs a fixed
query mix (1-3 words, phrases, misspellings, a category filter with facets, date-sorted)
through the app's search function and through the HTTP search page, and the same mix on
SQLite FTS5 as the baseline. Finally it saves one case and measures how soon search finds it.

    .venv/bin/python bench/search_bench.py [--cases 10000] [--queries 200] [--postgres URL]

With --postgres, the same corpus (same seed) is also generated in that PostgreSQL database and
measured with SEARCH_BACKEND=postgres.
"""
import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

# BENCH_APP_ROOT: measure another checkout of the app (say the code before a change) with this bench.
sys.path.insert(0, os.environ.get("BENCH_APP_ROOT") or str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from investigations import create_app  # noqa: E402
from investigations.auth.accounts import create_user  # noqa: E402
from investigations.cases.services import CaseDetails, update_case  # noqa: E402
from investigations.demo import WORDS, seed  # noqa: E402
from investigations.extensions import db  # noqa: E402
from investigations.models import Case, User  # noqa: E402
from investigations.models.cases import CATEGORIES  # noqa: E402
from investigations.search import get_backend, maintenance  # noqa: E402
from investigations.search.query import SearchRequest  # noqa: E402


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] * 1000


def query_mix(rng: random.Random, n: int) -> list[SearchRequest]:
    mix = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            mix.append(SearchRequest(text=rng.choice(WORDS)))
        elif kind == 1:
            mix.append(SearchRequest(text=" ".join(rng.sample(WORDS, rng.randrange(2, 4)))))
        elif kind == 2:
            mix.append(SearchRequest(text=f'"{" ".join(rng.sample(WORDS, 2))}"'))
        elif kind == 3:
            word = rng.choice([w for w in WORDS if len(w) > 5])
            mix.append(SearchRequest(text=word[:2] + word[3] + word[2] + word[4:]))  # a transposition typo
        elif kind == 4:
            mix.append(SearchRequest(text=rng.choice(WORDS), filters={"category": rng.choice(list(CATEGORIES))}))
        else:
            mix.append(SearchRequest(text=rng.choice(WORDS), sort="newest"))
    return mix


def fts5_baseline(db_path: Path, mix: list[SearchRequest]) -> tuple[float, list[float]]:
    connection = sqlite3.connect(db_path)
    started = time.perf_counter()
    connection.execute("CREATE VIRTUAL TABLE fts USING fts5(title, narrative, content='cases', content_rowid='id',"
                       " tokenize='porter')")
    connection.execute("INSERT INTO fts(rowid, title, narrative) SELECT id, title, narrative FROM cases")
    connection.commit()
    build = time.perf_counter() - started
    times = []
    for request in mix:
        text = request.text.replace('"', "") if not request.text.startswith('"') else request.text
        match = text if text.startswith('"') else " AND ".join(text.split())
        started = time.perf_counter()
        where = "fts MATCH ?" + (" AND cases.category = ?" if request.filters else "")
        params = [match] + list(request.filters.values())
        order = "cases.date_received DESC" if request.sort == "newest" else "bm25(fts)"
        connection.execute(f"SELECT cases.id FROM fts JOIN cases ON cases.id = fts.rowid WHERE {where} "
                           f"ORDER BY {order} LIMIT 20", params).fetchall()
        for facet in ("status", "category", "business_id"):
            connection.execute(f"SELECT cases.{facet}, count(*) FROM fts JOIN cases ON cases.id = fts.rowid "
                               f"WHERE {where} GROUP BY cases.{facet}", params).fetchall()
        connection.execute(f"SELECT count(*) FROM fts JOIN cases ON cases.id = fts.rowid WHERE {where}",
                           params).fetchall()
        times.append(time.perf_counter() - started)
    connection.close()
    return build, times


def seed_corpus(app, label: str, n_cases: int, rng_seed: int = 11) -> float:
    """Create the schema, the bench editor and `n_cases` demo cases in `app`'s database; return seconds."""
    with app.app_context():
        upgrade()
        create_user("bench@example.org", "Bench Editor", "editor", password="bench password 123")
        db.session.commit()
        print(f"[{label}] generating {n_cases} cases…", file=sys.stderr)
        app.config["SEARCH_SYNC"] = False
        started = time.perf_counter()
        seed(n_cases, random.Random(rng_seed), n_businesses=2000)
        db.session.commit()
        app.config["SEARCH_SYNC"] = True
        return time.perf_counter() - started


def build_index(app, label: str) -> dict:
    """`flask search reindex`'s code, timed."""
    with app.app_context():
        print(f"[{label}] building the index…", file=sys.stderr)
        started = time.perf_counter()
        maintenance.reindex()
        build_s = time.perf_counter() - started
        return {"build": build_s, "size_mb": backend_size_mb(get_backend())}


def run_queries(app, label: str, mix: list[SearchRequest], fresh_word: str = "zyxwvut") -> dict:
    """The mix through the app's search function and through the search page (Flask's test client),
    then how soon an edited case is found."""
    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == "bench@example.org"))
        backend = get_backend()
        print(f"[{label}] querying…", file=sys.stderr)
        for request in mix[:20]:  # warm the searcher and the caches
            backend.search(request, editor)
        app_times = []
        for request in mix:
            started = time.perf_counter()
            backend.search(request, editor)
            app_times.append(time.perf_counter() - started)

        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": "bench password 123"})
        http_times = []
        for request in mix:
            params = {"q": request.text, "sort": request.sort, **request.filters}
            started = time.perf_counter()
            response = client.get("/search", query_string=params)
            http_times.append(time.perf_counter() - started)
            assert response.status_code == 200

        case = db.session.scalar(select(Case).order_by(Case.id).limit(1))
        started = time.perf_counter()
        update_case(case, replace(CaseDetails.of_case(case), title=f"{fresh_word.capitalize()} edited"))
        db.session.commit()  # the index is written after the commit
        while not backend.search(SearchRequest(text=fresh_word), editor).total:
            time.sleep(0.01)
        fresh_s = time.perf_counter() - started
    return {"app": app_times, "http": http_times, "fresh": fresh_s}


def measure(app, label: str, n_cases: int, n_queries: int, rng_seed: int = 11) -> dict:
    """Generate the corpus in `app`'s database, build its search index, run the mix; return the figures."""
    seed_s = seed_corpus(app, label, n_cases, rng_seed)
    figures = build_index(app, label)
    mix = query_mix(random.Random(rng_seed + 1), n_queries)
    return {**figures, **run_queries(app, label, mix), "seed": seed_s, "mix": mix}


def backend_size_mb(backend) -> float:
    if backend.name in ("whoosh", "tantivy"):
        return sum(p.stat().st_size for p in backend.current_dir().rglob("*") if p.is_file()) / 2**20
    return db.session.scalar(text("SELECT pg_total_relation_size('search_documents')")) / 2**20


def make_app(database_url: str, work: Path, backend: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_DIR": str(work),
                       "SEARCH_INDEX_DIR": str(work / "index"), "EVIDENCE_DIR": str(work / "evidence"),
                       "SEARCH_BACKEND": backend, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "SEARCH_INDEXER": "inline"})


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def row(label: str, build: float | None, times: list[float]) -> str:
    build_text = f"{build:>8.1f}s" if build is not None else f"{'':>9}"
    return f"{label:34} {build_text} {percentile(times, 50):>8.1f} {percentile(times, 95):>8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure SEARCH_BACKEND=postgres on this database (its contents are replaced), "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/benchsearch")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    db_path = work / "bench.db"
    whoosh = measure(make_app(f"sqlite:///{db_path}", work, "whoosh"), "whoosh", args.cases, args.queries)
    postgres = None
    if args.postgres:
        reset_postgres(args.postgres)
        postgres = measure(make_app(args.postgres, work / "pg", "postgres"), "postgres", args.cases, args.queries)
    print("[fts5] building and querying the baseline…", file=sys.stderr)
    fts_build, fts_times = fts5_baseline(db_path, whoosh["mix"])

    print()
    print(f"Corpus: {args.cases} cases, {args.queries} queries; {os.cpu_count()} cores")
    print(f"{'':34} {'build':>9} {'p50 ms':>8} {'p95 ms':>8}")
    print(row("app search (Whoosh)", whoosh["build"], whoosh["app"]))
    print(row("HTTP /search page (Whoosh)", None, whoosh["http"]))
    if postgres:
        print(row("app search (PostgreSQL FTS)", postgres["build"], postgres["app"]))
        print(row("HTTP /search page (PostgreSQL FTS)", None, postgres["http"]))
    print(row("SQLite FTS5 (baseline)", fts_build, fts_times))
    for label, figures in (("Whoosh", whoosh), ("PostgreSQL", postgres)):
        if not figures:
            continue
        print(f"Ratios {label}/FTS5: build {figures['build'] / fts_build:.1f}x, "
              f"p50 {statistics.median(figures['app']) / statistics.median(fts_times):.1f}x, "
              f"p95 {percentile(figures['app'], 95) / percentile(fts_times, 95):.1f}x. "
              f"Index size {figures['size_mb']:.0f} MB; an edited case was findable "
              f"{figures['fresh'] * 1000:.0f} ms after saving.")


if __name__ == "__main__":
    main()
