"""Importing dossiers from a file: upload, the job's page and its polled status, the template."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import DESK, role_required
from dossiers import importing
from dossiers.forms import (
    ImportForm,
)
from dossiers.models import ImportJob


def _jobs_of(user):
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.is_administrator else jobs.filter(created_by=user)


@role_required(*DESK)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importing.MAX_FILE_BYTES:
            form.add_error(
                "file",
                _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": importing.MAX_FILE_BYTES // 2**20},
            )
        else:
            job = importing.create_job(by=request.user, uploaded_file=upload, mode=form.cleaned_data["mode"])
            if job.size <= importing.INLINE_IMPORT_BYTES:
                importing.run_import(job.pk)
            else:
                _queue_import(job)
            return redirect("dossiers:import_detail", pk=job.pk)
    return render(
        request,
        "dossiers/import_upload.html",
        {"form": form, "jobs": _jobs_of(request.user)[:10]},
    )


def _queue_import(job: ImportJob) -> None:
    from dossiers.tasks import queue_import

    # With the broker down the job waits and is sent by the periodic task once it is back.
    transaction.on_commit(lambda: queue_import(job.pk))


def _job_for(request, pk: int) -> ImportJob:
    return get_object_or_404(_jobs_of(request.user), pk=pk)


@role_required(*DESK)
def import_detail(request, pk: int):
    return render(request, "dossiers/import_detail.html", {"job": _job_for(request, pk)})


@role_required(*DESK)
def import_status(request, pk: int):
    return render(request, "dossiers/fragment_import_status.html", {"job": _job_for(request, pk)})


@role_required(*DESK)
def import_template(request):
    """An empty CSV with the expected columns."""
    response = HttpResponse(
        "\ufeff" + ",".join(importing.COLUMNS) + "\r\n", content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-ho-so.csv"'
    return response
