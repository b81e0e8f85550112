"""What an input value is, for a cache key: by content, never by pickled bytes or ``id()``.

Literals count by a canonical repr (sets sorted, so ``PYTHONHASHSEED`` never changes a key);
DataFrames and Series by pandas' ``hash_pandas_object`` plus their columns and dtypes; numpy arrays
by their bytes; a string or path naming an existing file or folder by its content digest; a data
asset ``name@version`` by that version's digest (see nbstudio.data). Anything else raises
`Unfingerprintable` (cloudpickle bytes differ between processes: Prefect #12229).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from nbstudio.pipelines.code_fingerprint import Unfingerprintable, sha

#: Deeper nesting is refused, never hashed to a constant (Hamilton #1715).
MAX_DEPTH = 50
#: Longer reprs are kept as their sha256 in the recipe.
MAX_REPR = 200
_PRIMITIVES = (type(None), bool, int, float, complex, str, bytes)


def _canonical(value: Any, depth: int) -> str:
    """A repr that is the same in every process, or `Unfingerprintable`."""
    if depth > MAX_DEPTH:
        raise Unfingerprintable(f"a value nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, _PRIMITIVES):
        return repr(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(_canonical(v, depth + 1) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner},)"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_canonical(v, depth + 1) for v in value)) + "}"
    if isinstance(value, dict):
        items = sorted(
            (_canonical(k, depth + 1), _canonical(v, depth + 1)) for k, v in value.items()
        )
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    raise Unfingerprintable(f"{type(value).__name__} values cannot be fingerprinted")


def _literal(value: Any) -> dict[str, Any]:
    text = _canonical(value, 0)
    if len(text) > MAX_REPR:
        return {"kind": "literal", "sha256": sha(text)}
    return {"kind": "literal", "repr": text}


def _frame_digest(value: Any) -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    if isinstance(value, pd.DataFrame):
        h.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
    else:
        h.update(f"{value.name!r}:{value.dtype}".encode())
    return h.hexdigest()


def _path_digest(path: Path) -> str:
    from nbstudio.data.digest import local_manifest
    from nbstudio.data.errors import DataError

    try:
        return local_manifest(path).digest
    except DataError as exc:  # an empty folder, a file written right now, ...
        raise Unfingerprintable(str(exc)) from None


def _asset(text: str) -> dict[str, Any] | None:
    """``name@version`` (or ``azureml:...``) of a registered data asset, else None."""
    from nbstudio.data.assets import lookup

    found = lookup(text)
    if found is None:
        return None
    return {"kind": "data-asset", "ref": found.reference, "digest": found.digest}


def describe(value: Any) -> dict[str, Any]:
    """The fingerprint of one value (JSON-able); raises `Unfingerprintable`."""
    import sys

    if isinstance(value, str) and len(value) < 4096:
        asset = _asset(value)
        if asset is not None:
            return asset
        if value and "\n" not in value and Path(value).exists():
            return {"kind": "path", "path": value, "digest": _path_digest(Path(value))}
    if isinstance(value, Path):
        if not value.exists():
            return {"kind": "path", "path": str(value), "digest": None}
        return {"kind": "path", "path": str(value), "digest": _path_digest(value)}
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame | pandas.Series):
        try:
            digest = _frame_digest(value)
        except TypeError as exc:  # unhashable cells (lists, dicts)
            raise Unfingerprintable(
                f"a {type(value).__name__} with unhashable cells: {exc}"
            ) from None
        return {"kind": type(value).__name__.lower(), "shape": list(value.shape), "digest": digest}
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        if value.dtype.hasobject:
            raise Unfingerprintable("a numpy array of Python objects")
        h = hashlib.sha256(f"{value.dtype.str}:{value.shape}".encode())
        h.update(numpy.ascontiguousarray(value).tobytes())
        return {"kind": "ndarray", "shape": list(value.shape), "digest": h.hexdigest()}
    if numpy is not None and isinstance(value, numpy.generic):
        return _literal(value.item())
    digest = getattr(value, "digest", None)
    if type(value).__name__ == "DataAsset" and isinstance(digest, str):
        return {"kind": "data-asset", "ref": value.reference, "digest": digest}
    return _literal(value)
