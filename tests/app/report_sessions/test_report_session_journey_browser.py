"""Acceptance 4 of the report-sessions issue in Chromium, end to end: an organiser (the society
of a funded category-F project) starts a session from an expert panel's 20 locked results,
adds five talks, invites five authors and two discussion guests (an expert's account and a
person typed in); the invitees answer through the personal links of their mails (four on
site, one remotely, both guests accept); the organiser reorders the talks with the keyboard
and publishes; an anonymous visitor finds the session, opens its programme and downloads it
as .ics (five talks) and as a PDF whose Chinese glyphs are real (the text extracts, and the
page's text is drawn with an embedded WenQuanYi/CJK font: WeasyPrint compresses its object
streams, so the font is read through pdfium, not searched in the bytes). Screenshots: test-artifacts/report-session-NN-*.png."""

from __future__ import annotations

import ctypes
import email
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from conference_app.accounts.models import User
from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.events.models import AcademicMonthEdition
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from conference_app.programs.models import Application
from conference_app.report_sessions.models import Slot
from tests.app.conftest import ARTIFACTS_DIR, screenshot
from tests.app.organisations.test_journey_browser import log_in
from tests.app.programs.helpers import category, open_call
from tests.app.report_sessions.conftest import locked_panel

ORGANISER, PASSWORD = "organiser@physics-journey.example.cn", "Report-Session-2026"
TITLE = "首都前沿学术成果报告会（物理学）第一场"
TALKS = 5
LINK = re.compile(r"https?://[^\s<>\"]+(/report-sessions/invitations/[A-Za-z0-9._\-]+)")


def seed(app) -> dict:
    """The world in the live server's database: the call, the society's funded category-F
    project and its organiser, an edition from 20 days on, a locked panel of 20 results, two
    experts."""
    with app.app_context():
        call = open_call()
        society = Organisation(name_zh="中国物理学会北京分会", org_type="society", status="approved",
                               credit_code=make_credit_code("51110000600008888"))
        db.session.add(society)
        db.session.flush()
        organiser = User(email=ORGANISER, name="组织者", role=Role.SOCIETY.value, organisation_id=society.id)
        organiser.set_password(PASSWORD)
        experts = [User(email=f"expert{n}@cas.example.cn", name=name, role=Role.EXPERT.value)
                   for n, name in ((1, "钱专家"), (2, "孙专家"))]
        for expert in experts:
            expert.set_password(PASSWORD)
        project = Application(call_id=call.id, category_id=category(call, "F").id, organisation_id=society.id,
                              status="in_progress", project_name_zh="首都前沿学术成果报告会（物理学）",
                              requested_fen=8_000_000)
        start = beijing_today() + timedelta(days=20)
        edition = AcademicMonthEdition(number=29, year=start.year, starts_on=start, ends_on=start + timedelta(days=50))
        db.session.add_all([organiser, *experts, project, edition])
        db.session.commit()
        panel = locked_panel()
        results = sorted(panel.results, key=lambda result: result.position)
        return {"project": project.id, "edition": edition.id, "panel": panel.id, "day": start + timedelta(days=5),
                "candidates": [result.candidate_id for result in results],
                "titles": [result.candidate.title for result in results],
                "expert": (experts[0].id, experts[0].email)}


def slot_order(app, session_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Slot.id).where(Slot.session_id == session_id).order_by(Slot.position)))


def invitation_links(outbox: Path) -> dict[str, str]:
    """Each invitee's address and the path of the personal link in their (latest) mail."""
    links = {}
    for path in sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html")).get_content()
        found = LINK.search(body)
        if found:
            links[str(message["To"])] = found.group(1)
    return links


def fonts_of_text(page) -> set[tuple[str, bool]]:
    """The (base font name, embedded) of each font the page's text is drawn with."""
    fonts = set()
    for text_object in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        font = pdfium_c.FPDFTextObj_GetFont(text_object.raw)
        size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
        buffer = ctypes.create_string_buffer(size)
        pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
        fonts.add((buffer.value.decode(), bool(pdfium_c.FPDFFont_GetIsEmbedded(font))))
    return fonts


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.browser
def test_an_organiser_builds_a_session_the_invitees_answer_and_a_visitor_downloads_the_programme(
        live_server, browser, page):
    base, app = live_server.url, live_server.app
    world = seed(app)

    # 1. The organiser starts a session from the locked panel.
    log_in(page, base, ORGANISER, PASSWORD)
    page.wait_for_url("**/home")
    page.goto(f"{base}/manage/report-sessions/new")
    form = page.get_by_test_id("session-form")
    form.locator("#project").select_option(str(world["project"]))
    form.locator("#edition").select_option(str(world["edition"]))
    form.locator("#panel").select_option(str(world["panel"]))
    form.locator("#title_zh").fill(TITLE)
    day = world["day"].isoformat()
    form.locator("#starts_at").fill(f"{day}T09:00")
    form.locator("#ends_at").fill(f"{day}T12:00")
    form.locator("#venue").fill("北京科学中心报告厅")
    form.locator("#district").select_option("haidian")
    form.locator("#capacity").fill("200")
    form.locator("#moderator_name").fill("赵主持")
    form.locator("#moderator_institution").fill("北京大学")
    screenshot(page, "report-session-01-new")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/manage/report-sessions/\d+$"))
    session_id = int(re.search(r"/(\d+)$", page.url).group(1))
    session_url = f"{base}/manage/report-sessions/{session_id}"
    expect(page.get_by_test_id("session-title")).to_contain_text(TITLE)
    expect(page.get_by_test_id("result")).to_have_count(20)
    screenshot(page, "report-session-02-draft")

    # 2. Five talks from the results, each a click on its result's card.
    for position in range(1, TALKS + 1):
        page.get_by_test_id(f"add-talk-{position}").click()
        expect(page.get_by_test_id(f"add-talk-{position}")).to_have_count(0)
    slots = page.get_by_test_id("timetable").locator("li[data-slot-id]")
    expect(slots).to_have_count(TALKS)
    expect(slots.locator("[data-testid=slot-title]")).to_have_text(world["titles"][:TALKS])
    screenshot(page, "report-session-03-talks")

    # 3. Each talk's first author invited through the invite page.
    speakers = [f"speaker{position}@pku.example.cn" for position in range(1, TALKS + 1)]
    for position, address in enumerate(speakers, 1):
        page.goto(f"{session_url}#speakers")
        card = page.locator(f"#result-{world['candidates'][position - 1]}")
        card.get_by_test_id("author").filter(has_text=f"王{position}首").get_by_test_id("invite-author").click()
        expect(page.get_by_test_id("talk-result")).to_have_text(world["titles"][position - 1])
        page.locator("input[name=author_index]").locator("xpath=..").filter(has_text=f"王{position}首") \
            .locator("input").check()
        page.fill("#email", address)
        if position == 1:
            screenshot(page, "report-session-04-invite-speaker")
        page.get_by_test_id("send-invitation").click()
        page.wait_for_url(re.compile(rf"/manage/report-sessions/{session_id}(\?.*)?(#.*)?$"))
        invited = page.locator(f"#result-{world['candidates'][position - 1]}").get_by_test_id("invitation-status")
        expect(invited).to_have_count(1)
    expect(page.get_by_test_id("slot-speaker").filter(has_text="王")).to_have_count(TALKS)

    # 4. Two discussion guests: an expert's account, then a person typed in.
    expert_id, expert_email = world["expert"]
    guest_form = page.get_by_test_id("invite-guest")
    guest_form.locator("summary").click()
    guest_form.locator("#user_id").select_option(str(expert_id))
    screenshot(page, "report-session-05-invite-expert-guest")
    guest_form.get_by_test_id("invite-guest-submit").click()
    expect(page.get_by_test_id("guest")).to_have_count(1)
    guest_form = page.get_by_test_id("invite-guest")
    guest_form.locator("summary").click()
    guest_form.locator("#name").fill("周嘉宾")
    guest_form.locator("#email").fill("zhou@tsinghua.example.cn")
    guest_form.locator("#institution").fill("清华大学")
    guest_form.get_by_test_id("invite-guest-submit").click()
    expect(page.get_by_test_id("guest")).to_have_count(2)
    expect(page.get_by_test_id("guests")).to_contain_text("钱专家")
    expect(page.get_by_test_id("guests")).to_contain_text("周嘉宾")
    expect(page.get_by_test_id("publish")).to_be_disabled()
    expect(page.get_by_test_id("missing")).to_be_visible()
    screenshot(page, "report-session-06-invited")

    # 5. The invitees answer through the links of their mails: four speakers on site, one
    # remotely, both guests accept; each in a browser of their own, not logged in.
    links = invitation_links(Path(app.config["MAIL_OUTBOX_DIR"]))
    invitees = [*speakers, expert_email, "zhou@tsinghua.example.cn"]
    assert set(invitees) <= set(links), links
    invitee_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    invitee = invitee_context.new_page()
    try:
        for n, address in enumerate(invitees):
            attendance = "remote" if address == speakers[-1] else "on_site"
            invitee.goto(f"{base}{links[address]}")
            expect(invitee.get_by_test_id("invitation-session")).to_contain_text(TITLE)
            invitee.locator(f"input[name=attendance][value={attendance}]").check()
            if n == 0:
                screenshot(invitee, "report-session-07-invitation")
            invitee.get_by_test_id("accept-button").click()
            expect(invitee.get_by_test_id("invitation-status")).to_contain_text("已接受")
            expect(invitee.get_by_test_id("invitation-attendance")).to_contain_text(
                "线上" if attendance == "remote" else "现场")
            if n == 0:
                screenshot(invitee, "report-session-08-accepted")
            if attendance == "remote":
                screenshot(invitee, "report-session-09-accepted-remote")
    finally:
        invitee_context.close()

    # 6. The organiser sees the answers and orders the talks with the keyboard: the first talk
    # down once (Enter), the last talk up once (Space). From the list of their sessions.
    page.goto(f"{base}/manage/report-sessions/")
    page.get_by_role("link", name=TITLE).first.click()
    page.wait_for_url(f"**/manage/report-sessions/{session_id}")
    expect(page.get_by_test_id("missing")).to_have_count(0)
    expect(page.get_by_test_id("ready")).to_be_visible()
    expect(page.get_by_test_id("invitation-attendance")).to_have_count(TALKS + 2)
    before = slot_order(app, session_id)
    first, last = before[0], before[-1]
    page.locator(f"#slot-{first} [data-move=down]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(f"#slot-{first} [data-move=down]")).to_be_focused()
    page.locator(f"#slot-{last} [data-move=up]").focus()
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator(f"#slot-{last} [data-move=up]")).to_be_focused()
    after = [before[1], first, before[2], last, before[3]]
    assert slot_order(app, session_id) == after != before
    titles = world["titles"]
    ordered = [titles[1], titles[0], titles[2], titles[4], titles[3]]
    expect(page.get_by_test_id("timetable").locator("[data-testid=slot-title]")).to_have_text(ordered)
    expect(page.locator(f"#slot-{before[1]} [data-start]")).to_have_text("09:00")
    expect(page.locator(f"#slot-{first} [data-start]")).to_have_text("09:20")
    screenshot(page, "report-session-10-reordered")

    # 7. Publishing.
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("session-status")).to_contain_text("已发布")
    expect(page.get_by_test_id("up-to-date")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_count(1)
    screenshot(page, "report-session-11-published")

    # 8. An anonymous visitor: the list, the programme, the .ics and the PDF.
    visitor_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    visitor = visitor_context.new_page()
    try:
        visitor.goto(f"{base}/report-sessions/")
        listed = visitor.get_by_test_id("report-session")
        expect(listed).to_have_count(1)
        expect(listed.get_by_test_id("report-session-title")).to_contain_text(TITLE)
        screenshot(visitor, "report-session-12-public-list")
        listed.click()
        visitor.wait_for_url(f"**/report-sessions/{session_id}")
        expect(visitor.get_by_test_id("programme-title")).to_contain_text(TITLE)
        talks = visitor.get_by_test_id("timetable").get_by_test_id("slot-talk")
        expect(talks.get_by_test_id("slot-title")).to_have_text(ordered)
        expect(talks.get_by_test_id("slot-speaker")).to_contain_text(["王2首", "王1首", "王3首", "王5首", "王4首"])
        expect(visitor.get_by_test_id("programme-guests")).to_contain_text("钱专家")
        expect(visitor.get_by_test_id("programme-guests")).to_contain_text("周嘉宾")
        expect(talks.nth(3).get_by_test_id("attendance")).to_contain_text("线上")
        screenshot(visitor, "report-session-13-programme")

        with visitor.expect_download() as ics_download:
            visitor.get_by_test_id("programme-ics").click()
        calendar = Calendar.from_ical(Path(ics_download.value.path()).read_bytes())
        entries = calendar.walk("VEVENT")
        assert len(entries) == TALKS
        assert [str(entry["summary"]).split("（")[0] for entry in entries] == ordered
        assert "王2首" in str(entries[0]["summary"])

        with visitor.expect_download() as pdf_download:
            visitor.get_by_test_id("programme-pdf").click()
        assert pdf_download.value.suggested_filename.endswith(".pdf")
        data = Path(pdf_download.value.path()).read_bytes()
    finally:
        visitor_context.close()

    # The PDF's glyphs are real: the Chinese title extracts as text, a CJK font is embedded,
    # and its first page renders (test-artifacts/report-session-14-pdf-page1.png).
    document = pypdfium2.PdfDocument(data)
    text = squeezed("".join(document[n].get_textpage().get_text_range() for n in range(len(document))))
    assert squeezed(TITLE) in text and "王2首" in text and "周嘉宾" in text
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    (ARTIFACTS_DIR / "report-session-programme.pdf").write_bytes(data)
    fonts = fonts_of_text(document[0])
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert any("WenQuanYi" in name or "CJK" in name for name, _embedded in fonts), fonts
    image = document[0].render(scale=1.5).to_pil()
    image.save(ARTIFACTS_DIR / "report-session-14-pdf-page1.png")
    # Not a blank page: some of it is ink.
    dark = sum(image.convert("L").histogram()[:128])
    assert dark > 0.005 * image.width * image.height
