"""Region of a phone number, worked out on the gateway so numbers never leave it.

A region is the longest matching prefix from the operator's mapping
(`REGIONS_FILE`, YAML `{"+25420": "Nairobi"}`), else the ISO country code with
phonenumbers' area description where it knows one (`KE Nairobi`), else the country.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import phonenumbers
import yaml
from phonenumbers import PhoneNumberType


class RegionsFileError(ValueError):
    pass


def load_region_prefixes(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RegionsFileError(f"{path}: cannot read regions: {exc}") from exc
    if not isinstance(data, dict):
        raise RegionsFileError(f"{path}: expected a mapping of '+prefix: region name'")
    prefixes = {}
    for prefix, name in data.items():
        prefix = str(prefix)
        digits, label = prefix[1:], str(name).strip()
        if not (prefix.startswith("+") and digits.isascii() and digits.isdigit() and label):
            raise RegionsFileError(f"{path}: {prefix!r}: expected '+digits: region name'")
        prefixes[prefix] = label
    return prefixes


def region_for(e164: str, prefixes: Mapping[str, str]) -> str:
    for length in range(len(e164), 1, -1):
        name = prefixes.get(e164[:length])
        if name is not None:
            return name
    return _phone_region(e164)


@lru_cache(maxsize=4096)
def _phone_region(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    country = phonenumbers.region_code_for_number(number) or "ZZ"
    if phonenumbers.number_type(number) == PhoneNumberType.MOBILE:
        return country  # mobile ranges carry no area; skip the ~100 MiB geocoder data
    from phonenumbers import geocoder  # imported on the first landline only

    area = geocoder.description_for_number(number, "en")
    country_name = geocoder.country_name_for_number(number, "en")
    if area and area != country_name:
        return f"{country} {area}"[:64]
    return country
