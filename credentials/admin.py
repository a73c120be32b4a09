"""Operator screens for parties, partner platforms and invitations.

Every change goes through credentials.services; calls to partners started here run in the
Celery worker (rotate, refresh, unregister) or, for registration, while the operator waits.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join

from audit.history import AuditHistoryMixin
from credentials import operator, services, tasks
from credentials.claims import partner_holding
from credentials.models import (
    Invitation,
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from credentials.selectors import invitation_namesakes
from credentials.serializers import CredentialsRoleSerializer
from ocpi.admin import admin_page
from ocpi.display import local_time
from ocpi.versioning import versions_url


class LocalPartyForm(forms.ModelForm):  # type: ignore[type-arg]
    website = forms.URLField(max_length=255, required=False, assume_scheme="https")

    class Meta:
        model = LocalParty
        fields = [
            "country_code",
            "party_id",
            "role",
            "business_name",
            "website",
            "logo",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Validate as the CredentialsRole partners will receive, so errors show here.
        serializer = CredentialsRoleSerializer(
            data={
                "role": cleaned.get("role"),
                "country_code": cleaned.get("country_code", ""),
                "party_id": cleaned.get("party_id", ""),
                "business_details": {
                    "name": cleaned.get("business_name", ""),
                    **({"website": cleaned["website"]} if cleaned.get("website") else {}),
                    **({"logo": cleaned["logo"]} if cleaned.get("logo") else {}),
                },
            }
        )
        if not serializer.is_valid():
            for field, errors in serializer.errors.items():
                target = {"business_details": "business_name"}.get(field, field)
                self.add_error(target if target in self.fields else None, str(errors))
        holder = partner_holding(cleaned.get("country_code", ""), cleaned.get("party_id", ""))
        if holder is not None:
            self.add_error(None, f"This party is connected through partner {holder.name}.")
        return cleaned


@admin.register(LocalParty)
class LocalPartyAdmin(AuditHistoryMixin, admin.ModelAdmin[LocalParty]):
    form = LocalPartyForm
    list_display = ["country_code", "party_id", "role", "business_name", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["party_id", "business_name"]

    # Through the services, so that each of our parties has its claim (credentials.claims).
    def save_model(self, request: HttpRequest, obj: LocalParty, form: Any, change: bool) -> None:
        operator.local_party_save(party=obj)

    def delete_model(self, request: HttpRequest, obj: LocalParty) -> None:
        operator.local_parties_delete(parties=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LocalParty]) -> None:
        operator.local_parties_delete(parties=queryset)


class PartnerEndpointInline(admin.TabularInline[PartnerEndpoint, PartnerPlatform]):
    model = PartnerEndpoint
    extra = 0
    can_delete = False
    readonly_fields = ["identifier", "role", "url"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PartnerRoleInline(admin.TabularInline[PartnerRole, PartnerPlatform]):
    model = PartnerRole
    extra = 0
    can_delete = False
    readonly_fields = ["role", "country_code", "party_id", "business_details"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Our name for the partner.")
    versions_url = forms.URLField(
        max_length=255, assume_scheme="https", help_text="The partner's versions URL."
    )
    token_a = forms.CharField(max_length=64, help_text="The token A the partner gave us.")


@admin.register(PartnerPlatform)
class PartnerPlatformAdmin(AuditHistoryMixin, admin.ModelAdmin[PartnerPlatform]):
    list_display = [
        "name",
        "status",
        "version",
        "party_roles",
        "last_contact_at",
        "plain_tokens",
        "stale_updates",
        "last_problem",
    ]
    list_filter = ["status", "plain_tokens"]
    search_fields = ["name", "roles__party_id", "versions_url"]
    readonly_fields = [
        "status",
        "versions_url",
        "version",
        "last_contact_at",
        "last_error",
        "last_error_at",
        "stale_updates",
        "registered_at",
        "unregistered_at",
        "created_at",
        "updated_at",
    ]
    fields = ["name", "plain_tokens", "retry_pushes", *readonly_fields]
    inlines = [PartnerRoleInline, PartnerEndpointInline]
    actions = ["rotate_tokens", "refresh_endpoints", "unregister"]
    change_list_template = "admin/credentials/partnerplatform/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerPlatform]:
        return super().get_queryset(request).prefetch_related("roles")

    # Through the services, so that the callers cached per process are read anew
    # (credentials.generation).
    def save_model(
        self, request: HttpRequest, obj: PartnerPlatform, form: Any, change: bool
    ) -> None:
        operator.partner_settings_save(partner=obj)

    def delete_model(self, request: HttpRequest, obj: PartnerPlatform) -> None:
        operator.partners_delete(partners=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PartnerPlatform]) -> None:
        operator.partners_delete(partners=queryset)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Partners come from handshakes: invite one or register with one.

    @admin.display(description="last error", ordering="last_error_at")
    def last_problem(self, partner: PartnerPlatform) -> str:
        """What failed last (the operation, what went wrong) and when (credentials.problems)."""
        if not partner.last_error:
            return ""
        if partner.last_error_at is None:  # recorded before errors had a time
            return partner.last_error
        return f"{local_time(partner.last_error_at)}: {partner.last_error}"

    @admin.display(description="roles")
    def party_roles(self, partner: PartnerPlatform) -> str:
        return format_html_join(", ", "{}", ((str(role),) for role in partner.roles.all()))

    @admin.action(description="Rotate credentials tokens (PUT to the partner)")
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[PartnerPlatform]) -> None:
        self._queue(request, queryset, tasks.rotate_credentials, "Token rotation")

    @admin.action(description="Refresh versions and endpoints")
    def refresh_endpoints(self, request: HttpRequest, queryset: QuerySet[PartnerPlatform]) -> None:
        self._queue(request, queryset, tasks.refresh_partner, "Endpoint refresh")

    @admin.action(description="Unregister (DELETE to the partner; all traffic stops)")
    def unregister(self, request: HttpRequest, queryset: QuerySet[PartnerPlatform]) -> None:
        self._queue(request, queryset, tasks.unregister_partner, "Unregistration")

    def _queue(
        self, request: HttpRequest, queryset: QuerySet[PartnerPlatform], task: Any, what: str
    ) -> None:
        partners = list(queryset.filter(status=PartnerStatus.REGISTERED))
        for partner in partners:
            task.delay(partner.pk)
        self.message_user(request, f"{what} queued for {len(partners)} registered partner(s).")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "register/",
                self.admin_site.admin_view(self.register_view),
                name="credentials_partner_register",
            ),
            *super().get_urls(),
        ]

    def register_view(self, request: HttpRequest) -> HttpResponse:
        """Register with a partner that gave us its token A (we are the handshake's Sender)."""
        form = RegisterForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                partner = services.register_with_partner(
                    versions_url=form.cleaned_data["versions_url"],
                    token_a=form.cleaned_data["token_a"],
                    name=form.cleaned_data["name"],
                )
            except services.PartnerCallFailed as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Registered with {partner.name}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:credentials_partnerplatform_change", args=[partner.pk])
                )
        return admin_page(
            self,
            request,
            "admin/credentials/partnerplatform/register.html",
            title="Register with a partner platform",
            form=form,
        )


class InvitationForm(forms.ModelForm):  # type: ignore[type-arg]
    again = forms.BooleanField(
        required=False,
        label="Invite again",
        help_text="Issue another token A even if this name has an open invitation or a "
        "registered partner.",
    )

    class Meta:
        model = Invitation
        fields = ["name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A new invitation only (the name of an existing one may be corrected freely).
        new = self.instance.pk is None and not cleaned.get("again") and cleaned.get("name")
        if new and (namesakes := invitation_namesakes(cleaned["name"])):
            self.add_error(
                "name",
                f"{cleaned['name']} already has: {'; '.join(namesakes)}. Hand over the open "
                "invitation's token A or revoke it; tick “Invite again” for another one.",
            )
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(AuditHistoryMixin, admin.ModelAdmin[Invitation]):
    form = InvitationForm
    list_display = ["name", "state", "created_at", "expires_at", "created_by", "partner"]
    readonly_fields = [
        "state",
        "versions_url",
        "token_a",
        "created_at",
        "expires_at",
        "created_by",
        "used_at",
        "revoked_at",
        "partner",
    ]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Invitation | None = None) -> Any:
        return ["name", "again"] if obj is None else ["name", *self.readonly_fields]

    @admin.display(description="versions URL")
    def versions_url(self, invitation: Invitation) -> str:
        return versions_url()

    @admin.display(description="token A")
    def token_a(self, invitation: Invitation) -> str:
        # Shown to operators only while it can still be used, so it can be handed over.
        return invitation.token if invitation.state == "open" else "—"

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        if change:
            Invitation.objects.filter(pk=obj.pk).update(name=obj.name)
            return
        invitation, token = services.invitation_create(
            name=obj.name,
            created_by=request.user,  # type: ignore[arg-type]
            again=True,  # the form checked for namesakes and the operator chose
        )
        obj.pk = invitation.pk
        self.message_user(
            request,
            f"Invitation for {invitation.name}: versions URL {versions_url()} and token A {token}",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke (token A stops working)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset.filter(used_at__isnull=True, revoked_at__isnull=True):
            services.invitation_revoke(invitation=invitation)
        self.message_user(request, "Open invitations revoked.")
