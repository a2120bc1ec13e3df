"""`/r/<code>`: a 302 to the destination with a click id, the click buffered and flushed to PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from referrals import services
from referrals.clicks import buffer, entries, flusher, hashing, recording
from referrals.clicks.flusher import flush_clicks
from referrals.clicks.ids import new_click_id
from referrals.models import Click
from tests.referrals.factories import LinkFactory

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
)


@pytest.fixture
def link(workspace, partner):
    return LinkFactory(
        workspace=workspace,
        partner=partner,
        code="paula",
        destination_url="https://shop.example.com/pricing?plan=pro",
        utm_source="partner",
    )


def visit(client, code, ip="203.0.113.7", agent=BROWSER, **extra):
    return client.get(f"/r/{code}", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent, **extra)


def test_redirect_is_a_302_to_the_destination_with_a_click_id(client, link):
    response = visit(client, "paula")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com", "/pricing")
    query = parse_qs(location.query)
    assert query["plan"] == ["pro"]
    assert query["utm_source"] == ["partner"]
    assert len(query["tclid"][0]) == 20


def test_the_redirect_sets_no_cookie_and_keeps_the_security_headers(client, link):
    # It is answered ahead of the session and CSRF middleware, but still after SecurityMiddleware.
    client.cookies["sessionid"] = "whatever"
    response = visit(client, "paula")
    assert response.status_code == 302
    assert not response.cookies
    assert "Vary" not in response
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_destination_with_non_ascii_characters_is_sent_percent_encoded(client, workspace, partner):
    LinkFactory(
        workspace=workspace, partner=partner, code="umlaut", destination_url="https://shop.example.com/größe?farbe=grün"
    )
    location = visit(client, "umlaut")["Location"]
    assert location.startswith("https://shop.example.com/gr%C3%B6%C3%9Fe?farbe=gr%C3%BCn&tclid=")


def test_a_code_followed_by_a_slash_is_not_a_short_link(client, link):
    assert visit(client, "paula/").status_code == 404


def test_each_visit_gets_its_own_click_id(client, link):
    first, second = visit(client, "paula"), visit(client, "paula")
    assert first["Location"] != second["Location"]


def test_redirect_is_not_cacheable(client, link):
    assert "no-store" in visit(client, "paula")["Cache-Control"]


def test_code_in_the_url_is_case_insensitive(client, link):
    assert visit(client, "PAULA").status_code == 302


def test_unknown_code_is_a_404_page_not_a_redirect(client, db):
    response = visit(client, "nobody-here")
    assert response.status_code == 404
    assert "Location" not in response
    assert b"Page not found" in response.content


def test_archived_link_is_a_404(client, link, manager):
    visit(client, "paula")  # cached before archiving
    services.archive_link(link=link, by=manager)
    assert visit(client, "paula").status_code == 404


def test_a_link_made_after_its_code_was_looked_up_works_at_once(client, workspace, partner, domain):
    assert visit(client, "later").status_code == 404
    services.create_link(
        workspace=workspace, partner=partner, destination_url="https://shop.example.com/", code="later"
    )
    assert visit(client, "later").status_code == 302


def test_changing_the_destination_takes_effect_at_once(client, link, manager, domain):
    visit(client, "paula")
    services.update_link(
        link=link, destination_url="https://shop.example.com/new", channel="", campaign="", utm={}, by=manager
    )
    assert urlsplit(visit(client, "paula")["Location"]).path == "/new"


def test_a_cached_link_redirects_without_touching_postgresql(client, link):
    visit(client, "paula")
    with CaptureQueriesContext(connection) as queries:
        assert visit(client, "paula").status_code == 302
    assert len(queries) == 0


def test_click_is_stored_after_the_flush(client, link):
    response = visit(client, "paula", HTTP_REFERER="https://blog.example.net/post")
    tclid = parse_qs(urlsplit(response["Location"]).query)["tclid"][0]
    assert not Click.objects.exists()  # buffered, not written by the request

    result = flush_clicks()

    assert result.stored == 1
    click = Click.objects.get()
    assert click.click_id == tclid
    assert (click.link, click.partner, click.workspace) == (link, link.partner, link.workspace)
    assert click.referrer == "https://blog.example.net/post"
    assert click.user_agent == BROWSER
    assert (click.is_bot, click.is_unique, click.earns_credit) == (False, True, True)


def test_the_raw_ip_address_is_stored_nowhere(client, link):
    visit(client, "paula", ip="198.51.100.23")
    buffered = buffer.client().xrange(buffer.stream_key())
    assert "198.51.100.23" not in repr(buffered)

    flush_clicks()

    click = Click.objects.get()
    assert len(click.ip_hash) == 64 and "198.51.100.23" not in repr(Click.objects.values().get())


def test_same_ip_hashes_alike_on_one_day_and_differently_on_the_next():
    from datetime import date

    today, tomorrow = date(2026, 3, 1), date(2026, 3, 2)
    assert hashing.ip_hash("198.51.100.23", today) == hashing.ip_hash("198.51.100.23", today)
    assert hashing.ip_hash("198.51.100.23", today) != hashing.ip_hash("198.51.100.23", tomorrow)


def test_the_visitor_ip_comes_from_the_trusted_proxy_when_configured(settings):
    settings.CLICK_TRUSTED_PROXIES = 1
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.23"}
    assert hashing.client_ip(meta) == "198.51.100.23"


def test_bots_are_stored_but_flagged(client, link):
    visit(client, "paula", agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    visit(client, "paula", agent="")
    flush_clicks()
    assert list(Click.objects.values_list("is_bot", "is_unique", flat=False)) == [(True, False), (True, False)]


def test_a_suspended_partners_link_still_redirects_and_its_clicks_earn_nothing(client, link, partner):
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.SUSPENDED)
    assert visit(client, "paula").status_code == 302
    flush_clicks()
    assert Click.objects.get().earns_credit is False


def test_head_requests_redirect_without_counting_a_click(client, link):
    response = client.head("/r/paula")
    assert response.status_code == 302
    flush_clicks()
    assert not Click.objects.exists()


def test_post_is_not_allowed(client, link):
    assert client.post("/r/paula").status_code == 405


def test_five_hundred_visits_become_five_hundred_clicks(client, link):
    for n in range(500):
        assert visit(client, "paula", ip=f"198.51.{n // 250}.{n % 250}").status_code == 302
    result = flush_clicks(batch_size=128)
    assert (result.read, result.stored) == (500, 500)
    assert Click.objects.count() == 500
    assert flusher.buffered_count() == 0


def test_the_flushed_stream_is_trimmed(client, link):
    for _ in range(5):
        visit(client, "paula")
    flush_clicks()
    assert buffer.client().xlen(buffer.stream_key()) == 0


def test_clicks_of_a_link_deleted_before_the_flush_are_skipped(client, link):
    visit(client, "paula")
    link.delete()
    result = flush_clicks()
    assert (result.stored, result.skipped) == (0, 1)
    assert flusher.buffered_count() == 0


def test_without_redis_the_visitor_is_still_redirected_and_the_click_written_directly(client, link, monkeypatch):
    import redis

    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(recording, "resolve_and_record", down)
    response = visit(client, "paula")
    assert response.status_code == 302
    tclid = parse_qs(urlsplit(response["Location"]).query)["tclid"][0]
    assert Click.objects.get().click_id == tclid


def test_a_code_with_characters_no_code_has_is_a_404_without_a_lookup(client, db):
    with CaptureQueriesContext(connection) as queries:
        assert visit(client, "no%20such%20code").status_code == 404
        assert visit(client, "x" * 41).status_code == 404
    assert len(queries) == 0


def test_click_ids_sort_by_the_time_of_the_click_and_are_never_the_same():
    # Stored in time order, new ids are appended to click_id_unique instead of landing all over it.
    ids = [new_click_id(at) for at in (1_767_268_800.0, 1_767_268_800.0, 1_767_268_800.001, 4_102_444_800.0)]
    assert ids[0] != ids[1] and ids[0][:9] == ids[1][:9]
    assert ids[1][:9] < ids[2][:9] < ids[3][:9]
    assert all(len(click_id) == 20 and entries._PLAIN_KEYS.fullmatch(f"{click_id} ab ab") for click_id in ids)
