"""Schema-driven fuzzing of /skelext/v1 (schemathesis + hypothesis): no input makes a 5xx.

Runs in .venv only (schemathesis is not part of the Forge-like environment).
People come from a ``FakeDetector`` passed through the documented hook; the
completion model is the tiny one of ``test_api``.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from hosts import FakeDetector, detector_registered
from lib_skelext.api import create_app
from test_api import tiny_model  # noqa: F401  (autouse fixture)

APP = create_app(auth="u:p")


@pytest.fixture(autouse=True)
def fake_dwpose():
    with detector_registered("dwpose", FakeDetector()):
        yield
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(modes=list(schemathesis.GenerationMode))  # valid and invalid bodies


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(headers={"Authorization": "Basic dTpw"}, checks=[not_a_server_error])
