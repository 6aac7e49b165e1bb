"""The report sessions' services, one module per concern: ``sessions`` (the session, its
co-hosts, speakers from the locked results, the timetable and the month's warnings),
``invitations`` (inviting, the personal link and its answers, reminders, expiry, the next
speaker to offer) and ``publishing`` (what is missing, the released versions, who is told)."""
