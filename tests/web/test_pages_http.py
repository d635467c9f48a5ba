"""What the pages say and where they lead (PROTOCOL §6): the bank selection's country and groups,
honest end screens, the page that waits for an external bank, and resuming a flow."""

from __future__ import annotations

import re

import pytest

from tests.support.customer import Customer, forms


@pytest.fixture
def customer(server):
    person = Customer(server.url)
    yield person
    person.close()


def url(tpp, stored, tail="") -> str:
    return f"{tpp.server.url}/app/request-token/{stored['id']}{tail}"


def test_the_country_is_preset_from_the_query_the_browser_region_or_the_language(tpp, server):
    stored = tpp.store_request()
    chip = re.compile(r'id="country-chip">([^<]+)<')
    assert chip.search(Customer(server.url).get(url(tpp, stored, "?country=PL")).text).group(1) == "Poland"
    irish = Customer(server.url).http.get(url(tpp, stored), headers={"Accept-Language": "en-IE,en;q=0.8"})
    assert chip.search(irish.text).group(1) == "Ireland"
    german = Customer(server.url).get(url(tpp, stored, "?lang=de"))
    assert chip.search(german.text).group(1) == "Deutschland" and '[data-c~="DE"]' in german.text
    plain = Customer(server.url).get(url(tpp, stored))
    assert chip.search(plain.text).group(1) == "All countries" and "data-c~=" not in plain.text
    every = [v for f in forms(german) for text, name, v in f.buttons if name == "bank_id"]
    assert "sandbox" in every  # every bank is on the page; the country is a style rule JavaScript can lift


def test_popular_banks_come_first_and_a_bank_under_maintenance_says_so(tpp, customer):
    page = customer.get(url(tpp, tpp.store_request()))
    assert page.text.index("Popular banks") < page.text.index("All banks")
    popular = page.text[page.text.index("Popular banks"):page.text.index("All banks")]
    assert 'value="sandbox"' in popular and 'value="hansekontor"' not in popular
    assert re.search(r'value="hansekontor" disabled aria-describedby="m-hansekontor".*?<small class="badge" '
                     r'id="m-hansekontor">Under maintenance</small>', page.text)
    searched = customer.get(url(tpp, tpp.store_request(), "?search=bank"))
    assert "Popular banks" not in searched.text  # a search shows one list


def test_end_screens_say_what_happened_with_one_primary_action(tpp, customer, server):
    denied = tpp.store_request()
    customer.run(url(tpp, denied), decision="deny")
    page = customer.get(url(tpp, denied))
    assert page.status_code == 409 and "Nothing was shared" in page.text
    assert len(re.findall(r'class="button primary"|class="primary"', page.text)) == 1
    other = Customer(server.url).get(url(tpp, denied))
    assert "already finished" in other.text and 'data-wvb-click="EXIT"' in other.text and ">Close<" in other.text


def test_the_page_for_an_external_bank_waits_then_offers_a_way_out_and_moves_on_by_itself(tpp, customer, server, clock):
    stored = tpp.store_request(bank_id="nordlicht")
    away = customer.follow(customer.decide(customer.to_consent(url(tpp, stored)), "allow"))
    assert '<meta http-equiv="refresh" content="10">' in away.text and "Still waiting" not in away.text
    assert 'data-wvb-event="OPEN_EXTERNAL"' in away.text
    clock.advance(seconds=45)
    waiting = customer.get(url(tpp, stored, "/bank-auth"))
    assert "Still waiting for your bank" in waiting.text and ">Cancel<" in waiting.text
    assert 'data-wvb-event="ERROR"' in waiting.text and "still_waiting_for_bank" in waiting.text
    cancel = customer.submit(waiting, "Cancel")
    assert "error=access_denied" in cancel.headers["location"]
    again = customer.get(url(tpp, stored, "/bank-auth"))
    assert again.status_code == 409 and "Nothing was shared" in again.text


def test_resume_reopens_the_flow_where_it_stood(tpp, customer, server):
    stored = tpp.store_request()
    fresh = customer.get(url(tpp, stored).replace("/request-token/", "/resume/"))
    assert fresh.status_code == 302 and fresh.headers["location"].endswith(f"/request-token/{stored['id']}")
    consent = customer.to_consent(url(tpp, stored))
    at_consent = customer.get(f"/app/resume/{stored['id']}")
    assert at_consent.headers["location"].endswith("/consent")
    to_bank = customer.decide(consent, "allow")
    at_bank = customer.get(f"/app/resume/{stored['id']}")
    assert at_bank.headers["location"] == to_bank.headers["location"]  # back to the bank's page
    stranger = Customer(server.url).get(f"{server.url}/app/resume/{stored['id']}")
    assert stranger.headers["location"].endswith(f"/request-token/{stored['id']}")  # nothing of the flow shown
    customer.back_from_bank(customer.at_bank(to_bank))
    finished = customer.get(f"/app/resume/{stored['id']}")
    assert finished.status_code == 409 and "You shared 3 accounts" in finished.text


def test_the_tpps_text_is_marked_with_its_language(tpp, customer):
    stored = tpp.store_request(description="Budgetplanung", text_language="de")
    page = customer.to_consent(url(tpp, stored))
    assert '<dd lang="de">Budgetplanung</dd>' in page.text
    same = Customer(tpp.server.url).to_consent(url(tpp, tpp.store_request(description="Budget", text_language="en")) + "")
    assert '<dd>Budget</dd>' in same.text


def test_every_page_has_a_favicon_and_a_description_and_no_fixed_pixel_text(tpp, customer):
    page = customer.get(url(tpp, tpp.store_request()))
    assert '<link rel="icon" href="data:image/svg+xml,' in page.text and '<meta name="description"' in page.text
    css = (tpp.server.runtime.templates.env.globals["inline_css"])
    assert not re.search(r"font(-size)?:[^;}]*\d+px", css)
