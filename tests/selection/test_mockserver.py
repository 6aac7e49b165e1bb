"""The local OpenAlex-compatible server: filters, select, paging, errors, faults."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
import requests

from selection.openalex.mockserver import Faults, MockData, MockOpenAlexServer, QueryRejected


def get(server, path: str, **params) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=10)


def all_ids(server, path: str, **params) -> list[str]:
    ids, cursor = [], "*"
    while cursor:
        body = get(server, path, cursor=cursor, **{"per-page": 200}, **params).json()
        ids += [r["id"] for r in body["results"]]
        cursor = body["meta"]["next_cursor"]
    return ids


def test_cursor_paging_returns_every_match_once_then_an_empty_page(mock_server):
    params = {"filter": "publication_year:2022"}
    first = get(mock_server, "/works", cursor="*", **{"per-page": 50}, **params).json()
    ids = all_ids(mock_server, "/works", **params)
    assert len(ids) == len(set(ids)) == first["meta"]["count"] > 50
    assert first["meta"]["cost_usd"] > 0 and first["meta"]["per_page"] == 50


def test_or_and_negation(mock_server):
    both = set(all_ids(mock_server, "/works", filter="type:article|review"))
    articles = set(all_ids(mock_server, "/works", filter="type:article"))
    not_article = set(all_ids(mock_server, "/works", filter="type:!article"))
    reviews = set(all_ids(mock_server, "/works", filter="type:review"))
    assert both == articles | reviews and not articles & reviews
    assert not_article >= reviews and not (not_article & articles)


def test_comma_means_and_and_ids_match_short_or_full(mock_server, world):
    institution = world.beijing_institution_ids[0]
    short = set(all_ids(mock_server, "/works", filter=f"authorships.institutions.id:{institution},publication_year:2021"))
    full = set(all_ids(mock_server, "/works", filter=f"institutions.id:https://openalex.org/{institution},publication_year:2021"))
    assert short == full and short
    for work_id in short:
        work = mock_server.data.works.by_id[work_id.rsplit("/", 1)[-1].lower()]
        assert work["publication_year"] == 2021


def test_date_range_filters(mock_server):
    ids = all_ids(mock_server, "/works", filter="from_publication_date:2022-03-01,to_publication_date:2022-03-31")
    dates = {mock_server.data.works.by_id[i.rsplit("/", 1)[-1].lower()]["publication_date"] for i in ids}
    assert ids and all("2022-03-01" <= d <= "2022-03-31" for d in dates)


def test_select_returns_only_the_chosen_fields(mock_server):
    body = get(mock_server, "/works", select="id,publication_year", **{"per-page": 3}).json()
    assert all(set(r) == {"id", "publication_year"} for r in body["results"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "author_name:x"}, "author_name is not a valid field"),
        ({"select": "id,nonsense"}, "nonsense is not a valid select field"),
        ({"per-page": "201"}, "per-page must be between 1 and 200"),
        ({"cursor": "garbage!"}, "is not valid"),
        ({"filter": "publication_year:abc"}, "Invalid filter"),
        ({"colour": "blue"}, "colour is not a valid parameter"),
        ({"group_by": "author_name"}, "author_name is not a valid group_by field"),
        ({"group_by": "type:sometimes"}, "is not a valid group_by field"),
        ({"filter": "type:>article"}, "invalid comparison"),
    ],
)
def test_bad_requests_get_openalex_style_400(mock_server, params, message):
    response = get(mock_server, "/works", **params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "message"} and message in body["message"]


def test_sources_by_openalex_id_list_and_institutions_by_country(mock_server, world):
    wanted = [s["id"].rsplit("/", 1)[-1] for s in world.sources[:3]]
    body = get(mock_server, "/sources", filter="openalex:" + "|".join(wanted), select="id,country_code").json()
    assert sorted(r["id"].rsplit("/", 1)[-1] for r in body["results"]) == sorted(wanted)
    cn = get(mock_server, "/institutions", filter="country_code:cn", **{"per-page": 200}).json()
    assert cn["results"] and all(r["country_code"] == "CN" for r in cn["results"])


def test_single_record_and_404(mock_server, world):
    work_id = world.works[0]["id"].rsplit("/", 1)[-1]
    assert get(mock_server, f"/works/{work_id}").json()["id"].endswith(work_id)
    assert get(mock_server, "/works/W1").status_code == 404
    assert get(mock_server, "/authors").status_code == 404


def test_api_key_by_parameter_or_bearer_header(mock_server):
    mock_server.api_key = "k"
    assert get(mock_server, "/works").status_code == 401
    assert get(mock_server, "/works", api_key="k").status_code == 200
    headers = {"Authorization": "Bearer k"}
    assert requests.get(mock_server.url + "/works", headers=headers, timeout=10).status_code == 200


def test_rate_limit_headers_and_429_with_retry_after(mock_server):
    ok = get(mock_server, "/works")
    assert float(ok.headers["X-RateLimit-Cost-USD"]) > 0
    mock_server.faults.script = ["429", "500"]
    mock_server.faults.retry_after = 2
    limited = get(mock_server, "/works")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert get(mock_server, "/works").status_code == 500


def test_truncated_bodies_are_cut_short(mock_server):
    mock_server.faults.script = ["truncate"] * 4
    broken = 0
    for _ in range(4):
        try:
            json.loads(requests.get(mock_server.url + "/works?per-page=50", timeout=10).content)
        except (ValueError, requests.exceptions.ChunkedEncodingError):
            broken += 1
    assert broken == 4


def test_failure_rate_and_latency_switches(mock_data):
    faults = Faults(failure_rate=0.5, latency=(0.05, 0.06))
    with MockOpenAlexServer(mock_data, faults=faults, seed=3) as server:
        statuses = [get(server, "/works", **{"per-page": 1}).status_code for _ in range(20)]
    assert {429, 500, 200} <= set(statuses)
    assert 4 <= statuses.count(200) <= 16


def test_filter_parsing_rejects_a_clause_without_value(mock_data):
    with pytest.raises(QueryRejected):
        mock_data.works.matching("publication_year")


def test_real_records_and_traps_are_served(mock_server, shared_data):
    # A CAS institute outside Beijing (USTC, Hefei) carries CAS in its lineage.
    lineage = set(all_ids(mock_server, "/institutions", filter="lineage:I19820366"))
    assert "https://openalex.org/I126520041" in lineage
    assert all_ids(mock_server, "/works", filter="authorships.institutions.id:I99065089")


def test_runs_as_a_module_and_prints_its_url(shared_data):
    process = subprocess.Popen(
        [sys.executable, "-m", "selection.openalex.mockserver", "--shared-data", str(shared_data)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:")
        url = line.split()[-1]
        assert requests.get(url + "/works?per-page=1", timeout=10).json()["meta"]["count"] > 500
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_empty_data_still_answers(tmp_path):
    with MockOpenAlexServer(MockData([], [], [])) as server:
        body = get(server, "/works", cursor="*").json()
    assert body["meta"]["count"] == 0 and body["meta"]["next_cursor"] is None


def all_groups(server, **params) -> tuple[list[dict], list[dict]]:
    """Every group of a grouped query through cursor paging, and each page's meta."""
    groups, metas, cursor = [], [], "*"
    while cursor:
        body = get(server, "/works", cursor=cursor, **params).json()
        assert body["results"] == []
        groups += body["group_by"]
        metas.append(body["meta"])
        cursor = body["meta"]["next_cursor"]
    return groups, metas


def _records(server, filter_text: str) -> list[dict]:
    return [server.data.works.records[p] for p in server.data.works.matching(filter_text)]


def test_group_by_counts_each_group_and_pages_by_key(mock_server):
    filter_text = "publication_year:2022,type:article|review"
    groups, metas = all_groups(mock_server, filter=filter_text, group_by="primary_topic.id", **{"per-page": 40})
    records = _records(mock_server, filter_text)
    expected = Counter(w["primary_topic"]["id"] for w in records if w.get("primary_topic"))
    assert {g["key"]: g["count"] for g in groups} == expected and len(expected) > 80
    assert [g["key"] for g in groups] == sorted(expected)  # paging sorts by key, each group once
    assert all(g["key"].startswith("https://openalex.org/T") and g["key_display_name"] for g in groups)
    assert all(m["count"] == len(records) for m in metas)
    assert [m["groups_count"] for m in metas] == [40] * (len(metas) - 2) + [len(expected) % 40 or 40, None]


def test_group_by_without_cursor_gives_the_largest_groups(mock_server):
    body = get(mock_server, "/works", group_by="primary_topic.subfield.id").json()
    counts = [g["count"] for g in body["group_by"]]
    assert counts == sorted(counts, reverse=True) and body["meta"]["groups_count"] == len(counts) <= 200
    assert body["group_by"][0]["key"].startswith("https://openalex.org/subfields/")
    assert body["meta"]["next_cursor"] is None
    by_pyalex_name = get(mock_server, "/works", **{"group-by": "primary_topic.subfield.id"}).json()
    assert by_pyalex_name["group_by"] == body["group_by"]


def test_group_by_a_list_field_counts_a_work_once_per_value(mock_server):
    filter_text = "cited_by_count:>20"
    groups, _ = all_groups(mock_server, filter=filter_text, group_by="authorships.countries")
    records = _records(mock_server, filter_text)
    expected = Counter(
        f"https://openalex.org/countries/{c}" for w in records
        for c in {c for a in w.get("authorships") or [] for c in a.get("countries") or []}
    )
    assert records and all(w["cited_by_count"] > 20 for w in records)
    assert {g["key"]: g["count"] for g in groups} == expected
    unknown, _ = all_groups(mock_server, filter=filter_text, group_by="authorships.countries:include_unknown")
    without_country = sum(1 for w in records if not any(a.get("countries") for a in w.get("authorships") or []))
    assert {g["key"]: g["count"] for g in unknown} == {**expected, **({"unknown": without_country} if without_country else {})}


def test_citation_histogram_and_topic_filters(mock_server, world):
    work = next(w for w in world.works if w.get("primary_topic"))
    subfield = work["primary_topic"]["subfield"]["id"].rsplit("/", 1)[-1]
    filter_text = f"primary_topic.subfield.id:{subfield},publication_year:{work['publication_year']}"
    groups, _ = all_groups(mock_server, filter=filter_text, group_by="cited_by_count")
    records = _records(mock_server, filter_text)
    assert {g["key"]: g["count"] for g in groups} == Counter(str(w["cited_by_count"]) for w in records)
    assert work in records and all(w["primary_topic"]["subfield"]["id"].endswith(f"/{subfield}") for w in records)
    topic = work["primary_topic"]["id"]
    by_full_id = set(all_ids(mock_server, "/works", filter=f"primary_topic.id:{topic}"))
    assert work["id"] in by_full_id
    assert set(all_ids(mock_server, "/works", filter=f"primary_topic.id:{topic.rsplit('/', 1)[-1].lower()}")) == by_full_id
    assert all(mock_server.data.works.by_id[i.rsplit("/", 1)[-1].lower()]["primary_topic"]["id"] == topic for i in by_full_id)


def test_cites_and_country_negation(mock_data):
    cited = mock_data.works.records[0]
    citers = [
        {"id": "https://openalex.org/W1", "referenced_works": [cited["id"]], "authorships": [{"countries": ["CN", "US"]}]},
        {"id": "https://openalex.org/W2", "referenced_works": [cited["id"]], "authorships": [{"countries": ["DE"]}]},
        {"id": "https://openalex.org/W3", "referenced_works": [cited["id"]], "authorships": [{"countries": []}]},
        {"id": "https://openalex.org/W4", "referenced_works": [], "authorships": [{"countries": ["DE"]}]},
    ]
    with MockOpenAlexServer(MockData([cited, *citers], [], [])) as server:
        short = cited["id"].rsplit("/", 1)[-1]
        body = get(server, "/works", filter=f"cites:{short}", group_by="authorships.countries").json()
        assert body["meta"]["count"] == 3
        assert {g["key_display_name"]: g["count"] for g in body["group_by"]} == {"CN": 1, "US": 1, "DE": 1}
        no_china = get(server, "/works", filter=f"cites:{short},authorships.countries:!cn", select="id").json()
        assert sorted(r["id"] for r in no_china["results"]) == ["https://openalex.org/W2", "https://openalex.org/W3"]
