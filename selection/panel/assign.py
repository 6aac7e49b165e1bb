"""``python -m selection assign``: give every candidate ``K`` experts of the panel, never one
with a conflict of interest, with loads as even as the conflicts allow and the experts
closest to the subject.

Rules, in order of precedence:

1. every item gets ``min(K, free experts)`` distinct experts (fewer only under ``--max-load``);
   an item with fewer than ``K`` is listed in the report's ``unfilled``;
2. no conflicted pair is assigned: the pairs of ``conflicts.csv``, each expert's
   ``declared_work_ids`` and the candidates the expert authored (``Expert.author_id`` among
   the candidate's authorships);
3. the loads are the most balanced possible: between ``floor(T/E)`` and ``ceil(T/E)`` for
   ``T`` assignments and ``E`` experts whenever the conflicts allow it, else the loads with the
   least sum of squares (lexicographically most even: the largest load as small as possible,
   then the next, ...); the report says which;
4. among those, the total affinity is the largest. The affinity of an (item, expert) pair is
   ``0.5 * [the item's subfield is one the expert declares (subfield_ids)]``
   ``+ 0.25 * [it is the subfield of one of the expert's own works]``
   ``+ 0.25 * [the item's topic is the topic of one of the expert's own works]``,
   in [0, 1]; the expert's own works are the candidates the expert authored;
5. ties are broken by a seeded perturbation of the affinities (below ``TIE_BREAK`` per pair),
   so the same inputs and seed give the same assignment.

Formulation: a transportation problem for ``scipy.optimize.milp`` (HiGHS, 0/1 variables, zero
gap): one variable per conflict-free (item, expert) pair, each item's sum ``min(K, free
experts)``, each expert's between ``floor(T/E)`` and ``ceil(T/E)``, the perturbed affinity
maximised. When no solution has such loads it becomes a min-cost flow through unit load slots:
expert ``e``'s ``k``-th slot costs ``W * (2k - 1)``, so a load ``n`` costs ``W * n**2``, and with
``W`` above any total affinity balance always outranks affinity. Both constraint matrices are
network matrices (totally unimodular), so the LP optimum is already integral. Under
``--max-load`` a max-flow first fixes ``T``, the most assignments the cap allows.

Files: ``assignments.csv`` (``work_id,expert_id``, sorted) and ``report.json``.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from selection.errors import SelectionError
from selection.files import file_sha256, write_atomic, write_json
from selection.panel.experts import Expert, read_experts
from selection.schema import short_id

ASSIGNMENTS_FILE = "assignments.csv"
REPORT_FILE = "report.json"
ITEM_COLUMNS = ("work_id", "subfield_id", "topic_id", "authorships")  # of candidates.parquet
CONFLICT_COLUMNS = ("expert_id", "work_id")  # of conflicts.csv; kind and detail are not needed here
TIE_BREAK = 1e-5  # the largest perturbation of one pair's affinity
DECLARED_SUBFIELD, OWN_SUBFIELD, OWN_TOPIC = 0.5, 0.25, 0.25  # the affinity's parts


@dataclass(frozen=True)
class Item:
    """A candidate as the assignment sees it."""

    work_id: str
    subfield_id: int | None = None
    topic_id: str | None = None
    author_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unfilled:
    """An item with fewer than ``per_item`` experts."""

    work_id: str
    available: int  # experts free of conflict with it
    assigned: int


@dataclass(frozen=True)
class Assignment:
    """The outcome of ``assign``."""

    pairs: tuple[tuple[str, str], ...]  # (work_id, expert_id), sorted
    loads: dict[str, int]  # expert_id -> items, every expert, sorted by id
    unfilled: tuple[Unfilled, ...]
    per_item: int
    items: int
    conflict_pairs: int  # conflicted (item, expert) pairs among the items
    affinity_total: float  # of the pairs assigned, without the perturbation
    solver: str
    seed: int

    @property
    def target_loads(self) -> tuple[int, int]:
        """floor and ceil of assignments per expert."""
        return len(self.pairs) // len(self.loads), -(-len(self.pairs) // len(self.loads))

    @property
    def balanced(self) -> bool:
        """Whether the loads differ by at most one."""
        return max(self.loads.values()) - min(self.loads.values()) <= 1


def read_items(path: str | Path) -> list[Item]:
    """The candidates of a ``candidates.parquet``: ``work_id`` is required (non-null, unique);
    ``subfield_id``, ``topic_id`` and ``authorships`` are used when present."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        names = pq.read_schema(path).names
        if "work_id" not in names:
            raise SelectionError(f"{path} has no work_id column; give the candidates.parquet of python -m selection rank")
        table = pq.read_table(path, columns=[name for name in ITEM_COLUMNS if name in names])
    except FileNotFoundError:
        raise SelectionError(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"{path} is not a Parquet file ({exc})") from None
    columns = table.to_pydict()
    work_ids = columns["work_id"]
    if not work_ids:
        raise SelectionError(f"{path}: no candidates")
    if not all(work_ids):
        raise SelectionError(f"{path}: a candidate has no work_id")
    repeated = [work_id for work_id, count in Counter(work_ids).items() if count > 1]
    if repeated:
        raise SelectionError(f"{path}: work_id {repeated[0]} appears more than once")
    absent = [None] * len(work_ids)
    return [
        Item(work_id, subfield_id, topic_id,
             tuple(dict.fromkeys(a["author_id"] for a in authorships or () if a["author_id"])))
        for work_id, subfield_id, topic_id, authorships in zip(
            work_ids, columns.get("subfield_id", absent), columns.get("topic_id", absent),
            columns.get("authorships", absent))
    ]


def read_conflicts(path: str | Path, experts: Sequence[Expert]) -> set[tuple[str, str]]:
    """The (work_id, expert_id) pairs of a ``conflicts.csv`` (``expert_id,work_id,kind,detail``);
    an unknown expert or an empty id stops with a SelectionError naming the line."""
    path = Path(path)
    known = {expert.expert_id for expert in experts}
    pairs = set()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in CONFLICT_COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise SelectionError(f"{path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                expert_id, work_id = (row["expert_id"] or "").strip(), short_id((row["work_id"] or "").strip())
                if not expert_id or not work_id:
                    raise SelectionError(f"{path}:{line}: empty expert_id or work_id")
                if expert_id not in known:
                    raise SelectionError(f"{path}:{line}: expert {expert_id!r} is not in the experts file")
                pairs.add((work_id, expert_id))
    except FileNotFoundError:
        raise SelectionError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SelectionError(f"{path}: not UTF-8 text") from None
    return pairs


def conflict_pairs(items: Sequence[Item], experts: Sequence[Expert],
                   listed: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (work_id, expert_id) pairs never to assign: ``listed`` (conflicts.csv), the works each
    expert declares and the items each expert authored."""
    pairs = set(listed)
    for expert in experts:
        pairs |= {(work_id, expert.expert_id) for work_id in expert.declared_work_ids}
        pairs |= {(item.work_id, expert.expert_id) for item in items if expert.author_id in item.author_ids}
    return pairs


def affinities(items: Sequence[Item], experts: Sequence[Expert]) -> dict[tuple[str, str], float]:
    """The affinity (module docstring) of every (work_id, expert_id) pair that has one."""
    scores = {}
    for expert in experts:
        own = [item for item in items if expert.author_id and expert.author_id in item.author_ids]
        own_subfields = {item.subfield_id for item in own if item.subfield_id is not None}
        own_topics = {item.topic_id for item in own if item.topic_id}
        for item in items:
            score = (DECLARED_SUBFIELD * (item.subfield_id is not None and str(item.subfield_id) in expert.subfield_ids)
                     + OWN_SUBFIELD * (item.subfield_id in own_subfields)
                     + OWN_TOPIC * (item.topic_id in own_topics))
            if score:
                scores[(item.work_id, expert.expert_id)] = score
    return scores


def assign(items: Sequence[Item], experts: Sequence[Expert], conflicts: Collection[tuple[str, str]], per_item: int,
           affinity: Mapping[tuple[str, str], float], seed: int = 0, max_load: int | None = None) -> Assignment:
    """Assign ``per_item`` experts to each item by the module docstring's rules.

    ``conflicts`` holds (work_id, expert_id) pairs never to assign (pairs of other works are
    ignored); ``affinity`` maps (work_id, expert_id) to [0, 1], absent pairs 0; ``max_load``
    caps every expert's load. Bad arguments raise SelectionError.
    """
    import numpy as np

    expert_ids = sorted(expert.expert_id for expert in experts)
    work_ids = sorted(item.work_id for item in items)
    if not work_ids or not expert_ids:
        raise SelectionError("no items or no experts to assign")
    if len(set(work_ids)) < len(work_ids) or len(set(expert_ids)) < len(expert_ids):
        raise SelectionError("an item or an expert appears twice")
    if not 1 <= per_item <= len(expert_ids):
        raise SelectionError(f"experts per item must be between 1 and the {len(expert_ids)} experts, not {per_item}")
    if max_load is not None and max_load < 1:
        raise SelectionError(f"the maximum load must be at least 1, not {max_load}")
    unknown = sorted({expert_id for _, expert_id in conflicts} - set(expert_ids))
    if unknown:
        raise SelectionError(f"conflicts name expert {unknown[0]!r}, who is not in the panel")
    wrong = [pair for pair, score in affinity.items() if not 0 <= score <= 1]
    if wrong:
        raise SelectionError(f"affinity of {wrong[0]} is {affinity[wrong[0]]}, outside [0, 1]")

    conflicts = set(conflicts)
    pairs = [(i, j) for i, work_id in enumerate(work_ids) for j, expert_id in enumerate(expert_ids)
             if (work_id, expert_id) not in conflicts]
    available = np.bincount([i for i, _ in pairs], minlength=len(work_ids))
    demands = np.minimum(available, per_item)
    weights = np.array([affinity.get((work_ids[i], expert_ids[j]), 0.0) for i, j in pairs])
    weights += np.random.default_rng(seed).random(len(pairs)) * TIE_BREAK
    if pairs:
        chosen, formulation = _solve(pairs, demands, len(expert_ids), weights, max_load)
    else:
        chosen, formulation = np.zeros(0, dtype=bool), "nothing to solve, every pair conflicts"

    assigned = [pairs[p] for p in np.flatnonzero(chosen)]
    counts = np.bincount([i for i, _ in assigned], minlength=len(work_ids))
    loads = np.bincount([j for _, j in assigned], minlength=len(expert_ids))
    return Assignment(
        pairs=tuple((work_ids[i], expert_ids[j]) for i, j in assigned),
        loads={expert_id: int(load) for expert_id, load in zip(expert_ids, loads)},
        unfilled=tuple(Unfilled(work_ids[i], int(available[i]), int(counts[i]))
                       for i in range(len(work_ids)) if counts[i] < per_item),
        per_item=per_item,
        items=len(work_ids),
        conflict_pairs=len(work_ids) * len(expert_ids) - len(pairs),
        affinity_total=round(float(sum(affinity.get((work_ids[i], expert_ids[j]), 0.0) for i, j in assigned)), 6),
        solver=f"{_solver_name()}: {formulation}",
        seed=seed,
    )


def _solve(pairs, demands, experts: int, weights, max_load: int | None):
    """Which pairs to assign, and how that was found: loads within one of each other when a
    solution has them, else the min-cost flow with convex load costs (module docstring)."""
    import numpy as np
    from scipy.optimize import LinearConstraint
    from scipy.sparse import coo_array, hstack

    pair_items, pair_experts = (np.array(side) for side in zip(*pairs))
    ones = np.ones(len(pairs))
    by_item = coo_array((ones, (pair_items, np.arange(len(pairs)))), shape=(len(demands), len(pairs)))
    by_expert = coo_array((ones, (pair_experts, np.arange(len(pairs)))), shape=(experts, len(pairs)))
    capacity = np.bincount(pair_experts, minlength=experts)  # an expert's most possible load
    total = int(demands.sum())
    if max_load is not None:  # the most assignments the cap allows
        capacity = np.minimum(capacity, max_load)
        most = _binary_milp(-ones, [LinearConstraint(by_item, 0, demands), LinearConstraint(by_expert, 0, max_load)])
        total = int(most.sum())
    capped = "" if max_load is None else f" after a max-flow under the load cap of {max_load}"
    low, high = total // experts, -(-total // experts)  # high <= max_load, as total <= experts * max_load
    chosen = _binary_milp(-weights, [LinearConstraint(by_item, 0, demands), LinearConstraint(ones[None, :], total, total),
                                     LinearConstraint(by_expert, low, high)])
    if chosen is not None:
        return chosen, f"transportation problem, loads {low} to {high}{capped}"

    # Slot k of expert e (k = 1 .. capacity[e]) costs W * (2k - 1): a load n costs W * n**2.
    slot_experts = np.repeat(np.arange(experts), capacity)
    slot_ranks = np.concatenate([np.arange(1, n + 1) for n in capacity])
    heavy = total + 1.0  # above any total affinity (each pair's is below 1 + TIE_BREAK)
    slots = coo_array((-np.ones(len(slot_experts)), (slot_experts, np.arange(len(slot_experts)))),
                      shape=(experts, len(slot_experts)))
    constraints = [
        LinearConstraint(hstack([by_item, coo_array((len(demands), len(slot_experts)))]), 0, demands),
        LinearConstraint(np.concatenate([ones, np.zeros(len(slot_experts))])[None, :], total, total),
        LinearConstraint(hstack([by_expert, slots]), 0, 0),  # an expert's load = its slots in use
    ]
    chosen = _binary_milp(np.concatenate([-weights, heavy * (2 * slot_ranks - 1)]), constraints)
    return chosen[: len(pairs)], f"min-cost flow with convex load costs (no loads {low} to {high} possible){capped}"


def _binary_milp(costs, constraints):
    """The 0/1 vector of least cost under the constraints, as booleans; None when none exists."""
    import numpy as np
    from scipy.optimize import Bounds, milp

    result = milp(costs, integrality=np.ones(len(costs)), bounds=Bounds(0, 1), constraints=constraints,
                  options={"mip_rel_gap": 0})
    if result.status == 2:
        return None
    if not result.success:
        raise SelectionError(f"the assignment solver failed: {result.message}")
    return result.x > 0.5


def _solver_name() -> str:
    import scipy

    return f"scipy {scipy.__version__} optimize.milp (HiGHS)"


def report_of(assignment: Assignment, max_load: int | None, inputs: dict) -> dict:
    """``report.json`` of an assignment."""
    low, high = assignment.target_loads
    return {
        "per_item": assignment.per_item,
        "items": assignment.items,
        "experts": len(assignment.loads),
        "assignments": len(assignment.pairs),
        "loads": assignment.loads,
        "target_loads": [low, high],
        "balanced": assignment.balanced,
        "balance": (f"every load is {low} or {high}" if assignment.balanced else
                    f"the conflicts allow no loads within one of each other ({low} to {high}); these are the most "
                    "balanced they allow (least sum of squared loads)"),
        "max_load": max_load,
        "unfilled": [{"work_id": u.work_id, "available": u.available, "assigned": u.assigned}
                     for u in assignment.unfilled],
        "conflict_pairs": assignment.conflict_pairs,
        "affinity_total": assignment.affinity_total,
        "solver": assignment.solver,
        "seed": assignment.seed,
        "inputs": inputs,
    }


def register(subparsers) -> None:
    """Add the ``assign`` subcommand."""
    parser = subparsers.add_parser(
        "assign",
        help="assign K conflict-free experts to every candidate, loads balanced",
        description=(
            "Give every candidate of a candidates.parquet K distinct experts free of conflict, loads within one "
            "of each other where the conflicts allow, preferring experts of the candidate's subfield; write "
            "assignments.csv and report.json into --out. Everything is checked before anything is written."
        ),
    )
    parser.add_argument("--candidates", required=True, type=Path, help="candidates.parquet of python -m selection rank")
    parser.add_argument("--experts", required=True, type=Path, help="experts.csv of the panel")
    parser.add_argument("--conflicts", required=True, type=Path, help="conflicts.csv of python -m selection conflicts")
    parser.add_argument("--per-item", required=True, type=int, metavar="K", help="experts per candidate")
    parser.add_argument("--out", required=True, type=Path, help="folder for assignments.csv and report.json")
    parser.add_argument("--seed", type=int, default=0, help="breaks ties between equally good assignments (0)")
    parser.add_argument("--max-load", type=int, metavar="L", help="at most L candidates per expert")
    parser.set_defaults(func=run_assign)


def run_assign(args: argparse.Namespace) -> int:
    """Read and check the inputs, assign, write the two files, print one line."""
    items = read_items(args.candidates)
    experts = read_experts(args.experts)
    conflicts = conflict_pairs(items, experts, read_conflicts(args.conflicts, experts))
    result = assign(items, experts, conflicts, args.per_item, affinities(items, experts), args.seed, args.max_load)
    if args.out.exists() and not args.out.is_dir():
        raise SelectionError(f"{args.out} is a file; name a folder")
    inputs = {name: {"path": str(path), "sha256": file_sha256(path)}
              for name, path in (("candidates", args.candidates), ("experts", args.experts),
                                 ("conflicts", args.conflicts))}
    args.out.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("work_id", "expert_id"))
    writer.writerows(result.pairs)
    write_atomic(args.out / ASSIGNMENTS_FILE, text.getvalue().encode())
    write_json(args.out / REPORT_FILE, report_of(result, args.max_load, inputs))
    low, high = min(result.loads.values()), max(result.loads.values())
    print(
        f"{len(result.pairs)} assignments of {result.items} candidates to {len(result.loads)} experts written to "
        f"{args.out}; loads {low} to {high}{'' if result.balanced else ' (the conflicts allow no better)'}; "
        f"{len(result.unfilled)} candidate(s) with fewer than {result.per_item} experts (see {REPORT_FILE})"
    )
    return 0
