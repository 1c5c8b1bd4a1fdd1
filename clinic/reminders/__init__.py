"""Patient reminders: the settings page (views, forms), saving choices (services), and the
minute's job that sends what falls due (jobs, sending). The rules: clinic.domain.reminders."""
