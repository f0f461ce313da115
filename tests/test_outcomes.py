"""Outcomes and stories: recorded when a case is resolved or closed, shown on the case, found by
the list's filters, carried by exports and the API, counted on the dashboard (per currency, never
summed across currencies) and in the impact report."""
import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from investigations.extensions import db
from investigations.models import AuditEvent, Case, CaseOutcome, Story, TimelineEntry
from investigations.outcomes.impact import impact, quarter_period
from tests.conftest import file_case
from tests.test_api import api  # noqa: F401  (fixture)

TODAY = date.today().isoformat()


def get_case(reference) -> Case:
    return db.session.scalar(select(Case).where(Case.reference == reference))


def listed(client, **filters) -> set[str]:
    """The references the case list shows with these filters."""
    page = client.get("/cases/", query_string=filters).get_data(as_text=True)
    return set(re.findall(r'<a href="/cases/(C-\d{4}-\d{5})"', page))


def started(client, reference):
    assert client.post(f"/cases/{reference}/status", data={"status": "investigating"}).status_code == 302


def resolve(client, reference, **outcome):
    data = {"status": "resolved", "resolved-outcome_on": TODAY, "resolved-currency": "USD"}
    data.update({f"resolved-{name}": value for name, value in outcome.items()})
    return client.post(f"/cases/{reference}/status", data=data)


def story(client, reference, **fields):
    data = {"story-outlet": "Channel 7", "story-headline": "Viewers get their money back",
            "story-published_on": TODAY, "story-format": "tv"}
    data.update({f"story-{name}": value for name, value in fields.items()})
    return client.post(f"/cases/{reference}/stories", data=data)


# --- Recording an outcome -----------------------------------------------------------------------


def test_resolving_asks_for_the_outcome_and_records_it_with_the_money(login):
    rita = login("rita")
    reference = file_case(rita)
    started(rita, reference)
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert 'name="resolved-kind"' in page and 'data-confirm="Mark ' in page

    refused = resolve(rita, reference)  # no outcome: nothing changes
    assert refused.status_code == 400
    assert "Say what happened" in refused.get_data(as_text=True)
    assert get_case(reference).status == "investigating" and get_case(reference).outcome is None

    typo = resolve(rita, reference, kind="refund", money_recovered="three hundred")
    assert typo.status_code == 400 and get_case(reference).status == "investigating"
    assert "three hundred" in typo.get_data(as_text=True)  # what was typed is kept in the form

    assert resolve(rita, reference, kind="refund", money_recovered="300", note="Store refunded in full").status_code == 302
    case = get_case(reference)
    assert case.status == "resolved"
    assert case.outcome.kind == "refund" and case.outcome.money_recovered == Decimal("300.00")
    assert case.outcome.currency == "USD" and case.outcome.outcome_on == date.today()
    assert case.amount_in_dispute == Decimal("499.99")  # kept apart from the amount in dispute
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "outcome"))
    assert entry.body.startswith("Outcome recorded: Refund: 300.00 USD recovered for the complainant")
    assert not entry.internal
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.outcome"))
    assert json.loads(event.details)["money_recovered"] == "300.00" and event.object_id == reference

    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "300.00 USD" in page and "Store refunded in full" in page


def test_the_outcome_is_corrected_later_and_the_change_is_on_the_timeline(login):
    eve = login("eve")
    reference = file_case(eve)
    started(eve, reference)
    resolve(eve, reference, kind="repair")
    response = eve.post(f"/cases/{reference}/outcome", data={
        "outcome-kind": "refund", "outcome-money_recovered": "120.50", "outcome-currency": "EUR",
        "outcome-outcome_on": TODAY})
    assert response.status_code == 302
    outcome = get_case(reference).outcome
    assert (outcome.kind, outcome.money_recovered, outcome.currency) == ("refund", Decimal("120.50"), "EUR")
    bodies = [e.body for e in get_case(reference).timeline if e.kind == "outcome"]
    assert bodies[0].startswith("Outcome changed: Refund: 120.50 EUR")
    assert len(bodies) == 2
    # Both an amount and "amount unknown" is refused, saying why; nothing changes.
    response = eve.post(f"/cases/{reference}/outcome", data={
        "outcome-kind": "refund", "outcome-money_recovered": "5", "outcome-amount_unknown": "y",
        "outcome-currency": "EUR", "outcome-outcome_on": TODAY})
    assert response.status_code == 400
    assert "not both" in response.get_data(as_text=True)
    assert get_case(reference).outcome.money_recovered == Decimal("120.50")


def test_an_outcome_cannot_be_dated_before_the_complaint(login):
    eve = login("eve")
    reference = file_case(eve, date_received="2026-03-10")
    response = eve.post(f"/cases/{reference}/outcome", data={
        "outcome-kind": "apology", "outcome-currency": "USD", "outcome-outcome_on": "2026-03-01"})
    assert response.status_code == 400
    assert "cannot come before the complaint was received" in response.get_data(as_text=True)
    assert get_case(reference).outcome is None


def test_closing_takes_an_outcome_or_a_reason(login):
    eve = login("eve")
    first, second = file_case(eve), file_case(eve)
    response = eve.post(f"/cases/{first}/status", data={"status": "closed"})
    assert response.status_code == 400 and "Say why the case is closed" in response.get_data(as_text=True)
    assert eve.post(f"/cases/{first}/status", data={"status": "closed", "comment": "Withdrawn"}).status_code == 302
    assert get_case(first).status == "closed" and get_case(first).outcome is None
    response = eve.post(f"/cases/{second}/status", data={
        "status": "closed", "closed-kind": "no_remedy", "closed-currency": "USD", "closed-outcome_on": TODAY})
    assert response.status_code == 302
    assert get_case(second).status == "closed" and get_case(second).outcome.kind == "no_remedy"


def test_a_reporter_cannot_record_an_outcome_on_someone_elses_case(login):
    reference = file_case(login("rob"))
    rita = login("rita")
    response = rita.post(f"/cases/{reference}/outcome", data={
        "outcome-kind": "refund", "outcome-currency": "USD", "outcome-outcome_on": TODAY})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == 0


# --- The list, the exports, the API -------------------------------------------------------------


def test_an_outcome_with_money_is_in_the_list_filter_the_exports_and_the_api(login, api):  # noqa: F811
    eve = login("eve")
    paid = file_case(eve, title="Refund won for the washer")
    other = file_case(eve, title="Still waiting for the dryer")
    started(eve, paid)
    resolve(eve, paid, kind="refund", money_recovered="300")

    assert listed(eve, status="all", outcome="money", recovered_in="USD") == {paid}
    assert listed(eve, status="all", outcome="none") == {other}
    assert listed(eve, status="all", outcome="refund") == {paid}
    assert listed(eve, status="all", outcome="money", recovered_in="EUR") == set()
    assert listed(eve, status="all", outcome_from="not a date") == {paid, other}  # a typo narrows nothing

    exported = eve.get("/cases/export.csv", query_string={"status": "all", "outcome": "money"})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == [paid]
    assert rows[0]["outcome"] == "refund" and rows[0]["money_recovered"] == "300.00"
    assert rows[0]["money_recovered_currency"] == "USD" and rows[0]["amount_in_dispute"] == "499.99"
    document = json.loads(eve.get("/cases/export.json", query_string={"status": "all"}).get_data(as_text=True))
    by_reference = {row["reference"]: row for row in document["cases"]}
    assert by_reference[paid]["money_recovered"] == "300.00" and by_reference[other]["outcome"] is None

    body = api("eve").get(f"/cases/{paid}").json
    assert body["outcome"]["kind"] == "refund" and body["outcome"]["money_recovered"] == "300.00"
    assert body["outcome"]["currency"] == "USD" and body["stories"] == []
    assert api("eve").get(f"/cases/{other}").json["outcome"] is None


def test_the_api_records_outcomes_and_stories(login, api):  # noqa: F811
    rob = api("rob")
    reference = file_case(login("rob"), date_received="2026-01-05")
    response = rob.open("PUT", f"/cases/{reference}/outcome",
                        json={"kind": "debt_cancelled", "money_recovered": "1250.00", "currency": "GBP"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["outcome"]["money_recovered"] == "1250.00" and response.json["outcome"]["currency"] == "GBP"
    conflict = rob.open("PUT", f"/cases/{reference}/outcome", json={"kind": "refund", "outcome_on": "2026-01-01"})
    assert conflict.status_code == 409 and "outcome_on" in conflict.json["errors"]
    assert get_case(reference).outcome.kind == "debt_cancelled"

    second = file_case(login("rob"))
    made = rob.post(f"/cases/{reference}/stories", json={
        "outlet": "Radio North", "headline": "Debt collectors back down", "format": "radio",
        "url": "https://radio.example/debt", "also_about": [second]})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert sorted(made.json["cases"]) == sorted([reference, second])
    someone_elses = file_case(login("rita"))
    refused = rob.post(f"/cases/{reference}/stories", json={
        "outlet": "Radio North", "headline": "Another", "also_about": [someone_elses]})
    assert refused.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Story)) == 1


# --- Stories ------------------------------------------------------------------------------------


def test_a_story_linked_to_two_cases_shows_on_both(login):
    eve = login("eve")
    first, second = file_case(eve), file_case(eve, title="Same trick, another customer")
    response = story(eve, first, url="https://tv.example/acme", also_about=f"{second}")
    assert response.status_code == 302
    for reference, other in ((first, second), (second, first)):
        page = eve.get(f"/cases/{reference}").get_data(as_text=True)
        assert "Viewers get their money back" in page and "Channel 7" in page
        assert f"Also about: <a href=\"/cases/{other}\">{other}</a>" in page
    # The same address entered again on a third case links the story already recorded.
    third = file_case(eve)
    assert story(eve, third, url="https://tv.example/acme", headline="(retyped)").status_code == 302
    stories = db.session.scalars(select(Story)).all()
    assert len(stories) == 1 and {c.reference for c in stories[0].cases} == {first, second, third}
    assert [e.kind for e in get_case(third).timeline].count("story") == 1


def test_a_story_is_not_linked_to_a_case_the_reporter_may_not_open(login):
    hidden = file_case(login("rob"))
    rita = login("rita")
    mine = file_case(rita)
    response = story(rita, mine, also_about=hidden)
    assert response.status_code == 400
    assert f"There is no case {hidden} that you may open." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Story)) == 0
    bad = story(rita, mine, url="javascript:alert(1)")
    assert bad.status_code == 400 and "http://" in bad.get_data(as_text=True)


def test_unlinking_a_story_asks_for_confirmation(login):
    eve = login("eve")
    reference = file_case(eve)
    story(eve, reference)
    story_id = db.session.scalar(select(Story.id))
    assert eve.post(f"/cases/{reference}/stories/{story_id}/unlink", data={}).status_code == 400
    assert eve.post(f"/cases/{reference}/stories/{story_id}/unlink", data={"confirm": "y"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Story)) == 0  # about no case any more


# --- Dashboard ----------------------------------------------------------------------------------


def test_dashboard_totals_money_per_currency_and_never_across_currencies(login):
    eve = login("eve")
    for money, currency in (("300", "USD"), ("200.50", "USD"), ("99", "EUR")):
        reference = file_case(eve)
        eve.post(f"/cases/{reference}/outcome", data={"outcome-kind": "refund", "outcome-money_recovered": money,
                                                      "outcome-currency": currency, "outcome-outcome_on": TODAY})
    page = eve.get("/dashboard/").get_data(as_text=True)
    assert "500.50 USD" in page and "99.00 EUR" in page
    assert "599.50" not in page  # never one sum of dollars and euros
    assert 'id="figure-money-usd"' in page and 'id="figure-money-eur"' in page
    # Each figure links to the cases behind it.
    assert "recovered_in=USD" in page and "outcome=money" in page
    euros = listed(eve, status="all", outcome="money", recovered_in="EUR", outcome_from=TODAY, outcome_to=TODAY)
    assert len(euros) == 1
    rows = list(csv.DictReader(io.StringIO(eve.get(
        f"/cases/export.csv?status=all&outcome=money&recovered_in=EUR&outcome_from={TODAY}").get_data(as_text=True))))
    assert [row["money_recovered"] for row in rows] == ["99.00"]


def test_a_reporter_sees_only_the_impact_of_their_own_cases(login):
    eve = login("eve")
    reference = file_case(eve)
    eve.post(f"/cases/{reference}/outcome", data={"outcome-kind": "refund", "outcome-money_recovered": "777",
                                                  "outcome-currency": "USD", "outcome-outcome_on": TODAY})
    rita = login("rita")
    file_case(rita)
    assert "777.00" not in rita.get("/dashboard/").get_data(as_text=True)
    assert "777.00 USD" in eve.get("/dashboard/").get_data(as_text=True)


# --- Routes' permissions ------------------------------------------------------------------------


def test_outcome_routes_follow_the_permission_rules(app, login, users):
    from flask import url_for

    from investigations.permissions import route_access_level
    from tests.test_route_permissions import ROLES, all_rules, expected, outcome

    rob = login("rob")
    reference = file_case(rob)
    story(rob, reference)
    things = {"reference": reference, "story_id": db.session.scalar(select(Story.id))}
    rules = [rule for rule in all_rules(app) if rule.endpoint.startswith("outcomes.")]
    assert len(rules) == 4
    mismatches = []
    for role in ROLES:
        client = app.test_client() if role == "anonymous" else login(role)
        for rule in rules:
            with app.test_request_context():
                url = url_for(rule.endpoint, **{name: things[name] for name in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                got = outcome(client.open(url, method=method, data={}))
                want = expected(route_access_level(rule.endpoint), role, rule.arguments)
                if got != want:
                    mismatches.append(f"{method} {url} as {role}: expected {want}, got {got}")
    assert not mismatches, "\n".join(mismatches)


# --- Figures of a period ------------------------------------------------------------------------


def test_the_figures_of_a_quarter_count_only_its_outcomes(login, users):
    eve = login("eve")
    inside = file_case(eve, date_received="2025-10-01")
    outside = file_case(eve, date_received="2025-09-01")
    for reference, when, money in ((inside, "2025-11-15", "250"), (outside, "2025-09-20", "1000")):
        eve.post(f"/cases/{reference}/outcome", data={"outcome-kind": "refund", "outcome-money_recovered": money,
                                                      "outcome-currency": "USD", "outcome-outcome_on": when})
    figures = impact(users["eve"], quarter_period(2025, 4))
    assert [(t.currency, t.amount, t.cases) for t in figures.money] == [("USD", Decimal("250.00"), 1)]
    assert figures.outcomes == 1 and figures.median_days == 45
    assert figures.by_kind == [("refund", "Refund", 1)]


# --- The impact report --------------------------------------------------------------------------


def test_the_impact_report_of_a_quarter_has_its_totals_and_withholds_identities(login, users):
    from tests.test_dossiers import flat, pdf_text

    eve = login("eve")
    hidden = file_case(eve, date_received="2025-10-01", complainant_name="Lucia Fernandez",
                       narrative="Lucia Fernandez paid for a sofa that never came; call her on 555 0100.")
    named = file_case(eve, date_received="2025-10-02", complainant_name="Oscar Named", consent_to_publish="y",
                      narrative="Oscar Named was billed twice for one repair.")
    elsewhere = file_case(eve, date_received="2025-06-01")
    for reference, when, money, currency in ((hidden, "2025-11-15", "250", "USD"), (named, "2025-12-01", "80", "EUR"),
                                             (elsewhere, "2025-07-01", "5000", "USD")):
        eve.post(f"/cases/{reference}/outcome", data={"outcome-kind": "refund", "outcome-money_recovered": money,
                                                      "outcome-currency": currency, "outcome-outcome_on": when})
    story(eve, hidden, published_on="2025-12-03", headline="Sofa money back")

    form = eve.get("/impact/", query_string={"year": "2025", "quarter": "4"}).get_data(as_text=True)
    candidates = {re.search(r'value="([^"]+)"', box).group(1) for box in re.findall(r'<input[^>]*name="featured"[^>]*>', form)}
    assert candidates == {hidden, named}  # the cases whose outcome falls in Q4
    response = eve.post("/impact/", data={"year": "2025", "quarter": "4", "featured": [hidden, named]})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert 'filename="impact-report-Q4-2025.pdf"' in response.headers["Content-Disposition"]
    text = flat(pdf_text(response.data))
    assert "250.00 USD" in text and "80.00 EUR" in text and "5,000.00" not in text
    assert "Sofa money back" in text
    assert "Lucia" not in text and "Fernandez" not in text and "555 0100" not in text
    assert "identity withheld" in text and "[complainant] paid for a sofa" in text
    assert "Oscar Named" in text  # consented
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "impact.report"))
    details = json.loads(event.details)
    assert details["period"] == "Q4 2025" and set(details["featured"]) == {hidden, named}


def test_the_impact_report_refuses_a_case_outside_the_period_and_is_for_editors(login):
    eve = login("eve")
    reference = file_case(eve, date_received="2025-06-01")
    eve.post(f"/cases/{reference}/outcome", data={"outcome-kind": "apology", "outcome-currency": "USD",
                                                  "outcome-outcome_on": "2025-07-01"})
    response = eve.post("/impact/", data={"year": "2025", "quarter": "4", "featured": [reference]})
    assert response.status_code == 400 and "not a valid choice" in response.get_data(as_text=True)
    assert login("rita").get("/impact/").status_code == 403


# --- CFPB imports -------------------------------------------------------------------------------


def test_cfpb_monetary_relief_becomes_an_outcome_with_the_amount_unknown(runner, users, login):
    from tests.test_imports import by_source, cfpb

    result = cfpb(runner, "cfpb_18.csv")
    assert result.exit_code == 0, result.output
    outcomes = {o.case.source_id: o for o in db.session.scalars(select(CaseOutcome))}
    monetary = [o for o in outcomes.values() if o.amount_unknown]
    assert len(monetary) == 1 and monetary[0].kind == "refund" and monetary[0].money_recovered is None
    assert monetary[0].case.company_response == "Closed with monetary relief"
    assert outcomes["1000002"].kind == "other" and not outcomes["1000002"].amount_unknown
    assert "1000001" not in outcomes  # "Closed with explanation" says nothing of a remedy
    assert [e.kind for e in by_source("cfpb:1000002").timeline].count("outcome") == 1
    # Importing again adds no second outcome.
    assert cfpb(runner, "cfpb_18.csv").exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == len(outcomes)
    eve = login("eve")
    assert listed(eve, status="all", outcome="money", recovered_in="unknown") == {monetary[0].case.reference}


def test_cases_are_not_resolved_in_bulk_without_their_outcomes(login):
    eve = login("eve")
    references = [file_case(eve), file_case(eve)]
    for reference in references:
        started(eve, reference)
    response = eve.post("/cases/bulk", data={"case": references, "bulk-action": "status", "bulk-status": "resolved"},
                        follow_redirects=True)
    assert "Resolve cases one at a time" in response.get_data(as_text=True)
    assert {get_case(reference).status for reference in references} == {"investigating"}


def test_a_merged_case_brings_its_outcome_and_stories_to_the_survivor(login):
    rita = login("rita")
    keep, dup = file_case(rita), file_case(rita, title="The same refund, filed twice")
    started(rita, dup)
    assert resolve(rita, dup, kind="refund", money_recovered="300").status_code == 302
    assert story(rita, dup, url="https://news.example/refund").status_code == 302
    eve = login("eve")
    assert eve.post(f"/cases/{dup}/merge", data={"survivor": keep}).status_code == 302
    survivor = get_case(keep)
    assert survivor.outcome is not None and survivor.outcome.money_recovered == Decimal("300.00")
    assert [s.headline for s in survivor.stories] == ["Viewers get their money back"]
    assert get_case(dup).outcome is None and get_case(dup).stories == []
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == 1  # moved, not copied or lost
