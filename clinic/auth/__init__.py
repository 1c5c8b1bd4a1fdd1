"""Sign-in (password, second factor), sign-out, server-side sessions and idle time-outs,
rate limits and back-off, invitations and password resets."""
