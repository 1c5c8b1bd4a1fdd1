"""Referral, update and discharge letters: the clinic's address book of recipients
(`recipients`), its letter templates (`defaults`, edited in the clinic's settings), and the
letters written from a patient's chart (`compose` prefills them from the record, `document`
makes the PDF, `services` keeps and sends them, `views` the pages)."""
