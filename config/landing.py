"""`/`: a small page pointing at what the platform serves (the admin's "View site" link).

Public, like the versions URL it names: it shows only addresses partners and charge points
are given anyway, nothing of the operator's data.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ocpi.versioning import versions_url


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "landing.html",
        {
            "business_name": settings.OCPI_BUSINESS_NAME,
            "versions_url": versions_url(),
            "charge_point_url": f"{settings.OCPP_BASE_URL}/ocpp/<identity>",
        },
    )
