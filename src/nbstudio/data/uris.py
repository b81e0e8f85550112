"""Read what a user writes to name data: ``wine``, ``wine@3``, ``azureml:wine:3``, a datastore path.

Forms understood (the Azure ML ones, so that code moves between the two unchanged):

====================================================  ===========================================
``wine`` / ``wine@latest`` / ``azureml:wine@latest``  the latest (not archived) version of ``wine``
``wine@3`` / ``wine:3`` / ``azureml:wine:3``          version 3
``azureml://datastores/D/paths/x/y.csv``              a path inside datastore ``D``
``azureml://subscriptions/../workspaces/W/datastores/D/paths/x``   the same, long form
``azureml://locations/../workspaces/W/data/wine/versions/3``       version 3 of ``wine``
``s3://bucket/key``, ``file:///abs``, ``/abs``, ``./rel``           a plain URL or local path
====================================================  ===========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbstudio.data.errors import DataError

LATEST = "latest"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_VERSION = re.compile(r"^(?:latest|[1-9][0-9]{0,8})$")
_DATASTORE_PATH = re.compile(r"(?:^|/)datastores/(?P<store>[^/]+)/paths(?:/(?P<path>.*))?$")
_ASSET_PATH = re.compile(r"(?:^|/)data/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class AssetRef:
    """A registered asset: ``name`` and a version number or ``latest``."""

    name: str
    version: str = LATEST

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class DatastorePath:
    """A path inside a named datastore (``azureml://datastores/D/paths/P``)."""

    datastore: str
    path: str

    def __str__(self) -> str:
        return f"azureml://datastores/{self.datastore}/paths/{self.path}"


@dataclass(frozen=True)
class Location:
    """A plain fsspec URL (``s3://b/k``, ``file:///x``) or a local path."""

    url: str

    @property
    def is_local(self) -> bool:
        return not _URL.match(self.url) or self.url.startswith("file://")

    def __str__(self) -> str:
        return self.url


Reference = AssetRef | DatastorePath | Location


def check_name(name: str) -> str:
    """Asset names become tags, URL segments and file names: letters, digits, - _ and ."""
    if not _NAME.match(name or ""):
        raise DataError(
            f"{name!r} is not a valid data asset name: start with a letter or digit, then "
            "letters, digits, '-', '_' or '.', e.g. wine-quality."
        )
    return name


def _asset(name: str, version: str, text: str) -> AssetRef:
    check_name(name)
    if not _VERSION.match(version):
        raise DataError(
            f"{text!r}: {version!r} is not a version; use a number (wine@3) or latest "
            "(wine@latest)."
        )
    return AssetRef(name, version)


def parse(text: str) -> Reference:
    """What ``text`` names, or a one-line `DataError` saying how to write it."""
    text = (text or "").strip()
    if not text:
        raise DataError("No data named: give NAME[@VERSION], azureml:NAME:VERSION or a path/URI.")
    if text.startswith("azureml://"):
        rest = text[len("azureml://") :]
        if m := _DATASTORE_PATH.search(rest):
            path = (m.group("path") or "").strip("/")
            return DatastorePath(m.group("store"), path)
        if m := _ASSET_PATH.search(rest):
            return _asset(m.group("name"), m.group("version"), text)
        raise DataError(
            f"{text!r} is not an azureml:// URI nbstudio knows: use "
            "azureml://datastores/NAME/paths/PATH or azureml://.../data/NAME/versions/V."
        )
    if text.startswith("azureml:"):
        rest = text[len("azureml:") :]
        if "@" in rest:
            name, version = rest.split("@", 1)
        elif ":" in rest:
            name, version = rest.split(":", 1)
        else:
            name, version = rest, LATEST
        return _asset(name, version, text)
    if _URL.match(text):
        return Location(text)
    if "/" in text or "\\" in text or text.startswith(".") or text.startswith("~"):
        return Location(text)
    if "@" in text:
        name, version = text.split("@", 1)
        return _asset(name, version, text)
    if ":" in text:
        name, version = text.split(":", 1)
        return _asset(name, version, text)
    return _asset(text, LATEST, text)
