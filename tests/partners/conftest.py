"""Fixtures of the partners tests, on top of the personas in tests/conftest.py."""

from __future__ import annotations

import pytest

from partners.services import ensure_default_program
from tests.partners.factories import PartnerFactory


@pytest.fixture
def program(workspace):
    """`workspace`'s Default program."""
    return ensure_default_program(workspace=workspace)


@pytest.fixture
def partner(workspace, program):
    return PartnerFactory(workspace=workspace, program=program, name="Brightside Media", email="paula@brightside.test")
