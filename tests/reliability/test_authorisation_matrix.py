"""The authorisation matrix: every role x every surface x own / another centre / another
province (and a missing object as the baseline a refusal must look like). Zero leaks.

Cases are generated from ``tests/reliability/surfaces.py``; the rule of who sees what is
``World.visible`` (citizen: own; staff: their centre; provincial manager: province; national
manager: all)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.reliability.conftest import PLACES, ROLES
from tests.reliability.figures import record
from tests.reliability.matrix import run_surface
from tests.reliability.surfaces import ADMIN_MODEL_ROUTE, NOT_SURFACES, SURFACES

# Problems found in other areas' code and reported to them; each case fails until fixed (strict
# xfail: once fixed, the case passes and pytest asks for the entry to be removed).
KNOWN_FINDINGS: dict[tuple[str, str], str] = {}


def matrix_cases():
    for surface in SURFACES:
        for role in ROLES:
            finding = KNOWN_FINDINGS.get((surface.id, role))
            marks = [pytest.mark.xfail(reason=finding, strict=True)] if finding else []
            yield pytest.param(surface, role, id=f"{surface.id}-{role}", marks=marks)


@pytest.mark.parametrize(("surface", "role"), list(matrix_cases()))
def test_matrix(surface, role, shared_world):
    violations = run_surface(surface, role, shared_world)
    record(
        "matrix",
        {
            "surface": surface.id,
            "kind": surface.kind,
            "role": role,
            "requests": violations.requests,
            "violations": len(violations.items),
        },
    )
    assert violations.requests > 0
    assert not violations, "\n".join(violations.items)


def route_names(patterns=None, namespace=None):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            inner = namespace
            if p.namespace:
                inner = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from route_names(p.url_patterns, inner)
        elif isinstance(p, URLPattern):
            name = p.name or "?"
            yield f"{namespace}:{name}" if namespace else name


def test_every_route_is_in_the_table():
    """A new page, endpoint or export must get a row (or a stated reason it needs none)."""
    covered = {s.url_name for s in SURFACES} | set(NOT_SURFACES)
    missing = sorted(
        name
        for name in set(route_names())
        if name not in covered and not ADMIN_MODEL_ROUTE.match(name)
    )
    assert missing == [], "routes without a row in tests/reliability/surfaces.py: " + ", ".join(
        missing
    )


@pytest.mark.parametrize("surface_id", ["api-dossier", "my-dossier", "api-dossiers", "api-accept"])
def test_the_matrix_catches_a_scoping_bug(surface_id, shared_world, monkeypatch):
    """The matrix is not vacuous: with the scoping selector broken (everybody sees every
    dossier) it reports leaks."""
    from dossiers import selectors
    from dossiers.models import Dossier

    monkeypatch.setattr(selectors, "dossiers_visible_to", lambda user: Dossier.objects.all())
    surface = next(s for s in SURFACES if s.id == surface_id)
    violations = run_surface(surface, "citizen", shared_world)
    assert any("other_province" in item for item in violations.items), violations.items


# --- Every registered admin model, generically -------------------------------------------------
def admin_models():
    from django.contrib import admin

    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def place_objects(model, world, place) -> list:
    """The objects of ``model`` that carry ``place``'s citizen data (none for reference data)."""
    from dossiers.models import Dossier, Petition
    from portal.models import StaffMembership, User

    d, f, p = world.dossiers[place], world.finished[place], world.petitions[place]
    if model is Dossier:
        return [d, f]
    if model is Petition:
        return [p]
    if model is User:
        return [d.applicant]
    if model is StaffMembership:  # who works where is the centre's own business
        return list(StaffMembership.objects.filter(center=d.center))
    fields = {field.name for field in model._meta.get_fields()}
    objects = []
    if "dossier" in fields:
        objects += list(model.objects.filter(dossier__in=[d, f])[:5])
    if "petition" in fields:
        objects += list(model.objects.filter(petition=p)[:5])
    return objects


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", admin_models(), ids=lambda m: m._meta.label)
def test_admin_model(model, role, shared_world):
    """Changelist, change, history and delete pages of every registered model: no hidden
    citizen data shown, no other place's object opened."""
    from django.urls import reverse

    from portal.models import User
    from tests.reliability.matrix import check_leaks, client_for, is_refusal
    from tests.reliability.surfaces import Violations

    world = shared_world
    violations = Violations()
    client = client_for(world, role)
    info = (model._meta.app_label, model._meta.model_name)
    back_office = role not in ("anonymous", "citizen")

    def get(where, url):
        violations.requests += 1
        response = client.get(url)
        if response.status_code >= 500:
            violations.add(where, f"server error {response.status_code}")
        check_leaks(where, role, world, response, violations)
        return response

    response = get(
        f"{model._meta.label} changelist as {role}",
        reverse(f"admin:{info[0]}_{info[1]}_changelist"),
    )
    if not back_office and not is_refusal(response):
        violations.add(
            f"{model._meta.label} changelist as {role}", f"status {response.status_code}"
        )
    for place in PLACES:
        hidden = place not in world.visible(role) or model is User
        for obj in place_objects(model, world, place):
            for view in ("change", "history", "delete"):
                where = f"{model._meta.label} {view} of {place} as {role}"
                response = get(where, reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]))
                admin_index = response.status_code == 302 and response["Location"] == "/admin/"
                if hidden and not (is_refusal(response) or admin_index):
                    violations.add(where, f"opens a hidden object ({response.status_code})")
    record(
        "matrix",
        {
            "surface": f"admin {model._meta.label}",
            "kind": "admin",
            "role": role,
            "requests": violations.requests,
            "violations": len(violations.items),
        },
    )
    assert not violations, "\n".join(violations.items)
