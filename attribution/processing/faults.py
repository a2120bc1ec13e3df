"""The named seam for injecting faults into a set: tests use it instead of patching the steps.

A set calls `after_step(step, state)` after each of STEPS, in that order, inside its transaction,
whether or not it had work for that step. It does nothing unless a hook is installed with
`inject`, for the duration of a `with` block:

    def fail_on_bad(step: str, state: SetState) -> None:
        if step == "sales_recorded" and any(e.event_id == "bad" for e in state.events):
            raise RuntimeError("boom")

    with faults.inject(fail_on_bad):
        process_events(workspace_id=..., event_ids=...)

A hook that raises makes the set fail there, exactly like an error of the step itself (the set is
rolled back, and its events are retried alone); a hook may also do other work at that moment, such
as another worker's set settling an event the set has not read yet. It is called once per step of
a set, never per event, so the seam costs the hot path nothing measurable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from attribution.processing.state import SetState

STEPS = (
    "programs_loaded",  # the workspace's programs
    "referrals_loaded",  # the referrals of the set's customers (before the hold-back for earlier events)
    "customers_attributed",  # new customers decided, their referrals written
    "leads_recorded",
    "sales_recorded",  # conversions written, commissions gathered (not inserted yet)
    "commissions_inserted",
    "refunds_recorded",
    "finished",  # outcomes marked, waiting events woken, ledger entries posted; the commit is next
)

Hook = Callable[[str, SetState], None]
_hook: Hook | None = None


def after_step(step: str, state: SetState) -> None:
    if _hook is not None:
        _hook(step, state)


@contextmanager
def inject(hook: Hook) -> Iterator[None]:
    """Call `hook(step, state)` after every step of every set processed inside the block (in this process)."""
    global _hook
    previous, _hook = _hook, hook
    try:
        yield
    finally:
        _hook = previous


@contextmanager
def at(step: str, action: Callable[[SetState], None]) -> Iterator[None]:
    """Call `action(state)` after `step` (one of STEPS) of every set processed inside the block."""
    if step not in STEPS:
        raise ValueError(f"{step!r} is not a step of a set; the steps are {', '.join(STEPS)}")

    def hook(name: str, state: SetState) -> None:
        if name == step:
            action(state)

    with inject(hook):
        yield
