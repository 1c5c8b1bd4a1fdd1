"""Patient records: the caseload list, creating and editing records, portal invitations."""
