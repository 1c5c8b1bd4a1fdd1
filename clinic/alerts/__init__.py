"""Alerts: a patient's report that needs review reaches the clinic at once, and escalates
while nobody acknowledges it.

1. A red flag saved (clinic.diary raises them) posts a message into the outbox, in the
   same transaction, to the patient's responsible clinician (every clinician of the clinic
   when there is none, or they cannot sign in) and to the clinic's duty address if it has
   one. Nothing on the write paths calls this: `clinic.alerts.upkeep` notices new flags
   in the session, as the dashboard summaries are kept (clinic.monitoring.upkeep). The
   flags one entry raises together make one message per recipient.
2. A periodic job (`clinic.alerts.jobs`) escalates the flags still open after the clinic's
   first-level time (working hours, clinic.domain.working_hours) to every clinician and
   administrator, and again after the second-level time (calendar hours). Each level goes
   once per recipient.
3. Acknowledging every flag of an entry withdraws the messages about it that have not gone
   out yet, and no new ones are posted.

Messages say only that a patient needs review, with a link to sign in (see
clinic.outbox); never the patient, the reason, or anything about their health.
"""
