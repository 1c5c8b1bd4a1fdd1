"""The clinic's FHIR R4 API for systems the clinic authorises: bearer tokens an
administrator issues (tokens), the read API and referral import under /fhir/r4/ (views),
the answers it gives when something is wrong (outcomes), what arrives as a referral
(referrals) and the administrator's pages for tokens and referrals (admin)."""
