"""Frontier-results report sessions (首都前沿学术成果报告会): a category-F project's session in
the Academic Month, built from an expert panel's locked results: talks by the results' Beijing
authors, discussion guests, the timetable, invitations by personal link, published versions."""
