"""The audit chain is an HMAC keyed outside the database: someone who can write to the database but
does not hold the key cannot rewrite it unnoticed, and migration 0010 re-chains older trails."""
import hashlib
import importlib.util
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from investigations import audit
from investigations.config import REPO_ROOT
from investigations.extensions import db
from investigations.models import AuditChainHead, AuditEvent, Case
from investigations.models.audit import GENESIS_HASH
from tests.conftest import file_case

KEY = "k" * 40


def plain_sha256(event: AuditEvent, prev_hash: str) -> str:
    """The hash anyone can compute without a key (the chain before migration 0010)."""
    content = audit.canonical_json({
        "seq": event.seq, "created_at": event.created_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id, "actor_label": event.actor_label, "action": event.action,
        "object_type": event.object_type, "object_id": event.object_id, "details": event.details, "ip": event.ip,
        "prev_hash": prev_hash})
    return hashlib.sha256(content.encode()).hexdigest()


def all_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq).execution_options(populate_existing=True)))


def test_the_key_file_is_created_once_readable_by_its_owner_only(app, login):
    app.config["AUDIT_KEY"] = None  # the default: no AUDIT_KEY in the environment
    key_file = Path(app.config["AUDIT_KEY_FILE"])
    assert not key_file.exists()
    file_case(login("rita"))
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= audit.MIN_KEY_LENGTH
    assert audit.verify_chain().ok
    assert key_file.read_text().strip() == key  # never replaced
    assert key not in json.dumps([e.details for e in all_events()])


def test_events_are_hmacs_under_the_key_not_plain_sha256(app, login):
    file_case(login("rita"))
    first = all_events()[0]
    key = audit.audit_key()
    assert first.hash == audit.event_hash(first, key)
    assert first.hash != plain_sha256(first, first.prev_hash)
    assert first.hash != audit.event_hash(first, b"another key, another key, another key!")
    head = db.session.get(AuditChainHead, 1)
    assert head.key_id == audit.key_id(key) and head.key_id not in key.decode()


def test_the_key_comes_from_audit_key_when_set(app_factory, tmp_path):
    app = app_factory(AUDIT_KEY=KEY, AUDIT_KEY_FILE=str(tmp_path / "unused"))
    with app.app_context():
        assert audit.audit_key() == KEY.encode()
    assert not (tmp_path / "unused").exists()
    short = app_factory(AUDIT_KEY="too short")
    with short.app_context(), pytest.raises(RuntimeError, match="at least 32 characters"):
        audit.audit_key()


def test_rewriting_the_whole_chain_without_the_key_is_caught(login, runner):
    """Someone holding the database, not the key: edits an event and recomputes every hash after it
    (and the head) the only way they can, with plain SHA-256. Verify names the event."""
    reference = file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_label = 'someone@else.org' WHERE seq = 2"))
    prev = GENESIS_HASH
    for event in all_events():
        forged = plain_sha256(event, prev)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": prev, "h": forged, "s": event.seq})
        prev = forged
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_chain_head SET last_hash = :h"), {"h": prev})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event #1: its content does not match its hash" in result.output
    assert "Event #1 as stored now:" in result.output and "rita@example.org, auth.login" in result.output
    assert reference


def test_verify_names_the_changed_event_and_what_it_says(login, runner):
    reference = file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET details = '{}' WHERE seq = 3"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event #3: its content does not match its hash. 2 events before it are intact." in result.output
    assert f"rita@example.org, case.create case {reference}." in result.output


def test_a_server_with_another_key_is_told_so(app_factory, login):
    file_case(login("rita"))
    other = app_factory(AUDIT_KEY="x" * 40)
    with other.app_context():
        report = audit.verify_chain()
    assert not report.ok and report.checked == 0
    assert "another audit key" in report.problem and "AUDIT_KEY" in report.problem


def test_the_test_reset_of_the_head_still_works(app, login):
    """conftest resets audit_chain_head to (1, 0, GENESIS_HASH) without a key_id: the first writer sets it."""
    head = db.session.get(AuditChainHead, 1)
    assert head.seq == 0 and head.last_hash == GENESIS_HASH and head.key_id is None
    file_case(login("rita"))
    db.session.refresh(head)
    assert head.seq == 3 and head.key_id == audit.key_id(audit.audit_key())
    assert audit.verify_chain().ok


# --- migration 0010 ----------------------------------------------------------------------------

def load_migration():
    spec = importlib.util.spec_from_file_location("m0010", REPO_ROOT / "migrations/versions/0010_audit_hmac.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def source_ref_column(app):
    """0010 reads cases.source_ref, which 0016 replaced by source and source_id: put it back meanwhile."""
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE cases ADD COLUMN source_ref VARCHAR(80)"))
    yield
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE cases DROP COLUMN source_ref"))


def run_upgrade_body(monkeypatch):
    """Run 0010's data step on the test database (the column already exists: the schema is migrated)."""
    migration = load_migration()
    with db.engine.begin() as conn:
        fake_op = SimpleNamespace(get_bind=lambda: conn, batch_alter_table=_NoBatch)
        monkeypatch.setattr(migration, "op", fake_op)
        migration.upgrade()


class _NoBatch:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return SimpleNamespace(add_column=lambda *a, **k: None)

    def __exit__(self, *exc):
        return False


def make_sha256_chain():
    """Turn the current trail into what it was before 0010: plain SHA-256 links, no key id."""
    prev = GENESIS_HASH
    for event in all_events():
        forged = plain_sha256(event, prev)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": prev, "h": forged, "s": event.seq})
        prev = forged
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_chain_head SET last_hash = :h, key_id = NULL"), {"h": prev})
    return prev


@pytest.mark.usefixtures("source_ref_column")
def test_the_migration_rechains_in_order_and_clears_cfpb_consent(login, monkeypatch, runner):
    rita = login("rita")
    own = file_case(rita, consent_to_publish="y")
    imported = file_case(rita, title="From the CFPB", consent_to_publish="y")
    never = file_case(rita, title="Also from the CFPB")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET source_ref = 'cfpb:1', consent_to_publish = :t WHERE reference = :r"),
                     {"r": imported, "t": True})
        conn.execute(text("UPDATE cases SET source_ref = 'cfpb:2' WHERE reference = :r"), {"r": never})
    old_head = make_sha256_chain()
    assert not audit.verify_chain().ok  # a SHA-256 chain does not verify under the key
    before = [(e.seq, e.action, e.details) for e in all_events()]

    run_upgrade_body(monkeypatch)

    events = all_events()
    assert [(e.seq, e.action, e.details) for e in events[:-1]] == before  # content and order untouched
    rechain = events[-1]
    assert rechain.action == "audit.rechain" and rechain.seq == len(before) + 1
    details = json.loads(rechain.details)
    assert details["events"] == len(before) and details["sha256_chain_ok"] is True
    assert details["sha256_head_hash"] == old_head and details["cfpb_consent_cleared"] == [imported]
    report = audit.verify_chain()
    assert report.ok and report.checked == len(before) + 1
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    consent = dict(db.session.execute(select(Case.reference, Case.consent_to_publish)).all())
    assert consent == {own: True, imported: False, never: False}
    # and the chain goes on from there
    file_case(rita, title="After the migration")
    assert audit.verify_chain().ok


@pytest.mark.usefixtures("source_ref_column")
def test_the_migration_records_an_old_chain_that_was_already_broken(login, monkeypatch):
    file_case(login("rita"))
    make_sha256_chain()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_label = 'forged' WHERE seq = 2"))
    run_upgrade_body(monkeypatch)
    details = json.loads(all_events()[-1].details)
    assert details["sha256_chain_ok"] is False
    assert details["sha256_chain_problem"] == "event #2: its content does not match its hash"


@pytest.mark.usefixtures("source_ref_column")
def test_the_migration_leaves_a_new_database_alone(app, monkeypatch):
    run_upgrade_body(monkeypatch)
    assert all_events() == []
    assert not Path(app.config["AUDIT_KEY_FILE"]).exists()  # no key is made for nothing
