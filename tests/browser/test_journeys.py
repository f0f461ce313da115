"""Journeys through the app in Chromium: filing, finding, working, exporting and hiding a case.

The journeys share one server and one case: rita files it in the first test; a later test run
alone (`pytest tests/browser -k dossier`) files it first through the same pages.
"""
import io
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests import evidence_files as files
from tests.browser.conftest import ACCOUNTS, open_page, save_screenshots
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

EVIDENCE_WORD = "zanzibarquartz"  # only in the text layer of an uploaded PDF
TITLE = "Kettle melted on first use, refund refused"
BUSINESS = "Quillfeather Kitchenware"
COMPLAINANT = "Dora Complainant"
NOTE = "Called the store manager: the refund was refused again, the kettle was called misused."
REFERENCE = re.compile(r"C-\d{4}-\d{5}")


@dataclass
class FiledCase:
    reference: str
    title: str
    business: str

    @property
    def path(self) -> str:
        return f"/cases/{self.reference}"


_filed: list[FiledCase] = []  # the case rita filed, once per run


def sign_in(page, who: str) -> None:
    """Through the login form, as a person signs in; reporters land on My work, editors on the dashboard."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(ACCOUNTS[who][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if ACCOUNTS[who][2] == "reporter":
        expect(page).to_have_url(re.compile(r"/work/$"))
        expect(page.get_by_role("heading", name="My work", exact=True)).to_be_visible()
    else:
        expect(page).to_have_url(re.compile(r"/dashboard/$"))


def flash(page, text: str):
    return page.locator(".flash").filter(has_text=text)


def file_case_through_the_ui(page) -> FiledCase:
    """Rita's journey: sign in, file a case against a new business, add three files and a note."""
    business = BUSINESS if not _filed else f"{BUSINESS} {len(_filed) + 1}"
    sign_in(page, "rita")

    page.get_by_role("link", name="New case", exact=True).click()
    expect(page.get_by_role("heading", name="File a new case")).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Business").fill(business)
    page.get_by_label("Category").select_option(label="Faulty or unsafe product")
    page.get_by_label("Received via").select_option(label="Phone")
    page.get_by_label("What happened").fill(
        "The kettle's base melted the first time it was switched on; the shop refused a refund.")
    page.get_by_label("What the complainant wants").fill("A refund of the price")
    page.get_by_label("Amount in dispute").fill("89.90")
    page.get_by_label("Date of the incident").fill((date.today() - timedelta(days=12)).isoformat())
    page.get_by_label("Tags").fill("refund, kettle")
    page.get_by_label("Complainant’s name").fill(COMPLAINANT)
    page.get_by_label("E-mail", exact=True).fill("dora@example.net")
    page.get_by_label("Phone", exact=True).fill("+1 555 0199")
    page.get_by_role("button", name="File case").click()

    expect(page).to_have_url(re.compile(r"/cases/C-\d{4}-\d{5}$"))
    reference = REFERENCE.search(page.url).group(0)
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(flash(page, f"Case {reference} filed.")).to_be_visible()
    expect(flash(page, f"{business} is a new business in the archive.")).to_be_visible()
    expect(page.get_by_text("No evidence yet.")).to_be_visible()

    upload_three_files(page, reference)
    add_a_note(page)
    page.watch.assert_clean()
    case = FiledCase(reference, TITLE, business)
    _filed.append(case)
    return case


def upload_three_files(page, reference: str) -> None:
    """Three files in one go, through the page's upload script (XHR with a progress bar)."""
    evidence = page.locator("#evidence")
    evidence.get_by_label("Add files").set_input_files([
        {"name": "kettle.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg()},
        {"name": "receipt.pdf", "mimeType": "application/pdf",
         "buffer": files.text_pdf(f"Receipt 0042 Quillfeather kettle {EVIDENCE_WORD} 89.90")},
        {"name": "call-notes.txt", "mimeType": "text/plain",
         "buffer": b"Call with the shop, 3 Nov: they say the kettle was misused.\n"},
    ])
    # The script offers a caption and a source for each chosen file, under the file's name.
    for name in ("kettle.jpg", "receipt.pdf", "call-notes.txt"):
        expect(evidence.get_by_role("group", name=name)).to_be_visible()
    evidence.get_by_role("group", name="kettle.jpg").get_by_label("Caption").fill("The melted base")
    evidence.locator(".shared-fields").get_by_label("Caption").fill("From the complainant")
    evidence.locator(".shared-fields").get_by_label("Source").fill("the complainant, by e-mail")

    # Hold the upload at the network until the progress bar has been seen, then let it through.
    held = []
    upload_url = re.compile(rf"/cases/{reference}/evidence$")
    page.route(upload_url, lambda route: held.append(route))
    progress = evidence.locator("progress")
    upload_button = evidence.get_by_role("button", name="Upload")
    expect(progress).to_be_hidden()
    # What the status line says during the upload, kept across the reload that follows it.
    evidence.locator("[data-status]").evaluate("""status => new MutationObserver(() => {
        const said = JSON.parse(sessionStorage.getItem("uploadStatus") || "[]");
        said.push(status.textContent);
        sessionStorage.setItem("uploadStatus", JSON.stringify(said));
    }).observe(status, {childList: true, characterData: true, subtree: true})""")
    with page.expect_response(lambda r: upload_url.search(r.url) and r.request.method == "POST") as answer:
        upload_button.click()
        expect(progress).to_be_visible()
        expect(upload_button).to_be_disabled()
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the upload request never left the page"
        assert held[0].request.headers.get("accept") == "application/json"  # the script's request
        held[0].continue_()
    page.unroute(upload_url)
    assert answer.value.status == 200  # its JSON is gone with the reload that follows

    # The script then reloads the case page, which lists the three files.
    expect(flash(page, f"3 files added to {reference}.")).to_be_visible()
    expect(page.locator(".flash-error")).to_have_count(0)  # no file was refused
    expect(page.get_by_role("heading", name="Evidence (3)")).to_be_visible()
    said = json.loads(page.evaluate("sessionStorage.getItem('uploadStatus')") or "[]")
    assert said and said[-1] == "Checking and storing the files…", said  # the upload reached 100 %
    rows = page.locator("#evidence tbody tr")
    expect(rows).to_have_count(3)
    photo = rows.filter(has=page.get_by_role("link", name="kettle.jpg"))
    expect(photo).to_contain_text("The melted base")
    thumbnail = photo.locator("img")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"), "the thumbnail did not load"
    pdf = rows.filter(has=page.get_by_role("link", name="receipt.pdf"))
    expect(pdf).to_contain_text("From the complainant")
    expect(pdf).to_contain_text("Text extracted")
    expect(rows.filter(has=page.get_by_role("link", name="call-notes.txt"))).to_be_visible()


def add_a_note(page) -> None:
    timeline = page.locator("#timeline")
    timeline.get_by_label("Kind").select_option(label="Call")
    timeline.get_by_label("Note").fill(NOTE)
    timeline.get_by_role("button", name="Add to timeline").click()
    expect(page).to_have_url(re.compile(r"#timeline$"))
    expect(flash(page, "Added to the timeline.")).to_be_visible()
    entry = page.locator("#timeline li").filter(has_text=NOTE)
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("Rita Reporter")
    expect(entry).to_contain_text("Internal")


@pytest.fixture(scope="module")
def filed_case(browser, live_server) -> FiledCase:
    """Rita's case, filed through the UI by the first journey, or here when that one did not run."""
    if not _filed:
        page = open_page(browser, live_server)
        try:
            file_case_through_the_ui(page)
        except BaseException:
            save_screenshots([page], "filed_case")
            raise
        finally:
            page.context.close()
    return _filed[0]


def test_a_reporter_files_a_case_with_evidence_and_a_note(page):
    case = file_case_through_the_ui(page)
    assert case.business.startswith(BUSINESS)


def test_an_editor_finds_the_case_by_its_evidence_then_assigns_and_moves_it(page, filed_case):
    sign_in(page, "eve")
    search = page.get_by_role("searchbox", name="Search cases")
    search.fill(EVIDENCE_WORD)
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/search\?q={EVIDENCE_WORD}"))
    hit = page.locator("article.hit").filter(has_text=filed_case.reference)
    expect(hit).to_have_count(1)
    expect(hit.get_by_role("link", name=filed_case.title)).to_be_visible()
    snippet = hit.locator(".snippet").filter(has=page.locator(".badge", has_text=re.compile(r"^Evidence$")))
    expect(snippet).to_have_count(1)
    expect(snippet.locator("mark")).to_have_text(re.compile(EVIDENCE_WORD, re.IGNORECASE))

    hit.get_by_role("link", name=filed_case.title).click()
    expect(page).to_have_url(re.compile(rf"{filed_case.path}\?search="))  # opened from the results
    expect(page.get_by_role("link", name="Back to results")).to_be_visible()
    expect(page.get_by_role("heading", name=filed_case.title, level=1)).to_be_visible()
    # The "Similar cases" panel is fetched after the page shows: filled in, or removed when empty.
    expect(page.get_by_role("link", name="Show similar cases")).to_have_count(0)

    # A reporter's case starts assigned to her; the editor takes it over.
    assignment = page.locator("article").filter(has=page.get_by_role("heading", name="Assignment"))
    expect(assignment.locator("p").first).to_have_text("Rita Reporter")
    assignment.get_by_label("Assign to").select_option(label="Eve Editor")
    assignment.get_by_role("button", name="Assign", exact=True).click()
    expect(flash(page, "Assigned to Eve Editor.")).to_be_visible()
    expect(assignment.locator("p").first).to_have_text("Eve Editor")
    expect(page.locator("#timeline li").filter(has_text="Assigned to Eve Editor.")).to_be_visible()

    status = page.locator("article").filter(has=page.get_by_role("heading", name="Status", exact=True))
    expect(status).to_contain_text("New")
    status.get_by_role("button", name="Start investigating").click()
    expect(flash(page, f"{filed_case.reference} is now investigating.")).to_be_visible()
    expect(status.locator(".badge").first).to_have_text("Investigating")
    expect(status.get_by_role("button", name="Start investigating")).to_have_count(0)

    page.get_by_role("link", name="Cases", exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=filed_case.reference))
    expect(row).to_contain_text("Investigating")
    expect(row).to_contain_text("Eve Editor")
    page.watch.assert_clean()


def test_an_editor_exports_the_bbb_dossier_and_the_pdf_downloads(page, filed_case):
    sign_in(page, "eve")
    page.goto(filed_case.path)
    page.get_by_role("button", name="Export dossier").click()
    expect(page.get_by_role("heading", name=f"Export a dossier of {filed_case.reference}")).to_be_visible()
    page.get_by_label("BBB / regulator").check()
    expect(page.get_by_label("BBB / regulator")).to_be_checked()
    # The editor withholds a word and previews what the BBB will not see, field by field.
    page.get_by_label("Also withhold these words from a news or BBB dossier").fill("shop")
    page.get_by_role("button", name="Preview what is withheld").click()
    preview = page.locator("table.withheld-preview")
    expect(preview.get_by_role("row").filter(has_text="The complaint")).to_contain_text(
        "the [withheld] refused a refund")
    expect(preview.locator("mark.withheld")).to_have_text(["[withheld]"])
    expect(page.get_by_label("BBB / regulator")).to_be_checked()
    expect(page.get_by_label("Also withhold these words from a news or BBB dossier")).to_have_value("shop")

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Export PDF").click()
    download = download_info.value
    assert download.failure() is None
    assert re.fullmatch(rf"{filed_case.reference}-bbb-dossier-\d+\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1024, pdf[:100]
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert filed_case.reference in text
    assert COMPLAINANT not in text and "kettle.jpg" not in text  # the BBB sees neither without consent
    assert "shop" not in text and "[withheld]" in text

    page.goto(filed_case.path)
    entry = page.locator("#timeline li").filter(has_text="BBB / regulator")
    expect(entry).to_contain_text(re.compile(r"This case's dossier \(#\d+, BBB / regulator\) was exported by "))
    page.watch.assert_clean()


def test_another_reporter_cannot_reach_the_case(page, filed_case):
    sign_in(page, "rob")
    for path in (filed_case.path, f"{filed_case.path}/dossier", f"{filed_case.path}/evidence.zip"):
        response = page.watch.goto_expecting_error(path)
        assert response.status == 404, f"{path} answered {response.status}"
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text(filed_case.title)
        expect(page.locator("body")).not_to_contain_text(filed_case.business)

    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.get_by_text("0 open cases filed by or assigned to you.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(filed_case.reference)
    expect(page.locator("main")).not_to_contain_text(filed_case.title)

    search = page.get_by_role("searchbox", name="Search cases")
    search.fill(EVIDENCE_WORD)
    search.press("Enter")
    expect(page.get_by_text("No case matches.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(filed_case.title)
    page.watch.assert_clean()
