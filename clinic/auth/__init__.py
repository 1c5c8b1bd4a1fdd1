"""Sign-in, sign-out and accepting invitations."""
