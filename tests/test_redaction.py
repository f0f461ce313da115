"""A complainant who did not consent is never named in a dossier that leaves the newsroom: not in
the fields made for it, not where a reporter typed the name into free text, not after a merge."""
import io
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from investigations.dossiers.redaction import Identity, Redactor
from investigations.extensions import db
from investigations.models import AuditEvent, Case, Dossier, Evidence
from tests import evidence_files as files
from tests.conftest import file_case

NAME, EMAIL, PHONE, ADDRESS = "Lucía Lopez", "lucia.lopez@example.net", "+1 555-0142", "12 Orchard Lane\nSpringvale"
# How a reporter writes them in passing: other case, no accent, other phone format.
MENTIONS = "Ms LOPEZ (lucia) rang from (555) 0142; write to lucia.lopez@example.net at 12 Orchard Lane"
SECRETS = ["lopez", "lucía", "lucia", "555-0142", "(555) 0142", "5550142", "0142", "orchard lane",
           "lucia.lopez@example.net"]


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "dossier.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    outline = " ".join(item.title for item in PdfReader(io.BytesIO(data)).outline if hasattr(item, "title"))
    attached = " ".join(PdfReader(io.BytesIO(data)).attachments)
    return "\n".join([text, info, outline, attached]).lower()


def export(client, reference, audience, **extra):
    response = client.post(f"/cases/{reference}/dossier", data={"audience": audience, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return response.data


def named_everywhere(client, consent=False, **overrides) -> str:
    """A case whose complainant is named in every free-text field, a note, a caption and a file name."""
    fields = dict(title=f"Lopez refund refused ({PHONE})", narrative=f"{MENTIONS}. The washer leaked.",
                  desired_resolution=f"Refund to Lucia Lopez, {EMAIL}", complainant_name=NAME,
                  complainant_email=EMAIL, complainant_phone=PHONE, complainant_address=ADDRESS)
    if consent:
        fields["consent_to_publish"] = "y"
    fields.update(overrides)
    reference = file_case(client, **fields)
    client.post(f"/cases/{reference}/notes", data={"kind": "call", "body": f"Called Ms Lopez on 5550142. {MENTIONS}"})
    client.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
                data={"files": [(io.BytesIO(files.jpeg()), "lopez-kitchen.jpg"),
                                (io.BytesIO(files.text_pdf("Receipt")), "Lucia_Lopez_receipt.pdf")],
                      "caption": "Photo by Lucía López at 12 Orchard Lane, tel 555 0142"})
    client.post(f"/cases/{reference}/response", data={"response": f"We refunded Ms. López ({EMAIL}).",
                                                      "received_on": date.today().isoformat()})
    return reference


@pytest.fixture
def unnamed_case(login, users):
    return named_everywhere(login("rita"))


@pytest.mark.parametrize("audience", ["news", "bbb"])
def test_outside_dossiers_name_the_complainant_nowhere(unnamed_case, login, audience, tmp_path):
    eve = login("eve")
    text = pdf_text(export(eve, unnamed_case, audience, with_originals="y", with_photos="y"), tmp_path)
    for secret in SECRETS:
        assert secret not in text, secret
    assert "[complainant]" in text
    assert "washer leaked" in text  # the rest of the complaint still reads


def test_the_internal_dossier_keeps_every_detail(unnamed_case, login, tmp_path):
    text = pdf_text(export(login("eve"), unnamed_case, "internal", with_originals="y"), tmp_path)
    for secret in ["lopez", "lucía", "5550142", "orchard lane", "lucia.lopez@example.net"]:
        assert secret in text, secret


@pytest.mark.parametrize("survivor_consents", [True, False])
def test_merging_into_another_case_keeps_the_merged_complainant_unnamed(login, users, tmp_path, survivor_consents):
    rita, eve = login("rita"), login("eve")
    duplicate = named_everywhere(rita)
    survivor = file_case(rita, title="Washer leaked on day one", narrative="Same washer, same store.",
                         complainant_name="Bob Builder", complainant_email="bob@example.org",
                         complainant_phone="+1 555 0999", complainant_address="9 Elm Road",
                         **({"consent_to_publish": "y"} if survivor_consents else {}))
    merged = eve.post(f"/cases/{duplicate}/merge", data={"survivor": survivor, "consent_understood": "y"})
    assert merged.status_code == 302
    for audience in ("news", "bbb"):
        text = pdf_text(export(eve, survivor, audience, with_originals="y"), tmp_path)
        for secret in SECRETS:
            assert secret not in text, (audience, secret)
        assert ("bob builder" in text) == survivor_consents
        assert "lopez-kitchen" not in text and "receipt.pdf" not in text  # file names withheld
    moved = db.session.scalars(select(Evidence)).all()
    assert {item.complainant_case.reference for item in moved} == {duplicate}
    reader = PdfReader(io.BytesIO(export(eve, survivor, "bbb", with_originals="y")))
    # originals (GPS, names) of the non-consenting complainant stay home; only the app's own data files
    assert set(reader.attachments) == {"evidence-manifest.csv", "case-data.json"}


def test_the_merge_form_warns_when_consent_differs(login, users):
    rita, eve = login("rita"), login("eve")
    duplicate = file_case(rita, complainant_name="Ann One")
    survivor = file_case(rita, complainant_name="Ben Two", consent_to_publish="y")
    response = eve.post(f"/cases/{duplicate}/merge", data={"survivor": survivor})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "did not consent to be named" in page and "consented to be named" in page
    assert db.session.scalar(select(Case).where(Case.reference == duplicate)).merged_into_id is None
    assert eve.post(f"/cases/{duplicate}/merge", data={"survivor": survivor, "consent_understood": "y"}).status_code == 302


def test_the_export_page_previews_what_is_withheld_field_by_field(unnamed_case, login):
    page = login("eve").get(f"/cases/{unnamed_case}/dossier").get_data(as_text=True)
    for label in ("Title", "The complaint", "Resolution sought", "The business&#39;s response", "Timeline, call",
                  "Evidence 1"):
        assert label in page, label
    assert '<mark class="withheld">[complainant]</mark> refund refused' in page


def test_words_the_editor_withholds_are_kept_with_the_dossier_and_audited(login, users, tmp_path):
    rita, eve = login("rita"), login("eve")
    reference = file_case(rita, narrative="The manager at Northgate Mall told her to leave.")
    preview = eve.post(f"/cases/{reference}/dossier",
                       data={"audience": "news", "withheld_words": "Northgate Mall", "preview": "Preview"})
    assert preview.status_code == 200 and '<mark class="withheld">[withheld]</mark>' in preview.get_data(as_text=True)
    text = pdf_text(export(eve, reference, "news", withheld_words="Northgate Mall\nnorthgate mall"), tmp_path)
    assert "northgate" not in text and "[withheld]" in text
    dossier = db.session.scalar(select(Dossier))
    assert dossier.withheld_word_list == ["Northgate Mall"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dossier.export"))
    assert "Northgate Mall" in event.details
    internal = pdf_text(export(eve, reference, "internal", withheld_words="Northgate Mall"), tmp_path)
    assert "northgate mall" in internal  # the newsroom's own copy is never redacted


def test_an_editor_releases_a_file_on_a_recorded_basis(unnamed_case, login, tmp_path):
    eve = login("eve")
    receipt = db.session.scalar(select(Evidence).where(Evidence.original_name.like("%receipt%")))
    refused = eve.post(f"/cases/{unnamed_case}/dossier/releases/{receipt.id}", data={"original": "y", "basis": ""})
    assert refused.status_code == 302 and not db.session.get(Evidence, receipt.id).releases
    assert login("rita").post(f"/cases/{unnamed_case}/dossier/releases/{receipt.id}",
                              data={"original": "y", "basis": "x"}).status_code == 403
    eve.post(f"/cases/{unnamed_case}/dossier/releases/{receipt.id}",
             data={"original": "y", "file_name": "y", "basis": "Agreed to the BBB referral by e-mail, 3 May"})
    page = eve.get(f"/cases/{unnamed_case}/dossier").get_data(as_text=True)
    assert "Agreed to the BBB referral by e-mail, 3 May" in page and "Eve Editor" in page
    data = export(eve, unnamed_case, "bbb", with_originals="y")
    attachments = PdfReader(io.BytesIO(data)).attachments
    assert len(attachments) == 3  # the released original, the evidence manifest and the case data
    names = " ".join(attachments).lower()
    assert "receipt" in names and "lucia" not in names and "lopez" not in names  # released, still redacted
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.release")) is not None


def test_consent_changes_record_the_old_and_new_value(login, users):
    rita = login("rita")
    reference = file_case(rita)
    from tests.conftest import case_form

    rita.post(f"/cases/{reference}/edit", data=case_form(consent_to_publish="y"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.update"))
    assert '"consent_to_publish":{"from":false,"to":true}' in event.details


def test_the_redactor_matches_names_accents_phones_and_addresses():
    redactor = Redactor([Identity("María-José O'Neil", "mj@example.org", "(555) 010-0142", "4 Rue de l'Église\n75001 Paris")])
    text = ("MARIA-JOSE called; o'neil wrote from MJ@EXAMPLE.ORG, +1 555 010 0142 or 5550100142, "
            "lives at 4 rue de l'eglise. Maria is kind. Marian is not her.")
    redacted = redactor.redact(text)
    assert redacted == ("[complainant] called; [complainant] wrote from [complainant], [complainant] or "
                        "[complainant], lives at [complainant]. [complainant] is kind. Marian is not her.")
    assert Redactor([Identity(phone="555-0142")]).redact("call 555 0142, not 555 0143") == "call [complainant], not 555 0143"


def test_no_original_is_attached_from_an_archive_of_a_complainant_without_consent(unnamed_case, login):
    data = export(login("eve"), unnamed_case, "news", with_originals="y")
    # originals carry names and photo locations: only the app's own data files are attached
    assert set(PdfReader(io.BytesIO(data)).attachments) == {"evidence-manifest.csv", "case-data.json"}


def test_editors_can_see_who_viewed_a_complainants_details(unnamed_case, login):
    rita, eve = login("rita"), login("eve")
    rita.get(f"/cases/{unnamed_case}/complainant")
    assert "Who has seen these details" not in rita.get(f"/cases/{unnamed_case}").get_data(as_text=True)
    page = eve.get(f"/cases/{unnamed_case}").get_data(as_text=True)
    assert "Who has seen these details" in page
    views = eve.get(f"/admin/audit/cases/{unnamed_case}/complainant-views").get_data(as_text=True)
    assert "Rita Reporter" in views


def test_the_api_withholds_the_identity_and_the_words_asked_for(unnamed_case, app, users, tmp_path):
    from investigations.api.tokens import create_token

    _, token = create_token(users["eve"], "test")
    db.session.commit()
    client = app.test_client()
    response = client.post(f"/api/v1/cases/{unnamed_case}/dossier", json={"audience": "news", "withheld_words": ["washer"]},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    text = pdf_text(response.data, tmp_path)
    for secret in SECRETS + ["washer"]:
        assert secret not in text, secret
