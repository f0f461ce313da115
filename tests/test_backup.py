"""Backups: a consistent snapshot taken while the app runs, checked by its manifest, and restored
into a fresh instance with the same cases, evidence, dossiers, search results and audit chain.

On PostgreSQL (TEST_DATABASE_URL) the fresh instance is a second database, <test db>_<name>,
dropped and created by the test."""
import io
import json
import re
import threading
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from investigations import audit
from investigations.backup import BackupError, create_backup, hash_file, verify_backup
from investigations.backup.cli import backup_cli
from investigations.dossiers.services import verify_copy
from investigations.evidence.integrity import verify_all
from investigations.extensions import db
from investigations.models import AuditEvent, Case, Dossier, Evidence, User
from investigations.storage import EvidenceStore
from tests import evidence_files as files
from tests.conftest import TEST_DATABASE_URL, file_case, make_app, sign_in

BACKENDS = ["postgres"] if TEST_DATABASE_URL else ["tantivy", "whoosh"]


def register(app):
    if "backup" not in app.cli.commands:
        app.cli.add_command(backup_cli)


def upload(client, reference, *named_files):
    response = client.post(f"/cases/{reference}/evidence",
                           data={"files": [(io.BytesIO(content), name) for name, content in named_files]},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def found(client, query: str) -> set[str]:
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', response.get_data(as_text=True)))


def invoke(app, *args):
    """Run `flask backup …` on `app` (its own app context, so never on another app that is current)."""
    register(app)
    with app.app_context():
        return app.test_cli_runner().invoke(args=["backup", *map(str, args)])


def _recreate_pg_database(name: str, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    admin = make_url(TEST_DATABASE_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture
def fresh_instance(tmp_path):
    """fresh_instance(name) -> a second app on its own new database, evidence, dossier and index
    directories (migrated, unless migrate=False: a database that does not exist yet, or is empty)."""
    made = []

    def build(name="fresh", migrate=True, **overrides):
        base = tmp_path / name
        pg_name = None
        if TEST_DATABASE_URL:
            url = make_url(TEST_DATABASE_URL)
            pg_name = f"{url.database}_{name}"
            assert "test" in pg_name
            _recreate_pg_database(pg_name)
            database_url = url.set(database=pg_name).render_as_string(hide_password=False)
        else:
            database_url = f"sqlite:///{base / 'restored.db'}"
        app = make_app(database_url, base, DOSSIER_DIR=str(base / "dossiers"), **overrides)
        register(app)
        made.append((app, pg_name))
        if migrate:
            with app.app_context():
                upgrade()
                db.engine.dispose()
        return app

    yield build
    for app, pg_name in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if pg_name:
            _recreate_pg_database(pg_name, drop_only=True)


@pytest.fixture
def search_backend(request, app):
    backend = getattr(request, "param", "whoosh")
    app.config["SEARCH_BACKEND"] = backend
    app.extensions.pop("search_backend", None)
    return backend


@pytest.fixture
def archive(app, login, search_backend):
    """Three cases of two reporters: photos (one file on two cases), a PDF, a text file, a withdrawn
    file, and an internal dossier of the first case."""
    rita, rob, eve = login("rita"), login("rob"), login("eve")
    washer = file_case(rita, title="Quillfeather washer flooded the kitchen",
                       narrative="The washer flooded the kitchen on its first use.", business_name="Acme Appliances")
    upload(rita, washer, ("leak.jpg", files.jpeg()), ("receipt.pdf", files.text_pdf("Receipt 1234")),
           ("notes.txt", b"Call notes: the manager promised xylophonic refunds by Friday.\n"))
    dryer = file_case(rita, title="Dryer never delivered", business_name="Acme Appliances",
                      narrative="Paid in full; the dryer never came.")
    upload(rita, dryer, ("same-photo.jpg", files.jpeg()), ("wrong.png", files.png()))
    gym = file_case(rob, title="Gym keeps charging", business_name="Fit Fast Gyms",
                    narrative="Cancelled in writing; the quillfeather gym kept charging.")
    wrong = db.session.scalar(select(Evidence).where(Evidence.original_name == "wrong.png"))
    assert eve.post(f"/evidence/{wrong.id}/withdraw", data={"reason": "belongs to another case"}).status_code == 302
    response = eve.post(f"/cases/{washer}/dossier", data={"audience": "internal"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return {"washer": washer, "dryer": dryer, "gym": gym, "dossier_pdf": response.data}


def archive_state() -> dict:
    """What must survive a backup and restore, read from the current app's database."""
    return {
        "cases": sorted((c.reference, c.title, c.status, c.business.name) for c in db.session.scalars(select(Case))),
        "evidence": sorted((e.case.reference, e.sha256, e.size, e.original_name, e.withdrawal_reason,
                            e.extraction_state) for e in db.session.scalars(select(Evidence))),
        "dossiers": sorted((d.id, d.sha256, d.audience) for d in db.session.scalars(select(Dossier))),
        "accounts": sorted(db.session.scalars(select(User.email))),
    }


def store_of(app) -> EvidenceStore:
    return EvidenceStore(app.config["EVIDENCE_DIR"])


@pytest.mark.parametrize("search_backend", BACKENDS, indirect=True)
def test_backup_then_restore_on_a_fresh_instance_gives_the_same_archive(app, archive, login, fresh_instance,
                                                                        tmp_path, search_backend):
    before = archive_state()
    eve = login("eve")
    searches = {word: found(eve, word) for word in ("quillfeather", "xylophonic", "dryer", "flooded")}
    assert searches["quillfeather"] == {archive["washer"], archive["gym"]}  # a word of a title and a narrative
    assert searches["xylophonic"] == {archive["washer"]}  # a word only in an evidence file's text
    backup_dir = tmp_path / "backups" / "nightly"

    result = invoke(app, "create", backup_dir)
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.stdout and "3 cases" in result.stdout

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    kind = "postgresql" if TEST_DATABASE_URL else "sqlite"
    assert manifest["database"]["kind"] == kind and manifest["database"]["migration_revision"]
    assert manifest["counts"]["cases"] == 3 and manifest["counts"]["evidence records"] == 5
    assert manifest["counts"]["evidence files"] == 4 and manifest["counts"]["issued dossiers"] == 1
    assert manifest["problems"] == []
    paths = {entry["path"]: entry for entry in manifest["files"]}
    assert manifest["database"]["file"] in paths
    for evidence in db.session.scalars(select(Evidence)):
        entry = paths[f"evidence/objects/{evidence.sha256[:2]}/{evidence.sha256[2:4]}/{evidence.sha256}"]
        assert entry["sha256"] == evidence.sha256 and entry["size"] == evidence.size
    assert sum(path.startswith("evidence/derived/") for path in paths) == 4  # the JPEG and the PNG, two copies each
    dossier = db.session.scalar(select(Dossier))
    assert paths[f"dossiers/dossier-{dossier.id}.pdf"]["sha256"] == dossier.sha256
    for path, entry in paths.items():
        assert hash_file(backup_dir / path) == (entry["sha256"], entry["size"])
    assert not list(backup_dir.glob(".partial-*"))
    last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()))
    assert last.action == "backup.create"  # the backup itself is audited, after the snapshot
    assert manifest["audit_chain"]["seq"] == last.seq - 1

    result = invoke(app, "verify", backup_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")

    fresh = fresh_instance(SEARCH_BACKEND=search_backend)
    result = invoke(fresh, "restore", backup_dir)
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 3 cases" in result.stdout
    assert "Evidence check: OK, 5 evidence files, each matching" in result.stdout and "Audit chain: OK" in result.stdout

    with fresh.app_context():
        assert archive_state() == before
        store = store_of(fresh)
        for evidence in db.session.scalars(select(Evidence)):
            assert store.hash_of(evidence.sha256) == evidence.sha256
        checked, problems = verify_all()
        assert checked == 5 and problems == []
        chain = audit.verify_chain()
        assert chain.ok
        at_backup = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == manifest["audit_chain"]["seq"]))
        assert at_backup.hash == manifest["audit_chain"]["head_hash"]
        assert db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc())).action == "backup.restore"
        restored = verify_copy(archive["dossier_pdf"])  # the issued PDF is still recognised as genuine
        assert restored.issued is not None and restored.issued.id == dossier.id
        assert (Path(fresh.config["DOSSIER_DIR"]) / f"dossier-{dossier.id}.pdf").read_bytes() == archive["dossier_pdf"]
        photo = db.session.scalar(select(Evidence).where(Evidence.original_name == "leak.jpg"))

    fresh_eve, fresh_rita = fresh.test_client(), fresh.test_client()
    assert sign_in(fresh_eve, "eve@example.org").status_code == 302  # the accounts came back too
    assert sign_in(fresh_rita, "rita@example.org").status_code == 302
    for word, expected in searches.items():
        assert found(fresh_eve, word) == expected, word
    assert found(fresh_rita, "quillfeather") == {archive["washer"]}  # still only her own cases
    assert fresh_eve.get(f"/evidence/{photo.id}/image/thumb").status_code == 200
    assert fresh_eve.get(f"/evidence/{photo.id}/download").status_code == 200


def test_restore_into_a_database_that_was_never_set_up(app, login, fresh_instance, tmp_path):
    rita = login("rita")
    reference = file_case(rita, title="Blender sparks on first use")
    upload(rita, reference, ("sparks.jpg", files.jpeg()))
    create_backup(tmp_path / "backup")
    before = archive_state()

    fresh = fresh_instance(migrate=False)  # SQLite: no file yet; PostgreSQL: an empty database
    result = invoke(fresh, "restore", tmp_path / "backup")
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert archive_state() == before
        assert verify_all()[1] == [] and audit.verify_chain().ok
    client = fresh.test_client()
    sign_in(client, "rita@example.org")
    assert found(client, "blender") == {reference}


def test_a_backup_taken_while_cases_are_filed_is_consistent(app, login, fresh_instance, tmp_path):
    rita = login("rita")
    file_case(rita, title="Filed before the backup")
    stop, filed, errors = threading.Event(), [], []

    def keep_filing():
        try:
            number = 0
            while not stop.is_set():
                reference = file_case(rita, title=f"Concurrent case {number}")
                # New bytes each time: every upload adds an object to the store while the backup runs.
                upload(rita, reference, (f"note-{number}.txt", f"Note {number} {uuid.uuid4()}\n".encode()))
                filed.append(reference)
                number += 1
        except Exception as error:  # reported by the test below
            errors.append(error)

    def wait_for(count, seconds=60):
        deadline = time.monotonic() + seconds
        while len(filed) < count and not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(filed) >= count, errors

    phases = []

    def progress(label, total):
        # Between the database snapshot and copying its files, make sure more cases and files arrive.
        phases.append(label)
        if label == "Copying evidence files":
            wait_for(len(filed) + 2)
        from investigations.backup import no_progress

        return no_progress(label, total)

    writer = threading.Thread(target=keep_filing)
    writer.start()
    try:
        wait_for(2)
        report = create_backup(tmp_path / "backup", progress=progress)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    assert "Copying evidence files" in phases
    counts = report.manifest["counts"]
    db.session.expire_all()
    total_cases = db.session.scalar(select(func.count()).select_from(Case))
    assert counts["cases"] < total_cases  # cases were filed after the snapshot, and are not in it
    assert counts["evidence files"] == counts["evidence records"] >= 2  # each upload had its own bytes
    assert report.problems == []
    check = verify_backup(tmp_path / "backup")  # on SQLite this also checks every backed-up row has its file
    assert check.ok, check.problems

    fresh = fresh_instance()
    result = invoke(fresh, "restore", tmp_path / "backup")
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == counts["cases"]
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == counts["evidence records"]
        checked, problems = verify_all()
        assert checked == counts["evidence records"] and problems == []  # every row in the backup has its file
        assert audit.verify_chain().ok


@pytest.fixture
def small_backup(app, login, tmp_path):
    rita = login("rita")
    reference = file_case(rita, title="Toaster burnt the counter")
    upload(rita, reference, ("burn.jpg", files.jpeg()), ("letter.txt", b"The shop ignored the letter.\n"))
    backup_dir = tmp_path / "backup"
    report = create_backup(backup_dir)
    return backup_dir, report.manifest, reference


def _an_evidence_entry(manifest):
    return next(entry for entry in manifest["files"] if entry["path"].startswith("evidence/objects/"))


def _alter_evidence(backup_dir, manifest):
    path = backup_dir / _an_evidence_entry(manifest)["path"]
    path.unlink()  # the backup's copy may be a hard link of the live file: replace it, don't write through it
    path.write_bytes(b"tampered")
    return f"ALTERED: {_an_evidence_entry(manifest)['path']}"


def _remove_evidence(backup_dir, manifest):
    (backup_dir / _an_evidence_entry(manifest)["path"]).unlink()
    return f"MISSING: {_an_evidence_entry(manifest)['path']}"


def _alter_database(backup_dir, manifest):
    with open(backup_dir / manifest["database"]["file"], "ab") as handle:
        handle.write(b"\0")
    return f"ALTERED: {manifest['database']['file']}"


def _add_a_file(backup_dir, manifest):
    (backup_dir / "evidence" / "objects" / "stray.bin").write_bytes(b"x")
    return "UNEXPECTED: evidence/objects/stray.bin"


def _doctor_the_manifest(backup_dir, manifest):
    doctored = dict(manifest, files=manifest["files"] + [{"path": "../../instance/secret_key", "sha256": "0" * 64,
                                                          "size": 1}])
    (backup_dir / "manifest.json").write_text(json.dumps(doctored))
    return "a path a backup never contains"


def _garble_the_recorded_problems(backup_dir, manifest):
    (backup_dir / "manifest.json").write_text(json.dumps(dict(manifest, problems=["not a problem record"])))
    return "manifest.json has no valid “problems”"


def _remove_the_manifest(backup_dir, manifest):
    (backup_dir / "manifest.json").unlink()
    return "No manifest.json"


@pytest.mark.parametrize("damage", [_alter_evidence, _remove_evidence, _alter_database, _add_a_file,
                                    _doctor_the_manifest, _garble_the_recorded_problems, _remove_the_manifest])
def test_a_damaged_backup_is_reported_and_not_restored(app, small_backup, fresh_instance, damage):
    backup_dir, manifest, _ = small_backup
    expected = damage(backup_dir, manifest)

    result = invoke(app, "verify", backup_dir)
    assert result.exit_code == 1
    assert expected in result.stderr, result.stderr

    fresh = fresh_instance()
    result = invoke(fresh, "restore", backup_dir)
    assert result.exit_code == 1
    assert "nothing was restored" in result.stderr and expected in result.stderr
    with fresh.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert not [p for p in Path(fresh.config["EVIDENCE_DIR"]).rglob("*") if p.is_file()]
    for evidence in db.session.scalars(select(Evidence)):  # the live store was never touched
        assert store_of(app).hash_of(evidence.sha256) == evidence.sha256


def test_restore_refuses_a_database_with_data_unless_forced(app, small_backup, fresh_instance, password_hash):
    backup_dir, manifest, reference = small_backup
    fresh = fresh_instance()
    with fresh.app_context():
        db.session.add(User(email="fresh@example.org", display_name="Fresh Editor", role="editor",
                            password_hash=password_hash))
        db.session.commit()
    client = fresh.test_client()
    sign_in(client, "fresh@example.org")
    own = file_case(client, title="A case of the fresh instance")

    result = invoke(fresh, "restore", backup_dir)
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "is not empty: it holds 1 case," in message and "1 account" in message
    assert "Restoring replaces all of it with the backup made" in message and "(1 case, 2 evidence records" in message
    assert "Stop the app, then run the restore again with --force" in message
    with fresh.app_context():
        assert db.session.scalars(select(Case.reference)).all() == [own]

    result = invoke(fresh, "restore", "--force", backup_dir)
    assert result.exit_code == 0, result.output
    assert "Replaced: 1 case" in result.stdout
    with fresh.app_context():
        assert db.session.scalars(select(Case.title)).all() == ["Toaster burnt the counter"]
        assert db.session.scalar(select(User).where(User.email == "fresh@example.org")) is None
        assert verify_all()[1] == [] and audit.verify_chain().ok
        if not TEST_DATABASE_URL:  # the replaced SQLite database is kept beside it
            kept = list(Path(make_url(fresh.config["SQLALCHEMY_DATABASE_URI"]).database).parent
                        .glob("restored.db.before-restore-*"))
            assert len(kept) == 1 and "previous database is kept as" in result.stdout
    client = fresh.test_client()
    sign_in(client, "rita@example.org")
    assert found(client, "toaster") == {reference}
    assert found(client, "fresh") == set()  # the replaced case is gone from the index too


def test_create_refuses_a_directory_that_is_not_empty(app, users, tmp_path):
    target = tmp_path / "backup"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = invoke(app, "create", target)
    assert result.exit_code == 1 and "is not empty" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_an_interrupted_backup_never_looks_complete(app, small_backup, tmp_path, monkeypatch):
    from investigations import backup

    def power_cut(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(backup, "_copy_numbered_files", power_cut)
    with pytest.raises(RuntimeError):
        create_backup(tmp_path / "second")
    assert not (tmp_path / "second").exists()  # created by the backup, so removed again
    for evidence in db.session.scalars(select(Evidence)):  # removing the partial copy left the live files
        assert store_of(app).hash_of(evidence.sha256) == evidence.sha256

    # A backup killed outright leaves its .partial-* directory and no manifest.
    killed = tmp_path / "killed"
    (killed / ".partial-abc123" / "evidence").mkdir(parents=True)
    (killed / ".partial-abc123" / "database.sqlite3").write_bytes(b"half")
    result = invoke(app, "verify", killed)
    assert result.exit_code == 1 and "an interrupted backup" in result.stderr
    with pytest.raises(BackupError, match=r"interrupted backup"):
        create_backup(killed)


def test_a_backup_records_problems_of_the_live_store(app, small_backup, tmp_path, monkeypatch):
    """A file missing from the live store does not stop the backup: it is named, and the exit code is 1."""
    from investigations import backup

    monkeypatch.setattr(backup, "MISSING_FILE_PATIENCE_SECONDS", 0.5)
    evidence = db.session.scalar(select(Evidence).where(Evidence.original_name == "letter.txt"))
    path = store_of(app).path_for(evidence.sha256)
    path.rename(path.with_name("moved-away"))
    try:
        result = invoke(app, "create", tmp_path / "with-gap")
    finally:
        path.with_name("moved-away").rename(path)
    assert result.exit_code == 1
    assert f"Evidence file {evidence.sha256} is missing from EVIDENCE_DIR" in result.stderr
    check = verify_backup(tmp_path / "with-gap")
    assert check.ok, check.problems  # the backup is intact; the gap is recorded, not damage
    assert [p["sha256"] for p in check.recorded_problems] == [evidence.sha256]


def test_a_backup_made_by_an_older_version_is_migrated_on_restore(app, fresh_instance, tmp_path):
    """The backup's database is a migration behind; the instance it goes to is at the latest one."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.extensions["migrate"].directory)
    head = script.get_current_head()
    previous = script.get_revision(head).down_revision
    old = fresh_instance("old", migrate=False)
    with old.app_context():
        upgrade(revision=previous)
        manifest = create_backup(tmp_path / "old-backup").manifest
        db.engine.dispose()
    assert manifest["database"]["migration_revision"] == previous

    fresh = fresh_instance("new")  # migrated to the latest revision before the restore
    result = invoke(fresh, "restore", tmp_path / "old-backup")
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head
        assert audit.verify_chain().ok


def test_pg_dump_gets_the_connection_from_database_url_without_a_password_on_its_command_line(monkeypatch):
    from investigations import backup

    env = backup.pg_environment("postgresql+psycopg://newsroom:s3cr%40t@db.internal:6543/investigations"
                                "?sslmode=require&application_name=x")
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db.internal", "6543", "newsroom", "s3cr@t", "investigations", "require")
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(BackupError, match=r"pg_dump was not found.*apt-get install postgresql-client"):
        backup._pg_tool("pg_dump")


def test_the_restore_help_says_to_stop_the_app(app):
    result = invoke(app, "restore", "--help")
    assert "Stop the app first" in result.stdout and "--force" in result.stdout


def test_letters_and_the_files_of_public_submissions_in_triage_are_backed_up_and_restored(
        app, login, fresh_instance, tmp_path):
    from investigations.models import IntakeFile, ReplyLetter
    from tests.reply_letters import send_test_letter
    from tests.test_intake import send as send_public_complaint

    rita = login("rita")
    reference = file_case(rita, title="Boiler never fixed", business_name="Heatco")
    assert rita.post(f"/cases/{reference}/status", data={"status": "investigating"}).status_code == 302
    letter_id, _ = send_test_letter(reference, db.session.scalar(select(User).where(User.email == "rita@example.org")))
    letter_pdf = (Path(app.config["LETTER_DIR"]) / f"letter-{letter_id}.pdf").read_bytes()
    app.config["PUBLIC_INTAKE"] = True
    photo = files.jpeg_with_gps()  # bytes no staff upload has: only the submission refers to them
    assert send_public_complaint(app.test_client(), files=[("boiler.jpg", photo)]).status_code == 302
    sent = db.session.scalar(select(IntakeFile))
    assert sent.evidence_id is None  # still in triage

    backup_dir = tmp_path / "with-letters"
    manifest = create_backup(backup_dir).manifest
    paths = {entry["path"]: entry for entry in manifest["files"]}
    assert paths[f"letters/letter-{letter_id}.pdf"]["sha256"] == db.session.get(ReplyLetter, letter_id).pdf_sha256
    assert f"evidence/objects/{sent.sha256[:2]}/{sent.sha256[2:4]}/{sent.sha256}" in paths
    assert manifest["counts"]["right-of-reply letters"] == 1 and manifest["problems"] == []
    assert verify_backup(backup_dir).ok

    fresh = fresh_instance()
    result = invoke(fresh, "restore", backup_dir)
    assert result.exit_code == 0, result.output
    assert "Letters: 1 restored" in result.stdout
    assert (Path(fresh.config["LETTER_DIR"]) / f"letter-{letter_id}.pdf").read_bytes() == letter_pdf
    with fresh.app_context():
        assert store_of(fresh).hash_of(sent.sha256) == sent.sha256
        checked, problems = verify_all()
        assert problems == [] and checked == 1  # the submission's file (the case has no evidence)
        verify = fresh.test_cli_runner().invoke(args=["evidence", "verify"])
        assert verify.exit_code == 0 and "OK: 1 evidence files" in verify.output

    # The nightly check (and `flask evidence verify`) notices when the complainant's file is damaged.
    stored = store_of(fresh).path_for(sent.sha256)
    stored.chmod(0o644)
    stored.write_bytes(b"not the photo")
    with fresh.app_context():
        verify = fresh.test_cli_runner().invoke(args=["evidence", "verify"])
    assert verify.exit_code == 1
    assert (f"ALTERED: file #{sent.id} of public submission #{sent.submission_id} (not yet accepted) “boiler.jpg”"
            in verify.output)
