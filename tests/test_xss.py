"""Cross-site scripting: a script in any field a user writes is shown as text on every page
that shows it, and in the PDF dossier, never run or interpreted as markup."""
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from investigations.businesses.services import find_business
from investigations.extensions import db
from investigations.models import Evidence, SavedSearch, User
from tests.conftest import file_case

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# File names lose everything up to a slash, so theirs has none.
FILE_PAYLOAD = "<img src=x onerror=alert(3)><b>notes.txt"


class TagCollector(HTMLParser):
    """Every start tag of a page, with its attributes, as a browser would parse them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_inert(page: str, where: str) -> None:
    """No payload became markup: no script but the app's own file, no event handler, no <img src=x>."""
    assert "<script>alert" not in page and "<img src=x" not in page, where
    collector = TagCollector()
    collector.feed(page)
    for tag, attrs in collector.tags:
        assert not any(name.startswith("on") for name in attrs), f"{where}: event handler on <{tag} {attrs}>"
        assert "style" not in attrs, f"{where}: style attribute on <{tag}>"  # the CSP would block it anyway
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), f"{where}: inline or foreign script {attrs}"
        if tag == "img":
            assert attrs.get("src") != "x", where
        if tag == "a" and "href" in attrs:
            assert not attrs["href"].strip().lower().startswith(("javascript:", "data:", "vbscript:")), where


@pytest.fixture
def poisoned(login, users):
    """Every text field a user writes holds the payload: the case, its business, complainant,
    tags, notes, status comment, response, evidence, a saved search and a display name."""
    ada = login("ada")
    ada.post(f"/admin/users/{users['rita'].id}/edit", data={"display_name": PAYLOAD, "role": "reporter",
                                                            "active": "y"})
    assert db.session.get(User, users["rita"].id).display_name == PAYLOAD
    response = ada.post("/admin/users/new", data={"email": "nina@example.org", "display_name": PAYLOAD,
                                                  "role": "reporter"})
    assert response.status_code == 200

    rita = login("rita")
    reference = file_case(rita, **{field: PAYLOAD for field in (
        "title", "narrative", "business_name", "desired_resolution", "tags", "complainant_name",
        "complainant_address")})
    assert rita.post(f"/cases/{reference}/notes", data={"kind": "call", "body": PAYLOAD}).status_code == 302
    assert rita.post(f"/cases/{reference}/notes", data={"kind": "note", "body": PAYLOAD,
                                                        "internal": "y"}).status_code == 302
    for status in ("investigating", "awaiting_response"):
        assert rita.post(f"/cases/{reference}/status", data={"status": status, "comment": PAYLOAD}).status_code == 302
    assert rita.post(f"/cases/{reference}/response", data={
        "response": PAYLOAD, "received_on": date.today().isoformat()}).status_code == 302
    rita.post(f"/cases/{reference}/evidence", data={
        "files": [(io.BytesIO(b"Receipt for the washer, paid in cash."), FILE_PAYLOAD)],
        "caption": PAYLOAD, "source": PAYLOAD}, content_type="multipart/form-data")
    evidence = db.session.scalar(select(Evidence))
    assert evidence.caption == PAYLOAD and "<img src=x" in evidence.original_name
    assert rita.post("/search/saved", data={"q": "alert", "name": PAYLOAD}).status_code == 302
    assert db.session.scalar(select(SavedSearch.name)) == PAYLOAD

    business = find_business(PAYLOAD)
    eve = login("eve")
    response = eve.post(f"/businesses/{business.slug}/edit", data={
        "name": PAYLOAD, "aliases": PAYLOAD + " Trading\nAlias Two",
        "address": PAYLOAD, "city": PAYLOAD, "region": PAYLOAD, "country": PAYLOAD, "industry": PAYLOAD})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(business)
    assert business.address == PAYLOAD and PAYLOAD + " Trading" in business.alias_names
    return {"reference": reference, "slug": business.slug, "evidence_id": evidence.id,
            "saved_id": db.session.scalar(select(SavedSearch.id)), "rita_id": users["rita"].id}


def pages(things):
    """(path, who, must show the payload escaped) for every page that shows what was written."""
    reference, slug = things["reference"], things["slug"]
    return [
        ("/cases/", "rita", True),
        (f"/cases/{reference}", "rita", True),
        (f"/cases/{reference}/complainant", "rita", True),
        (f"/cases/{reference}/edit", "rita", True),
        (f"/cases/{reference}/dossier", "rita", True),
        ("/cases/?business=" + PAYLOAD, "rita", True),
        ("/businesses/", "eve", True),
        (f"/businesses/{slug}", "eve", True),
        (f"/businesses/{slug}/edit", "eve", True),
        ("/search?q=alert", "rita", True),
        ("/search?q=onerror", "rita", True),
        ("/search?q=" + PAYLOAD, "rita", True),
        ("/search/saved", "rita", True),
        (f"/search/saved/{things['saved_id']}", "rita", False),
        (f"/evidence/{things['evidence_id']}", "rita", True),
        ("/admin/users", "ada", True),
        (f"/admin/users/{things['rita_id']}/edit", "ada", True),
        ("/admin/audit", "ada", False),
        ("/dashboard/", "eve", True),
        ("/", "rita", False),
        ("/account/two-factor", "rita", True),  # the display name in the navigation
    ]


def test_every_page_shows_the_payload_as_text(poisoned, login):
    clients = {}
    checked = 0
    for path, who, shows in pages(poisoned):
        client = clients.setdefault(who, login(who))
        response = client.get(path, follow_redirects=True)
        if path.startswith("/dashboard") and response.status_code == 404:
            continue  # no dashboard in this build
        assert response.status_code == 200, f"{path}: {response.status_code}"
        page = response.get_data(as_text=True)
        assert_inert(page, path)
        if shows:
            assert ESCAPED in page, f"{path} does not show the payload as text"
        checked += 1
    assert checked >= 18


def test_the_evidence_file_name_is_text_too(poisoned, login):
    page = login("rita").get(f"/evidence/{poisoned['evidence_id']}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(3)&gt;&lt;b&gt;notes" in page
    case_page = login("rita").get(f"/cases/{poisoned['reference']}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(3)&gt;" in case_page


def test_json_export_carries_the_payload_as_data(poisoned, login):
    response = login("rita").get("/cases/export.json")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert PAYLOAD in response.get_data(as_text=True).replace("\\u003c", "<").replace("\\u003e", ">") \
        .replace('\\"', '"').replace("\\u0026", "&")


def test_a_script_url_for_a_website_is_never_a_link(login, users):
    rita = login("rita")
    file_case(rita, business_name="Sneaky Links Ltd")
    business = find_business("Sneaky Links Ltd")
    eve = login("eve")
    for website in ("javascript://example.com/%0aalert(1)", "JaVaScRiPt://example.com/%0aalert(1)"):
        eve.post(f"/businesses/{business.slug}/edit", data={"name": "Sneaky Links Ltd", "website": website})
        page = eve.get(f"/businesses/{business.slug}").get_data(as_text=True)
        assert_inert(page, website)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_the_internal_dossier_prints_the_payload_as_text(poisoned, login):
    response = login("rita").post(f"/cases/{poisoned['reference']}/dossier", data={"audience": "internal"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    # Title, narrative, desired resolution, business, complainant name and address, notes, status
    # comments, the response, the caption: each printed literally, so never taken as markup.
    assert text.count(PAYLOAD) >= 8, text[:3000]
    assert "<img src=x onerror=alert(3)><b>notes" in text  # the evidence file name
    assert re.search(r"alert\(2\)", text)
