"""Operator screens for cached tokens and the pull log.

Tokens are the eMSPs' data, received by PUT/PATCH or pulled: nothing here edits or deletes
them (DESIGN.md, Data ownership). Pulls run in the Celery worker, started from the pull log's
"Pull tokens from a partner" form or by the actions on tokens and on past pulls.

A held full pull (tokens.pull, Safeguard) shows on its partner's page too, which this module
extends (credentials, a layer below, knows nothing of tokens), and "Apply held pull" is an
action on the partners and on the pull log.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from credentials.models import PartnerPlatform
from ocpi.admin import ReadOnlyAdminMixin, admin_page
from tokens import tasks
from tokens.models import PullStatus, Token, TokenPull
from tokens.pull import NotApplicable, apply_held_pull, latest_held_pull
from tokens.selectors import partner_of_party, partners_to_pull


def _queue_pulls(
    admin_: admin.ModelAdmin[Any], request: HttpRequest, partners: list[PartnerPlatform], full: bool
) -> None:
    for partner in partners:
        tasks.pull_partner.delay(partner.pk, full)
    kind = "Full" if full else "Delta"
    names = ", ".join(partner.name for partner in partners) or "no partner"
    admin_.message_user(request, f"{kind} token pull queued for {names}.", messages.SUCCESS)


@admin.register(Token)
class TokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Token]):
    list_display = [
        "uid",
        "type",
        "country_code",
        "party_id",
        "contract_id",
        "visual_number",
        "valid",
        "whitelist",
        "last_updated",
        "missing_since",
    ]
    list_filter = ["valid", "whitelist", "type", "country_code", "party_id", "default_profile_type"]
    search_fields = ["uid", "contract_id", "visual_number", "group_id"]
    ordering = ["pk"]
    actions = ["pull_from_owners"]
    change_list_template = "admin/tokens/token/change_list.html"

    @admin.action(description="Pull changed tokens again from the eMSPs of the selected tokens")
    def pull_from_owners(self, request: HttpRequest, queryset: QuerySet[Token]) -> None:
        partners: dict[int, PartnerPlatform] = {}
        for party in {token.party for token in queryset}:
            partner = partner_of_party(party)
            if partner is not None:
                partners[partner.pk] = partner
        _queue_pulls(self, request, list(partners.values()), full=False)


class PullForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=PartnerPlatform.objects.none(),
        help_text="Registered partners with a tokens Sender endpoint and an eMSP party.",
    )
    full = forms.BooleanField(
        required=False, help_text="Fetch every token; the ones not returned are set invalid."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["partner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PartnerPlatform.objects.filter(pk__in=[p.pk for p in partners_to_pull()])


@admin.register(TokenPull)
class TokenPullAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[TokenPull]):
    list_display = [
        "started_at",
        "partner",
        "full",
        "status",
        "date_from",
        "received",
        "created",
        "updated",
        "unchanged",
        "invalid",
        "ignored",
        "invalidated",
        "held",
        "finished_at",
        "error",
    ]
    list_filter = ["status", "full", "partner"]
    list_select_related = ["partner"]
    actions = ["pull_delta", "pull_full", "apply_held"]
    change_list_template = "admin/tokens/tokenpull/change_list.html"

    @admin.action(description="Pull again from these partners: changes since the last pull")
    def pull_delta(self, request: HttpRequest, queryset: QuerySet[TokenPull]) -> None:
        _queue_pulls(self, request, _partners_of(queryset), full=False)

    @admin.action(description="Pull again from these partners: full (the new truth)")
    def pull_full(self, request: HttpRequest, queryset: QuerySet[TokenPull]) -> None:
        _queue_pulls(self, request, _partners_of(queryset), full=True)

    @admin.action(description="Apply held pull (set invalid the tokens it did not return)")
    def apply_held(self, request: HttpRequest, queryset: QuerySet[TokenPull]) -> None:
        _apply(self, request, list(queryset.filter(status=PullStatus.HELD).order_by("pk")))

    def get_urls(self) -> list[URLPattern]:
        return [
            path("pull/", self.admin_site.admin_view(self.pull_view), name="tokens_pull_now"),
            *super().get_urls(),
        ]

    def pull_view(self, request: HttpRequest) -> HttpResponse:
        form = PullForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _queue_pulls(self, request, [form.cleaned_data["partner"]], form.cleaned_data["full"])
            return HttpResponseRedirect(reverse("admin:tokens_tokenpull_changelist"))
        return admin_page(
            self,
            request,
            "admin/tokens/tokenpull/pull.html",
            title="Pull tokens from a partner",
            form=form,
        )


def _partners_of(queryset: QuerySet[TokenPull]) -> list[PartnerPlatform]:
    registered = PartnerPlatform.objects.registered()
    return list(registered.filter(token_pulls__in=queryset).distinct().order_by("pk"))


def _apply(admin_: admin.ModelAdmin[Any], request: HttpRequest, pulls: list[TokenPull]) -> None:
    if not pulls:
        admin_.message_user(request, "No held pull selected.", messages.WARNING)
    for pull in pulls:
        try:
            applied = apply_held_pull(pull)
        except NotApplicable as exc:
            admin_.message_user(request, str(exc), messages.ERROR)
        else:
            admin_.message_user(
                request,
                f"Held pull {applied.pk} from {pull.partner.name} applied: "
                f"{applied.invalidated} tokens set invalid.",
                messages.SUCCESS,
            )


HELD_PULL_FIELDS = ("started_at", "received", "valid_before", "held", "error")


class HeldPullInline(admin.TabularInline[TokenPull, PartnerPlatform]):
    """The partner's held full pulls, on its page: what they would invalidate."""

    model = TokenPull
    verbose_name = "held token pull"
    verbose_name_plural = "Held token pulls (apply with the action “Apply held pull”)"
    fields = HELD_PULL_FIELDS
    readonly_fields = HELD_PULL_FIELDS
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TokenPull]:
        return super().get_queryset(request).filter(status=PullStatus.HELD)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Apply held pull (set invalid the tokens it did not return)")
def apply_held_pulls(
    admin_: admin.ModelAdmin[PartnerPlatform],
    request: HttpRequest,
    queryset: QuerySet[PartnerPlatform],
) -> None:
    """Each selected partner's held pull that is still its latest full one."""
    held = [latest_held_pull(partner) for partner in queryset.order_by("pk")]
    _apply(admin_, request, [pull for pull in held if pull is not None])


# On the class credentials registered (admin.site keeps one instance of it).
_PartnerAdmin = type(admin.site.get_model_admin(PartnerPlatform))
_PartnerAdmin.inlines = [*_PartnerAdmin.inlines, HeldPullInline]
_PartnerAdmin.actions = [*(_PartnerAdmin.actions or []), apply_held_pulls]
