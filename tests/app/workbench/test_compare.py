"""The comparison of two rankings (conference_app/workbench/compare.py): entered, left and
stayed per list with the reason, on hand-made candidate tables; and on two real rankings of
one synthetic harvest, that a weight's change moves exactly the works the scores say."""

from __future__ import annotations

import pyarrow as pa
import pytest

from conference_app.workbench import compare
from conference_app.workbench.compare import (
    ENTERED,
    LEFT,
    NOT_ELIGIBLE,
    PUSHED,
    REVIEW_SEATS,
    SEATS,
    STAYED,
    TOPIC_CAP,
    WEIGHTS,
)
from selection.schema import INDICATORS, read_candidates

ONLY_INFLUENCE = {"influence": 1.0, "hot": 0.0, "frontier": 0.0, "originality": 0.0}
ONLY_HOT = {"influence": 0.0, "hot": 1.0, "frontier": 0.0, "originality": 0.0}


def candidate(work_id: str, rank: int, weights: dict, percentiles: dict, topic: str | None = None,
              over_cap: bool = False, discipline: str = "mathematics", group: str = "domestic",
              track: str = "article") -> dict:
    parts = [{"indicator": name, "weight": weights[name], "value": percentiles.get(name, 0.0),
              "has_value": name in percentiles, "percentile": percentiles.get(name, 0.0),
              "top_share": 1 - percentiles.get(name, 0.0), "valued_works": 40,
              "contribution": weights[name] * percentiles.get(name, 0.0), "baseline": "beijing"}
             for name in INDICATORS]
    return {"work_id": work_id, "discipline": discipline, "journal_group": group, "rank": rank,
            "score": sum(part["contribution"] for part in parts), "score_parts": parts, "over_topic_cap": over_cap,
            "topic_id": topic or f"T-{work_id}", "title": f"Title of {work_id}", "admission": "gate", "track": track}


def ranking(rows: list[dict], weights: dict, quota: int, **settings) -> tuple[pa.Table, dict]:
    lists = {}
    for row in rows:
        entry = lists.setdefault((row["discipline"], row["journal_group"]), {
            "discipline": row["discipline"], "journal_group": row["journal_group"], "quota": quota, "selected": 0})
        entry["selected"] += 1
    summary = {"settings": {"weights": weights, "discipline_weights": {}, "per_group": quota,
                            "topic_cap_share": 1.0, **settings},
               "lists": list(lists.values()), "funnel": {"input": 100, "in_window": 90}, "candidates": len(rows)}
    return pa.Table.from_pylist(rows), summary


def only_list(comparison: compare.Comparison) -> compare.ListComparison:
    assert len(comparison.lists) == 1
    return comparison.lists[0]


def test_a_change_of_weights_lets_in_the_works_the_new_weights_favour():
    a = ranking([candidate("W1", 1, ONLY_INFLUENCE, {"influence": 0.9, "hot": 0.1}),
                 candidate("W2", 2, ONLY_INFLUENCE, {"influence": 0.8, "hot": 0.5})], ONLY_INFLUENCE, quota=2)
    b = ranking([candidate("W3", 1, ONLY_HOT, {"influence": 0.1, "hot": 0.95}),
                 candidate("W2", 2, ONLY_HOT, {"influence": 0.8, "hot": 0.5})], ONLY_HOT, quota=2)
    result = only_list(compare.compare(*a, *b))
    assert [change.work_id for change in result.entered] == ["W3"]
    assert [change.work_id for change in result.left] == ["W1"]
    assert [change.work_id for change in result.stayed] == ["W2"]
    entered, left = result.entered[0], result.left[0]
    assert (entered.status, entered.reason, left.status, left.reason) == (ENTERED, WEIGHTS, LEFT, WEIGHTS)
    # Under a's weights W3 scores its influence percentile, below a's last seat (0.8).
    assert entered.score_in_other == pytest.approx(0.1)
    assert left.score_in_other == pytest.approx(0.1)
    assert (result.cutoff_a, result.cutoff_b) == (pytest.approx(0.8), pytest.approx(0.5))
    assert result.stayed[0].rank_change == 0 and result.moved == 0


def test_a_larger_quota_seats_works_below_the_old_one():
    a = ranking([candidate(f"W{n}", n, ONLY_INFLUENCE, {"influence": 1 - n / 10}) for n in (1, 2)],
                ONLY_INFLUENCE, quota=2)
    b = ranking([candidate(f"W{n}", n, ONLY_INFLUENCE, {"influence": 1 - n / 10}) for n in (1, 2, 3)],
                ONLY_INFLUENCE, quota=3)
    result = only_list(compare.compare(*a, *b))
    assert [(change.work_id, change.reason) for change in result.entered] == [("W3", SEATS)]
    assert result.left == ()
    assert (result.quota_a, result.quota_b, result.selected_a, result.selected_b) == (2, 3, 2, 3)


def test_a_work_that_a_list_with_free_seats_did_not_take_was_not_eligible_there():
    a = ranking([candidate("W1", 1, ONLY_INFLUENCE, {"influence": 0.9})], ONLY_INFLUENCE, quota=3)
    b = ranking([candidate("W1", 2, ONLY_INFLUENCE, {"influence": 0.9}),
                 candidate("W9", 1, ONLY_INFLUENCE, {"influence": 0.95})], ONLY_INFLUENCE, quota=3,
                author_rule="any")
    result = only_list(compare.compare(*a, *b))
    assert [(change.work_id, change.reason) for change in result.entered] == [("W9", NOT_ELIGIBLE)]
    assert result.stayed[0].rank_change == -1  # W1 moved down one place


def test_topic_cap_and_pushed_out_reasons():
    same = ONLY_INFLUENCE
    a = ranking([candidate("W1", 1, same, {"influence": 0.9}, topic="T1"),
                 candidate("W2", 2, same, {"influence": 0.8}, topic="T2")], same, quota=2)
    # b seats W3 over the cap of its topic, and W4 of a full topic pushes W2 out... with the
    # same weights, so its reason is that other works took the seat.
    b = ranking([candidate("W1", 1, same, {"influence": 0.9}, topic="T1"),
                 candidate("W3", 2, same, {"influence": 0.85}, topic="T1", over_cap=True)], same, quota=2)
    result = only_list(compare.compare(*a, *b))
    assert [(change.work_id, change.reason) for change in result.entered] == [("W3", TOPIC_CAP)]
    assert [(change.work_id, change.reason) for change in result.left] == [("W2", PUSHED)]

    capped = ranking([candidate("W1", 1, same, {"influence": 0.9}, topic="T1"),
                      candidate("W5", 2, same, {"influence": 0.7}, topic="T5")], same, quota=2,
                     topic_cap_share=0.5)
    a_same_topic = ranking([candidate("W1", 1, same, {"influence": 0.9}, topic="T1"),
                            candidate("W6", 2, same, {"influence": 0.8}, topic="T1")], same, quota=2)
    result = only_list(compare.compare(*a_same_topic, *capped))
    # b allows one seat per topic (0.5 x 2) and T1 holds it: W6 left for the topic cap.
    assert [(change.work_id, change.reason) for change in result.left] == [("W6", TOPIC_CAP)]


def test_a_review_kept_out_by_the_review_seats():
    same = ONLY_INFLUENCE
    a = ranking([candidate("W1", 1, same, {"influence": 0.9}),
                 candidate("R1", 2, same, {"influence": 0.8}, track="review")], same, quota=2, review_seat_share=0.5)
    b = ranking([candidate("W1", 1, same, {"influence": 0.9}),
                 candidate("R2", 2, same, {"influence": 0.85}, track="review")], same, quota=2, review_seat_share=0.5)
    result = only_list(compare.compare(*a, *b))
    assert [(change.work_id, change.reason) for change in result.entered] == [("R2", REVIEW_SEATS)]
    assert [(change.work_id, change.reason) for change in result.left] == [("R1", REVIEW_SEATS)]


def test_settings_funnel_and_lists_of_both_sides():
    a = ranking([candidate("W1", 1, ONLY_INFLUENCE, {"influence": 0.9}, discipline="physics")], ONLY_INFLUENCE, 200)
    b_rows = [candidate("W1", 1, ONLY_HOT, {"influence": 0.9, "hot": 0.7}, discipline="physics"),
              candidate("W2", 1, ONLY_HOT, {"hot": 0.6}, discipline="chemistry", group="international")]
    table_b, summary_b = ranking(b_rows, ONLY_HOT, 300)
    summary_b["settings"]["discipline_weights"] = {"chemistry": {"frontier": 0.5}}
    summary_b["funnel"]["distinct_doi"] = 80
    summary_b["funnel"]["author_rule_any"] = 85
    result = compare.compare(*a, table_b, summary_b)
    changes = {change.key: (change.a, change.b) for change in result.settings_changes}
    assert changes == {"weights.influence": (1.0, 0.0), "weights.hot": (0.0, 1.0), "per_group": (200, 300),
                       "discipline_weights.chemistry.frontier": (None, 0.5)}
    assert [(step.step, step.a, step.b) for step in result.funnel] == [
        ("input", 100, 100), ("in_window", 90, 90), ("distinct_doi", None, 80), ("author_rule", None, 85),
        ("candidates", 1, 2)]
    assert [(entry.discipline, entry.journal_group) for entry in result.lists] == [
        ("physics", "domestic"), ("chemistry", "international")]
    assert (result.count(ENTERED), result.count(LEFT), result.count(STAYED)) == (1, 0, 1)
    assert compare.discipline_weights(summary_b["settings"], "chemistry") == {
        "influence": 0.0, "hot": pytest.approx(2 / 3), "frontier": pytest.approx(1 / 3), "originality": 0.0}


def test_histogram_and_topic_shares():
    table = pa.table({"score": [0.0, 0.04, 0.05, 0.51, 1.0, None], "topic_id": ["T1", "T1", "T2", None, "T1", "T3"]})
    histogram = compare.score_histogram(table)
    assert len(histogram) == 20 and sum(histogram) == 5
    assert (histogram[0], histogram[1], histogram[10], histogram[19]) == (2, 1, 1, 1)
    other = pa.table({"score": [0.5, 0.5], "topic_id": ["T2", "T2"], "topic_names": [["Optics", "Lasers"], ["Optics"]]})
    assert compare.topic_shares(table, other, top=2) == [("T1", "T1", 0.5, 0.0),
                                                         ("T2", "Optics", pytest.approx(1 / 6), 1.0)]


def test_two_real_rankings_of_one_harvest(two_rankings):
    first, second = (read_candidates(folder) for folder in two_rankings)
    result = compare.compare(first.table, first.summary, second.table, second.summary)
    assert {change.key for change in result.settings_changes} >= {"weights.influence", "weights.hot"}
    assert result.count(ENTERED) > 0 and result.count(LEFT) > 0
    for entry in result.lists:
        assert len(entry.entered) + len(entry.stayed) == entry.selected_b
        assert len(entry.left) + len(entry.stayed) == entry.selected_a
        for change in entry.stayed:
            # Percentiles do not depend on the weights: a's percentiles under b's weights give b's score.
            weights_b = compare.discipline_weights(second.summary["settings"], entry.discipline)
            assert sum(weights_b[name] * change.a.percentiles[name] for name in INDICATORS) == pytest.approx(
                change.b.score, abs=1e-9)
        for change in entry.entered + entry.left:
            assert change.reason in compare.REASONS
    total_b = sum(entry.selected_b for entry in result.lists)
    assert total_b == second.table.num_rows
