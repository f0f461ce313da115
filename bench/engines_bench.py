"""The search engines side by side: index build and query p50 / p95 for each engine, with raw tantivy
as the floor.

Reuses search_bench.py's corpus (`flask demo seed`'s generator: N synthetic complaints, 2,000
businesses) and query mix (1-3 words, phrases, misspellings, a category filter with facets,
date-sorted). Each engine gets its own throw-away instance with the same seed, builds its index with
`flask search reindex`'s code and runs the mix through the app's search function (permission
filter, facets, highlights, spelling) and through the HTTP search page. The floor is tantivy used
directly on the same cases: title and narrative (en_stem), category (fast), one commit; each query
parsed by tantivy, top 20 with a count, stored titles, and a terms aggregation over category.

    .venv/bin/python bench/engines_bench.py [--cases 10000] [--queries 200] [--engines tantivy,whoosh]
                                            [--postgres URL]
"""
import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_bench  # noqa: E402
import tantivy  # noqa: E402
from search_bench import make_app, measure, percentile, reset_postgres  # noqa: E402


def index_size_mb(backend) -> float:
    """Size on disk of an engine's index (PostgreSQL: the search_documents table)."""
    if backend.name in ("whoosh", "tantivy"):
        return sum(p.stat().st_size for p in backend.current_dir().rglob("*") if p.is_file()) / 2**20
    return _postgres_size(backend)


_postgres_size = search_bench.backend_size_mb
search_bench.backend_size_mb = index_size_mb  # measure() asks for the size through this name


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
                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "category", request.filters["category"]))])
        ordered = {"order_by_field": "received"} if request.sort == "newest" else {}
        result = searcher.search(query, limit=20, count=True, **ordered)
        [searcher.doc(address).get_first("title") for _, address in result.hits]
        searcher.aggregate(query, {"category": {"terms": {"field": "category", "size": 1000}}})
        times.append(time.perf_counter() - started)
    return build, times


def row(label: str, build: float | None, times: list[float], extra: str = "") -> str:
    build_text = f"{build:>8.1f}s" if build is not None else f"{'':>9}"
    return f"{label:38} {build_text} {percentile(times, 50):>8.2f} {percentile(times, 95):>8.2f}  {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default="tantivy,whoosh", help="comma-separated: tantivy, whoosh")
    parser.add_argument("--postgres", metavar="URL", help="also measure SEARCH_BACKEND=postgres on this database "
                                                          "(its contents are replaced)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="engines-bench-"))
    results, db_path = {}, None
    for engine in [name.strip() for name in args.engines.split(",") if name.strip()]:
        engine_work = work / engine
        engine_work.mkdir()
        db_path = engine_work / "bench.db"
        results[engine] = measure(make_app(f"sqlite:///{db_path}", engine_work, engine), engine, args.cases,
                                  args.queries)
    if args.postgres:
        reset_postgres(args.postgres)
        results["postgres"] = measure(make_app(args.postgres, work / "pg", "postgres"), "postgres", args.cases,
                                      args.queries)
    floor = None
    if db_path is not None:
        print("[raw tantivy] building and querying the floor…", file=sys.stderr)
        floor = raw_tantivy(db_path, results[next(iter(results))]["mix"])

    print()
    print(f"Corpus: {args.cases} cases, {args.queries} queries; {os.cpu_count()} cores")
    print(f"{'':38} {'build':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for engine, figures in results.items():
        print(row(f"app search ({engine})", figures["build"], figures["app"],
                  f"index {figures['size_mb']:.0f} MB; an edit findable after {figures['fresh'] * 1000:.0f} ms"))
        print(row(f"HTTP /search page ({engine})", None, figures["http"]))
    if floor:
        print(row("raw tantivy (floor)", *floor))


if __name__ == "__main__":
    main()
