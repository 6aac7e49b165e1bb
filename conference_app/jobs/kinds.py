"""The job kinds of this package: the OpenAlex harvest (``selection.harvest``) into the job's folder.

Parameters (``start_job("harvest", params, user, secrets={"api_key": ...})``): the window as
``from_year`` and ``to_year`` (or ``years``: [from, to] or "2021-2025"; stored as the two),
``disciplines`` (keys, optional), ``base_url`` (default ``OPENALEX_BASE_URL`` or
api.openalex.org, fixed when the job starts so a resumed run asks the same server),
``mailto``, ``rate`` (requests per second), ``workers``, ``batch_size``, ``split_above`` and
``institutions_path`` (a list file; default: built from the server) as ``python -m
selection harvest`` takes them. Other keys are kept as given (the caller's own references).
The harvest goes into ``<work_dir>/harvest``; a later attempt continues it from its
checkpoints (``--resume``).
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.jobs.registry import JobCancelled, JobContext, job_kind
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.harvest.normalize import MAX_WINDOW_YEARS, MIN_WINDOW_YEARS
from selection.harvest.run import harvest
from selection.harvest.scheduler import HarvestStopped
from selection.harvest.settings import BATCH_SIZE_MAX, DEFAULT_SPLIT_ABOVE, DEFAULT_WORKERS, HarvestSettings
from selection.openalex.client import DEFAULT_BASE_URL, PER_PAGE_MAX, OpenAlexClient, rate_from_environment

HARVEST_FOLDER = "harvest"
MAX_WORKERS = 64
LOG_EVERY_SECONDS = 30.0  # a progress line in the job's log (the progress itself is stored at every report)


class _HarvestCancelled(KeyboardInterrupt):
    """Raised from the harvest's progress callback once the job is cancelled: the harvest then
    stops its workers and records itself interrupted, as after Ctrl-C, so it can be resumed."""


def check_harvest(params: dict) -> dict:
    """The harvest's parameters, checked and completed; a ServiceError names the first problem."""
    years = params.pop("years", None)
    from_year, to_year = _years(years if years is not None else [params.get("from_year"), params.get("to_year")])
    _check_window(from_year, to_year)
    try:
        rate = params.get("rate")
        rate = rate_from_environment() if rate is None else rate
    except SelectionError as error:  # OPENALEX_RATE_LIMIT of the server is wrong
        raise ServiceError(_("The harvest cannot run: %(reason)s", reason=str(error))) from None
    if not _is_number(rate) or rate <= 0:
        raise ServiceError(_("The request rate must be a positive number of requests per second."))
    base_url = params.get("base_url") or os.environ.get("OPENALEX_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(base_url, str) or not re.match(r"https?://[^/\s]+", base_url):
        raise ServiceError(_("The OpenAlex address must be an http(s) URL."))
    mailto = params.get("mailto") or None
    if mailto is not None and (not isinstance(mailto, str) or "@" not in mailto):
        raise ServiceError(_("The contact address must be an e-mail address."))
    institutions_path = params.get("institutions_path") or None
    if institutions_path is not None and not (isinstance(institutions_path, str) and Path(institutions_path).is_file()):
        raise ServiceError(_("The institution list file of the harvest was not found."))
    return {
        **params,
        "from_year": from_year,
        "to_year": to_year,
        "disciplines": _disciplines(params.get("disciplines")),
        "base_url": base_url.rstrip("/"),
        "mailto": mailto,
        "rate": float(rate),
        "workers": _whole(params, "workers", DEFAULT_WORKERS, 1, MAX_WORKERS),
        "batch_size": _whole(params, "batch_size", BATCH_SIZE_MAX, 1, BATCH_SIZE_MAX),
        "split_above": _whole(params, "split_above", DEFAULT_SPLIT_ABOVE, PER_PAGE_MAX, None),
        "institutions_path": institutions_path,
    }


@job_kind("harvest", _l("OpenAlex harvest"), resumable=True, check=check_harvest, start_permission="workbench.view")
def harvest_job(context: JobContext) -> list[dict]:
    """Harvest into ``work_dir/harvest`` (resuming what an earlier attempt left there)."""
    params = context.params
    from_year, to_year = params["from_year"], params["to_year"]
    settings = HarvestSettings(
        from_year=from_year, to_year=to_year, batch_size=params["batch_size"], split_above=params["split_above"],
        workers=params["workers"], disciplines=tuple(params["disciplines"]) if params["disciplines"] else None,
        institutions_path=params["institutions_path"],
    )
    client = OpenAlexClient(base_url=params["base_url"], api_key=context.secrets.get("api_key"),
                            mailto=params["mailto"], rate=params["rate"])
    if client.api_key is None and client.base_url == DEFAULT_BASE_URL:
        raise SelectionError("api.openalex.org needs an API key: start the harvest with one")
    out = context.work_dir / HARVEST_FOLDER
    resume = context.attempt > 1 or (out.is_dir() and any(out.iterdir()))
    context.log(f"harvest {from_year}-{to_year} from {client.base_url}" + (" (resumed)" if resume else ""))
    logged_at = -math.inf

    def on_progress(progress) -> None:
        nonlocal logged_at
        if time.monotonic() - logged_at >= LOG_EVERY_SECONDS:
            logged_at = time.monotonic()
            context.log(progress.describe())
        try:
            context.progress(progress.works_done, progress.works_total, unit=_("works"),
                             eta_seconds=progress.eta_seconds,
                             message=_("%(pages)d pages fetched", pages=progress.pages_done))
        except JobCancelled:
            raise _HarvestCancelled() from None

    try:
        manifest = harvest(client, settings, out, resume=resume, quiet=True, on_progress=on_progress,
                           should_stop=context.cancelled)
    except (_HarvestCancelled, HarvestStopped):
        raise JobCancelled() from None
    counts = manifest["counts"]
    context.log(f"{counts['works']} works ({counts['duplicates_removed']} duplicates removed), "
                f"{manifest['requests']['made']} requests, {manifest['requests']['retries']} retries")
    return [{"label": "works.parquet", "path": f"{HARVEST_FOLDER}/works.parquet"},
            {"label": "manifest.json", "path": f"{HARVEST_FOLDER}/manifest.json"}]


def _years(value) -> tuple[int, int]:
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*-\s*\d{4}\s*", value):
        value = [int(part) for part in value.split("-")]
    if (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(year, int) and not isinstance(year, bool) for year in value)):
        return value[0], value[1]
    raise ServiceError(_("The years of a harvest are its first and last year, such as 2021-2025."))


def _check_window(from_year: int, to_year: int) -> None:
    """The library's window rule (``normalize.check_window``) in the reader's language."""
    this_year = beijing_today().year
    if from_year > to_year:
        raise ServiceError(_("The first year of the harvest comes after its last year."))
    if to_year > this_year:
        raise ServiceError(_("The last year of the harvest lies in the future; give %(year)d or earlier.",
                             year=this_year))
    if not MIN_WINDOW_YEARS <= to_year - from_year + 1 <= MAX_WINDOW_YEARS:
        raise ServiceError(_("A harvest covers %(low)d to %(high)d years.", low=MIN_WINDOW_YEARS,
                             high=MAX_WINDOW_YEARS))


def _disciplines(value) -> list[str] | None:
    if not value:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(key, str) for key in value):
        raise ServiceError(_("The disciplines must be a list of discipline keys."))
    known = load_disciplines()
    unknown = [key for key in value if key not in known]
    if unknown:
        raise ServiceError(_("Unknown disciplines: %(keys)s; valid keys: %(valid)s.", keys=", ".join(unknown),
                             valid=", ".join(known.keys())))
    return list(value)


def _whole(params: dict, name: str, default: int, low: int, high: int | None) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bounds = f"{low}-{high}" if high is not None else f">= {low}"
        raise ServiceError(_("%(name)s must be a whole number (%(bounds)s).", name=name, bounds=bounds))
    return value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
