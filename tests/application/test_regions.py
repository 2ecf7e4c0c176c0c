from __future__ import annotations

from pathlib import Path

import pytest

from gateway.application.regions import RegionsFileError, load_region_prefixes, region_for


def test_country_and_area_from_phonenumbers() -> None:
    assert region_for("+254712345678", {}) == "KE"
    assert region_for("+254202345678", {}) == "KE Nairobi"


def test_longest_configured_prefix_wins(tmp_path: Path) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text('"+2547": Kenya mobile\n"+25471": Safaricom west\n', encoding="utf-8")
    prefixes = load_region_prefixes(path)
    assert region_for("+254712345678", prefixes) == "Safaricom west"
    assert region_for("+254722345678", prefixes) == "Kenya mobile"
    assert region_for("+14155550123", prefixes).startswith("US")


@pytest.mark.parametrize("content", ["- a list", "'254': Nairobi", "'+25420': ''", "{: x"])
def test_bad_regions_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegionsFileError, match=str(path)):
        load_region_prefixes(path)


def test_mobile_numbers_do_not_load_the_geocoder() -> None:
    """The geocoder's data costs about 100 MiB per web worker; mobiles never need it."""
    import subprocess
    import sys

    code = (
        "import sys; from gateway.application.regions import region_for;"
        "assert region_for('+254712345678', {}) == 'KE';"
        "assert 'phonenumbers.geocoder' not in sys.modules;"
        "assert region_for('+254202345678', {}) == 'KE Nairobi'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
