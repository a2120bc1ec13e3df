"""The attribution app's models, one submodule per area; every name is re-exported here.

Django finds the models by importing this package; the integrations' models (in
attribution/integrations/models.py) are star-imported at the end, as before.
"""

from __future__ import annotations

# isort: off
# In the order the models were declared in the one module this package replaces, so Django
# registers them (and creates their content types and permissions) in the same order.
from attribution.models.options import DERIVED_KEY as DERIVED_KEY
from attribution.models.options import MONEY as MONEY
from attribution.models.options import DerivedKeyOptions as DerivedKeyOptions
from attribution.models.options import MoneyOptions as MoneyOptions
from attribution.models.ledger import LedgerEntry as LedgerEntry
from attribution.models.rules import RewardRule as RewardRule
from attribution.models.rules import ExchangeRate as ExchangeRate
from attribution.models.events import InboundEvent as InboundEvent
from attribution.models.conversions import Conversion as Conversion
from attribution.models.conversions import ConversionDay as ConversionDay
from attribution.models.commissions import Commission as Commission
from attribution.models.commissions import CommissionReversal as CommissionReversal
from attribution.models.fraud import FraudSettings as FraudSettings
from attribution.models.fraud import PartnerFlag as PartnerFlag
from attribution.models.fraud import PartnerVisit as PartnerVisit
from attribution.models.fraud import ReviewReply as ReviewReply

# isort: on

from attribution.integrations.models import *  # noqa: E402,F401,F403 - the integrations keep their models in their own module
