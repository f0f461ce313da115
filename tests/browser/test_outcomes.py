"""An editor resolves a case with its outcome (money recovered), links the story that ran about it,
and sees the dashboard's impact figure change; the new pages fit a phone and a desk and pass axe.

The cases here belong to this module's accounts; money is recovered in NZD, a currency no other
journey uses, so the figure this journey changes is its own.
"""
import re
from datetime import date

import pytest

from investigations.auth.accounts import create_user
from investigations.cases.services import CaseDetails, change_status, create_case
from investigations.extensions import db
from investigations.models.cases import Status
from tests.browser.conftest import DESK, PHONE, assert_accessible, assert_fits, sign_in_as
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

OLGA = "olga.outcomes@example.org"


@pytest.fixture(scope="module")
def outcome_case(live_server) -> str:
    """A case of Olga's (an editor) under investigation, with a complainant who did not consent."""
    with live_server.app.app_context():
        olga = create_user(OLGA, "Olga Outcomes", "editor", password=PASSWORD)[0]
        db.session.commit()
        case, _ = create_case(CaseDetails.from_fields({
            "title": "Outcomesville gym kept charging after cancellation", "business_name": "Outcomesville Gyms",
            "narrative": "The gym charged the membership for four months after it was cancelled in writing.",
            "category": "contract", "received_via": "email", "date_received": date.today(), "currency": "NZD",
            "amount_in_dispute": "320.00", "complainant_name": "Nora Payer"}), olga)
        db.session.flush()
        change_status(case, Status.INVESTIGATING, olga)
        db.session.commit()
        return case.reference


def _check(page) -> None:
    page.wait_for_load_state("networkidle")
    assert_fits(page)
    assert_accessible(page)


def test_an_outcome_and_a_story_change_the_dashboards_impact(sized_page, live_server, outcome_case):
    page = sized_page(DESK)
    sign_in_as(page, OLGA)
    page.goto("/dashboard/")
    impact = page.locator("#impact")
    expect(impact).to_be_visible()
    expect(impact).not_to_contain_text("NZD")

    # Resolving asks for the outcome in the same step, and confirms before moving.
    page.goto(f"/cases/{outcome_case}")
    resolve = page.locator("details.outcome-move").filter(has=page.locator("summary", has_text="Mark resolved"))
    resolve.locator("summary").click()
    page.watch.expected_failures.add(live_server(f"/cases/{outcome_case}/status"))  # the refusal is a 400
    resolve.get_by_role("button", name="Mark resolved").click()  # without an outcome: refused, nothing moves
    expect(page.locator(".flash-error")).to_contain_text("Say what happened")
    resolve = page.locator("details.outcome-move").filter(has=page.locator("summary", has_text="Mark resolved"))
    expect(resolve).to_have_attribute("open", "")
    resolve.get_by_label("What happened").select_option(label="Refund")
    resolve.get_by_label("Money recovered for the complainant").fill("250")
    resolve.get_by_label("Currency").select_option("NZD")
    _check(page)
    resolve.get_by_role("button", name="Mark resolved").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{outcome_case} is now resolved")
    assert any(f"Mark {outcome_case} resolved" in message for message in page.watch.dialogs), page.watch.dialogs
    outcome = page.locator("#outcome")
    expect(outcome).to_contain_text("Refund")
    expect(outcome).to_contain_text("250.00 NZD")
    expect(page.locator("#timeline li").filter(has_text="Outcome recorded")).to_contain_text("250.00 NZD")

    # The story that ran about it.
    stories = page.locator("#stories")
    stories.locator("summary", has_text="Add a published story").click()
    stories.get_by_label("Outlet").fill("Outcomesville Evening News")
    stories.get_by_label("Format").select_option(label="TV")
    stories.get_by_label("Headline").fill("Gym members get their money back")
    stories.get_by_label("Address (URL)").fill("https://news.example/gym-refunds")
    _check(page)
    stories.get_by_role("button", name="Add story").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Story linked to {outcome_case}")
    expect(page.locator("#stories")).to_contain_text("Gym members get their money back")
    expect(page.locator("#stories")).to_contain_text("Outcomesville Evening News")
    _check(page)

    # The dashboard's impact figure now counts it, and leads to the case behind it.
    page.goto("/dashboard/")
    card = page.locator("#impact .dash-summary a").filter(has_text="250.00 NZD")
    expect(card).to_contain_text("recovered for complainants (1 case)")
    expect(page.locator("#figure-money-nzd")).to_be_visible()
    _check(page)
    card.click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*recovered_in=NZD"))
    expect(page.get_by_role("link", name=outcome_case)).to_be_visible()

    page.goto("/impact/")
    expect(page.get_by_role("heading", name="Impact report", level=1)).to_be_visible()
    _check(page)
    page.watch.assert_clean()


def test_on_a_phone_the_outcome_pages_fit_and_pass_axe(sized_page, outcome_case):
    page = sized_page(PHONE, phone=True)
    sign_in_as(page, OLGA)
    page.goto(f"/cases/{outcome_case}")
    page.locator("#outcome summary").click()
    page.locator("#stories summary").click()
    _check(page)
    page.goto("/dashboard/")
    _check(page)
    page.goto("/impact/")
    _check(page)
    page.watch.assert_clean()
