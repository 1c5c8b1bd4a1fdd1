"""The patient portal (a "therapy diary"): patients see only their own record."""
