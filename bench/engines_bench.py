"""The search engines side by side: index build, query p50 / p95 through the app and through the
search page, peak memory, with raw tantivy as the floor.

Reuses search_bench.py's corpus (`flask demo seed`'s generator: N synthetic complaints, 2,000
businesses) and query mix (1-3 words, phrases, misspellings, a category filter with facets,
date-sorted). Each engine builds its own index with `flask search reindex`'s code and runs the mix
through the app's search function (permission filter, facets, highlights, spelling) and through the
HTTP search page (Flask's test client), then saves a case and times how soon it is found. Seeding,
building and querying each run in a fresh process, so each phase's peak RSS is its own: the query
process's is what a web worker holds. The floor is tantivy used directly on the same cases: title
and narrative (en_stem), category (fast), one commit; each query parsed by tantivy, top 20 with a
count, stored titles, and a terms aggregation over category.

    .venv/bin/python bench/engines_bench.py [--cases 10000] [--queries 200] [--engines tantivy,whoosh]
                                            [--db PATH] [--before DIR] [--postgres URL]

--db keeps the seeded SQLite database there and reuses it when it exists (seeding 1,000,000 cases
takes minutes). --before DIR also measures another checkout of the app (e.g. `git archive HEAD |
tar -x -C DIR`) on the same database in the same run, so before and after share the machine's mood.
"""
import argparse
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_bench  # noqa: E402
import tantivy  # noqa: E402
from search_bench import make_app, percentile, query_mix, reset_postgres  # noqa: E402


def index_size_mb(backend) -> float:
    """Size on disk of an engine's index (PostgreSQL: the search_documents table)."""
    if backend.name in ("whoosh", "tantivy"):
        return sum(p.stat().st_size for p in backend.current_dir().rglob("*") if p.is_file()) / 2**20
    return _postgres_size(backend)


_postgres_size = search_bench.backend_size_mb
search_bench.backend_size_mb = index_size_mb  # build_index() asks for the size through this name


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def anon_rss_mb() -> float:
    """This process's private memory now (RSS less the index's memory-mapped files, which the
    kernel shares between workers and can drop)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:")) / 1024


# --- phases, each in its own process ----------------------------------------------------------

def _phase_seed(url: str, work: str, engine: str, cases: int) -> dict:
    seconds = search_bench.seed_corpus(make_app(url, Path(work), engine), "seed", cases)
    return {"seed": seconds, "rss": peak_rss_mb()}


def _phase_build(url: str, work: str, engine: str) -> dict:
    return {**search_bench.build_index(make_app(url, Path(work), engine), engine), "rss": peak_rss_mb()}


def _phase_query(url: str, work: str, engine: str, queries: int) -> dict:
    mix = query_mix(__import__("random").Random(12), queries)
    word = "zq" + "".join(__import__("random").choice("bcdfghjklmnpvwx") for _ in range(8))
    figures = search_bench.run_queries(make_app(url, Path(work), engine), engine, mix, fresh_word=word)
    return {**figures, "mix": mix, "rss": peak_rss_mb(), "anon": anon_rss_mb()}


def _phase_floor(db_path: str, queries: int) -> dict:
    build, times = raw_tantivy(Path(db_path), query_mix(__import__("random").Random(12), queries))
    return {"build": build, "times": times, "rss": peak_rss_mb()}


def _child(target, args, app_root: str | None, queue):
    if app_root:
        os.environ["BENCH_APP_ROOT"] = app_root
    queue.put(target(*args))


def in_process(target, *args, app_root: str | None = None) -> dict:
    """Run one phase in a fresh interpreter (spawned), with the app imported from `app_root`."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    saved = os.environ.get("BENCH_APP_ROOT")
    if app_root:
        os.environ["BENCH_APP_ROOT"] = app_root  # read when the child imports search_bench
    else:
        os.environ.pop("BENCH_APP_ROOT", None)
    try:
        process = context.Process(target=_child, args=(target, args, app_root, queue))
        process.start()
        while True:
            try:
                result = queue.get(timeout=1)
                break
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(f"{target.__name__} failed (exit code {process.exitcode})") from None
        process.join()
    finally:
        if saved is None:
            os.environ.pop("BENCH_APP_ROOT", None)
        else:
            os.environ["BENCH_APP_ROOT"] = saved
    return result


def raw_tantivy(db_path: Path, mix) -> tuple[float, list[float]]:
    """tantivy without the app: the least any engine built on it can cost for this mix."""
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, fast=True)
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("narrative", tokenizer_name="en_stem")
    builder.add_text_field("category", tokenizer_name="raw", fast=True)
    builder.add_integer_field("received", fast=True)
    schema = builder.build()
    index = tantivy.Index(schema, path=tempfile.mkdtemp(prefix="raw-tantivy-"))
    connection = sqlite3.connect(db_path)
    started = time.perf_counter()
    writer = index.writer(256_000_000, min(2, os.cpu_count() or 1))
    for case_id, title, narrative, category, received in connection.execute(
            "SELECT id, title, narrative, category, date_received FROM cases"):
        writer.add_document(tantivy.Document(id=case_id, title=title, narrative=narrative, category=category,
                                             received=int(str(received).replace("-", "")[:8])))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build = time.perf_counter() - started
    connection.close()
    searcher = index.searcher()
    fields = ["title", "narrative"]
    times = []
    for request in mix:
        started = time.perf_counter()
        query = index.parse_query(request.text, fields, fuzzy_fields={"title": (False, 1, True),
                                                                      "narrative": (False, 1, True)},
                                  conjunction_by_default=True)
        if request.filters:
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "category", request.filters["category"][0]))])
        ordered = {"order_by_field": "received"} if request.sort == "newest" else {}
        result = searcher.search(query, limit=20, count=True, **ordered)
        [searcher.doc(address).get_first("title") for _, address in result.hits]
        searcher.aggregate(query, {"category": {"terms": {"field": "category", "size": 1000}}})
        times.append(time.perf_counter() - started)
    return build, times


def row(label: str, build: float | None, times: list[float], extra: str = "") -> str:
    build_text = f"{build:>8.1f}s" if build is not None else f"{'':>9}"
    return f"{label:44} {build_text} {percentile(times, 50):>8.2f} {percentile(times, 95):>8.2f}  {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default="tantivy,whoosh", help="comma-separated: tantivy, whoosh")
    parser.add_argument("--db", metavar="PATH", help="the seeded SQLite database: reused if it exists, kept")
    parser.add_argument("--before", metavar="DIR", help="also measure the app checked out in DIR, same run")
    parser.add_argument("--no-floor", action="store_true", help="skip raw tantivy")
    parser.add_argument("--postgres", metavar="URL", help="also measure SEARCH_BACKEND=postgres on this database "
                                                          "(its contents are replaced)")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    work = Path(tempfile.mkdtemp(prefix="engines-bench-"))
    db_path = Path(args.db).resolve() if args.db else work / "bench.db"
    url = f"sqlite:///{db_path}"
    seed_figures = None
    if not db_path.exists():
        seed_figures = in_process(_phase_seed, url, str(work / "seed"), engines[0], args.cases)
    cases = sqlite3.connect(db_path).execute("SELECT count(*) FROM cases").fetchone()[0]

    runs = [(engine, None, engine) for engine in engines]
    if args.before:
        runs = [(f"{engine}, before", str(Path(args.before).resolve()), engine) for engine in engines] + runs
    results = {}
    for label, app_root, engine in runs:
        engine_work = work / f"{engine}-{uuid.uuid4().hex[:6]}"
        engine_work.mkdir()
        print(f"[{label}] …", file=sys.stderr)
        build = in_process(_phase_build, url, str(engine_work), engine, app_root=app_root)
        query = in_process(_phase_query, url, str(engine_work), engine, args.queries, app_root=app_root)
        results[label] = (build, query)
    if args.postgres:
        reset_postgres(args.postgres)
        pg_work = work / "pg"
        in_process(_phase_seed, args.postgres, str(pg_work), "postgres", args.cases)
        results["postgres"] = (in_process(_phase_build, args.postgres, str(pg_work), "postgres"),
                               in_process(_phase_query, args.postgres, str(pg_work), "postgres", args.queries))
    floor = None if args.no_floor else in_process(_phase_floor, str(db_path), args.queries)

    print()
    print(f"Corpus: {cases} cases ({db_path}), {args.queries} queries; {os.cpu_count()} cores")
    if seed_figures:
        print(f"Seeding (demo seed's generator): {seed_figures['seed']:.1f} s, peak RSS {seed_figures['rss']:.0f} MB")
    print(f"{'':44} {'build':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for label, (build, query) in results.items():
        print(row(f"app search ({label})", build["build"], query["app"],
                  f"index {build['size_mb']:.0f} MB; peak RSS build {build['rss']:.0f} MB, "
                  f"query process {query['rss']:.0f} MB ({query['anon']:.0f} MB private at the end); an edit findable after {query['fresh'] * 1000:.0f} ms"))
        print(row(f"HTTP /search page ({label})", None, query["http"],
                  f"max {max(query['http']) * 1000:.1f} ms"))
    if floor:
        print(row("raw tantivy (floor)", floor["build"], floor["times"], f"peak RSS {floor['rss']:.0f} MB"))


if __name__ == "__main__":
    main()
