import pytest

pytestmark = pytest.mark.services

# Fixtures of the postal tests, for the load and fault tests that build items and dossiers.
from tests.postal.conftest import justice, make_dossier, procedure  # noqa: E402, F401
