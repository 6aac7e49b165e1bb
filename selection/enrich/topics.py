"""Phase 1, the frontier's world line: works per primary topic and year in all of OpenAlex.

One grouped query a year (``group_by=primary_topic.id`` over the articles and reviews of
that year, neither retracted nor paratext), every page of groups: about 4,500 topics, so
23 requests a year.
"""

from __future__ import annotations

import pandas as pd

from selection.enrich.queries import GroupedTask, TaskLog
from selection.harvest.settings import WORK_TYPES


def world_works(client, any_of: dict | None = None, **filters):
    """The articles and reviews of OpenAlex, neither retracted nor paratext, with ``filters``
    and, per key of ``any_of``, one of its values (an OR list of at most 100)."""
    # filter_or first: a later filter() merges into its OR group (see selection.harvest.partitions).
    return (
        client.works()
        .filter_or(type=list(WORK_TYPES), **(any_of or {}))
        .filter(is_retracted=False, is_paratext=False, **filters)
    )


def topic_tasks(years: list[int]) -> list[GroupedTask]:
    """One task per publication year."""
    return [
        GroupedTask(f"topics/{year}", "primary_topic.id", lambda client, year=year: world_works(client, publication_year=year))
        for year in years
    ]


def topic_growth_frame(years: list[int], log: TaskLog) -> pd.DataFrame:
    """``topic_id, publication_year, works`` of the finished years, sorted."""
    rows = [
        (topic.upper(), year, count)
        for year in years
        for topic, count in log.state(f"topics/{year}").groups.items()
        if log.state(f"topics/{year}").done
    ]
    frame = pd.DataFrame(rows, columns=["topic_id", "publication_year", "works"])
    return frame.sort_values(["topic_id", "publication_year"], ignore_index=True)
