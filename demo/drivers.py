"""The demo eMSP: a party with a few drivers' tokens in our token cache.

There is no eMSP platform behind it: it lets `simulate_session` and `simulate_chargers` charge
on the demo estate at once (README, Partners). Its whitelists let us decide from the cache
(mod_tokens, WhitelistType), so no eMSP is asked; sessions of its tokens are recorded and
priced but pushed to no one, as no registered partner hosts the party.
"""

from typing import Any

COUNTRY_CODE = "DE"
PARTY_ID = "DMO"
ISSUER = "Demo eMSP"

# (uid, type, whitelist, visual number): the first is the one the README's examples use.
TOKENS = (
    ("012345678", "RFID", "ALWAYS", "DE-DMO-0001"),
    ("012345679", "RFID", "ALLOWED", "DE-DMO-0002"),
    ("DEMO-APP-0001", "APP_USER", "ALLOWED", ""),
)


def token_payloads(stamp: str) -> list[dict[str, Any]]:
    """The demo tokens as Token objects (TokenSerializer input), valid, stamped `stamp`."""
    return [
        {
            "country_code": COUNTRY_CODE,
            "party_id": PARTY_ID,
            "uid": uid,
            "type": token_type,
            "contract_id": f"{COUNTRY_CODE}-{PARTY_ID}-C{number:08d}",
            **({"visual_number": visual} if visual else {}),
            "issuer": ISSUER,
            "valid": True,
            "whitelist": whitelist,
            "language": "en",
            "last_updated": stamp,
        }
        for number, (uid, token_type, whitelist, visual) in enumerate(TOKENS, start=1)
    ]
