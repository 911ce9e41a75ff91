"""The one JSON encoder: the same document whichever shell writes it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from noxfx.jsonable import dumps, dumps_pretty, to_jsonable


@dataclass
class _Row:
    when: pd.Timestamp
    value: float


def test_every_shell_writes_the_same_document() -> None:
    from noxfx.ml._json import dumps as ml_dumps
    from noxfx.service.services.serialize import dumps as api_dumps

    doc = {"t": pd.Timestamp("2020-12-29 09:00", tz="UTC"), "nat": pd.NaT, "nan": float("nan"),
           "inf": np.float64("inf"), "n": np.int64(3), "a": np.array([1.5, np.nan]),
           "id": uuid.UUID(int=1), "p": Path("/x/y"), "row": _Row(pd.Timestamp("2020-01-01",
           tz="UTC"), 1.0), 7: "int key"}  # fmt: skip
    row = {"when": "2020-01-01T00:00:00+00:00", "value": 1.0}
    expected = {"t": "2020-12-29T09:00:00+00:00", "nat": None, "nan": None, "inf": None, "n": 3,
                "a": [1.5, None], "id": str(uuid.UUID(int=1)), "p": "/x/y", "row": row,
                "7": "int key"}  # fmt: skip
    assert to_jsonable(doc) == expected
    assert json.loads(dumps(doc)) == json.loads(api_dumps(doc)) == expected
    assert json.loads(dumps_pretty(doc)) == json.loads(ml_dumps(doc)) == expected
