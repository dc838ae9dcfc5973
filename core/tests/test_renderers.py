"""The orjson renderer writes what DRF's renderer writes."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from core.api.renderers import OrjsonRenderer


def test_same_json_as_drf():
    data = {
        "when": dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=dt.UTC),
        "day": dt.date(2024, 5, 6),
        "vector": np.array([0.1, 2.5e-7], dtype=np.float64),
        "lazy": gettext_lazy("Not found."),
        "amount": decimal.Decimal("1.50"),
        "text": "ünïcode",
        3: "int key",
    }
    ours = OrjsonRenderer().render(data)
    assert json.loads(ours) == json.loads(JSONRenderer().render(data))
    assert b'"when":"2024-05-06T07:08:09.000010Z"' in ours


def test_indented_rendering_is_left_to_drf():
    rendered = OrjsonRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == JSONRenderer().render({"a": 1}, "application/json; indent=2")


def test_none_renders_empty():
    assert OrjsonRenderer().render(None) == b""


@pytest.mark.django_db
def test_integers_past_64_bits_in_a_json_field_render(api, user_a):
    preferences = {"big": 2**70, "small": -(2**65)}
    response = api(user_a).patch(
        f"/api/users/{user_a.pk}", {"preferences": preferences}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["preferences"] == preferences
