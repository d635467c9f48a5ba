import pytest

pytestmark = pytest.mark.databases("sqlite")  # the directory is shipped data, not storage


def test_banks_needs_no_credentials_and_pages(http):
    answer = http.get("/banks")
    assert answer.status_code == 200
    body = answer.json()
    assert body["paging"] == {"page": 1, "per_page": 200, "page_count": 1, "total_count": len(body["banks"])}
    sandbox = next(b for b in body["banks"] if b["id"] == "sandbox")
    assert sandbox["name"] == "Sandbox Bank" and sandbox["status"] == "available"
    assert set(sandbox) >= {"id", "name", "bic", "countries", "logo_uri", "status", "supports_information",
                            "supports_account_details_api", "supports_balance", "supports_transactions_date_filter",
                            "supports_standing_order", "supports_funds_confirmation", "requires_external_auth"}


def test_banks_query(http):
    found = http.get("/banks", params={"search": "credit lumiere", "countries": "FR,BE"}).json()["banks"]
    assert [b["name"] for b in found] == ["Crédit Lumière"]
    ids = http.get("/banks", params={"ids": "sandbox,polderbank", "supports_account_details_api": "false"}).json()
    assert [b["id"] for b in ids["banks"]] == ["polderbank"]
    paged = http.get("/banks", params={"per_page": 10, "page": 2, "sort": "country"}).json()
    assert paged["paging"]["page"] == 2 and len(paged["banks"]) == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"), ({"per_page": 201}, "per_page"), ({"per_page": "ten"}, "per_page"),
        ({"sort": "bic"}, "sort"), ({"countries": "Germany"}, "countries"), ({"supports_balance": "maybe"}, "supports_balance"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_bank_queries_are_400_naming_the_field(http, params, field):
    answer = http.get("/banks", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
