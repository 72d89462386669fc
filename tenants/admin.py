"""Support-staff admin for tenants and credentials.

Secrets never appear after creation: the hash fields are not in any form or list, and a
new or rotated secret is shown once, in the confirmation message of the request that made
it. Members of the ``support-staff`` group (created by a migration) can only view.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import Credential, Tenant
from tenants.scopes import XAPI_SCOPES
from tenants.selectors import credential_cache_discard


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "home_region", "enabled", "created_at")
    list_filter = ("enabled", "home_region")
    search_fields = ("slug", "name")
    readonly_fields = ("created_at",)

    def get_readonly_fields(self, request, obj=None):
        # The slug names the tenant in NATS subjects and URLs; it never changes.
        return (*self.readonly_fields, "slug") if obj else self.readonly_fields


class CredentialForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in XAPI_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    allowed_networks = forms.CharField(
        required=False,
        help_text="Comma-separated CIDR networks; empty means any address.",
    )

    class Meta:
        model = Credential
        fields = ("tenant", "key", "label", "kind", "scopes", "allowed_networks", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_networks"] = ", ".join(self.instance.allowed_networks)

    def clean_scopes(self):
        try:
            return services.scopes_normalize(self.cleaned_data["scopes"])
        except services.TenancyError as exc:
            raise ValidationError(str(exc)) from None

    def clean_allowed_networks(self):
        raw = self.cleaned_data.get("allowed_networks") or ""
        try:
            return services.networks_normalize(item for item in raw.split(",") if item.strip())
        except services.TenancyError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Credential.Kind.PEER and not cleaned.get("allowed_networks"):
            self.add_error("allowed_networks", "a peer LRS credential needs allowed networks")
        return cleaned


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ("key", "tenant", "kind", "scope_list", "enabled", "created_at")
    list_filter = ("enabled", "kind", "tenant__home_region")
    search_fields = ("key", "label", "tenant__slug")
    list_select_related = ("tenant",)
    readonly_fields = ("created_at", "secret_rotated_at")
    actions = ("rotate_secret", "disable", "enable")

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        # The key is part of the secret's hash, and the kind of the credential's contract.
        return (*self.readonly_fields, "tenant", "key", "kind") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            credential_cache_discard(obj.key)
            return
        issued = services.credential_create(
            tenant=obj.tenant,
            key=obj.key,
            scopes=obj.scopes,
            kind=obj.kind,
            allowed_networks=obj.allowed_networks,
            label=obj.label,
        )
        obj.pk = issued.credential.pk
        self._show_once(request, issued)

    def _show_once(self, request, issued):
        message = f"Secret for {issued.credential.key} (shown once, store it now): {issued.secret}"
        if issued.peer_key:
            message += f" — API key for the X-API-Key header: {issued.peer_key}"
        messages.warning(request, message)

    @admin.action(description="Rotate the secret of selected credentials", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for credential in queryset:
            self._show_once(request, services.credential_rotate_secret(credential=credential))

    @admin.action(description="Disable selected credentials", permissions=["change"])
    def disable(self, request, queryset):
        for credential in queryset:
            services.credential_set_enabled(credential=credential, enabled=False)

    @admin.action(description="Enable selected credentials", permissions=["change"])
    def enable(self, request, queryset):
        for credential in queryset:
            services.credential_set_enabled(credential=credential, enabled=True)
