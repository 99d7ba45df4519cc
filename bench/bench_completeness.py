"""Benchmark: completeness for 1,000 inspections of 100 items each.

    .venv/bin/python -m bench.bench_completeness [--inspections 1000] [--items 100]

Each inspection has 5 agencies x (items / 5) Annex A items, 6 audited children with case
records from 4 agencies and audits, and about 1.5 documents per requirement (accepted,
rejected and pending mixed). Reports the time to compute every inspection's matrix with
portal.domain.completeness.completeness (the API and the Prefect artifact call the same).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import DocumentFact, completeness, requirements_of
from portal.domain.documents import DocumentStatus
from portal.domain.reasons import ReasonCode

AGENCIES = ["local_authority", "masa", "police", "health", "probation"]
NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)


def make_theme(items: int) -> ThemePolicy:
    per_agency = items // len(AGENCIES)
    return ThemePolicy.model_validate(
        {
            "theme": "bench",
            "variant": "v1",
            "title": "Bench",
            "source": "bench",
            "timeline": {
                "shape": {"fieldwork_week": 3, "notification_working_days_before_fieldwork": 10},
                "deadlines": {
                    "w1": {
                        "rule": {"kind": "in_week", "week": 1, "weekday": "tuesday"},
                        "quote": "a",
                    },
                    "w2": {
                        "rule": {"kind": "in_week", "week": 2, "weekday": "tuesday"},
                        "quote": "b",
                    },
                },
            },
            "agencies": [
                {
                    "code": code,
                    "name": code,
                    "items": [
                        {
                            "number": f"{a + 1}.{i + 1}",
                            "title": f"Item {i + 1}",
                            "deadline": "w1" if i % 3 == 0 else "w2",
                            "optional": i % 10 == 9,
                        }
                        for i in range(per_agency)
                    ],
                }
                for a, code in enumerate(AGENCIES)
            ],
            "case_records": [
                {"agency": code, "documents": ["records"], "deadline": "w2"}
                for code in AGENCIES[:4]
            ],
            "audits": {"quote": "audits", "deadline": "w2"},
        }
    )


def make_documents(
    theme: ThemePolicy, audited: list[str], rng: random.Random
) -> list[DocumentFact]:
    facts = []
    for need in requirements_of(theme, AGENCIES, audited):
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            status = rng.choice(
                (
                    DocumentStatus.accepted,
                    DocumentStatus.accepted,
                    DocumentStatus.rejected,
                    DocumentStatus.processing,
                )
            )
            received = NOW - timedelta(days=rng.randint(1, 10))
            facts.append(
                DocumentFact(
                    agency=need.agency if need.agency in AGENCIES else "police",
                    item_number=need.item,
                    child_id=need.child_id,
                    status=status,
                    reasons=(ReasonCode.infected,) if status is DocumentStatus.rejected else (),
                    received_at=received,
                    decided_at=None
                    if status is DocumentStatus.processing
                    else received + timedelta(seconds=3),
                )
            )
    return facts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inspections", type=int, default=1000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261122)
    theme = make_theme(args.items)
    audited = [f"C{n}" for n in range(6)]
    deadlines = {"w1": NOW - timedelta(days=3), "w2": NOW + timedelta(days=4)}
    corpus = [make_documents(theme, audited, rng) for _ in range(args.inspections)]
    documents = sum(len(c) for c in corpus)
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for facts in corpus:
            completeness(theme, AGENCIES, deadlines, facts, NOW, audited)
        timings.append(time.perf_counter() - started)
    requirements = len(requirements_of(theme, AGENCIES, audited))
    print(
        f"{args.inspections} inspections x {args.items} Annex A items "
        f"({requirements} requirements each with case records and audits), "
        f"{documents} documents"
    )
    print(
        f"completeness of all inspections: best {min(timings):.2f} s, "
        f"median {statistics.median(timings):.2f} s over {args.repeat} runs"
    )


if __name__ == "__main__":
    main()
