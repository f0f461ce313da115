"""The stores of files on disk: each names its files by paths relative to its root, and tells
which of its files a relative path names (a backup relies on both, and on nothing else)."""
import hashlib
import io
import os
import time

import pytest
from flask import Flask

from investigations.storage import (
    DossierStore,
    EvidenceFileName,
    EvidenceStore,
    ImportStagingStore,
    dossier_store,
    evidence_store,
    import_staging_store,
)

SHA = hashlib.sha256(b"a receipt").hexdigest()


def test_evidence_paths_are_relative_to_the_store_and_read_back():
    store = EvidenceStore("/srv/evidence")
    relative = EvidenceStore.relative_path(SHA)
    assert relative == f"objects/{SHA[:2]}/{SHA[2:4]}/{SHA}"
    assert store.path_for(SHA) == store.root / relative
    assert EvidenceStore.parse(relative) == EvidenceFileName(SHA, None)
    for variant in EvidenceStore.VARIANTS:
        copy = EvidenceStore.relative_derived_path(SHA, variant)
        assert copy == f"derived/{SHA[:2]}/{SHA}-{variant}.jpg"
        assert store.derived_path(SHA, variant) == store.root / copy
        assert EvidenceStore.parse(copy) == EvidenceFileName(SHA, variant)


@pytest.mark.parametrize("relative", [
    f"objects/{SHA[:2]}/{SHA[2:4]}/{SHA}/",
    f"objects/{SHA[2:4]}/{SHA[:2]}/{SHA}",  # the directories must be the name's first characters
    f"objects/{SHA[:2]}/{SHA[2:4]}/{SHA.upper()}",
    f"objects/{SHA[:2]}/../{SHA}",
    f"derived/{SHA[:2]}/{SHA}-poster.jpg",
    f"tmp/upload-{SHA}",
    "",
])
def test_evidence_parse_refuses_paths_the_store_never_has(relative):
    assert EvidenceStore.parse(relative) is None


def test_evidence_paths_need_a_digest_and_a_known_copy():
    with pytest.raises(ValueError):
        EvidenceStore.relative_path("../../etc/passwd")
    with pytest.raises(ValueError):
        EvidenceStore("/srv/evidence").path_for(SHA[:-1])
    with pytest.raises(ValueError):
        EvidenceStore.relative_derived_path(SHA, "poster")


def test_evidence_store_keeps_received_bytes_under_their_hash(tmp_path):
    store = EvidenceStore(tmp_path)
    staged = store.receive(io.BytesIO(b"a receipt"), max_bytes=100)
    assert store.store(staged) and staged.sha256 == SHA
    store.finish(staged)
    assert store.exists(SHA) and store.hash_of(SHA) == SHA
    assert (tmp_path / EvidenceStore.relative_path(SHA)).read_bytes() == b"a receipt"


def test_dossier_paths_and_files(tmp_path):
    store = DossierStore(tmp_path / "dossiers")
    assert store.stored_files() == []  # no directory yet
    assert DossierStore.relative_path(42) == "dossier-42.pdf"
    assert DossierStore.parse("dossier-42.pdf") == 42
    for name in ("dossier-0.pdf", "dossier-42.pdf.part", "dossier-x.pdf", "sub/dossier-1.pdf", "../dossier-1.pdf"):
        assert DossierStore.parse(name) is None
    with pytest.raises(ValueError):
        DossierStore.relative_path(0)

    path = store.write(42, b"%PDF-1.7")
    assert path == store.path_for(42) == store.root / "dossier-42.pdf"
    assert path.read_bytes() == b"%PDF-1.7"
    store.write(7, b"%PDF-1.7 seven")
    (store.root / "dossier-draft.pdf").write_bytes(b"not the store's")
    assert store.stored_files() == [store.path_for(42), store.path_for(7)]  # in name order
    assert sorted(os.listdir(store.root)) == ["dossier-42.pdf", "dossier-7.pdf", "dossier-draft.pdf"]  # no temp left


def test_import_staging_paths_and_clean_up(tmp_path):
    store = ImportStagingStore(tmp_path / "imports")
    token = "0123456789abcdef0123456789abcdef"
    assert ImportStagingStore.is_token(token)
    assert not any(ImportStagingStore.is_token(bad) for bad in (None, "", token.upper(), token[:-1], "../" + token))
    assert ImportStagingStore.relative_path(token) == f"{token}.csv"
    assert store.path_for(token, ".json") == store.root / f"{token}.json"
    with pytest.raises(ValueError):
        store.path_for("../../secret")
    with pytest.raises(ValueError):
        store.path_for(token, ".sh")

    store.ensure_dir()
    assert store.root.stat().st_mode & 0o777 == 0o700
    for suffix in (".csv", ".json"):
        store.path_for(token, suffix).write_text("x")
    store.remove(token)
    assert list(store.root.iterdir()) == []

    old, new = store.path_for(token), store.path_for("f" * 32)
    old.write_text("left over")
    new.write_text("in use")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.remove_older_than(3600) == 1
    assert list(store.root.iterdir()) == [new]


def test_each_store_is_found_from_the_app_configuration(tmp_path):
    app = Flask(__name__)
    app.config.update(EVIDENCE_DIR=str(tmp_path / "e"), DOSSIER_DIR=str(tmp_path / "d"), INSTANCE_DIR=str(tmp_path))
    with app.app_context():
        assert evidence_store().root == tmp_path / "e"
        assert dossier_store().root == tmp_path / "d"
        assert import_staging_store().root == tmp_path / "imports"
