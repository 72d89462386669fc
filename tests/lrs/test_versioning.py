"""Communication §3.3 Versioning, as a pure function."""

import pytest

from lrs.versioning import SUPPORTED, VersionError, XAPIVersion, negotiate


@pytest.mark.parametrize("value", ["1.0", "1.0.0", "1.0.1", "1.0.3", "1.0.9", " 1.0.3 "])
def test_accepts_1_0_x_and_answers_latest_patch(value):
    """§3.3.s3.b3/b5: accept "1.0" as 1.0.0 and any version starting "1.0."; §3.3.s3.b2:
    answer with the latest patch version."""
    assert negotiate(value) is XAPIVersion.V1_0
    assert negotiate(value).header == "1.0.3"


@pytest.mark.parametrize("value", ["2.0", "2.0.0", "2.0.1"])
def test_accepts_2_0_x(value):
    """ARCHITECTURE.md §8: 2.0.x clients are served by the 2.0 line."""
    assert negotiate(value) is XAPIVersion.V2_0
    assert negotiate(value).header == "2.0.0"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_rejects_missing_version_header(value):
    """§3.3.s3.b4.1: reject requests without a version header."""
    with pytest.raises(VersionError, match="required"):
        negotiate(value)


@pytest.mark.parametrize("value", ["0.9", "0.95", "0.9.5"])
def test_rejects_versions_before_1_0_0(value):
    """§3.3.s3.b4: reject requests with a version header prior to 1.0.0."""
    with pytest.raises(VersionError, match="not supported"):
        negotiate(value)


@pytest.mark.parametrize("value", ["1.1.0", "1.1", "1.2.0", "2.1.0", "3.0.0"])
def test_rejects_versions_this_lrs_does_not_serve(value):
    """§3.3.s3.b6: reject 1.1.0 or greater in the 1.x line; 2.1+ and 3.x are unknown."""
    with pytest.raises(VersionError):
        negotiate(value)


@pytest.mark.parametrize("value", ["1", "1.0.", "1.0.x", "v1.0.3", "1.0.3-beta", "2.0.0.0"])
def test_rejects_malformed_version_header(value):
    with pytest.raises(VersionError):
        negotiate(value)


def test_about_lists_the_latest_patch_of_each_major():
    """§2.8.s5.b1: About's "version" includes the latest minor and patch per major."""
    assert SUPPORTED == ("1.0.3", "2.0.0")
