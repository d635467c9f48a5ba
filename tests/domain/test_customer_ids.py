"""Which id a bank app's new customer takes (PROTOCOL §3: customers belong to the bank app that
preloaded them; a preloaded customer is the one a login at the bank gives)."""

import hashlib

from webview_bridge.domain.customers import customer_id_choices, customer_id_for


def keyed(value: str) -> str:
    return hashlib.sha256(b"k" + value.encode()).hexdigest()


def test_the_first_choice_is_the_id_a_login_at_the_bank_gives():
    shared, own = customer_id_choices(keyed, "app_1", "sandbox", "alice")
    assert shared == customer_id_for(keyed, "sandbox", "alice")
    assert own != shared and own.startswith("cus_") and len(own) == len(shared)


def test_the_second_choice_is_each_apps_own():
    _, first = customer_id_choices(keyed, "app_1", "sandbox", "alice")
    _, second = customer_id_choices(keyed, "app_2", "sandbox", "alice")
    assert first != second
    assert customer_id_choices(keyed, "app_1", "sandbox", "bob")[1] != first


def test_an_app_without_a_bank_names_its_customers_by_itself():
    shared, own = customer_id_choices(keyed, "app_1", None, "alice")
    assert shared == customer_id_for(keyed, "app_1", "alice") and own != shared
