"""The clinical safety case: the intended use (shown on the About page) and the hazard log
(shown to administrators and printed for the clinic's Clinical Safety Officer), both kept
in docs/safety/ and read from there."""
