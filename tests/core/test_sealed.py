from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.sealed import SealBroken, seal, unseal


def test_a_sealed_text_opens_to_the_same_text_and_does_not_show_it():
    token = seal("DE89370400440532013000")
    assert "DE89" not in token
    assert unseal(token) == "DE89370400440532013000"


def test_a_new_key_listed_first_still_opens_what_the_old_key_sealed(settings):
    old = seal("acct_1234567890")
    settings.PAYOUT_DETAILS_KEY = f"{Fernet.generate_key().decode()},{settings.PAYOUT_DETAILS_KEY}"
    assert unseal(old) == "acct_1234567890"


def test_a_value_sealed_with_another_key_is_refused_loudly(settings):
    token = seal("secret")
    settings.PAYOUT_DETAILS_KEY = Fernet.generate_key().decode()
    with pytest.raises(SealBroken):
        unseal(token)
