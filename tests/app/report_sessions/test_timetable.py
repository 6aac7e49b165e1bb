"""The pure timetable: times from a start and durations, and the warnings of a month."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from conference_app.core.timeutil import BEIJING
from conference_app.report_sessions.timetable import (
    MATCHED_BY_ACCOUNT,
    MATCHED_BY_NAME,
    Block,
    Booking,
    Person,
    find_warnings,
    lay_out,
    normalise,
    same_person,
)

START = datetime(2026, 10, 20, 9, 0, tzinfo=BEIJING)


def test_blocks_follow_one_another_from_the_start():
    timed = lay_out(START, [Block("a", "talk", 20), Block("b", "qa", 10), Block("c", "break", 15)])
    assert [(block.key, block.starts_at.strftime("%H:%M"), block.ends_at.strftime("%H:%M")) for block in timed] == [
        ("a", "09:00", "09:20"), ("b", "09:20", "09:30"), ("c", "09:30", "09:45")]
    reordered = lay_out(START, [Block("c", "break", 15), Block("a", "talk", 20)])
    assert [block.starts_at.strftime("%H:%M") for block in reordered] == ["09:00", "09:15"]
    assert lay_out(START, []) == []
    with pytest.raises(ValueError):
        lay_out(START, [Block("x", "talk", 0)])


def test_names_and_institutions_compare_without_case_spaces_or_punctuation():
    assert normalise(" Wang  Wei ") == normalise("wang-wei") == "wangwei"
    assert normalise("清华大学 ") == normalise("清华大学")
    assert normalise("ＡＢＣ") == "abc"  # full-width letters (NFKC)


@pytest.mark.parametrize(("a", "b", "matched"), [
    (Person("王伟", "清华大学", 7), Person("Wang Wei", "Tsinghua", 7), MATCHED_BY_ACCOUNT),
    (Person("王伟", "清华大学", 7), Person("王伟", "清华大学", 8), None),  # two accounts are two people
    (Person("王伟", "清华大学"), Person("王 伟", "清华大学 ", 8), MATCHED_BY_NAME),
    (Person("王伟", "清华大学"), Person("王伟", "北京大学"), None),
    (Person("王伟", None), Person("王伟", ""), MATCHED_BY_NAME),
    (Person("", None), Person("", None), None),
])
def test_a_person_is_matched_by_account_or_by_name_and_institution(a, b, matched):
    assert same_person(a, b) == matched


def booking(key, start_hour, end_hour, *, venue="报告厅", district="haidian", people=(), report=True, day=20,
            programme_end=None):
    day_start = datetime(2026, 10, day, tzinfo=BEIJING)
    return Booking(key, f"会{key}", day_start + timedelta(hours=start_hour), day_start + timedelta(hours=end_hour),
                   venue=venue, district=district, people=tuple(people), is_report_session=report,
                   programme_ends_at=programme_end)


def test_a_person_in_two_overlapping_sessions_is_warned_of_once_per_pair():
    speaker = Person("王伟", "清华大学", None, "speaker")
    warnings = find_warnings([booking(1, 9, 12, people=[speaker], venue="A厅"),
                              booking(2, 11, 13, people=[Person("王伟", "清华大学"), speaker], venue="B厅"),
                              booking(3, 12, 14, people=[speaker], venue="C厅")], focus=[1])
    assert [(w.code, w.bookings, w.matched_by) for w in warnings] == [("person_overlap", (1, 2), MATCHED_BY_NAME)]


def test_touching_sessions_do_not_overlap_and_online_events_book_no_room():
    assert find_warnings([booking(1, 9, 12), booking(2, 12, 14)]) == []
    assert find_warnings([booking(1, 9, 12), booking(2, 10, 11, venue=None)]) == []
    assert find_warnings([booking(1, 9, 12, district="haidian"), booking(2, 10, 11, district="chaoyang")]) == []


def test_one_room_twice_at_one_time_is_warned_of():
    warnings = find_warnings([booking(1, 9, 12, venue="北京科学中心 报告厅"),
                              booking(2, 10, 11, venue="北京科学中心报告厅", report=False)], focus=[1])
    assert [(w.code, w.bookings) for w in warnings] == [("venue_overlap", (1, 2))]


def test_a_session_outside_its_edition_and_a_timetable_too_long_are_warned_of():
    late = booking(1, 9, 12, day=30)
    long = booking(2, 9, 12, venue="B厅", programme_end=datetime(2026, 10, 20, 12, 30, tzinfo=BEIJING))
    other = booking(3, 9, 12, day=30, venue="C厅", report=False)  # not a report session: not checked
    warnings = find_warnings([late, long, other], first_day=date(2026, 10, 1), last_day=date(2026, 10, 25),
                             zone=BEIJING)
    assert sorted((w.code, w.bookings) for w in warnings) == [("outside_edition", (1,)), ("runs_over", (2,))]


def test_the_focus_keeps_only_the_warnings_of_the_focused_sessions():
    person = Person("王伟", "清华大学")
    bookings = [booking(1, 9, 12, venue="A厅"), booking(2, 9, 12, venue="B厅", people=[person]),
                booking(3, 9, 12, venue="B厅", people=[person], report=False)]
    assert find_warnings(bookings, focus=[1]) == []
    assert len(find_warnings(bookings)) == 2  # 2 and 3: the same room and the same person
