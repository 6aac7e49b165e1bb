"""Programs: calls as data, applications with eligibility from facts, review, approval,
public notice, task agreements, funds in tranches, indicators evaluated from the events'
facts, acceptance."""
