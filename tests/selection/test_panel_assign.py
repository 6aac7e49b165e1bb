"""``python -m selection assign``: K conflict-free experts per candidate, loads within one of
each other where the conflicts allow, affinity preferred, seeded ties, bad input refused."""

from __future__ import annotations

import argparse
import csv
import json
import random
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection import cli
from selection.errors import SelectionError
from selection.panel import assign as panel_assign
from selection.panel.assign import Item, affinities, assign, conflict_pairs
from selection.panel.experts import Expert
from selection.schema import CANDIDATES_SCHEMA

SUBFIELDS = (2604, 2611, 3104, 1303)


def candidate(number: int, subfield_id: int, topic_id: str, authors: tuple[str, ...] = ()) -> dict:
    """A candidates row with the columns the assignment reads; the others are null."""
    return {"work_id": f"W{number}", "discipline": "mathematics", "journal_group": "international",
            "subfield_id": subfield_id, "topic_id": topic_id, "title": f"paper {number}",
            "authorships": [{"author_id": author, "name": author, "orcid": None, "position": "first",
                             "is_corresponding": True, "institution_ids": [], "lineage_ids": []}
                            for author in authors]}


def write_candidates(path, rows, schema=CANDIDATES_SCHEMA):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def write_experts(path, experts: list[Expert]):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("expert_id", "name", "openalex_author_id", "institution_ids", "subfield_ids",
                         "declared_work_ids"))
        for e in experts:
            writer.writerow((e.expert_id, e.name, e.author_id or "", "|".join(e.institution_ids),
                             "|".join(e.subfield_ids), "|".join(e.declared_work_ids)))
    return path


def write_conflicts(path, pairs):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("expert_id", "work_id", "kind", "detail"))
        writer.writerows((expert_id, work_id, "coauthor", "") for work_id, expert_id in sorted(pairs))
    return path


def run_assign(folder, candidates, experts, conflicts, *options):
    """The command as the lead will register it, on files in ``folder``; returns the out folder."""
    parser = argparse.ArgumentParser()
    panel_assign.register(parser.add_subparsers())
    out = folder / "out"
    args = parser.parse_args(["assign", "--candidates", str(candidates), "--experts", str(experts),
                              "--conflicts", str(conflicts), "--out", str(out), *options])
    assert args.func(args) == 0
    return out


def read_output(out):
    with (out / "assignments.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["work_id", "expert_id"]
    pairs = [tuple(row) for row in rows[1:]]
    assert pairs == sorted(pairs)
    return pairs, json.loads((out / "report.json").read_text(encoding="utf-8"))


def experts_of(n: int) -> list[Expert]:
    return [Expert(f"E{j}", f"Expert {j}", f"A{9000 + j}", ("I1",), (str(SUBFIELDS[j % len(SUBFIELDS)]),))
            for j in range(n)]


def assert_valid(pairs, conflicts, per_item, work_ids):
    """K distinct experts per item where enough are free, and no conflicted pair."""
    assert not set(pairs) & set(conflicts)
    assert len(set(pairs)) == len(pairs)
    per_work = {work_id: [e for w, e in pairs if w == work_id] for work_id in work_ids}
    return {work_id: len(experts) for work_id, experts in per_work.items() if len(experts) != per_item}


@pytest.fixture(scope="module")
def panel_files(tmp_path_factory):
    """500 candidates, 7 experts, about 10% of the pairs in conflict (at most 4 per candidate)."""
    folder = tmp_path_factory.mktemp("panel")
    rng = random.Random(11)
    experts = experts_of(7)
    rows = [candidate(i, rng.choice(SUBFIELDS), f"T{rng.randrange(60)}") for i in range(1, 501)]
    conflicts = set()
    for row in rows:
        hit = [e.expert_id for e in experts if rng.random() < 0.1][:4]
        conflicts |= {(row["work_id"], expert_id) for expert_id in hit}
    return (folder, write_candidates(folder / "candidates.parquet", rows), write_experts(folder / "experts.csv", experts),
            write_conflicts(folder / "conflicts.csv", conflicts), conflicts, [row["work_id"] for row in rows])


def test_500_candidates_and_7_experts_with_k_3_get_3_conflict_free_experts_with_loads_within_one(panel_files):
    folder, candidates, experts, conflicts_file, conflicts, work_ids = panel_files
    assert 0.08 < len(conflicts) / (500 * 7) < 0.12
    started = time.perf_counter()
    out = run_assign(folder, candidates, experts, conflicts_file, "--per-item", "3", "--seed", "5")
    elapsed = time.perf_counter() - started
    pairs, report = read_output(out)
    assert assert_valid(pairs, conflicts, 3, work_ids) == {}
    loads = report["loads"]
    assert sorted(loads) == [f"E{j}" for j in range(7)]
    assert max(loads.values()) - min(loads.values()) <= 1 and sum(loads.values()) == 1500 == len(pairs)
    assert {e: sum(1 for _, x in pairs if x == e) for e in loads} == loads
    assert report["balanced"] and report["target_loads"] == [214, 215]
    assert (report["per_item"], report["items"], report["experts"], report["unfilled"]) == (3, 500, 7, [])
    assert report["seed"] == 5 and "milp" in report["solver"] and report["conflict_pairs"] == len(conflicts)
    assert report["affinity_total"] > 0.5 * 1500 / len(SUBFIELDS)  # far above a random pick
    assert elapsed < 20, elapsed  # a few seconds on a loaded machine


def test_an_item_with_two_free_experts_gets_those_two_and_is_listed_unfilled(tmp_path):
    experts = experts_of(4)
    rows = [candidate(i, 2604, f"T{i}") for i in range(1, 21)]
    conflicts = {("W7", "E0"), ("W7", "E3"), ("W8", "E1")}
    out = run_assign(tmp_path, write_candidates(tmp_path / "c.parquet", rows), write_experts(tmp_path / "e.csv", experts),
                     write_conflicts(tmp_path / "k.csv", conflicts), "--per-item", "3")
    pairs, report = read_output(out)
    assert assert_valid(pairs, conflicts, 3, [row["work_id"] for row in rows]) == {"W7": 2}
    assert sorted(e for w, e in pairs if w == "W7") == ["E1", "E2"]
    assert report["unfilled"] == [{"work_id": "W7", "available": 2, "assigned": 2}]
    assert report["balanced"] and sum(report["loads"].values()) == 59


def test_conflicts_that_force_unbalanced_loads_give_the_most_balanced_and_say_so(tmp_path):
    experts = experts_of(3)
    rows = [candidate(i, 2604, f"T{i}") for i in range(1, 13)]
    conflicts = {(row["work_id"], "E2") for row in rows[2:]}  # E2 may take only W1 and W2
    out = run_assign(tmp_path, write_candidates(tmp_path / "c.parquet", rows), write_experts(tmp_path / "e.csv", experts),
                     write_conflicts(tmp_path / "k.csv", conflicts), "--per-item", "1")
    pairs, report = read_output(out)
    assert assert_valid(pairs, conflicts, 1, [row["work_id"] for row in rows]) == {}
    assert report["loads"] == {"E0": 5, "E1": 5, "E2": 2}  # not 6 and 4
    assert not report["balanced"] and report["target_loads"] == [4, 4]
    assert "most balanced" in report["balance"]


def test_forced_loads_are_the_least_sum_of_squares_and_then_the_best_affinity():
    experts = experts_of(4)  # E0 2604, E1 2611, E2 3104, E3 1303
    items = [Item(f"W{i}", 2611 if i <= 14 else 3104) for i in range(1, 25)]
    conflicts = ({(item.work_id, "E0") for item in items if item.work_id != "W1"}
                 | {(item.work_id, "E3") for item in items if item.work_id not in ("W2", "W3", "W4")})
    result = assign(items, experts, conflicts, 1, affinities(items, experts), seed=1)
    assert result.loads == {"E0": 1, "E1": 10, "E2": 10, "E3": 3}
    assert not result.balanced
    matched = {(w, e) for w, e in result.pairs if (e, int(w[1:]) <= 14) in {("E1", True), ("E2", False)}}
    assert len(matched) == 20  # E1 and E2 take only items of their subfields
    assert result.affinity_total == 10.0


def test_an_expert_of_the_items_subfield_gets_it_when_balance_allows():
    experts = experts_of(3)  # subfields 2604, 2611, 3104
    items = [Item(f"W{i}", SUBFIELDS[i % 3], f"T{i}") for i in range(30)]
    scores = affinities(items, experts)
    matching = {(item.work_id, f"E{i % 3}") for i, item in enumerate(items)}
    assert scores == {pair: 0.5 for pair in matching}
    preferred = assign(items, experts, set(), 1, scores, seed=2)
    flat = assign(items, experts, set(), 1, {}, seed=2)
    assert set(preferred.pairs) == matching and preferred.affinity_total == 15.0
    assert len(set(flat.pairs) & matching) < 20 and flat.affinity_total == 0
    assert preferred.loads == flat.loads == {"E0": 10, "E1": 10, "E2": 10}


def test_balance_outranks_affinity():
    experts = experts_of(3)
    items = [Item(f"W{i}", 2604) for i in range(30)]  # all E0's subfield
    result = assign(items, experts, set(), 1, affinities(items, experts), seed=0)
    assert result.loads == {"E0": 10, "E1": 10, "E2": 10} and result.affinity_total == 5.0


def test_own_works_give_affinity_and_authored_or_declared_works_are_conflicts():
    expert = Expert("E0", "Expert", "A1", ("I1",), ("2604",), ("W5",))
    items = [Item("W1", 3104, "T9", ("A1", "A2")), Item("W2", 3104, "T9"), Item("W3", 3104, "T8"),
             Item("W4", 2604, "T9"), Item("W5", 1303, "T1")]
    assert affinities(items, [expert]) == {("W1", "E0"): 0.5, ("W2", "E0"): 0.5, ("W3", "E0"): 0.25,
                                           ("W4", "E0"): 0.75}
    assert conflict_pairs(items, [expert], {("W3", "E0")}) == {("W1", "E0"), ("W3", "E0"), ("W5", "E0")}


def test_same_seed_same_output_and_another_seed_stays_valid(tmp_path):
    experts = experts_of(5)
    rows = [candidate(i, 9999, f"T{i}") for i in range(1, 61)]  # no affinity: every choice ties
    conflicts = {(f"W{i}", f"E{i % 5}") for i in range(1, 61, 3)}
    files = (write_candidates(tmp_path / "c.parquet", rows), write_experts(tmp_path / "e.csv", experts),
             write_conflicts(tmp_path / "k.csv", conflicts))
    outputs = {}
    for run, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        (tmp_path / run).mkdir()
        out = run_assign(tmp_path / run, *files, "--per-item", "2", "--seed", seed)
        outputs[run] = ((out / "assignments.csv").read_bytes(), (out / "report.json").read_bytes())
        pairs, report = read_output(out)
        assert assert_valid(pairs, conflicts, 2, [row["work_id"] for row in rows]) == {}
        assert set(report["loads"].values()) == {24}
    assert outputs["a"] == outputs["b"]
    assert outputs["a"][0] != outputs["c"][0]


def test_max_load_caps_every_expert_and_reports_the_items_left_short(tmp_path):
    experts = experts_of(3)
    rows = [candidate(i, 2604, f"T{i}") for i in range(1, 11)]
    out = run_assign(tmp_path, write_candidates(tmp_path / "c.parquet", rows), write_experts(tmp_path / "e.csv", experts),
                     write_conflicts(tmp_path / "k.csv", set()), "--per-item", "2", "--max-load", "5")
    pairs, report = read_output(out)
    assert report["loads"] == {"E0": 5, "E1": 5, "E2": 5} and report["max_load"] == 5
    assert sum(item["available"] - item["assigned"] for item in report["unfilled"]) == 5 + len(report["unfilled"])
    assert all(item["available"] == 3 for item in report["unfilled"]) and len(pairs) == 15


@pytest.mark.parametrize("case", ["unknown expert in conflicts", "K below 1", "K above the experts",
                                  "no work_id column"])
def test_bad_input_is_refused_before_anything_is_written(tmp_path, case):
    experts = experts_of(3)
    rows = [candidate(i, 2604, f"T{i}") for i in range(1, 6)]
    candidates = write_candidates(tmp_path / "c.parquet", rows)
    conflicts = {("W1", "E9")} if case == "unknown expert in conflicts" else set()
    per_item = {"K below 1": "0", "K above the experts": "4"}.get(case, "2")
    if case == "no work_id column":
        schema = pa.schema([field for field in CANDIDATES_SCHEMA if field.name != "work_id"])
        write_candidates(candidates, [{k: v for k, v in row.items() if k != "work_id"} for row in rows], schema)
    with pytest.raises(SelectionError):
        run_assign(tmp_path, candidates, write_experts(tmp_path / "e.csv", experts),
                   write_conflicts(tmp_path / "k.csv", conflicts), "--per-item", per_item)
    assert not (tmp_path / "out").exists()


def test_the_command_line_turns_bad_input_into_one_error_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ("selection.panel.assign",))
    candidates = write_candidates(tmp_path / "c.parquet", [candidate(1, 2604, "T1")])
    code = cli.main(["assign", "--candidates", str(candidates), "--experts", str(write_experts(tmp_path / "e.csv",
                     experts_of(2))), "--conflicts", str(tmp_path / "missing.csv"), "--per-item", "1",
                     "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.csv'}: no such file\n"
    assert not (tmp_path / "out").exists()
