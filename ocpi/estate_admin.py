"""The admin's CSV pages for the estate (ocpi.estate_csv): export what a change list shows,
import with a dry run first.

Import is three steps: upload → the dry run's page (every row new, changed with its columns,
unchanged, or its errors; nothing written) → confirm. The uploaded text waits in the cache
under a random token bound to the user, for an hour; confirming plans it again against the
estate as it is then, so what is written is what the page showed, or the page again with
the errors that appeared since.
"""

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from ocpi.admin import admin_page
from ocpi.estate_csv import Column, ImportPlan, csv_response

UPLOAD_SECONDS = 3600  # how long a dry run can be confirmed
SHOWN_ROWS = 500  # rows listed on the dry run's page besides those in error
TEMPLATE = "admin/estate_import.html"

Planner = Callable[[Mapping[str, str]], ImportPlan]


def export_view(
    model_admin: "admin.ModelAdmin[Any]",
    request: HttpRequest,
    *,
    filename: str,
    columns: Sequence[Column],
    rows: Callable[[QuerySet[Any]], Iterator[Mapping[str, Any]]],
) -> StreamingHttpResponse:
    """The change list's objects, filtered and searched as shown (its query string), streamed."""
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    changelist = model_admin.get_changelist_instance(request)
    return csv_response(filename, columns, rows(changelist.queryset))


def _upload_form(files: Sequence[tuple[str, str]], data: Any = None, uploads: Any = None) -> Any:
    fields = {
        name: forms.FileField(label=f"{label} (CSV)", required=False) for name, label in files
    }
    form_class = type("EstateUploadForm", (forms.Form,), fields)
    return form_class(data, uploads)


def _texts(form: Any, files: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    """The uploaded files as text, or None with the errors on the form."""
    texts = {}
    for name, _ in files:
        upload = form.cleaned_data.get(name)
        if upload is None:
            continue
        try:
            texts[name] = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error(name, "Must be a CSV file in UTF-8 (save it as “CSV UTF-8”).")
    if not texts and not form.errors:
        form.add_error(None, "Choose at least one file.")
    return None if form.errors else texts


def _cache_key(request: HttpRequest, token: str) -> str:
    return f"estate-import:{request.user.pk}:{token}"


def import_view(
    model_admin: "admin.ModelAdmin[Any]",
    request: HttpRequest,
    *,
    title: str,
    files: Sequence[tuple[str, str]],
    plan: Planner,
    permissions: Sequence[str],
    done_url: str,
) -> HttpResponse:
    """Upload, dry run, confirm. Only staff holding every one of `permissions` (the add and
    change permissions of what the files create and change) may import."""
    if not request.user.has_perms(permissions):
        raise PermissionDenied
    context: dict[str, Any] = {"form": _upload_form(files), "files": files}
    if request.method == "POST" and "token" in request.POST:
        token = str(request.POST["token"])
        texts = cache.get(_cache_key(request, token))
        if texts is None:
            messages.error(request, "That dry run has expired: upload the files again.")
            return HttpResponseRedirect(request.path)
        result = plan(texts)
        if result.ok:
            try:
                result.write()
            except ValidationError as exc:
                context["write_error"] = "; ".join(exc.messages)
            else:
                cache.delete(_cache_key(request, token))
                messages.success(
                    request,
                    f"Imported: {result.count('new')} new, {result.count('changed')} changed, "
                    f"{result.count('unchanged')} unchanged rows.",
                )
                return HttpResponseRedirect(done_url)
        context.update(_dry_run(result))
    elif request.method == "POST":
        form = _upload_form(files, request.POST, request.FILES)
        texts = _texts(form, files) if form.is_valid() else None
        context["form"] = form
        if texts is not None:
            result = plan(texts)
            context.update(_dry_run(result))
            if result.ok and result.writes:
                context["token"] = token = secrets.token_urlsafe(16)
                cache.set(_cache_key(request, token), texts, UPLOAD_SECONDS)
    return admin_page(model_admin, request, TEMPLATE, title=title, **context)


def _dry_run(result: ImportPlan) -> dict[str, Any]:
    listed = [r for r in result.reports if r.errors]
    listed += [r for r in result.reports if not r.errors and r.outcome != "unchanged"][:SHOWN_ROWS]
    return {
        "plan": result,
        "listed": listed,
        "counts": {
            "new": result.count("new"),
            "changed": result.count("changed"),
            "unchanged": result.count("unchanged"),
            "errors": len(result.error_rows),
        },
    }
