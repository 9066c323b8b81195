import pytest

pytestmark = pytest.mark.services
