"""Link codes, referral codes and destinations are checked before anything is stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Domain
from referrals.validation import (
    CODE_ALPHABET,
    generate_code,
    normalize_code,
    redirect_parts,
    validate_destination,
)
from tests.accounts.factories import DomainFactory


def test_generated_codes_are_seven_unambiguous_characters():
    code = generate_code()
    assert len(code) == 7
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01ilo")


def test_chosen_code_is_lower_cased():
    assert normalize_code("Spring-Sale") == "spring-sale"


@pytest.mark.parametrize("code", ["ab", "x" * 41])
def test_code_outside_three_to_forty_characters_is_refused(code):
    with pytest.raises(ValidationError, match="3 to 40"):
        normalize_code(code)


@pytest.mark.parametrize("code", ["spring sale", "spring_sale", "früh", "-spring", "spring-", "a/b"])
def test_code_with_other_characters_is_refused(code):
    with pytest.raises(ValidationError):
        normalize_code(code)


@pytest.mark.parametrize("code", ["admin", "API", "portal", "login", "static", "webhooks"])
def test_reserved_words_are_refused(code):
    with pytest.raises(ValidationError, match="reserved"):
        normalize_code(code)


def test_reserved_word_message_names_the_word():
    with pytest.raises(ValidationError) as error:
        normalize_code("Admin")
    assert "“admin” is reserved" in error.value.messages[0]


@pytest.fixture
def verified(workspace):
    DomainFactory(workspace=workspace, domain="shop.example.com")
    return workspace


def test_destination_on_a_verified_domain_is_accepted(verified):
    assert validate_destination(workspace=verified, url="https://shop.example.com/pricing?plan=pro") == (
        "https://shop.example.com/pricing?plan=pro"
    )


def test_destination_on_a_subdomain_of_a_verified_domain_is_accepted(verified):
    assert validate_destination(workspace=verified, url="https://eu.shop.example.com/")


def test_destination_on_the_parent_of_a_verified_domain_is_refused(verified):
    with pytest.raises(ValidationError, match="not one of this workspace's verified domains"):
        validate_destination(workspace=verified, url="https://example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "https://shop.example.com.evil.com/",
        "https://evilshop.example.com/",
        "https://notshop.example.com/",
    ],
)
def test_destination_on_an_unverified_domain_is_refused(verified, url):
    with pytest.raises(ValidationError, match="verified domains"):
        validate_destination(workspace=verified, url=url)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://shop.example.com/file", "data:text/html,hi", "//shop.example.com/"]
)
def test_destination_with_another_scheme_is_refused(verified, url):
    with pytest.raises(ValidationError, match="https://"):
        validate_destination(workspace=verified, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com\\@evil.com/",
        "https://user:pw@shop.example.com/",
        "https://evil.com@shop.example.com/",
        "https://shop.example.com /x",
    ],
)
def test_destination_with_parser_tricks_is_refused(verified, url):
    with pytest.raises(ValidationError):
        validate_destination(workspace=verified, url=url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.com%2f.shop.example.com/", "its domain has characters a browser would not accept"),
        ("https://shop.example.com@evil.com/", "browsers would go to evil.com"),
        (
            "https://shop.example.com.evil.com/x",
            "shop.example.com.evil.com is not one of this workspace's verified domains",
        ),
        ("https://shop.exаmple.com/", "shop.exаmple.com (shop.xn--exmple-4nf.com) is not one of"),
        ("https://1.2.3.4/", "not an IP address"),
    ],
)
def test_destination_a_browser_would_take_elsewhere_is_refused_saying_why(verified, url, reason):
    with pytest.raises(ValidationError) as error:
        validate_destination(workspace=verified, url=url)
    assert reason in error.value.messages[0]


@pytest.mark.parametrize(
    ("url", "cleaned"),
    [
        ("https://SHOP.example.com./x", "https://shop.example.com/x"),
        ("HTTPS://shop.example.com:443/x", "https://shop.example.com/x"),
        ("https://%73hop.example.com/", "https://shop.example.com/"),
        ("https://ｓｈｏｐ.example.com/sale", "https://shop.example.com/sale"),
        ("https://eu.shop.example.com:8443/", "https://eu.shop.example.com:8443/"),
    ],
)
def test_destination_is_kept_as_the_browser_would_read_it(verified, url, cleaned):
    assert validate_destination(workspace=verified, url=url) == cleaned


def test_destination_on_a_domain_still_waiting_for_its_dns_proof_is_refused(workspace):
    DomainFactory(workspace=workspace, domain="shop.example.com", status=Domain.Status.PENDING)
    with pytest.raises(ValidationError, match="Verify a domain"):
        validate_destination(workspace=workspace, url="https://shop.example.com/")


def test_destination_needs_a_verified_domain_first(workspace):
    with pytest.raises(ValidationError, match="Verify a domain"):
        validate_destination(workspace=workspace, url="https://shop.example.com/")


def test_another_workspaces_domain_does_not_count(verified, other_workspace):
    DomainFactory(workspace=other_workspace, domain="globex.example")
    with pytest.raises(ValidationError):
        validate_destination(workspace=verified, url="https://globex.example/")


def test_redirect_target_keeps_the_query_adds_utm_and_puts_tclid_before_the_fragment():
    head, tail = redirect_parts(
        "https://shop.example.com/p?plan=pro&sig=a%2Bb#buy", {"utm_source": "paula", "utm_medium": ""}
    )
    assert head + "CLICK" + tail == "https://shop.example.com/p?plan=pro&sig=a%2Bb&utm_source=paula&tclid=CLICK#buy"


def test_redirect_target_replaces_a_stale_tclid_and_a_utm_value_the_link_sets():
    head, tail = redirect_parts(
        "https://shop.example.com/?tclid=old&utm_source=x&utm_medium=mail", {"utm_source": "paula"}
    )
    assert head + "NEW" + tail == "https://shop.example.com/?utm_medium=mail&utm_source=paula&tclid=NEW"
