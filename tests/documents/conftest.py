import pytest

from tests.conftest import XAPIClient
from tests.documents.helpers import VERSIONS


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def lrs(credential, version):
    return XAPIClient(credential, version=version)
