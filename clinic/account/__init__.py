"""The signed-in person's own account: password, email and two-factor sign-in."""
