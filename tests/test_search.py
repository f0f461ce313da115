"""Full-text search: permissions inside the query, language features, facets, and the index
following the database."""
import io
import multiprocessing
import re
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import select

from investigations.extensions import db
from investigations.models import Case, SearchQueueEntry
from investigations.search import get_backend
from investigations.search.query import SearchRequest
from tests.conftest import TEST_DATABASE_URL, case_form, file_case

# The same tests run against each backend: tantivy and Whoosh on SQLite, PostgreSQL on PostgreSQL.
BACKENDS = ["postgres"] if TEST_DATABASE_URL else ["tantivy", "whoosh"]
ON_DISK = ("tantivy", "whoosh")  # the engines with an index directory, a writer lock and a searcher per process


@pytest.fixture(autouse=True, params=BACKENDS)
def search_backend(request, app):
    app.config["SEARCH_BACKEND"] = request.param
    app.extensions.pop("search_backend", None)
    return request.param


def search(client, **params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def found(page: str) -> set[str]:
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', page))


def count_line(page: str) -> int:
    return int(re.search(r"(\d+) cases? in \d+ ms", page).group(1))


@pytest.fixture
def corpus(login):
    """Rita's and Rob's cases against a few businesses."""
    rita, rob = login("rita"), login("rob")
    refs = {
        "washer": file_case(rita, title="Washer leaks, refund refused", business_name="Acme Appliances",
                            narrative="The warranty should cover the leaking washer but the store refused.",
                            category="warranty", tags="washer, leak", date_received="2026-03-02"),
        "dryer": file_case(rita, title="Dryer never delivered", business_name="Acme Appliances",
                           narrative="Paid for a dryer in full; it was never delivered and no refunds were given.",
                           category="delivery", date_received="2025-11-20"),
        "gym": file_case(rob, title="Gym keeps charging", business_name="Fit Fast Gyms",
                         narrative="Cancelled the membership in writing and the gym kept charging my card.",
                         category="billing", complainant_name="Zebulon Quartermaine",
                         date_received="2026-01-15"),
        "robacme": file_case(rob, title="Oven warranty ignored", business_name="ACME Appliances Inc.",
                             narrative="The oven broke within warranty and Acme ignored every email.",
                             category="warranty", date_received="2026-02-10"),
    }
    return refs


def test_a_reporter_only_finds_their_own_cases_in_results_counts_and_facets(corpus, login):
    rita_page = search(login("rita"), q="warranty")
    assert found(rita_page) == {corpus["washer"]}
    assert count_line(rita_page) == 1
    assert "Oven warranty ignored" not in rita_page
    # The facet counts agree: one warranty case, not two.
    assert re.search(r"Warranty and repairs</a> <span class=\"muted\">\(1\)", rita_page)
    editor_page = search(login("eve"), q="warranty")
    assert found(editor_page) == {corpus["washer"], corpus["robacme"]} and count_line(editor_page) == 2
    assert re.search(r"Warranty and repairs</a> <span class=\"muted\">\(2\)", editor_page)


def test_complainant_details_are_searchable_only_where_they_may_be_seen(corpus, login):
    assert found(search(login("eve"), q="Quartermaine")) == {corpus["gym"]}
    assert found(search(login("rob"), q="Quartermaine")) == {corpus["gym"]}
    assert found(search(login("rita"), q="Quartermaine")) == set()


def test_a_misspelling_still_finds_and_offers_did_you_mean(corpus, login):
    page = search(login("eve"), q="warrenty")
    assert found(page) == {corpus["washer"], corpus["robacme"]}
    assert "Did you mean" in page and "warranty" in page


def test_did_you_mean_never_offers_a_word_from_a_case_the_user_may_not_see(corpus, login):
    """"oven" is only in Rob's case: Rita is offered "washer" for "washr", and "ovan" stays as typed."""
    page = search(login("rita"), q="ovan OR washr")
    assert corpus["washer"] in found(page) and "Did you mean" in page
    assert "oven" not in page.lower()
    assert "oven" in search(login("eve"), q="ovan OR washr")  # an editor may see Rob's case


def test_stemming_finds_other_forms(corpus, login):
    assert corpus["washer"] in found(search(login("eve"), q="refunds"))  # "refund refused"
    assert corpus["dryer"] in found(search(login("eve"), q="refund"))  # "no refunds were given"


def test_phrases_operators_fields_and_wildcards(corpus, login):
    eve = login("eve")
    assert found(search(eve, q='"kept charging"')) == {corpus["gym"]}
    assert found(search(eve, q='"charging kept"')) == set()
    assert found(search(eve, q="warranty NOT oven")) == {corpus["washer"]}
    assert found(search(eve, q="oven OR dryer")) == {corpus["dryer"], corpus["robacme"]}
    assert found(search(eve, q="business:acme")) == {corpus["washer"], corpus["dryer"], corpus["robacme"]}
    assert found(search(eve, q="status:new category:billing")) == {corpus["gym"]}
    assert found(search(eve, q="tag:leak")) == {corpus["washer"]}
    assert found(search(eve, q=f"ref:{corpus['dryer']}")) == {corpus["dryer"]}
    assert found(search(eve, q="memb*")) == {corpus["gym"]}
    assert found(search(eve, q="warrenty~")) == {corpus["washer"], corpus["robacme"]}


def test_snippets_highlight_the_match_where_it_was_found(corpus, login):
    rita = login("rita")
    rita.post(f"/cases/{corpus['dryer']}/evidence", content_type="multipart/form-data",
              data={"files": [(io.BytesIO(b"Invoice 4471: delivery charge waived, courier Zephyrline.\n"), "inv.txt")]})
    page = search(rita, q="zephyrline")
    assert found(page) == {corpus["dryer"]}
    assert '<span class="badge">Evidence</span>' in page and "<mark>Zephyrline</mark>" in page


def test_user_text_in_snippets_is_escaped(login):
    rita = login("rita")
    file_case(rita, narrative='The flyer said <script>alert("x")</script> quadrupleword guarantee.')
    page = search(rita, q="quadrupleword")
    assert "<mark>quadrupleword</mark>" in page.lower()
    assert "<script>alert" not in page  # shown escaped (Whoosh) or left out of the fragment (PostgreSQL)


def test_facets_narrow_and_dates_and_sorting_work(corpus, login):
    eve = login("eve")
    acme = db.session.scalar(select(Case).where(Case.reference == corpus["washer"])).business_id
    assert found(search(eve, q="", business_id=str(acme))) == {corpus["washer"], corpus["dryer"], corpus["robacme"]}
    assert found(search(eve, q="", year="2025")) == {corpus["dryer"]}
    assert found(search(eve, q="", status="new", category="warranty")) == {corpus["washer"], corpus["robacme"]}
    assert found(search(eve, **{"q": "", "from": "2026-01-01", "to": "2026-02-28"})) == {corpus["gym"],
                                                                                         corpus["robacme"]}
    newest = search(eve, q="", sort="newest")
    order = re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', newest)
    assert order.index(corpus["washer"]) < order.index(corpus["robacme"]) < order.index(corpus["dryer"])


def test_counts_facets_and_date_order_stay_right_after_edits_and_across_pages(corpus, login, users):
    eve = login("eve")
    for _ in range(2):  # each edit replaces the case's document: the old copies must not count
        eve.post(f"/cases/{corpus['gym']}/edit", data=case_form(
            title="Gym keeps charging", business_name="Fit Fast Gyms", category="billing",
            narrative="Cancelled the membership in writing and the gym kept charging my card twice.",
            date_received="2026-01-15"))
    assert count_line(search(eve, q="")) == 4
    backend = get_backend()
    results = backend.search(SearchRequest(text=""), users["eve"])
    assert results.total == 4 and results.facets["category"] == {"warranty": 2, "delivery": 1, "billing": 1}
    expected = [corpus[name] for name in ("washer", "robacme", "gym", "dryer")]  # newest first
    for sort, order in (("newest", expected), ("oldest", expected[::-1])):
        pages = [backend.search(SearchRequest(text="", sort=sort, page=n, per_page=3), users["eve"]) for n in (1, 2)]
        assert [hit.reference for page in pages for hit in page.hits] == order
    assert backend.search(SearchRequest(text="", page=3, per_page=3), users["eve"]).hits == []


@pytest.mark.parametrize("query", ['"unbalanced quote', "AND", "OR NOT", "(((", "title:", "*", "~", "business:",
                                   "x" * 10_000, "refund\x00", "?*?", "[a TO", "^2", "warranty^"])
def test_malformed_queries_never_make_an_error_page(corpus, login, query):
    page = search(login("eve"), q=query)
    assert "Something went wrong" not in page


def test_a_very_long_query_is_cut_with_a_notice(corpus, login):
    page = search(login("eve"), q="warranty " * 200)
    assert "Your search was cut to its first 500 characters." in page


def test_the_index_follows_edits_and_business_renames(corpus, login):
    rita = login("rita")
    rita.post(f"/cases/{corpus['washer']}/edit",
              data=case_form(title="Washer floods kitchen", business_name="Acme Appliances",
                             narrative="Now with a flooded kitchen floor.", category="warranty"))
    assert found(search(rita, q="flooded")) == {corpus["washer"]}
    assert found(search(rita, q="leaks")) == set()
    eve = login("eve")
    slug = db.session.scalar(select(Case).where(Case.reference == corpus["washer"])).business.slug
    eve.post(f"/businesses/{slug}/edit", data={"name": "Zenith Home Stores", "aliases": ""})
    assert found(search(eve, q="zenith")) == {corpus["washer"], corpus["dryer"], corpus["robacme"]}
    assert found(search(eve, q="business:acme")) == {corpus["washer"], corpus["dryer"], corpus["robacme"]}  # alias


def test_notes_are_searchable(corpus, login):
    rita = login("rita")
    rita.post(f"/cases/{corpus['dryer']}/notes", data={"kind": "call", "body": "Courier blamed the warehouse."})
    assert found(search(rita, q="warehouse")) == {corpus["dryer"]}


def test_similar_cases_appear_on_the_case_page(corpus, login):
    eve = login("eve")
    page = eve.get(f"/cases/{corpus['washer']}").get_data(as_text=True)
    assert f'data-fragment="/cases/{corpus["washer"]}/similar"' in page  # the page fetches its panel
    panel = eve.get(f"/cases/{corpus['washer']}/similar", headers={"X-Fragment": "1"}).get_data(as_text=True)
    assert "Similar cases" in panel and corpus["robacme"] in panel and "<html" not in panel
    without_script = eve.get(f"/cases/{corpus['washer']}/similar").get_data(as_text=True)
    assert "<html" in without_script and corpus["robacme"] in without_script
    rita = login("rita")
    rita_panel = rita.get(f"/cases/{corpus['washer']}/similar", headers={"X-Fragment": "1"}).get_data(as_text=True)
    assert corpus["robacme"] not in rita_panel  # Rob's case is not Rita's to see
    assert rita.get(f"/cases/{corpus['gym']}/similar").status_code == 404  # nor is his case's panel


def test_a_failed_index_write_keeps_the_change_and_is_retried(corpus, login, monkeypatch, runner):
    rita = login("rita")
    backend = get_backend()

    def busy(*args, **kwargs):
        raise RuntimeError("index is locked")

    with monkeypatch.context() as patch:
        patch.setattr(type(backend), "write", busy)
        reference = file_case(rita, title="Solar panels never installed", narrative="Deposit paid for panels.")
    assert db.session.scalar(select(Case).where(Case.reference == reference)) is not None  # saved
    assert found(search(rita, q="panels")) == set()
    assert db.session.scalars(select(SearchQueueEntry)).all()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "Applied 1 queued index updates." in result.output
    assert found(search(rita, q="panels")) == {reference}


def test_an_update_left_behind_is_applied_by_a_later_commit_of_anyone(corpus, login, monkeypatch):
    """A worker killed between its commit and its index write leaves a queue row; once that row
    is older than STALE_SECONDS, the next commit (any user's) applies it."""
    from investigations.search import sync

    rita, eve = login("rita"), login("eve")
    with monkeypatch.context() as patch:
        patch.setattr(sync, "process_queue", lambda *args, **kwargs: 0)  # as if killed after the commit
        reference = file_case(rita, title="Solar panels never installed", narrative="Deposit paid for panels.")
    assert found(search(rita, q="panels")) == set()
    monkeypatch.setattr(sync, "STALE_SECONDS", 0)
    file_case(eve, title="Another complaint entirely")
    assert found(search(rita, q="panels")) == {reference}
    assert db.session.scalars(select(SearchQueueEntry)).all() == []


def test_check_finds_gaps_and_reindex_repairs_them(corpus, login, runner):
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    backend = get_backend()
    backend.write([], deleted_ids=[db.session.scalar(select(Case.id).where(Case.reference == corpus["gym"]))])
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "1 missing" in result.output
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 4 cases" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    assert found(search(login("eve"), q="gym")) == {corpus["gym"]}


def _file_cases_in_another_process(database_url, index_dir, evidence_dir, instance_dir, backend, prefix, count,
                                   queue):
    from investigations import create_app
    from investigations.cases.services import CaseDetails, create_case
    from investigations.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_INDEX_DIR": index_dir,
                      "EVIDENCE_DIR": evidence_dir, "INSTANCE_DIR": instance_dir, "SECRET_KEY": "x",
                      "SEARCH_BACKEND": backend, "SEARCH_INDEXER": "inline"})
    with app.app_context():
        author = db.session.scalar(select(User).where(User.email == "eve@example.org"))
        for i in range(count):
            create_case(CaseDetails.from_fields({"title": f"{prefix} case {i}", "business_name": f"{prefix} Traders",
                         "narrative": f"Concurrent{prefix} filing number {i}.", "category": "other",
                         "complainant_name": "X"}), author)
            db.session.commit()
    queue.put("done")


def test_two_processes_writing_at_once_leave_every_case_in_the_index(app, users, login):
    config = current_app.config
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_file_cases_in_another_process, args=(
        config["SQLALCHEMY_DATABASE_URI"], config["SEARCH_INDEX_DIR"], config["EVIDENCE_DIR"],
        config["INSTANCE_DIR"], config["SEARCH_BACKEND"], prefix, 8, queue)) for prefix in ("Alpha", "Beta")]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        if process.is_alive():  # never leave a stuck child holding database connections
            process.terminate()
            process.join()
        assert process.exitcode == 0
    eve = login("eve")
    assert count_line(search(eve, q="concurrentalpha")) == 8
    assert count_line(search(eve, q="concurrentbeta")) == 8
    assert not db.session.scalars(select(SearchQueueEntry)).all()


def test_saved_searches_count_new_matching_cases(corpus, login):
    rita = login("rita")
    response = rita.post("/search/saved", data={"q": "warranty", "name": "Warranty trouble"})
    assert response.status_code == 302
    page = rita.get("/search/saved").get_data(as_text=True)
    assert "Warranty trouble" in page and "Nothing new since" in page
    file_case(rita, title="Fridge warranty refused", narrative="Another warranty refused by the shop.")
    file_case(login("rob"), title="Rob's warranty case", narrative="Warranty denied again.")  # not Rita's
    page = rita.get("/search/saved").get_data(as_text=True)
    assert "1 new complaint</strong> match “Warranty trouble”" in page
    listing = rita.get("/cases/").get_data(as_text=True)
    assert "1 new complaint match “Warranty trouble”" in listing
    saved_id = re.search(r"/search/saved/(\d+)\"", page).group(1)
    opened = rita.get(f"/search/saved/{saved_id}")
    assert opened.headers["Location"].startswith("/search?") and "q=warranty" in opened.headers["Location"]
    assert "Nothing new since" in rita.get("/search/saved").get_data(as_text=True)
    assert login("rob").get(f"/search/saved/{saved_id}").status_code == 404  # not his
    rita.post(f"/search/saved/{saved_id}/delete")
    assert "No saved searches yet" in rita.get("/search/saved").get_data(as_text=True)


def test_searching_an_empty_archive_finds_nothing_without_error(login):
    page = search(login("eve"), q="refund")
    assert count_line(page) == 0
    assert count_line(search(login("eve"), q="")) == 0


A_DOCUMENT = {
    "id": "1", "reference": "c-2026-00001", "title": "t", "narrative": "n", "notes": "", "evidence": "", "business": "b",
    "business_id": "1", "complainant": "", "category": "refund", "status": "new", "tag": "", "region": "unknown",
    "year": "2026", "received": "2026-01-01", "created": "2026-01-01T00:00:00", "created_by": "1", "assigned_to": "",
    "source": "staff", "source_id": "", "product": "", "issue": "", "company_response": "", "digest": "x"}


def _disk_backend(engine, directory):
    if engine == "whoosh":
        from investigations.search.whoosh_backend import WhooshBackend

        return WhooshBackend(directory)
    from investigations.search.tantivy_backend import TantivyBackend

    return TantivyBackend(directory)


def _commit_repeatedly(engine, directory, count):
    backend = _disk_backend(engine, directory)
    for number in range(count):
        backend.write([{**A_DOCUMENT, "id": str(number % 5), "title": f"title {number}"}])


def test_opening_the_index_while_another_process_commits_never_fails(tmp_path, search_backend):
    """Whoosh deletes the previous table of contents, and segments merged away, right after a commit;
    tantivy's merges remove segments too: an open or reload racing it retries."""
    if search_backend not in ON_DISK:
        pytest.skip("an index on disk")
    backend = _disk_backend(search_backend, tmp_path / "index")
    backend.current_dir()
    writer = multiprocessing.get_context("spawn").Process(target=_commit_repeatedly,
                                                          args=(search_backend, tmp_path / "index", 300))
    writer.start()
    try:
        while writer.is_alive():
            if search_backend == "whoosh":
                backend.open()
            backend.searcher()  # reopens only the segments that changed: the same race, per segment
    finally:
        writer.join(timeout=120)
    assert writer.exitcode == 0
    assert backend.stored_digests() == {number: "x" for number in range(5)}


def test_a_gunicorn_worker_opens_the_index_before_its_first_request(corpus, app, search_backend):
    """gunicorn.conf.py's hook: a worker's first search then costs no more than the others."""
    if search_backend not in ON_DISK:
        pytest.skip("a searcher kept by each process")
    hooks = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    backend = get_backend()
    backend.close()
    if search_backend == "whoosh":
        backend._columns_by_segment.clear()
    else:
        assert backend._index is None
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    if search_backend == "whoosh":
        assert backend._searcher is not None and backend._columns_by_segment
    else:
        assert backend._index is not None and backend._seen is not None


def _fresh_titles(search_backend, backend) -> list[str]:
    if search_backend == "whoosh":
        from whoosh import index
        from whoosh.query import Every

        with index.open_dir(backend.current_dir()).searcher() as fresh:
            return sorted(hit["title"] for hit in fresh.search(Every(), limit=None))
    import tantivy

    # The tantivy index stores no text (pages read it from the database): compare the stored digests.
    fresh = tantivy.Index.open(str(backend.current_dir())).searcher()
    hits = fresh.search(tantivy.Query.all_query(), limit=100).hits
    return sorted(fresh.doc(address).get_first("digest") for _, address in hits)


def _kept_titles(search_backend, backend) -> list[str]:
    kept = backend.searcher()
    if search_backend == "whoosh":
        from whoosh.query import Every

        assert kept.up_to_date()
        return sorted(hit["title"] for hit in kept.search(Every(), limit=None))
    import tantivy

    hits = kept.search(tantivy.Query.all_query(), limit=100).hits
    return sorted(kept.doc(address).get_first("digest") for _, address in hits)


def test_the_searcher_kept_open_sees_every_commit_as_a_fresh_one_would(tmp_path, search_backend):
    """The process's searcher keeps unchanged segments open across commits: adds, replacements
    and deletions must all show exactly as in a searcher opened from scratch."""
    if search_backend not in ON_DISK:
        pytest.skip("a searcher kept by each process")
    backend = _disk_backend(search_backend, tmp_path / "index")
    for number in range(40):
        if number % 9 == 8:
            backend.write([], deleted_ids=[number % 7])
        else:
            backend.write([{**A_DOCUMENT, "id": str(number % 7), "title": f"kettle {number}",
                            "digest": f"kettle {number}"}])
        assert _kept_titles(search_backend, backend) == _fresh_titles(search_backend, backend), number


def test_an_index_commit_that_fails_does_not_keep_the_index_locked(tmp_path, search_backend, monkeypatch):
    """A write failing half-way (a full disk) must release the write lock at once: otherwise every
    later index write waits and fails until the failed writer happens to be garbage-collected.
    Nothing of the failed batch may show."""
    if search_backend not in ON_DISK:
        pytest.skip("an index writer lock")
    if search_backend == "whoosh":
        from whoosh.writing import SegmentWriter

        from investigations.search import whoosh_backend as module

        failing = (SegmentWriter, "_commit_toc")
    else:
        from investigations.search import tantivy_backend as module

        original = module.TantivyBackend._document

        def document_then_fail(doc):
            if doc["id"] == "2":
                raise OSError("No space left")
            return original(doc)

        failing = (module.TantivyBackend, "_document")
    backend = _disk_backend(search_backend, tmp_path / "index")
    with monkeypatch.context() as patch:
        if search_backend == "whoosh":
            patch.setattr(*failing, lambda *args: (_ for _ in ()).throw(OSError("No space left")))
        else:
            patch.setattr(*failing, staticmethod(document_then_fail))
        with pytest.raises(OSError) as failed:
            backend.write([{**A_DOCUMENT, "id": "1"}, {**A_DOCUMENT, "id": "2"}])
    monkeypatch.setattr(module, "WRITE_TIMEOUT_SECONDS", 0.5)
    assert backend.stored_digests() == {}  # the batch's first document was not kept either
    backend.write([A_DOCUMENT])  # a lock error here if the failed writer still held the lock
    assert failed.value is not None and backend.stored_digests() == {1: "x"}


def test_a_facet_shows_its_ten_most_frequent_values_and_says_how_many_more(login):
    eve = login("eve")
    for number in range(12):
        file_case(eve, title=f"Kettle complaint {number}", business_name=f"Kettle Maker {number:02d} Ltd",
                  narrative="The kettle broke." + " Again." * (number % 2))
    file_case(eve, title="Kettle complaint again", business_name="Kettle Maker 00 Ltd", narrative="The kettle broke.")
    page = search(eve, q="kettle")
    assert "Kettle Maker 00 Ltd</a> <span class=\"muted\">(2)" in page
    assert "and 2 more" in page


def test_tantivy_reads_queries_with_the_analyzers_the_index_uses(tmp_path, search_backend):
    """The query side builds its terms with Python analyzers meant to equal tantivy's built-in
    en_stem and default tokenizers: a word indexed in any form must be found in any other."""
    if search_backend != "tantivy":
        pytest.skip("tantivy's analyzers")
    import tantivy

    from investigations.search.tantivy_backend import ANALYZERS

    for name in ("en_stem", "default"):
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", tokenizer_name=name)
        index = tantivy.Index(builder.build())
        writer = index.writer(15_000_000, 1)
        text = "Refunds REFUSED, charging warranties; Über-café don't C-2026-00042 x" + "y" * 45
        writer.add_document(tantivy.Document(body=text))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        indexed = {term for term, _ in index.searcher().terms_with_prefix("body", "")}
        assert indexed == set(ANALYZERS[name].analyze(text)), name


def test_several_values_of_one_facet_find_any_of_them(corpus, users):
    """SearchRequest.filters maps a facet to a list of values (any of them)."""
    backend = get_backend()
    both = backend.search(SearchRequest(text="", filters={"category": ["billing", "delivery"]}), users["eve"])
    assert {hit.reference for hit in both.hits} == {corpus["gym"], corpus["dryer"]} and both.total == 2
    one = backend.search(SearchRequest(text="", filters={"category": ["billing"]}), users["eve"])
    assert [hit.reference for hit in one.hits] == [corpus["gym"]]


def test_snippets_are_cut_from_the_texts_the_index_was_given(corpus, login):
    """The tantivy index stores no text: a page reads its hits' texts from the database
    (snippet_texts), which must be what their documents held, notes, evidence and aliases included."""
    from investigations.search.documents import case_documents, snippet_texts

    rita = login("rita")
    rita.post(f"/cases/{corpus['washer']}/notes", data={"kind": "call", "body": "Store manager promised a call back"})
    ids = list(db.session.scalars(select(Case.id)))
    documents = {int(doc["id"]): doc for doc in case_documents(db.session, ids)}
    texts = snippet_texts(db.session, ids)
    assert texts.keys() == documents.keys() and len(texts) == 4
    for case_id, text in texts.items():
        assert text == {name: documents[case_id][name] for name in text}
    washer = db.session.scalar(select(Case.id).where(Case.reference == corpus["washer"]))
    assert "promised a call back" in texts[washer]["notes"]


# --- Where cases came from: source, the source's own ID and the CFPB's fields ------------------

@pytest.fixture
def imported(corpus, runner):
    """The corpus (filed by staff) and four CFPB complaints: Complaint ID -> reference."""
    fixture = Path(__file__).parent / "fixtures" / "imports" / "cfpb_18.csv"
    result = runner.invoke(args=["import", "cfpb", str(fixture), "--as", "eve@example.org"])
    assert result.exit_code == 0, result.output
    return {case.source_id: case.reference for case in db.session.scalars(select(Case).where(Case.source == "cfpb"))}


def test_source_is_a_field_and_a_facet(imported, corpus, login, users):
    eve = login("eve")
    assert found(search(eve, q="source:cfpb")) == set(imported.values())
    assert found(search(eve, q="source:staff warranty")) == {corpus["washer"], corpus["robacme"]}
    results = get_backend().search(SearchRequest(text=""), users["eve"])
    assert results.facets["source"] == {"cfpb": 4, "staff": 4}
    page = search(eve, q="", source="cfpb")
    assert found(page) == set(imported.values())
    assert re.search(r"CFPB Consumer Complaint Database</strong> \(4\)", page)  # the chosen value, labelled


def test_a_complaint_id_finds_its_case_and_opens_it(imported, login, users):
    for typed in ("1000002", "source_id:1000002"):
        results = get_backend().search(SearchRequest(text=typed), users["eve"])
        assert [hit.reference for hit in results.hits] == [imported["1000002"]], typed
    response = login("eve").get("/search", query_string={"q": " 1000002 "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{imported['1000002']}")
    # A reporter who may not open it is not sent there, and the search finds nothing of it.
    rita = login("rita")
    assert rita.get("/search", query_string={"q": "1000002"}).status_code == 200
    assert found(search(rita, q="1000002")) == set()


def test_the_cfpbs_fields_are_facets_of_imported_complaints_only(imported, users):
    results = get_backend().search(SearchRequest(text=""), users["eve"])
    assert results.facets["product"] == {
        "Credit card or prepaid card": 1, "Credit reporting, credit repair services, or other personal consumer reports": 1,
        "Debt collection": 1, "Vehicle loan or lease": 1}  # the four staff cases have none: no "" value
    assert sum(results.facets["company_response"].values()) == 4
    assert results.facets["company_response"]["Closed with explanation"] == 1
    assert results.facets["issue"]["Attempts to collect debt not owed"] == 1
    debt = get_backend().search(SearchRequest(text="", filters={"product": ["Debt collection"]}), users["eve"])
    assert [hit.reference for hit in debt.hits] == [imported["1000002"]]
    closed = get_backend().search(SearchRequest(text="", filters={
        "company_response": ["Closed with explanation", "Closed with monetary relief"]}), users["eve"])
    assert {hit.reference for hit in closed.hits} == {imported["1000001"], imported["1000004"]}
    assert closed.facets["company_response"]["In progress"] == 1  # the facet's other values stay on offer


def test_an_imported_complaints_state_is_its_region(imported, login, users):
    """GA, TX and CA name the consumers' states; the complaint without a state is "Not recorded"."""
    results = get_backend().search(SearchRequest(text="", filters={"source": ["cfpb"]}), users["eve"])
    assert results.facets["region"] == {"georgia": 1, "texas": 1, "california": 1, "unknown": 1}
    page = search(login("eve"), q="", source="cfpb")
    assert "Georgia</a>" in page and "Not recorded</a>" in page
    texas = get_backend().search(SearchRequest(text="", filters={"region": ["texas"]}), users["eve"])
    assert [hit.reference for hit in texas.hits] == [imported["1000002"]]


def test_with_search_backend_unset_the_app_searches_with_tantivy(tmp_path, monkeypatch):
    from investigations import create_app
    from investigations.search.tantivy_backend import TantivyBackend

    monkeypatch.delenv("SEARCH_BACKEND", raising=False)
    app = create_app({"INSTANCE_DIR": str(tmp_path), "SEARCH_INDEX_DIR": str(tmp_path / "index"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "TESTING": True})
    with app.app_context():
        assert app.config["SEARCH_BACKEND"] == "tantivy"
        assert isinstance(get_backend(), TantivyBackend)
