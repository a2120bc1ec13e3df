"""One validator defines an event: the batch's fast path must answer exactly what the full path
(schema, then IncomingEvent.problems) answers, for any lead, sale or refund, valid or not."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.api_input import read_event

# Ids: usual ones, blank, padded, at and past the 200-character limit, and values of the wrong type.
TEXT = st.one_of(
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12),
    st.sampled_from(["", " ", "  id  ", "x" * 200, "x" * 201, " " + "x" * 199]),
    st.integers(-3, 3),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)
AMOUNTS = st.one_of(
    st.sampled_from(
        [
            "49.99",
            "0",
            "0.00",
            "100",
            "49.999",
            "1.5",
            "-1.00",
            "+1",
            " 1",
            "1E+2",
            "NaN",
            "forty",
            "",
            "0.0001",
            "0.00001",
            "99999999999999",
            "100000000000000",
            "1.",
            ".5",
            "١٢",
        ]
    ),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False).map(str),
    st.floats(allow_nan=True),
    st.integers(-5, 10**15),
    st.none(),
    st.booleans(),
)
CURRENCIES = st.one_of(
    st.sampled_from(["USD", "usd", " eur ", "JPY", "KWD", "XYZ", "US", "USDD", "", "us d"]),
    st.none(),
    st.integers(0, 3),
)
DATES = st.one_of(
    st.sampled_from(
        [
            "2026-01-15T10:30:00Z",
            "2026-01-15T10:30:00.250+01:00",
            "2026-01-15T10:30:00.1234567Z",
            "2026-02-30T10:30:00Z",
            "2026-01-15",
            "2026-01-15 10:30:00",
            "2026-01-15T10:30:00",
            "2026-01-15T24:00:00Z",
            "2026-01-15T10:30:60Z",
            "2026-01-15T10:30:00+25:00",
            "2026-01-15T10:30:00+23:59",
            "2026-01-15t10:30:00z",
            "yesterday",
            "",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.integers(0, 2**31),
    st.none(),
)
EMAILS = st.one_of(st.sampled_from(["a@b.org", "A@B.ORG", "not-an-email", "", "x" * 250 + "@b.org"]), st.none())
PARTNER_IDS = st.one_of(
    st.integers(-2, 5),
    st.sampled_from([2**63 - 1, 2**63, 2**70]),
    st.booleans(),
    st.none(),
    st.sampled_from(["7", 7.0]),
)

FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "lead": {
        "event_id": TEXT,
        "customer_external_id": TEXT,
        "click_id": TEXT,
        "code": TEXT,
        "partner_id": PARTNER_IDS,
        "customer_email": EMAILS,
        "occurred_at": DATES,
    },
    "sale": {
        "event_id": TEXT,
        "customer_external_id": TEXT,
        "amount": AMOUNTS,
        "currency": CURRENCIES,
        "occurred_at": DATES,
        "click_id": TEXT,
        "code": TEXT,
        "customer_email": EMAILS,
    },
    "refund": {
        "event_id": TEXT,
        "sale_event_id": TEXT,
        "amount": AMOUNTS,
        "currency": CURRENCIES,
        "occurred_at": DATES,
    },
}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(FIELDS)))
    fields = FIELDS[kind]
    # Any subset of the fields (missing ones included), sometimes one the type does not have.
    names = draw(st.lists(st.sampled_from(sorted(fields)), unique=True))
    item: dict[str, Any] = {"type": kind, **{name: draw(fields[name]) for name in names}}
    if draw(st.integers(0, 9)) == 0:
        item[draw(st.sampled_from(["amout", "partner_id", "sale_event_id", "amount"]))] = "1.00"
    return item


# Mostly well-formed events, so the fast path is taken often enough to be tested.
def _plain(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    ids = st.text(string.ascii_letters + string.digits, min_size=1, max_size=8)
    money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str)
    currency = st.sampled_from(["USD", "usd", " eur ", "JPY", "KWD"])
    when = st.sampled_from(["2026-01-15T10:30:00Z", "2026-01-15T10:30:00.250+01:00", "2026-07-01T00:00:00-04:00"])
    base: dict[str, st.SearchStrategy[Any]] = {"type": st.just(kind), "event_id": ids}
    if kind == "refund":
        base |= {
            "sale_event_id": ids,
            "amount": st.one_of(st.none(), money),
            "currency": st.one_of(st.none(), currency),
        }
    else:
        base |= {
            "customer_external_id": ids,
            "occurred_at": st.one_of(when, st.none()),
            "click_id": st.one_of(ids, st.none()),
        }
    if kind == "sale":
        base |= {"amount": money, "currency": currency}
    if kind == "lead":
        base |= {"partner_id": st.one_of(st.integers(1, 10**6), PARTNER_IDS)}
    return st.fixed_dictionaries(base)


ANY_EVENT = st.one_of(events(), _plain("sale"), _plain("refund"), _plain("lead"))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_EVENT)
def test_the_fast_path_and_the_full_path_give_the_same_answer(item):
    fast_event, fast_problems = read_event(item, idempotency_key="k", suffix=":0", fast=True)
    full_event, full_problems = read_event(item, idempotency_key="k", suffix=":0", fast=False)
    assert (fast_event is None) == (full_event is None), (item, fast_problems, full_problems)
    if full_event is None:
        assert sorted(fast_problems) == sorted(full_problems), item
        assert fast_problems == full_problems, item  # the same messages too: they come from one place
    else:
        assert fast_event == full_event, item
        assert fast_event.occurred_at == full_event.occurred_at  # equal instants with their own offsets


def test_the_generated_events_take_both_paths():
    # The property above means something only if the fast path accepts many of them and refuses others.
    from attribution.api_input import _fast_event

    seen = {"fast": 0, "schema": 0}

    @settings(max_examples=300, deadline=None)
    @given(ANY_EVENT)
    def count(item):
        seen["fast" if _fast_event(item["type"], item) is not None else "schema"] += 1

    count()
    assert seen["fast"] > 30 and seen["schema"] > 30, seen
