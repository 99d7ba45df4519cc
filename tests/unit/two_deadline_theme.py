"""A small theme for domain tests: two Tuesday deadlines, police and health."""

from __future__ import annotations

from typing import Any

from portal.domain.checklist import ThemePolicy


def two_deadline_theme(
    police: str = "Police", health: str = "Health", selection: dict[str, Any] | None = None
) -> ThemePolicy:
    """Police owe 3.1 by Tuesday of week 1 and 3.2 by Tuesday of week 2; health owe 4.1 by
    Tuesday of week 1. `police` and `health` are the agencies' names."""
    theme: dict[str, Any] = {
        "theme": "test-theme",
        "variant": "v1",
        "title": "Test",
        "source": "test",
        "timeline": {
            "shape": {"fieldwork_week": 3, "notification_working_days_before_fieldwork": 10},
            "deadlines": {
                "w1_tue": {
                    "rule": {"kind": "in_week", "week": 1, "weekday": "tuesday"},
                    "quote": "By 5pm on Tuesday in week 1",
                },
                "w2_tue": {
                    "rule": {"kind": "in_week", "week": 2, "weekday": "tuesday"},
                    "quote": "by 5pm on Tuesday in week 2",
                },
            },
        },
        "agencies": [
            {
                "code": "police",
                "name": police,
                "items": [
                    {"number": "3.1", "title": "Structure", "deadline": "w1_tue"},
                    {"number": "3.2", "title": "Audits", "deadline": "w2_tue"},
                ],
            },
            {
                "code": "health",
                "name": health,
                "items": [{"number": "4.1", "title": "Structure", "deadline": "w1_tue"}],
            },
        ],
    }
    if selection is not None:
        theme["selection"] = selection
    return ThemePolicy.model_validate(theme)
