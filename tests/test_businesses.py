"""Businesses: one record per real business however its name is typed, aliases, renames, visibility."""
import json
import re

import pytest
from sqlalchemy import func, select

from investigations.businesses.naming import normalize_business_name
from investigations.extensions import db
from investigations.models import AuditEvent, Business, BusinessAlias, Case
from tests.conftest import file_case

# --- Helpers ---------------------------------------------------------------------------


def businesses() -> list[Business]:
    """Every business as the database has it now (not as this test's session remembers it)."""
    db.session.expire_all()
    return list(db.session.scalars(select(Business).order_by(Business.id)))


def business_named(name: str) -> Business:
    db.session.expire_all()
    business = db.session.scalar(select(Business).where(Business.name == name))
    assert business is not None, f"no business named {name!r}"
    return business


def business_of(reference: str) -> Business:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.reference == reference)).business


def add_alias(business: Business, name: str) -> None:
    business.aliases.append(BusinessAlias(name=name, normalized_name=normalize_business_name(name)))
    db.session.commit()


def edit_form(business: Business, **overrides) -> dict:
    """The edit form as an editor would submit it, with the business's current values."""
    data = {
        "name": business.name,
        "aliases": "\n".join(business.alias_names),
        "website": business.website or "",
        "address": business.address or "",
        "city": business.city or "",
        "region": business.region or "",
        "country": business.country or "",
        "industry": business.industry or "",
    }
    data.update(overrides)
    return data


def listed_cases(client, slug: str) -> tuple[str, set[str]]:
    """(the case count heading, the references in the case table) of a business page."""
    page = client.get(f"/businesses/{slug}").get_data(as_text=True)
    heading = re.search(r"<h2>(\d+ cases?)</h2>", page).group(1)
    return heading, set(re.findall(r'<td><a href="/cases/(C-\d{4}-\d{5})">', page))


def listed_businesses(client, query: str = "") -> dict[str, str]:
    """{name: case count} as the business list shows them."""
    page = client.get("/businesses/", query_string={"q": query} if query else None).get_data(as_text=True)
    rows = re.findall(r'<td><a href="/businesses/[^"]+">([^<]+)</a></td>.*?<td class="num">(\d+)</td>', page, re.S)
    return dict(rows)


def audit_events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Name normalization ----------------------------------------------------------------


@pytest.mark.parametrize("name, other", [
    ("ACME Corp.", "Acme Corp"),
    ("Acme Corp", "Acme Corporation"),
    ("Acme Corporation", "The Acme Company"),
    ("AT&T Inc.", "AT and T"),
    ("Café Rénové", "CAFE RENOVE"),
    ("Škoda Auto a.s.", "Skoda Auto"),
])
def test_spellings_of_one_business_normalize_alike(name, other):
    assert normalize_business_name(name) == normalize_business_name(other)


def test_normalized_name_folds_accents():
    assert normalize_business_name("Crème Brûlée Café") == "creme brulee cafe"


@pytest.mark.parametrize("name, other", [
    ("Яндекс", "ЯНДЕКС"),
    ("Łódź Meble", "Lodz Meble"),
    ("Øresund Bryg", "Oresund Bryg"),
    ("Straße Möbel GmbH", "Strasse Mobel"),
])
def test_letters_beyond_basic_latin_are_kept_or_folded(name, other):
    assert normalize_business_name(name)
    assert normalize_business_name(name) == normalize_business_name(other)


@pytest.mark.parametrize("name, expected", [
    ("Company", "company"),
    ("Inc.", "inc"),
    ("The Company", "company"),
])
def test_a_name_that_is_only_a_suffix_word_is_kept(name, expected):
    assert normalize_business_name(name) == expected


@pytest.mark.parametrize("name, other", [
    ("Acme", "Acme Plumbing"),
    ("Acme Plumbing", "Acme Roofing"),
    ("Company", "Acme Company"),
])
def test_different_businesses_stay_different(name, other):
    assert normalize_business_name(name) != normalize_business_name(other)


# --- One business however it is typed ------------------------------------------------------


def test_two_spellings_of_a_name_file_cases_against_one_business(login):
    rita, rob = login("rita"), login("rob")
    first = file_case(rita, business_name="ACME Corp.", title="Washer leaked on first use")
    second = file_case(rob, business_name="Acme Corp", title="Dryer refund refused")

    [acme] = businesses()
    assert business_of(first).id == business_of(second).id == acme.id

    assert listed_cases(login("eve"), acme.slug) == ("2 cases", {first, second})


def test_a_case_filed_under_an_alias_joins_that_business(login):
    rita = login("rita")
    first = file_case(rita, business_name="Roadrunner Supplies")
    add_alias(business_named("Roadrunner Supplies"), "Acme Warehouse")

    later = file_case(rita, business_name="ACME Warehouse Inc.")

    [roadrunner] = businesses()
    assert business_of(later).id == business_of(first).id == roadrunner.id


def test_a_case_can_be_filed_against_a_business_named_in_another_script(login):
    reference = file_case(login("rita"), business_name="Яндекс")
    assert business_of(reference).name == "Яндекс"


# --- Editing ------------------------------------------------------------------------------


def test_renaming_keeps_the_old_name_as_an_alias(login, users):
    rita, eve = login("rita"), login("eve")
    first = file_case(rita, business_name="ACME Corp.")
    acme = business_named("ACME Corp.")

    response = eve.post(f"/businesses/{acme.slug}/edit", data=edit_form(acme, name="Acme Holdings"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/businesses/{acme.slug}")

    acme = business_named("Acme Holdings")
    assert acme.alias_names == ["ACME Corp."]
    assert "Also trading as ACME Corp." in eve.get(f"/businesses/{acme.slug}").get_data(as_text=True)

    later = file_case(rita, business_name="Acme Corp")
    assert business_of(later).id == business_of(first).id == acme.id
    assert len(businesses()) == 1

    [event] = audit_events("business.update")
    assert (event.object_type, event.object_id, event.actor_id) == ("business", str(acme.id), users["eve"].id)
    assert "name" in json.loads(event.details)["fields"]


@pytest.mark.parametrize("alias", ["Globex", "GLOBEX CORPORATION", "Initech"])
def test_an_alias_belonging_to_another_business_is_refused(login, alias):
    eve = login("eve")
    file_case(eve, business_name="Acme Corp")
    file_case(eve, business_name="Globex Inc.")
    add_alias(business_named("Globex Inc."), "Initech")
    acme = business_named("Acme Corp")

    response = eve.post(f"/businesses/{acme.slug}/edit",
                        data=edit_form(acme, name="Acme Renamed", aliases=f"Roadrunner\n{alias}", city="Springfield"))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "is already the name or an alias of Globex Inc." in page

    acme, globex = business_named("Acme Corp"), business_named("Globex Inc.")
    assert (acme.alias_names, acme.city) == ([], None)
    assert globex.alias_names == ["Initech"]
    assert len(businesses()) == 2
    assert audit_events("business.update") == []


def test_reporters_cannot_edit_a_business(login):
    rita = login("rita")
    file_case(rita, business_name="Acme Corp")
    acme = business_named("Acme Corp")

    assert rita.get(f"/businesses/{acme.slug}/edit").status_code == 403
    assert rita.post(f"/businesses/{acme.slug}/edit", data=edit_form(acme, name="Hijacked")).status_code == 403

    assert [b.name for b in businesses()] == ["Acme Corp"]
    assert audit_events("business.update") == []


# --- What a reporter sees ---------------------------------------------------------------------


def test_a_reporter_sees_only_their_own_cases_of_a_business(login):
    rita, rob = login("rita"), login("rob")
    mine = file_case(rita, business_name="Acme Corp", title="Rita washer refund")
    theirs = file_case(rob, business_name="ACME Corp.", title="Rob confidential dryer story")
    acme = business_named("Acme Corp")

    assert listed_cases(rita, acme.slug) == ("1 case", {mine})
    page = rita.get(f"/businesses/{acme.slug}").get_data(as_text=True)
    assert "Rob confidential dryer story" not in page and theirs not in page
    assert listed_businesses(rita) == {"Acme Corp": "1"}

    assert listed_cases(login("eve"), acme.slug) == ("2 cases", {mine, theirs})
    assert listed_businesses(login("eve")) == {"Acme Corp": "2"}


def test_the_monthly_chart_counts_every_case_even_beyond_those_listed(login, monkeypatch):
    from investigations.businesses import queries

    monkeypatch.setattr(queries, "CASES_LISTED", 2)
    eve = login("eve")
    for day in ("2026-01-05", "2026-01-20", "2026-03-02"):
        file_case(eve, business_name="Acme Corp", date_received=day)
    page = eve.get(f"/businesses/{business_named('Acme Corp').slug}").get_data(as_text=True)
    months = dict(re.findall(r"<tr><td>(\d{4}-\d{2})</td><td class=\"num\">(\d+)</td></tr>", page))
    assert months == {"2026-01": "2", "2026-02": "0", "2026-03": "1"}
    assert "The 2 most recent of 3 cases" in page and "business=Acme+Corp" in page


# --- Search -----------------------------------------------------------------------------------


def test_search_finds_businesses_by_name_and_by_alias(login):
    eve = login("eve")
    for name in ("Acme Corp", "Roadrunner Supplies", "Globex"):
        file_case(eve, business_name=name)
    add_alias(business_named("Roadrunner Supplies"), "Acme Warehouse")

    assert set(listed_businesses(eve)) == {"Acme Corp", "Roadrunner Supplies", "Globex"}
    # "Roadrunner Supplies" is found by its alias only.
    assert set(listed_businesses(eve, "acme")) == {"Acme Corp", "Roadrunner Supplies"}
    assert set(listed_businesses(eve, "ACME warehouse")) == {"Roadrunner Supplies"}


def test_business_count_is_one_after_many_spellings(login):
    rita = login("rita")
    for spelling in ("ACME Corp.", "Acme Corp", "Acme Corporation", "The Acme Company", "  acme   corp  "):
        file_case(rita, business_name=spelling)
    assert db.session.scalar(select(func.count(Business.id))) == 1
