"""YAML reading and writing that keeps codes such as ``0108`` or ``08`` as strings.

Category codes have leading zeros. Plain YAML turns an unquoted ``0107`` into the octal
number 71 (YAML 1.1) or 107 (YAML 1.2), so a code written without quotes is silently
corrupted. The loader here keeps every digit string with a leading zero as a string, and
the dumper always quotes digit strings, so files we write read back the same anywhere.
"""

import re
from typing import IO, Any

import yaml

_LEADING_ZERO = re.compile(r"^0[0-9_]+$")


class CodeSafeLoader(yaml.SafeLoader):
    """SafeLoader that does not read leading-zero digit strings as (octal) integers."""


def _construct_int_or_code(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    value = loader.construct_scalar(node)
    if isinstance(value, str) and _LEADING_ZERO.match(value):
        return value
    return yaml.SafeLoader.construct_yaml_int(loader, node)


CodeSafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int_or_code)


class QuotingDumper(yaml.SafeDumper):
    """SafeDumper that quotes digit strings and writes no anchors/aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if data.isdigit():
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return dumper.represent_str(data)


QuotingDumper.add_representer(str, _represent_str)


def load_yaml(stream: IO[str] | IO[bytes] | str) -> Any:
    return yaml.load(stream, Loader=CodeSafeLoader)  # noqa: S506 - CodeSafeLoader is a SafeLoader


def dump_yaml(data: Any, stream: IO[str] | None = None) -> str | None:
    return yaml.dump(data, stream, Dumper=QuotingDumper, allow_unicode=True, sort_keys=False, width=120)
