"""Two-factor sign-in: an authenticator app's six-digit codes (TOTP) and ten single-use recovery
codes, with django-otp's devices and throttling. Staff and partners alike; an owner may require it for
a workspace, and reset a member's second factor when the phone is lost."""
