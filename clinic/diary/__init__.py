"""The patient's diary: sessions done or skipped, corrections, and the red flags they raise."""
