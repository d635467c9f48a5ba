"""Customers (PROTOCOL §3): the bank's end users, the grantors of tokens."""

from collections.abc import Callable


def customer_id_for(keyed_hash: Callable[[str], str], bank_id: str, customer_ref: str) -> str:
    """A stable, unguessable id for the customer a bank knows as `customer_ref`.

    Derived rather than stored so every instance, and every login at the same bank, names the
    same customer the same way; keyed so nobody can compute it from the bank's client id.
    """
    return "cus_" + keyed_hash(f"customer:{bank_id}:{customer_ref}")[:32]
