"""The MDT pack: one PDF for the team's weekly meeting, with a contents page and one
summary page per chosen patient.

A clinician ticks patients of their clinic (their own running programs are ticked for
them), picks the meeting date and downloads the pack; it is made on request and not kept
(the record keeps progress reports; a pack is a working paper for one meeting). Each page
gives the figures of the last four weeks from the same rules as the timeline and the
dashboard (`clinic.monitoring`), the flags of those weeks with how each was handled (and
any still open), the latest decision recorded, the system's suggestion with its reasons,
and a small pain chart. Wording about adherence stays neutral: sessions completed of
sessions prescribed.
"""
