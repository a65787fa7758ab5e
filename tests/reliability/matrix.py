"""Running one surface for one role over every place, and judging the answers
(``tests/reliability/surfaces.py`` explains the kinds)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse

from dossiers.models import Dossier, DossierEvent, Petition, PetitionEvent, Rating
from tests.reliability.conftest import PLACES, login
from tests.reliability.surfaces import (
    ACTION,
    LIST,
    MISSING,
    MISSING_DOSSIER,
    MISSING_ID,
    MISSING_PETITION,
    OBJECT,
    PUBLIC,
    Surface,
    Violations,
    identifies,
    normalise,
    subject_token,
)

LOGIN_PATHS = ("/login/", "/admin/login/")
BINARY_TYPES = ("application/pdf", "image/")  # documents: nothing to read in them
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_for(world, role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    login(client, world.users[role])
    return client


def url_for(surface: Surface, world, place: str) -> str:
    kwargs = surface.kwargs(world, place) if surface.kwargs else None
    url = reverse(surface.url_name, kwargs=kwargs)
    if surface.query:
        url += "?" + urlencode(surface.query(world, place))
    return url


def send(client: Client, surface: Surface, world, place: str):
    url = url_for(surface, world, place)
    if surface.method == "GET":
        return client.get(url)
    data = surface.data(world, place) if surface.data else {}
    if surface.api:
        return client.post(url, data=json.dumps(data), content_type="application/json")
    return client.post(url, data=data)


def content_of(response) -> bytes:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]  # keep it readable for later checks
        response._read_content = content
        return content
    return getattr(response, "_read_content", None) or response.content


def text_of(response) -> str:
    """The answer as text; a spreadsheet export as the text of all its cells."""
    content = content_of(response)
    if response.headers.get("Content-Type", "").startswith(XLSX):
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return content.decode("utf-8", errors="replace")


def is_binary(response) -> bool:
    kind = response.headers.get("Content-Type", "")
    return any(kind.startswith(t) for t in BINARY_TYPES)


def is_login_answer(surface: Surface, response) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and any(p in location for p in LOGIN_PATHS)


def is_not_found_answer(response) -> bool:
    if response.status_code in (403, 404):
        return True
    # Django admin answers a missing object with a redirect to its index and a message.
    return response.status_code == 302 and response.headers.get("Location", "") == "/admin/"


def fingerprint(world) -> dict:
    """What an action could change, for every place: states, history lengths, documents,
    payments, ratings, petitions and their answers."""
    out = {}
    for place in PLACES:
        d, f, p = world.dossiers[place], world.finished[place], world.petitions[place]
        dossiers = {
            x.pk: (x.state, x.payment_status, x.supplement_count)
            for x in Dossier.objects.filter(pk__in=[d.pk, f.pk])
        }
        out[place] = {
            "dossiers": dossiers,
            "events": DossierEvent.objects.filter(dossier_id__in=[d.pk, f.pk]).count(),
            "documents": d.documents.count() + f.documents.count(),
            "payments": d.payments.count() + f.payments.count(),
            "rating": list(
                Rating.objects.filter(dossier_id=f.pk).values_list("satisfied", "comment")
            ),
            "petitions": Petition.objects.filter(center_id=d.center_id).count(),
            "petition": list(
                Petition.objects.filter(pk=p.pk).values_list("status", "answer", "satisfied")
            ),
            "petition events": PetitionEvent.objects.filter(petition_id=p.pk).count(),
        }
    return out


def missing_replacements(surface: Surface, world, place: str) -> dict[str, str]:
    """Identifiers of ``place``'s object in a URL or answer, to compare with a missing one."""
    replacements = {}
    kwargs = surface.kwargs(world, place) if surface.kwargs else {}
    query = surface.query(world, place) if surface.query else {}
    data = surface.data(world, place) if surface.data else {}
    for values in (kwargs, query, data):
        for value in values.values():
            if isinstance(value, str) and value:
                replacements[value] = "<CODE>"
            elif isinstance(value, int) and not isinstance(value, bool):
                replacements[f"/{value}/"] = "/<ID>/"
    replacements[MISSING_DOSSIER] = "<CODE>"
    replacements[MISSING_PETITION] = "<CODE>"
    replacements[f"/{MISSING_ID}/"] = "/<ID>/"
    return replacements


def comparable(surface: Surface, world, place: str, response) -> tuple:
    replacements = missing_replacements(surface, world, place)
    location = normalise(response.headers.get("Location", ""), replacements)
    body = "" if is_binary(response) else normalise(text_of(response), replacements)
    return response.status_code, location, body


def check_leaks(
    where: str, role: str, world, response, violations: Violations, full_id_for=frozenset()
) -> None:
    if is_binary(response):
        return
    body = text_of(response)
    visible = world.visible(role)
    viewer = world.users[role]
    for place in PLACES:
        if place in visible:
            continue
        for what, token in identifies(world, place).items():
            if token and token in body:
                violations.add(where, f"shows {what} of {place} ({token})")
    # Full citizen IDs: only ever to their owner, or to a role that needs them there.
    if role in full_id_for:
        return
    for citizen in world.citizens:
        if citizen.citizen_id in body and (viewer is None or viewer.pk != citizen.pk):
            violations.add(where, f"shows the full citizen ID of {citizen.username}")


def is_refusal(response) -> bool:
    return is_login_answer(None, response) or response.status_code in (403, 404)


def run_surface(surface: Surface, role: str, world) -> Violations:
    violations = Violations()
    client = client_for(world, role)
    anonymous = world.users[role] is None
    may_use = not (anonymous and surface.login) and (surface.users is None or role in surface.users)

    def visible(place: str) -> bool:
        if place == MISSING or not may_use:
            return False
        if surface.visible is not None:
            return surface.visible(world, role, place)
        return place in world.visible(role)

    def go(place: str):
        violations.requests += 1
        response = send(client, surface, world, place)
        where = f"{surface.id} as {role} on {place}"
        if response.status_code >= 500:
            violations.add(where, f"server error {response.status_code}")
        check_leaks(where, role, world, response, violations, surface.full_id_for)
        return where, response

    if surface.kind in (PUBLIC, LIST):
        where, response = go("own")
        status = response.status_code
        if surface.expect and role in surface.expect:
            if status not in surface.expect[role]:
                violations.add(where, f"status {status}, expected {surface.expect[role]}")
        elif not may_use:
            if not is_refusal(response):
                violations.add(where, f"{role} may not use it but got {status}")
        elif (surface.kind == LIST or surface.users is not None) and status != 200:
            violations.add(where, f"status {status}")
        if surface.kind == LIST and surface.complete and may_use and status == 200:
            body = text_of(response)
            for place in PLACES:
                token = subject_token(surface, world, place)
                if visible(place) and token is not None and token not in body:
                    violations.add(where, f"does not list the visible {place} object")
        return violations

    # OBJECT and ACTION: every place against the missing baseline.
    _, baseline_response = go(MISSING)
    baseline = comparable(surface, world, MISSING, baseline_response)
    if surface.refusal == "not_found" and not is_refusal(baseline_response):
        violations.add(
            f"{surface.id} as {role} on missing",
            f"a missing object answers {baseline_response.status_code}",
        )
    for place in PLACES:
        before = fingerprint(world) if surface.kind == ACTION else None
        where, response = go(place)
        if visible(place):
            if surface.kind == OBJECT:
                if response.status_code != 200:
                    violations.add(where, f"visible object answers {response.status_code}")
                elif not is_binary(response):
                    token = subject_token(surface, world, place)
                    if token is not None and token not in text_of(response):
                        violations.add(where, "visible object's answer does not show it")
        else:
            if (not may_use or surface.refusal == "not_found") and not is_refusal(response):
                violations.add(where, f"hidden object answers {response.status_code}")
            if surface.secret_existence and comparable(surface, world, place, response) != baseline:
                violations.add(where, "the answer differs from a missing object's: existence leaks")
        if surface.kind == ACTION:
            after = fingerprint(world)
            may_change = visible(place) and role in surface.acts
            for changed in (p for p in PLACES if before[p] != after[p]):
                if not (may_change and changed == place):
                    violations.add(
                        where, f"changed {changed}: {before[changed]} -> {after[changed]}"
                    )
    return violations
