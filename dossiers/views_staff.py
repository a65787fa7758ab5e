"""Printable pages for the desk: the appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết
quả) and the apology slip (phiếu xin lỗi và hẹn lại ngày trả kết quả), and staff downloads
of a dossier's documents. Staff only, and only for dossiers ``dossiers_visible_to`` them."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from dossiers.models import Document, DossierEvent
from dossiers.selectors import STAFF_ACTORS, actor_roles, dossier_get_for
from dossiers.workflow import Action


def _dossier_or_404(request, code):
    dossier = dossier_get_for(request.user, code)
    if dossier is None:
        raise Http404(_("No such dossier."))
    return dossier


def _document_names(dossier) -> list[str]:
    names = list(dossier.presented_documents)
    names += [
        d.name for d in dossier.documents.filter(kind=Document.Kind.INPUT).order_by("uploaded_at")
    ]
    return list(dict.fromkeys(names))


@staff_member_required
def appointment_slip(request, code):
    dossier = _dossier_or_404(request, code)
    if dossier.due_at is None:
        raise Http404(_("The dossier has not been accepted: there is no appointment yet."))
    reception = (
        dossier.events.filter(action__in=[Action.RECEIVE, Action.ACCEPT])
        .select_related("actor")
        .order_by("at")
        .first()
    )
    return render(
        request,
        "dossiers/slips/appointment.html",
        {
            "dossier": dossier,
            "procedure": dossier.procedure_version.procedure,
            "version": dossier.procedure_version,
            "applicant": dossier.applicant,
            # The desk hands the slip to the applicant and needs the full CCCD; managers read
            # slips but have no need for it.
            "citizen_id": dossier.applicant.citizen_id
            if actor_roles(request.user, dossier.center_id) & STAFF_ACTORS
            else dossier.applicant.masked_citizen_id,
            "documents": _document_names(dossier),
            "receiver": reception.actor if reception else None,
            "issued_at": dossier.accepted_at,
        },
    )


@staff_member_required
def apology_slip(request, code):
    dossier = _dossier_or_404(request, code)
    apology: DossierEvent | None = (
        dossier.events.filter(action=Action.ISSUE_APOLOGY)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if apology is None:
        raise Http404(_("No apology slip was issued for this dossier."))
    return render(
        request,
        "dossiers/slips/apology.html",
        {
            "dossier": dossier,
            "procedure": dossier.procedure_version.procedure,
            "applicant": dossier.applicant,
            "apology": apology,
            "previous_due_at": apology.data.get("previous_due_at"),
            "new_due_at": dossier.rescheduled_due_at,
            "issued_at": apology.at,
        },
    )


@staff_member_required
def document_download(request, code, document_id):
    dossier = _dossier_or_404(request, code)
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404(_("No such document."))
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.file.name.rsplit("/", 1)[-1],
        content_type=document.content_type,
    )
