"""jsonfile: records shared between processes are replaced whole; damage is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbstudio.jsonfile import DamagedRecord, read_json, write_json


def test_json_records_are_replaced_whole_and_damage_is_named(tmp_path: Path) -> None:
    record = tmp_path / "endpoints" / "spec.json"
    write_json(record, {"name": "wine-api", "key": "secret"}, private=True)
    # rule: a record reads back as written, a private one only by its owner, no temp file left
    assert read_json(record) == {"name": "wine-api", "key": "secret"}
    assert record.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in record.parent.iterdir()] == ["spec.json"]
    # rule: a missing record is None, a damaged one a clear error naming the file
    assert read_json(tmp_path / "nothing.json") is None
    record.write_text("{half")
    with pytest.raises(DamagedRecord, match=r"spec\.json is damaged"):
        read_json(record)
