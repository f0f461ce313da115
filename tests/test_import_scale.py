"""Imports at scale: batches committed one by one (bulk inserts), sequential references,
businesses resolved once, an audit event per batch, the index fed batch by batch; an import killed
mid-way (SIGKILL, Ctrl-C) keeps whole batches, the database and index consistent, and a second run
finishes it; a bad header writes nothing."""
import csv
import fcntl
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from investigations import audit
from investigations.extensions import db
from investigations.imports import importer
from investigations.imports.cfpb import COLUMNS_18
from investigations.models import AuditEvent, Business, Case, CaseTag, SearchQueueEntry, TimelineEntry
from investigations.search import get_backend
from investigations.search.query import SearchRequest
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
YEAR = date.today().year
PRODUCTS = ["Debt collection", "Mortgage", "Credit card or prepaid card", "Vehicle loan or lease", "Student loan"]
COMPANY_FORMS = ["{} BANK, INC.", "{} Bank Inc", "{} Bank Inc.", "{} Bank"]  # one business per stem


def cfpb_csv(n: int, first_id: int = 6_000_000, companies: int = 30) -> str:
    """n CFPB rows (18 columns): complaint first_id + i, against `companies` businesses written in
    several forms, each with a narrative holding the unique word zq<complaint id>."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS_18)
    for i in range(n):
        complaint = first_id + i
        stem = f"Lender{i % companies:03d}"
        writer.writerow([
            f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}", PRODUCTS[i % 5], "", f"Issue number {i % 17}", "",
            f"The company charged me twice and ignored my letters, complaint zq{complaint}.\nSecond line.", "",
            COMPANY_FORMS[i % len(COMPANY_FORMS)].format(stem), "NY", "10001",
            "Older American" if i % 3 == 0 else "", "Consent provided", "Web", "2023-12-01",
            "Closed with explanation", "Yes", "N/A", str(complaint),
        ])
    return out.getvalue()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> list[dict]:
    return [json.loads(d) for d in db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def test_a_few_thousand_rows_are_filed_in_batches(runner, users, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 500)
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(2600) + cfpb_csv(100), encoding="utf-8")  # the last 100 repeat the first 100
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 0, result.output
    assert f"Imported 2,600 complaints from complaints.csv as new cases (C-{YEAR}-00001 … C-{YEAR}-02600); " \
           f"30 new businesses." in result.output
    assert "Skipped 100 already imported." in result.output

    references = list(db.session.scalars(select(Case.reference).order_by(Case.id)))
    assert references == [f"C-{YEAR}-{n:05d}" for n in range(1, 2601)]  # unique and sequential, in file order
    assert count(Business) == 30  # "LENDER001 BANK, INC." and "Lender001 Bank" are one business
    assert count(Case, Case.source == "cfpb", Case.source_id.is_not(None)) == 2600
    assert count(TimelineEntry, TimelineEntry.kind == "created") == 2600
    assert count(CaseTag, CaseTag.name == "cfpb") == 2600 and count(CaseTag, CaseTag.name == "older american") == 867
    case = db.session.scalar(select(Case).where(Case.source == "cfpb", Case.source_id == "6000003"))
    assert case.business.name == "Lender003 Bank" and case.created_by == users["eve"]  # the first spelling seen
    other = db.session.scalar(select(Case).where(Case.source == "cfpb", Case.source_id == "6000033"))  # "Lender003 Bank Inc."
    assert other.business_id == case.business_id
    assert case.tag_names == ["cfpb", "older american", "vehicle-loan-or-lease"]
    assert case.category == "auto" and case.timeline[0].body.startswith("Imported from the CFPB")

    batches = events("import.cfpb.batch")
    assert [(b["first"], b["last"], b["count"]) for b in batches] == [
        (f"C-{YEAR}-{start + 1:05d}", f"C-{YEAR}-{min(start + 500, 2600):05d}", min(500, 2600 - start))
        for start in range(0, 2600, 500)]
    [summary] = events("import.cfpb")
    assert (summary["imported"], summary["skipped"], summary["batches"]) == (2600, 100, 6)
    assert audit.verify_chain().ok
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    assert count(SearchQueueEntry) == 0
    found = get_backend().search(SearchRequest(text="zq6002599"), users["eve"])
    assert [hit.reference for hit in found.hits] == [f"C-{YEAR}-02600"]
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0 and "OK: every case is in the index" in check.output


def test_a_bad_header_writes_nothing(runner, users, tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(50).replace("Complaint ID", "Complaint", 1), encoding="utf-8")
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 1
    assert "it has no column “Complaint ID”" in result.output and "Nothing was imported." in result.output
    assert count(Case) == count(Business) == count(AuditEvent) == count(SearchQueueEntry) == 0


def test_a_fault_after_whole_batches_keeps_them_and_a_second_run_adds_the_rest(runner, users, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 500)
    good = cfpb_csv(1200)
    path = tmp_path / "complaints.csv"
    path.write_bytes(good.encode() + b"2023-01-01,\x00broken\n")
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 1
    assert "contains a NUL byte on line 2,402" in result.output  # two lines a row
    assert f"The 1,000 complaints imported before it (C-{YEAR}-00001 … C-{YEAR}-01000, rows up to line 2,000 of " \
           "the file) were kept: import the file again to add the rest" in result.output
    assert count(Case) == 1000 and len(events("import.cfpb.batch")) == 2
    [summary] = events("import.cfpb")
    assert summary["imported"] == 1000 and "NUL byte" in summary["stopped"]

    path.write_text(good, encoding="utf-8")
    again = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert again.exit_code == 0, again.output
    assert "Imported 200 complaints" in again.output and "Skipped 1,000 already imported." in again.output
    assert list(db.session.scalars(select(Case.reference).order_by(Case.id))) == [
        f"C-{YEAR}-{n:05d}" for n in range(1, 1201)]
    assert audit.verify_chain().ok and count(SearchQueueEntry) == 0


# What a killed import must leave: whole batches only (cases, timelines, tags, queue rows and the batch's
# audit event together), each kept case in the index or still queued for it, an intact audit chain.
CONSISTENCY = """
import json
from sqlalchemy import func, select
from investigations.extensions import db
from investigations.models import AuditEvent, Case, CaseTag, SearchQueueEntry, TimelineEntry
from investigations.search import maintenance
from investigations import audit
def n(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
batches = [json.loads(d) for d in db.session.scalars(select(AuditEvent.details).where(
    AuditEvent.action == "import.cfpb.batch").order_by(AuditEvent.seq))]
queued = set(db.session.scalars(select(SearchQueueEntry.case_id)))
report = maintenance.check()
print("STATE", json.dumps({
    "cases": n(Case), "timeline": n(TimelineEntry), "cfpb_tags": n(CaseTag, CaseTag.name == "cfpb"),
    "batched": sum(b["count"] for b in batches), "queued": len(queued),
    "unqueued_missing": sorted(set(report.missing) - queued)[:10], "stale": report.stale[:10],
    "orphaned": report.orphaned[:10], "chain": audit.verify_chain().ok}))
"""


def _stop_orphaned_indexer(index_dir: Path) -> None:
    """The indexer the killed import started alongside outlives it (SIGKILL leaves it no way to stop its
    child): stop it, by the process id it wrote to its lock file, once the test is done with it."""
    lock = index_dir / "indexer.lock"
    try:
        pid = int(lock.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + 120
    with lock.open("a") as handle:  # its lock is released when it has finished the batch in hand and exited
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.05)
        fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="runs the CLI on a SQLite file database of its own")
@pytest.mark.parametrize("how", ["sigkill", "ctrl-c"])
def test_an_import_killed_mid_way_keeps_whole_batches_and_a_second_run_finishes_it(tmp_path, how):
    """A real `flask import cfpb` in a subprocess, with the indexer it starts alongside (the default), stopped
    once at least a batch is committed: by SIGKILL to the import process alone (kill -9, the OOM killer), or
    by Ctrl-C (SIGINT to the terminal's whole process group: the import and its indexer)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "SEARCH_INDEX_DIR": str(tmp_path / "index"), "EVIDENCE_DIR": str(tmp_path / "evidence"),
           "AUDIT_KEY": "test-audit-key-0123456789abcdef0123456789", "SECRET_KEY": "test", "APP_ENV": "development",
           "SEARCH_INDEXER": "separate", "SEARCH_SYNC": "1"}
    env.pop("TEST_DATABASE_URL", None)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "app"]

    def run(*args, stdin=None):
        return subprocess.run([*flask, *args], cwd=ROOT, env=env, input=stdin, text=True, capture_output=True,
                              timeout=600)

    script = tmp_path / "state.py"
    script.write_text(CONSISTENCY, encoding="utf-8")

    def state() -> dict:
        result = run("shell", stdin=f"exec(open({str(script)!r}).read())\n")
        line = next((line for line in result.stdout.splitlines() if "STATE " in line), None)
        assert line, result.stdout + result.stderr
        return json.loads(line.split("STATE ", 1)[1])

    assert run("db", "upgrade").returncode == 0
    assert run("users", "create", "eve@example.org", "--name", "Eve", "--role", "editor", "--password-stdin",
               stdin="correct horse battery staple\n").returncode == 0
    total, batch = 12_000, importer.BATCH_SIZE
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(total), encoding="utf-8")

    def cases() -> int:
        with sqlite3.connect(tmp_path / "app.db", timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM cases").fetchone()[0]

    # Its output goes to files: pipes would stay open as long as the indexer it started (which inherits them).
    out_file, err_file = tmp_path / "import.out", tmp_path / "import.err"
    with out_file.open("w") as stdout, err_file.open("w") as stderr:
        process = subprocess.Popen([*flask, "import", "cfpb", str(path), "--as", "eve@example.org"], cwd=ROOT,
                                   env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while cases() < batch and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        if how == "sigkill":
            process.send_signal(signal.SIGKILL)
        else:
            os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=120)
        out, err = out_file.read_text(), err_file.read_text()
        if how == "sigkill":
            assert process.returncode == -signal.SIGKILL
        else:
            assert process.returncode == 130, out + err
            assert "Interrupted." in err and "were kept: import the file again to add the rest" in err
        kept = cases()
        assert 0 < kept < total, "the import was not interrupted mid-way"
        assert kept % batch == 0  # only whole batches
        with sqlite3.connect(tmp_path / "app.db") as connection:
            references = [row[0] for row in connection.execute("SELECT reference FROM cases ORDER BY id")]
            assert references == [f"C-{YEAR}-{n:05d}" for n in range(1, kept + 1)]
            complaints = [row for row in connection.execute("SELECT source, source_id FROM cases ORDER BY id")]
            assert complaints == [("cfpb", f"{6_000_000 + n}") for n in range(kept)]  # the first rows of the file
        if how == "sigkill":
            _stop_orphaned_indexer(tmp_path / "index")
        before = state()
        assert before["timeline"] == before["cfpb_tags"] == before["batched"] == kept  # each batch whole
        assert before["unqueued_missing"] == [] and before["stale"] == [] and before["orphaned"] == []
        assert before["chain"]

        again = run("import", "cfpb", str(path), "--as", "eve@example.org")
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"Imported {total - kept:,} complaints" in again.stdout
        assert f"Skipped {kept:,} already imported." in again.stdout
        assert "the search index caught up" in again.stdout
        after = state()
        assert after == {"cases": total, "timeline": total, "cfpb_tags": total, "batched": total, "queued": 0,
                         "unqueued_missing": [], "stale": [], "orphaned": [], "chain": True}
        check = run("search", "check")
        assert check.returncode == 0 and "OK: every case is in the index" in check.stdout, check.stdout + check.stderr
        verify = run("audit", "verify")
        assert verify.returncode == 0 and "chain intact" in verify.stdout
    finally:
        if process.poll() is None:
            process.kill()
        _stop_orphaned_indexer(tmp_path / "index")
