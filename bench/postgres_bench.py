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
                                             [--before-postgres URL2 [--before-revision 0014]]

`before` is investigations/search/postgres_backend.py as committed (git HEAD), `after` the working
tree's. --fresh regenerates the corpus; --reindex rebuilds search_documents with the working tree's
engine (the rebuild is timed).

When the working tree changes the search tables (migration 0015 moved what searches match on to
search_terms), the committed engine cannot run on the upgraded database: --before-postgres names
a second database for it, holding the same corpus at --before-revision. If it does not hold
--cases cases it is made as a copy of --postgres (CREATE DATABASE … TEMPLATE) and migrated down to
--before-revision. Both databases are on the same server and share its cache, as they are asked
the same queries in turn.
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

from flask_migrate import downgrade, stamp, upgrade  # noqa: E402
from search_bench import make_app, percentile, query_mix, reset_postgres  # noqa: E402
from sqlalchemy import create_engine, func, inspect, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

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
    from investigations.models import SearchDocument

    if not hasattr(SearchDocument, "tsv") and "from ..models import SearchDocument\n" in source:
        # The committed engine reads the tsvectors in search_documents (before migration 0015).
        source = source.replace("from ..models import SearchDocument\n", "")
        module.SearchDocument = _search_document_before_0015()
    exec(compile(source, f"HEAD:{MODULE}", "exec"), module.__dict__)
    return module.PostgresBackend


def _search_document_before_0015():
    """search_documents as mapped before migration 0015 (with tsv and tsv_head), on its own metadata."""
    from sqlalchemy import Column, MetaData
    from sqlalchemy.dialects.postgresql import TSVECTOR
    from sqlalchemy.orm import registry

    from investigations.models import SearchDocument

    table = SearchDocument.__table__.to_metadata(MetaData())
    table.append_column(Column("tsv", TSVECTOR))
    table.append_column(Column("tsv_head", TSVECTOR))
    mapper_registry = registry(metadata=table.metadata)

    class SearchDocumentBefore0015:
        pass

    mapper_registry.map_imperatively(SearchDocumentBefore0015, table)
    return SearchDocumentBefore0015


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


def prepare_before(app, url: str, source_url: str, n_cases: int, revision: str) -> None:
    """The database the committed engine is measured on: `source_url`'s corpus at `revision`."""
    with app.app_context():
        have = 0
        if inspect(db.engine).has_table("cases"):
            have = db.session.scalar(select(func.count()).select_from(Case))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
        if have != n_cases:
            name, source = make_url(url).database, make_url(source_url).database
            print(f"copying {source} to {name}…", file=sys.stderr)
            server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
            server.dispose()
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.rollback()
        if current != revision:
            print(f"migrating {make_url(url).database} down to {revision}…", file=sys.stderr)
            downgrade(revision=revision)
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
    parser.add_argument("--before-postgres", metavar="URL2", help="a second database for `before`, the same "
                        "corpus at --before-revision (made from --postgres if it does not hold it)")
    parser.add_argument("--before-revision", default="0014", help="the schema `before` runs on (default 0014)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="postgres-bench-"))
    app = make_app(args.postgres, work, "postgres")
    prepare(app, args.cases, args.fresh, args.reindex, args.postgres)
    makers = {"before": lambda: committed_backend(args.before_file), "after": working_backend}
    variants = {name: makers[name]()() for name in args.variants.split(",")}
    apps = {name: app for name in variants}
    if args.before_postgres and "before" in variants:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        apps["before"] = make_app(args.before_postgres, Path(tempfile.mkdtemp(prefix="postgres-bench-")), "postgres")
        prepare_before(apps["before"], args.before_postgres, args.postgres, args.cases, args.before_revision)
    mix = query_mix(random.Random(11), args.queries)
    times = {(name, who): [] for name in variants for who in ("editor", "reporter", "http")}
    users = {}
    for name in variants:
        with apps[name].app_context():
            editor = db.session.scalar(select(User).where(User.email == EMAIL))
            reporter = db.session.scalar(select(User).where(User.role == "reporter").order_by(User.id))
            users[name] = {"editor": editor.id, "reporter": reporter.id}
    totals = {}
    for name, backend in variants.items():  # warm up; check the variants agree
        with apps[name].app_context():
            for request in mix:
                for who in ("editor", "reporter"):
                    found = backend.search(request, db.session.get(User, users[name][who]))
                    totals.setdefault((who, repr(request)), {})[name] = (
                        found.total, [hit.case_id for hit in found.hits] if request.sort != "relevance" else None,
                        found.facets, found.corrected)
            db.session.remove()
    disagreements = [key for key, answers in totals.items() if len({repr(a) for a in answers.values()}) > 1]
    for key in disagreements[:5]:
        print("variants disagree:", key, {n: (a[0], a[3]) for n, a in totals[key].items()}, file=sys.stderr)
    contexts = {name: apps[name].app_context() for name in variants}
    cpu = {(name, who): [] for name in variants for who in ("editor", "reporter")}
    for request in mix:
        for who in ("editor", "reporter"):
            for name, backend in variants.items():
                with contexts[name]:
                    user = db.session.get(User, users[name][who])
                    server = db.session.scalar(text("SELECT pg_backend_pid()"))  # the search's connection
                    cpu_before = time.process_time() + server_cpu(server)
                    started = time.perf_counter()
                    backend.search(request, user)
                    times[(name, who)].append(time.perf_counter() - started)
                    cpu[(name, who)].append(time.process_time() + server_cpu(server) - cpu_before)
    for name in variants:
        with contexts[name]:
            db.session.remove()
    if not args.no_http:
        clients = {}
        for name in variants:
            clients[name] = apps[name].test_client()
            clients[name].post("/login", data={"email": EMAIL, "password": PASSWORD})
        try:
            for request in mix:
                params = {"q": request.text, "sort": request.sort, **request.filters}
                for name, backend in variants.items():
                    apps[name].extensions["search_backend"] = backend
                    started = time.perf_counter()
                    response = clients[name].get("/search", query_string=params)
                    times[(name, "http")].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.status_code
        except Exception as error:  # the page itself broken (templates being edited, say): keep the app figures
            print(f"HTTP measurement stopped: {error!r}", file=sys.stderr)
            for name in variants:
                times[(name, "http")].clear()
    print()
    print(f"Corpus: {args.cases} cases, {args.queries} queries; {os.cpu_count()} cores; "
          f"{len(disagreements)} disagreements between variants")
    print("(cpu: this process's CPU time and its PostgreSQL backend's, which a loaded machine does not inflate)")
    print(f"{'':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for (name, who), values in times.items():
        if values:
            label = {"editor": "app search, editor", "reporter": "app search, reporter",
                     "http": "HTTP /search, editor"}[who]
            used = cpu.get((name, who))
            cpu_columns = f" {percentile(used, 50):>8.1f} {percentile(used, 95):>8.1f}" if used and any(used) else ""
            print(f"{label + ' (' + name + ')':40} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
                  f"{max(values) * 1000:>8.1f}{cpu_columns}")


def server_cpu(pid: int) -> float:
    """Seconds of CPU a PostgreSQL backend has used (0 when the server is not on this machine)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


if __name__ == "__main__":
    main()
