"""The clinician's home page: who needs attention today, and why."""
