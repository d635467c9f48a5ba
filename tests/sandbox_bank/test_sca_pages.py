"""The bank's own pages (SCA redirect): login, one-time code, consent, and how they hold up
against wrong guesses, forged and replayed posts — driven as a browser without JavaScript."""

from __future__ import annotations

from tests.sandbox_bank.conftest import NOK, PSU_IP, REDIRECT, TPP_NAME, Customer, Page, granted_consent


def scaredirect(created) -> str:
    assert created.status_code == 201, created.text
    return created.json()["_links"]["scaRedirect"]["href"]


def test_alice_confirms_every_account_and_goes_back_to_the_exact_redirect_uri(sandbox, tpp, customer):
    created = tpp.create_consent(brand="Pennywise%20Budget%20%E2%9C%93")
    consent_id = created.json()["consentId"]
    assert tpp.status(consent_id) == "received"
    login = customer.open(scaredirect(created))
    assert login.response.status_code == 200
    assert "Log in to Sandbox Bank" in login.heading
    for label in ('<label for="username">Username</label>', '<label for="password">Password</label>',
                  '<button name="action" value="login">Log in</button>', 'value="cancel" class="secondary" formnovalidate>Cancel<'):
        assert label in login.html
    cookie = login.response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/sandbox-bank/sandbox/authorise/" in cookie
    assert login.response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in login.response.headers["content-security-policy"]

    consent_page = customer.after(customer.log_in(login))
    assert consent_page.heading == f"Pennywise Budget ✓ via {TPP_NAME} wants to see information from Sandbox Bank"
    assert consent_page.accounts().keys() == {"Everyday Account", "Euro Savings", "Rewards Card"}
    assert consent_page.html.count('name="account" value=') == consent_page.html.count(" checked ") == 3
    assert ">Confirm</button>" in consent_page.html and ">Cancel</button>" in consent_page.html
    assert "See the payees you marked as trusted" in consent_page.html

    back = customer.post(consent_page, {"action": "confirm", "account": list(consent_page.accounts().values())})
    assert back.status_code == 302
    assert back.headers["location"] == REDIRECT  # exactly as given: nothing appended, nothing re-quoted
    assert tpp.status(consent_id) == "valid"
    read = tpp.call("GET", f"/v1/consents/{consent_id}")
    assert read.headers["Sandbox-PSU-ID"] == "alice"
    body = read.json()
    assert body["consentStatus"] == "valid" and body["frequencyPerDay"] == 4 and body["recurringIndicator"] is True
    assert body["lastActionDate"] == sandbox.clock.now().date().isoformat()
    refs = body["access"]["accounts"]
    assert [sorted(r) for r in refs] == [["currency", "iban"], ["currency", "iban"], ["currency", "maskedPan"]]
    assert [r["currency"] for r in refs] == ["GBP", "EUR", "GBP"]
    assert body["access"]["balances"] == refs and body["access"]["transactions"] == refs
    assert body["access"]["additionalInformation"]["trustedBeneficiaries"] == refs[:2]  # cards pay no one
    assert body["_links"]["account"]["href"] == f"{sandbox.url}/sandbox/v1/accounts"
    assert body["_links"]["card-account"]["href"] == f"{sandbox.url}/sandbox/v1/card-accounts"


def test_unticked_accounts_are_not_granted(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer, untick=("Euro Savings",))
    refs = tpp.call("GET", f"/v1/consents/{consent_id}").json()["access"]["accounts"]
    assert len(refs) == 2 and "maskedPan" in refs[1]
    names = [a["name"] for a in tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP).json()["accounts"]]
    assert names == ["Everyday Account"]


def test_cancel_on_the_consent_page_rejects_and_goes_to_the_nok_uri(tpp, customer):
    created = tpp.create_consent()
    back = customer.authorise(scaredirect(created), action="cancel")
    assert back.status_code == 302 and back.headers["location"] == NOK
    consent_id = created.json()["consentId"]
    assert tpp.status(consent_id) == "rejected"
    refused = tpp.get("/v1/accounts", consent_id)
    assert refused.status_code == 401 and refused.json()["tppMessages"][0]["code"] == "CONSENT_INVALID"
    assert "Sandbox-PSU-ID" in tpp.call("GET", f"/v1/consents/{consent_id}").headers  # the customer did log in


def test_cancel_on_the_login_page_goes_to_the_redirect_uri_when_there_is_no_nok_uri(tpp, customer):
    created = tpp.create_consent(nok=None)
    login = customer.open(scaredirect(created))
    back = customer.post(login, {"action": "cancel"})  # formnovalidate: empty fields are fine
    assert back.status_code == 302 and back.headers["location"] == REDIRECT
    assert tpp.status(created.json()["consentId"]) == "rejected"


def test_confirm_with_no_account_ticked_rejects(tpp, customer):
    created = tpp.create_consent()
    back = customer.authorise(scaredirect(created), untick=("Everyday Account", "Euro Savings", "Rewards Card"))
    assert back.headers["location"] == NOK
    assert tpp.status(created.json()["consentId"]) == "rejected"


def test_a_post_naming_someone_elses_account_grants_only_the_customers_own(tpp, customer, sandbox):
    created = tpp.create_consent()
    page = customer.after(customer.log_in(customer.open(scaredirect(created)), "carol"))
    page = customer.after(customer.post(page, {"one_time_code": "123456", "action": "login"}))
    alice_page_account = "not-carols-account"
    back = customer.post(page, {"action": "confirm", "account": [alice_page_account, page.accounts()["Current Account"]]})
    assert back.headers["location"] == REDIRECT
    assert len(tpp.call("GET", f"/v1/consents/{created.json()['consentId']}").json()["access"]["accounts"]) == 1


def test_bob_has_nothing_to_share_and_confirming_rejects(tpp, customer):
    created = tpp.create_consent()
    page = customer.after(customer.log_in(customer.open(scaredirect(created)), "bob"))
    assert "There are no accounts to share at Sandbox Bank." in page.html and page.accounts() == {}
    back = customer.post(page, {"action": "confirm"})
    assert back.headers["location"] == NOK
    assert tpp.status(created.json()["consentId"]) == "rejected"


def test_carol_enters_her_one_time_code_wrong_then_right(tpp, customer):
    created = tpp.create_consent()
    code_page = customer.after(customer.log_in(customer.open(scaredirect(created)), "Carol "))
    assert '<label for="one_time_code">One-time code</label>' in code_page.html and 'id="password"' not in code_page.html
    wrong = customer.post(code_page, {"one_time_code": "000000", "action": "login"})
    assert wrong.status_code == 401
    page = Page(wrong)
    assert page.problem == "That one-time code is not right."
    assert 'name="one_time_code" inputmode="numeric" autocomplete="one-time-code" required autofocus aria-invalid="true" ' \
           'aria-describedby="login-problem"' in page.html
    consent_page = customer.after(customer.post(page, {"one_time_code": "123456", "action": "login"}))
    assert consent_page.accounts().keys() == {"Current Account", "Rainy Day Savings"}
    back = customer.post(consent_page, {"action": "confirm", "account": list(consent_page.accounts().values())})
    assert back.headers["location"] == REDIRECT
    assert tpp.call("GET", f"/v1/consents/{created.json()['consentId']}").headers["Sandbox-PSU-ID"] == "carol"


def test_login_errors_are_tied_to_their_fields(tpp, customer):
    login = customer.open(scaredirect(tpp.create_consent()))
    empty = Page(customer.post(login, {"username": " ", "password": "x", "action": "login"}))
    assert empty.response.status_code == 400 and empty.problem == "Enter your username."
    assert 'spellcheck="false" required aria-invalid="true" aria-describedby="login-problem"' in empty.html
    assert 'id="password" name="password" type="password" autocomplete="current-password" required>' in empty.html
    wrong = Page(customer.log_in(login, "alice", "wrong"))
    assert wrong.response.status_code == 401 and wrong.problem == "The username or password is not right."
    assert wrong.html.count('aria-invalid="true" aria-describedby="login-problem"') == 2
    assert 'value="alice"' in wrong.html  # the name stays; the password never comes back


def test_too_many_wrong_passwords_reject_the_consent_and_send_the_customer_back(sandbox, tpp, customer):
    created = tpp.create_consent()
    login = customer.open(scaredirect(created))
    for attempt in range(sandbox.config.max_login_failures - 1):
        assert customer.log_in(login, "alice", f"guess-{attempt}").status_code == 401
    assert tpp.status(created.json()["consentId"]) == "received"
    last = customer.log_in(login, "alice", "last-guess")
    assert last.status_code == 302 and last.headers["location"] == NOK
    assert tpp.status(created.json()["consentId"]) == "rejected"
    assert customer.log_in(login, "alice", "sandbox").status_code == 409  # over: the right password changes nothing now
    assert tpp.status(created.json()["consentId"]) == "rejected"


def test_wrong_one_time_codes_count_towards_the_same_limit(sandbox_factory):
    sandbox = sandbox_factory(max_login_failures=2)
    tpp, customer = sandbox.tpp(), sandbox.customer()
    created = tpp.create_consent()
    login = customer.open(scaredirect(created))
    assert customer.log_in(login, "carol", "nope").status_code == 401  # failure 1
    code_page = customer.after(customer.log_in(login, "carol"))
    ended = customer.post(code_page, {"one_time_code": "111111", "action": "login"})  # failure 2: the last
    assert ended.status_code == 302 and ended.headers["location"] == NOK
    assert tpp.status(created.json()["consentId"]) == "rejected"
    tpp.close()
    customer.close()


def test_a_user_is_locked_after_twenty_failures_an_hour_whatever_the_password(sandbox, tpp):
    for _ in range(4):  # four authorisations of five failures each (each ends rejected)
        browser = sandbox.customer()
        login = browser.open(scaredirect(tpp.create_consent()))
        for attempt in range(5):
            browser.log_in(login, "dave", f"wrong-{attempt}")
    browser = sandbox.customer()
    login = browser.open(scaredirect(tpp.create_consent()))
    right = Page(browser.log_in(login, "dave", "sandbox"))
    wrong = Page(browser.log_in(login, "dave", "not-it"))
    assert right.response.status_code == wrong.response.status_code == 403
    assert right.problem == wrong.problem == "Too many failed attempts for this user. Try again in an hour."
    other = Page(browser.log_in(login, "erin", "wrong"))  # other users are not locked
    assert other.problem == "The username or password is not right."
    sandbox.clock.advance(minutes=61)
    later = sandbox.customer()
    created = tpp.create_consent()
    assert "Accounts to share" in later.after(later.log_in(later.open(scaredirect(created)), "dave")).html


def test_a_forged_post_changes_nothing(sandbox, tpp, customer):
    created = tpp.create_consent()
    login = customer.open(scaredirect(created))
    forged = customer.post(login, {"username": "alice", "password": "sandbox", "action": "login"}, csrf="0" * 64)
    assert forged.status_code == 403 and "This page has expired" in forged.text
    stranger = sandbox.customer()  # no cookie of this link, but the right CSRF token copied from the page
    stolen = stranger.post(login, {"username": "alice", "password": "sandbox", "action": "login"})
    assert stolen.status_code == 403 and "opened in another browser" in stolen.text
    assert stranger.open(scaredirect(created)).response.status_code == 403  # the link is this browser's
    assert 'id="username"' in customer.open(scaredirect(created)).html  # still at the login step
    assert tpp.status(created.json()["consentId"]) == "received"


def test_a_replayed_decision_changes_nothing(tpp, customer):
    created = tpp.create_consent()
    page = customer.after(customer.log_in(customer.open(scaredirect(created))))
    ids = page.accounts()
    assert customer.post(page, {"action": "confirm", "account": [ids["Everyday Account"]]}).status_code == 302
    again = customer.post(page, {"action": "confirm", "account": list(ids.values())})
    cancel = customer.post(page, {"action": "cancel"})
    assert again.status_code == cancel.status_code == 409
    consent_id = created.json()["consentId"]
    assert tpp.status(consent_id) == "valid"
    assert len(tpp.call("GET", f"/v1/consents/{consent_id}").json()["access"]["accounts"]) == 1
    assert customer.open(scaredirect(created)).response.status_code == 409  # the link is spent


def test_the_link_expires_and_is_not_the_consent_id(sandbox, tpp, customer):
    created = tpp.create_consent()
    href = scaredirect(created)
    assert created.json()["consentId"] not in href
    sandbox.clock.advance(minutes=31)
    expired = customer.open(href)
    assert expired.response.status_code == 410 and "This link has expired" in expired.html
    unknown = customer.open(href[:-4] + "AAAA")
    assert unknown.response.status_code == 404


def test_a_consent_deleted_during_login_cannot_be_authorised(tpp, customer):
    created = tpp.create_consent()
    page = customer.after(customer.log_in(customer.open(scaredirect(created))))
    assert tpp.call("DELETE", f"/v1/consents/{created.json()['consentId']}").status_code == 204
    late = customer.post(page, {"action": "confirm", "account": list(page.accounts().values())})
    assert late.status_code == 409 and "no longer valid" in late.text
    assert tpp.status(created.json()["consentId"]) == "terminatedByTpp"


def test_pages_speak_the_customers_language(tpp, customer):
    login = customer.open(scaredirect(tpp.create_consent()) + "?lang=de")
    assert 'lang="de"' in login.html and "Benutzername" in login.html


def test_the_external_auth_bank_authorises_like_any_other(sandbox):
    tpp, customer = sandbox.tpp("nordlicht"), sandbox.customer()
    consent_id = granted_consent(tpp, customer)
    assert tpp.status(consent_id) == "valid"


def test_an_authorisation_expiring_by_the_clock_mid_login(sandbox, tpp, customer: Customer):
    created = tpp.create_consent(valid_until=sandbox.clock.now().date())
    page = customer.after(customer.log_in(customer.open(scaredirect(created))))
    sandbox.clock.advance(days=1)
    late = customer.post(page, {"action": "confirm", "account": list(page.accounts().values())})
    assert late.status_code == 409
    assert tpp.status(created.json()["consentId"]) == "expired"
