from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from accounts.services import normalize_domain


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def clean_username(self) -> str:
        # Addresses are stored lower-case; lowering here also keeps the lockout (by username) from
        # being dodged by retyping the address in another case.
        return self.cleaned_data["username"].lower()


class ResetPasswordForm(PasswordResetForm):
    """Django skips people without a usable password; here that means "not set yet" (an owner made by
    `create_workspace` without --owner-password), and reset is how they set one."""

    def get_users(self, email: str) -> list[User]:
        return list(User.objects.filter(email__iexact=email, is_active=True))


class InviteStaffForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MANAGER)


class DomainForm(forms.Form):
    domain = forms.CharField(label="Domain", max_length=253, help_text="For example shop.example.com")

    def clean_domain(self) -> str:
        try:
            return normalize_domain(self.cleaned_data["domain"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="Where the key is used, e.g. “Checkout server”.")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(SetPasswordForm):
    """New people set a password when they accept; the invitation proves the address."""

    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    field_order = ["first_name", "last_name", "new_password1", "new_password2"]
