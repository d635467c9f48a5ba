"""The shipped bank directory and its search rules, as plain functions."""

from webview_bridge.banks.directory import BankQuery, all_banks, find_banks, fold, get_bank


def test_the_directory_is_big_enough_and_varied():
    banks = all_banks()
    assert len(banks) >= 30
    countries = {c for b in banks for c in b.countries}
    assert {"GB", "DE", "FR", "ES", "IT", "NL", "PL", "AT"} <= countries
    assert any(not b.name.isascii() for b in banks)
    assert len({b.id for b in banks}) == len(banks)
    assert all(len(b.bic) in (8, 11) and b.bic.isalnum() and b.bic[4:6].isalpha() for b in banks)


def test_the_special_sandbox_banks_exist():
    assert get_bank("sandbox").name == "Sandbox Bank"
    assert [b.id for b in all_banks() if b.name.startswith("Sandbox Bank")] == ["sandbox"]
    assert any(b.requires_external_auth for b in all_banks())
    assert any(b.status == "maintenance" for b in all_banks())
    assert any(b.always_fails for b in all_banks())
    assert any(not b.supports_account_details_api for b in all_banks())


def test_search_ignores_case_and_accents_and_matches_bic():
    assert [b.name for b in find_banks(BankQuery(search="CREDIT LUMIERE")).banks] == ["Crédit Lumière"]
    assert [b.name for b in find_banks(BankQuery(search="łąk")).banks] == ["Bank Łąkowy"]
    assert [b.name for b in find_banks(BankQuery(search="lakowy")).banks] == ["Bank Łąkowy"]
    assert [b.id for b in find_banks(BankQuery(search="sndbgb")).banks] == ["sandbox"]
    assert fold("Mühlental") == fold("MUHLENTAL")


def test_filters_sorting_and_paging():
    german = find_banks(BankQuery(countries=("DE",)))
    assert german.total_count >= 4 and all("DE" in b.countries for b in german.banks)
    external = find_banks(BankQuery(features=(("requires_external_auth", True),)))
    assert all(b.requires_external_auth for b in external.banks) and external.total_count >= 1
    by_name = [fold(b.name) for b in find_banks(BankQuery()).banks]
    assert by_name == sorted(by_name)
    by_country = [b.countries[0] for b in find_banks(BankQuery(sort="country")).banks]
    assert by_country == sorted(by_country)
    first, second = find_banks(BankQuery(per_page=15, page=1)), find_banks(BankQuery(per_page=15, page=2))
    assert first.page_count == second.page_count == -(-len(all_banks()) // 15)
    assert not {b.id for b in first.banks} & {b.id for b in second.banks}
    assert find_banks(BankQuery(page=99)).banks == []


def test_logos_are_inline_images_that_need_no_other_origin():
    for bank in all_banks():
        assert bank.logo_uri.startswith("data:image/svg+xml,")
        assert "#" not in bank.logo_uri  # a raw # would end the data URL
