"""Journeys of a reporter's day: a call with a follow-up date lands on My work; an editor's bulk
assignment reaches each assignee marked new; a case opened from search leads to the next result.

Accounts and cases here are this module's own (nell and noor, reporters; ida, an editor), so the
journeys of test_journeys.py see the same server as before.
"""
import re
from datetime import date, timedelta

import pytest

from investigations.auth.accounts import create_user
from investigations.cases.services import CaseDetails, create_case
from investigations.extensions import db
from tests.browser.conftest import PHONE, assert_accessible, assert_fits, sign_in_as
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

NELL, NOOR, IDA = "nell.work@example.org", "noor.work@example.org", "ida.work@example.org"
WORD = "quokkaboiler"  # only in this module's cases


@pytest.fixture(scope="module")
def daily(live_server):
    """Nell's case, and four cases filed by the editor Ida and not assigned to anyone yet."""
    with live_server.app.app_context():
        nell = create_user(NELL, "Nell Reporter", "reporter", password=PASSWORD)[0]
        create_user(NOOR, "Noor Reporter", "reporter", password=PASSWORD)
        ida = create_user(IDA, "Ida Editor", "editor", password=PASSWORD)[0]
        db.session.commit()
        base = {"category": "repairs", "received_via": "email", "date_received": date.today(),
                "complainant_name": "Quentin Quokka", "complainant_email": "quentin@example.net"}
        own, _ = create_case(CaseDetails.from_fields({**base, "title": "Quokkaboiler leaks after the repair",
                              "narrative": f"The {WORD} leaked again a week after the repair visit.",
                              "business_name": "Quokka Heating Services"}), nell)
        unassigned = []
        for title, business, narrative in (
                ("Quokkaboiler radiator cold", "Quokka Radiators", "Radiators stay cold all winter"),
                ("Quokkaboiler thermostat dead", "Quokka Controls", "The thermostat display went blank"),
                ("Quokkaboiler pump noisy", "Quokka Pumps", "A grinding pump wakes the household nightly"),
                ("Quokkaboiler flue blocked", "Quokka Flues", "Inspectors found the flue sealed by debris")):
            case, _ = create_case(CaseDetails.from_fields({**base, "title": title, "business_name": business,
                                   "narrative": f"{narrative}; the {WORD} installer ignores calls."}), ida)
            unassigned.append(case.reference)
        db.session.commit()
        return {"own": own.reference, "unassigned": unassigned}




def test_a_reporter_logs_a_call_with_a_follow_up_date_and_sees_it_on_my_work(sized_page, daily):
    page = sized_page(PHONE, phone=True)
    sign_in_as(page, NELL)
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    page.get_by_role("link", name="Quokkaboiler leaks after the repair").click()

    page.get_by_role("button", name="Log a call").click()
    form = page.locator("#add-note")
    expect(form.get_by_label("Kind")).to_have_value("call")
    friday = date.today() + timedelta(days=4)
    form.get_by_label("Note").fill("The owner will call back by Friday about the second repair.")
    form.get_by_label("Follow up by (optional)").fill(friday.isoformat())
    form.get_by_role("button", name="Add to timeline").click()
    expect(page.locator(".flash").filter(has_text="it is on My work")).to_be_visible()
    entry = page.locator("#timeline li").filter(has_text="The owner will call back by Friday")
    expect(entry).to_contain_text(f"Follow up by {friday:%-d %b %Y}")

    page.goto("/work/")
    due = page.locator(".work-due li").filter(has_text="The owner will call back by Friday")
    expect(due).to_contain_text(f"By {friday:%-d %b %Y}")
    expect(due.get_by_role("link", name=daily["own"])).to_be_visible()
    card = page.locator(".work-card").filter(has_text="Quokkaboiler leaks after the repair")
    expect(card).to_contain_text("Call follow-up: The owner will call back by Friday")
    expect(card).to_contain_text(f"{friday:%-d %b %Y}")
    assert_fits(page)
    assert_accessible(page)

    due.get_by_role("button", name=re.compile("^Done")).click()
    expect(page.locator(".flash").filter(has_text="Follow-up done.")).to_be_visible()
    expect(page.locator(".work-due li").filter(has_text="The owner will call back by Friday")).to_have_count(0)
    page.watch.assert_clean()


def test_an_editor_bulk_assigns_three_cases_and_each_assignee_sees_them_marked_new(sized_page, daily):
    three = daily["unassigned"][:3]
    editor = sized_page()
    sign_in_as(editor, IDA)
    editor.goto("/cases/?business=quokka&assignee=none")
    for reference in three:
        editor.get_by_label(f"Tick {reference}").check()
    bulk = editor.locator("#bulk-form")
    bulk.get_by_label("Assign to").select_option(label="Noor Reporter")
    bulk.get_by_role("button", name="Assign ticked cases").click()
    expect(editor.locator(".flash").filter(has_text="3 cases assigned to Noor Reporter")).to_be_visible()
    assert_accessible(editor)
    editor.watch.assert_clean()

    noor = sized_page(PHONE, phone=True)
    sign_in_as(noor, NOOR)
    noor.get_by_role("button", name="Menu").click()
    expect(noor.get_by_role("link", name=re.compile(r"My work 3 new"))).to_be_visible()
    for reference in three:
        card = noor.locator(".work-card").filter(has_text=reference)
        expect(card).to_contain_text("New to you")
    expect(noor.locator(".work-card.is-new")).to_have_count(3)
    # Opening one takes its mark away; the others stay new.
    noor.locator(".work-card").filter(has_text=three[0]).get_by_role("link").click()
    expect(noor.get_by_role("heading", level=1)).to_be_visible()
    noor.goto("/work/")
    expect(noor.locator(".work-card.is-new")).to_have_count(2)
    expect(noor.locator(".work-card").filter(has_text=three[0])).not_to_contain_text("New to you")
    noor.watch.assert_clean()


def test_a_search_results_case_page_leads_to_the_next_result(sized_page, daily):
    page = sized_page()
    sign_in_as(page, IDA)
    search = page.get_by_role("searchbox", name="Search cases")
    search.fill(WORD)
    search.press("Enter")
    hits = page.locator("article.hit")
    expect(hits).to_have_count(5)
    titles = hits.locator("h2 a").all_inner_texts()

    hits.first.locator("h2 a").click()
    expect(page.get_by_role("heading", name=titles[0], level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Search results")
    expect(nav).to_contain_text("Result 1 of 5")
    expect(nav.get_by_role("link", name="Previous result")).to_have_count(0)
    nav.get_by_role("link", name="Next result").click()
    expect(page.get_by_role("heading", name=titles[1], level=1)).to_be_visible()
    expect(nav).to_contain_text("Result 2 of 5")
    nav.get_by_role("link", name="Previous result").click()
    expect(page.get_by_role("heading", name=titles[0], level=1)).to_be_visible()
    nav.get_by_role("link", name="Back to results").click()
    expect(page).to_have_url(re.compile(rf"/search\?q={WORD}$"))
    expect(hits).to_have_count(5)
    page.watch.assert_clean()
