"""The bank directory file (PROTOCOL §4): strict, whole, and never half-working."""

from __future__ import annotations

import json

import pytest

from tests.support.certs import ThrowawayCA
from webview_bridge.banks.directory import BankQuery, DirectoryError, fold, load_directory

DIRECTORY = load_directory()


def write(tmp_path, banks, **top):
    path = tmp_path / "banks.json"
    path.write_text(json.dumps({**top, "banks": banks}))
    return path


def bank(**changes):
    return {"id": "hausbank", "name": "Hausbank eG", "bic": "GENODEF1HB1", "countries": ["DE"],
            "supports_balance": True, "connector": {"type": "xs2a", "base_url": "https://xs2a.hausbank.example/psd2"},
            **changes}


def test_the_shipped_sandbox_directory_meets_the_protocol():
    directory = load_directory()
    banks = directory.banks
    assert len(banks) >= 30 and len({c for b in banks for c in b.countries}) >= 8
    assert {"GB", "DE", "FR", "ES", "IT", "NL", "PL", "AT"} <= {c for b in banks for c in b.countries}
    assert directory.get("sandbox").name == "Sandbox Bank"
    assert [b.id for b in banks if b.name.startswith("Sandbox Bank")] == ["sandbox"]
    assert any(b.requires_external_auth for b in banks) and any(b.status == "maintenance" for b in banks)
    assert any(not b.supports_account_details_api for b in banks)
    assert any(b.name != b.name.encode("ascii", "ignore").decode() for b in banks)  # accented names, as real banks have
    assert all(directory.connector_settings(b.id).type == "sandbox" for b in banks)
    assert len({b.id for b in banks}) == len(banks)
    assert all(len(b.bic) in (8, 11) and b.bic.isalnum() and b.bic[4:6].isalpha() for b in banks)


def test_search_ignores_case_and_accents_and_matches_bic():
    assert [b.name for b in DIRECTORY.find(BankQuery(search="CREDIT LUMIERE")).banks] == ["Crédit Lumière"]
    assert [b.name for b in DIRECTORY.find(BankQuery(search="łąk")).banks] == ["Bank Łąkowy"]
    assert [b.name for b in DIRECTORY.find(BankQuery(search="lakowy")).banks] == ["Bank Łąkowy"]
    assert [b.id for b in DIRECTORY.find(BankQuery(search="sndbgb")).banks] == ["sandbox"]
    assert fold("Mühlental") == fold("MUHLENTAL")


def test_filters_sorting_and_paging():
    german = DIRECTORY.find(BankQuery(countries=("DE",)))
    assert german.total_count >= 4 and all("DE" in b.countries for b in german.banks)
    external = DIRECTORY.find(BankQuery(features=(("requires_external_auth", True),)))
    assert all(b.requires_external_auth for b in external.banks) and external.total_count >= 1
    by_name = [fold(b.name) for b in DIRECTORY.find(BankQuery()).banks]
    assert by_name == sorted(by_name)
    by_country = [b.countries[0] for b in DIRECTORY.find(BankQuery(sort="country")).banks]
    assert by_country == sorted(by_country)
    first, second = DIRECTORY.find(BankQuery(per_page=15, page=1)), DIRECTORY.find(BankQuery(per_page=15, page=2))
    assert first.page_count == second.page_count == -(-len(DIRECTORY.banks) // 15)
    assert not {b.id for b in first.banks} & {b.id for b in second.banks}
    assert DIRECTORY.find(BankQuery(page=99)).banks == []


def test_logos_are_inline_images_that_need_no_other_origin():
    for bank in DIRECTORY.banks:
        assert bank.logo_uri.startswith("data:image/svg+xml,")
        assert "#" not in bank.logo_uri  # a raw # would end the data URL


def test_a_file_replaces_the_sandbox_banks_or_extends_them(tmp_path):
    alone = load_directory(write(tmp_path, [bank()]))
    assert [b.id for b in alone.banks] == ["hausbank"]
    hausbank = alone.get("hausbank")
    assert hausbank.supports_balance and not hausbank.supports_standing_order and hausbank.status == "available"
    assert alone.connector_settings("hausbank").base_url == "https://xs2a.hausbank.example/psd2"
    assert alone.connector_settings("hausbank").frequency_per_day == 4
    both = load_directory(write(tmp_path, [bank()], include_sandbox=True))
    assert both.get("hausbank") and both.get("sandbox") and len(both.banks) == len(load_directory().banks) + 1
    assert both.find(BankQuery(search="hausbank")).banks == [hausbank]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"name": ""}, "bank 'hausbank': banks[0].name"),
    ({"countries": ["Germany"]}, "bank 'hausbank': banks[0].countries"),
    ({"status": "closed"}, "bank 'hausbank': banks[0].status"),
    ({"supports_balance": "yes"}, "bank 'hausbank': banks[0].supports_balance"),
    ({"website": "https://x"}, "bank 'hausbank': banks[0].website: unknown field"),
    ({"connector": {"type": "fints", "base_url": "https://x.example"}}, "banks[0].connector.type"),
    ({"connector": {"type": "xs2a"}}, "banks[0].connector: base_url is required"),
    ({"connector": {"type": "xs2a", "base_url": "http://bank.example"}}, "banks[0].connector.base_url: must be an https URL"),
    ({"connector": {"type": "xs2a", "base_url": "https://x.example", "timeout": 5}}, "banks[0].connector.timeout: unknown field"),
    ({"connector": {"type": "xs2a", "base_url": "https://x.example", "client_cert": "qwac.pem"}},
     "client_cert and client_key go together"),
    ({"connector": {"type": "xs2a", "base_url": "https://x.example", "client_cert": "missing.pem", "client_key": "k.pem"}},
     "bank 'hausbank': banks[0].connector.client_cert: cannot read"),
])
def test_a_bad_file_names_the_bank_and_the_field(tmp_path, changes, expected):
    with pytest.raises(DirectoryError) as refused:
        load_directory(write(tmp_path, [bank(**changes)]))
    assert expected in str(refused.value) and "\n" not in str(refused.value)


def test_two_banks_with_one_id_and_a_sandbox_id_clash_are_refused(tmp_path):
    with pytest.raises(DirectoryError, match=r"banks\[1\]\.id"):
        load_directory(write(tmp_path, [bank(), bank(name="Twin")]))
    with pytest.raises(DirectoryError, match="bank 'sandbox'"):
        load_directory(write(tmp_path, [bank(id="sandbox")], include_sandbox=True))
    with pytest.raises(DirectoryError, match="not valid JSON"):
        (tmp_path / "broken.json").write_text("{")
        load_directory(tmp_path / "broken.json")


def test_certificates_must_be_readable_pem_and_match_their_keys(tmp_path):
    ca = ThrowawayCA(tmp_path)
    qwac, other = ca.issue("Our TPP"), ca.issue("Someone else")
    good = {"type": "xs2a", "base_url": "https://x.example", "client_cert": qwac.cert.name,
            "client_key": qwac.key.name, "ca_bundle": ca.issued.cert.name}
    loaded = load_directory(write(tmp_path, [bank(connector=good)]))
    assert loaded.connector_settings("hausbank").client_cert == qwac.cert  # relative to the file's folder
    mismatched = {**good, "client_key": other.key.name}
    with pytest.raises(DirectoryError, match=r"banks\[0\]\.connector\.client_key: does not match client_cert"):
        load_directory(write(tmp_path, [bank(connector=mismatched)]))
    (tmp_path / "not-pem.pem").write_text("hello")
    with pytest.raises(DirectoryError, match=r"connector\.ca_bundle: .* is not a PEM certificate"):
        load_directory(write(tmp_path, [bank(connector={**good, "ca_bundle": "not-pem.pem"})]))
    signing = {**good, "signing": {"key": other.key.name, "cert": qwac.cert.name}}
    with pytest.raises(DirectoryError, match=r"connector\.signing\.key: does not match signing\.cert"):
        load_directory(write(tmp_path, [bank(connector=signing)]))


def test_connector_settings_never_reach_a_bank_object(tmp_path):
    loaded = load_directory(write(tmp_path, [bank()]))
    assert "xs2a.hausbank" not in repr(loaded.get("hausbank"))


def test_every_monogram_in_the_directory_is_readable(tmp_path):
    from webview_bridge.domain.customizations import contrast_ratio

    for listed in load_directory().banks:
        assert contrast_ratio(listed.monogram_text, listed.colour) >= 4.5, listed.id
    assert load_directory(write(tmp_path, [bank(colour="#f5d90a")])).get("hausbank").monogram_text == "#161a1f"
    with pytest.raises(DirectoryError, match=r"banks\[0\]\.colour: a monogram on #777777 cannot reach 4.5:1"):
        load_directory(write(tmp_path, [bank(colour="#777777")]))
