"""The task agreement (任务书) of an approved project, generated from the application and its
category (indicators, amount, tranches): a DOCX written with python-docx and a PDF rendered by
WeasyPrint from an HTML template with a CJK font; staff record the signing date."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import func, select

from conference_app.core.layout import money
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.models import Application
from conference_app.programs.services import messages
from conference_app.programs.services.calls import call_definition
from conference_app.programs.workflow import APPLICATION

CJK_FONT = "WenQuanYi Micro Hei"
WHEN_ZH = {"on_approval": "立项后", "after_midterm": "中期评估后", "after_acceptance": "验收后"}


def assign_agreement_number(application: Application) -> str:
    """``<call year>-<category>-<nnn>``, numbered in the order projects reach their agreement."""
    prefix = f"{application.call.year}-{application.category.code}-"
    taken = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.agreement_number.like(f"{prefix}%")))
    application.agreement_number = f"{prefix}{taken + 1:03d}"
    return application.agreement_number


def signing_refusal(application: Application) -> str | None:
    if not application.agreement_number:
        return _("The task agreement has no number yet.")
    if application.agreement_signed_on is None:
        return _("Give the date the task agreement was signed.")
    return None


def record_signing(application: Application, signed_on: date, *, actor) -> None:
    """The agreement signed on ``signed_on``: the project is under way."""
    if signed_on is None or signed_on > beijing_today():
        raise ServiceError(_("The signing date cannot be in the future."))
    application.agreement_signed_on = signed_on
    APPLICATION.apply(application, "sign_agreement", actor=actor, details={"signed_on": signed_on.isoformat()})
    messages.tell_applicant(application, "agreement_signed")


@dataclass(frozen=True)
class AgreementText:
    """What both renderings of an agreement say, in the call's Chinese."""

    number: str
    call_title: str
    category_name: str
    project_name: str
    organisation: str
    co_organisers: list[tuple[str, str]]
    period: str
    amount: str
    tranches: list[tuple[str, str, str]]  # (when, percent, amount)
    indicators: list[tuple[str, str]]  # (code, text)
    budget: list[tuple[str, str]]
    recovery: str


def agreement_text(application: Application) -> AgreementText:
    definition = call_definition(application.call)
    category = definition.category(application.category.code)
    period = category.period
    tranches = application.tranches
    return AgreementText(
        number=application.agreement_number or "—",
        call_title=definition.title_zh,
        category_name=category.name_zh,
        project_name=application.project_name_zh,
        organisation=application.organisation.name_zh,
        co_organisers=[(c.name, c.responsibility) for c in application.co_organisers],
        period=f"{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}" if period else "—",
        amount=money(application.requested_fen),
        tranches=[(WHEN_ZH.get(str(t.when), str(t.when)), f"{t.percent}%", money(t.amount_fen)) for t in tranches],
        indicators=[(indicator.code, indicator.text_zh) for indicator in category.all_indicators(application.form_code)],
        budget=[(line.item, money(line.amount_fen)) for line in application.budget_lines],
        recovery=definition.recovery.text_zh if definition.recovery else "",
    )


def _docx_font(run, size: int | None = None) -> None:
    run.font.name = CJK_FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), CJK_FONT)
    if size:
        run.font.size = Pt(size)


def agreement_docx(application: Application) -> bytes:
    text = agreement_text(application)
    document = Document()
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_font(heading.add_run(f"{text.call_title}\n项目任务书"), 18)
    for label, value in (("任务书编号", text.number), ("项目类别", text.category_name), ("项目名称", text.project_name),
                         ("承担单位", text.organisation), ("执行期", text.period), ("资助金额", text.amount)):
        paragraph = document.add_paragraph()
        _docx_font(paragraph.add_run(f"{label}：{value}"), 11)
    sections = [("一、联合承办单位及其责任", [f"{name}：{duty}" for name, duty in text.co_organisers] or ["无"]),
                ("二、绩效指标", [f"{code}. {body}" for code, body in text.indicators]),
                ("三、经费拨付", [f"{when}拨付 {percent}，计 {amount}" for when, percent, amount in text.tranches]),
                ("四、经费预算", [f"{item}：{amount}" for item, amount in text.budget]),
                ("五、经费收回", [text.recovery or "按申报指南执行"])]
    for title, lines in sections:
        _docx_font(document.add_paragraph().add_run(title), 13)
        for line in lines:
            _docx_font(document.add_paragraph().add_run(line), 11)
    for line in ("承担单位（盖章）：", "北京市科学技术协会学会部（盖章）：", "签订日期：    年    月    日"):
        _docx_font(document.add_paragraph().add_run(line), 11)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def agreement_pdf(application: Application) -> bytes:
    from weasyprint import HTML

    html = render_template("programs/agreement.html", text=agreement_text(application), font=CJK_FONT)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()
