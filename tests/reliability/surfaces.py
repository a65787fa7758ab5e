"""The table of surfaces for the authorisation matrix and the page scans.

A surface is one way to reach data: a page, an admin screen, an API endpoint, an export, a
download, an action. Each row names the URL (by its route name), the kind of surface, the
object it is about and, for actions, which roles may legitimately change that object. The
tests generate their cases from ``SURFACES`` x roles x places: adding a row adds its cases, and
``test_every_route_is_in_the_table`` fails when a route exists that no row (or stated rule)
covers.

Kinds:
  public  — the same for everybody (catalogue, reference data, login); must show nobody's data.
  list    — a collection scoped by the viewer; must show no invisible object (``complete``: and
            every visible one).
  object  — one object (detail, download, export of one unit); visible → 200 showing it,
            invisible → 403/404 exactly like an object that does not exist.
  action  — a POST that changes an object; invisible → 403/404 like a missing object, and
            nothing changes unless the role is one of ``acts`` and the object is visible.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

PUBLIC, LIST, OBJECT, ACTION = "public", "list", "object", "action"
MISSING = "missing"  # a place that does not exist: the baseline a forbidden answer must equal

MISSING_DOSSIER = "C91001-000101-9999"
MISSING_PETITION = "PA-C91001-000101-9999"
MISSING_ID = 987654321

STAFF = frozenset({"receptionist", "officer", "leader"})
DESK = frozenset({"receptionist", "leader"})
MANAGERS = frozenset({"provincial_manager", "national_manager"})
BACK_OFFICE = STAFF | MANAGERS  # is_staff users: the admin and the index pages
MISSING_UNIT = "C99999"
MISSING_PROVINCE = "99"


# --- Objects of the world by place -----------------------------------------------------------
def dossier(world, place):
    return None if place == MISSING else world.dossiers[place]


def finished(world, place):
    return None if place == MISSING else world.finished[place]


def petition(world, place):
    return None if place == MISSING else world.petitions[place]


def dossier_code(world, place) -> str:
    return MISSING_DOSSIER if place == MISSING else world.dossiers[place].code


def finished_code(world, place) -> str:
    return MISSING_DOSSIER if place == MISSING else world.finished[place].code


def petition_code(world, place) -> str:
    return MISSING_PETITION if place == MISSING else world.petitions[place].code


def input_document(world, place):
    return None if place == MISSING else world.dossiers[place].documents.first()


def result_document(world, place):
    if place == MISSING:
        return None
    return world.finished[place].documents.filter(kind="result").first()


# --- URL arguments ---------------------------------------------------------------------------
def by_dossier(world, place):
    return {"code": dossier_code(world, place)}


def by_finished(world, place):
    return {"code": finished_code(world, place)}


def by_petition(world, place):
    return {"code": petition_code(world, place)}


def by_input_document(world, place):
    doc = input_document(world, place)
    return {"code": dossier_code(world, place), "document_id": doc.pk if doc else MISSING_ID}


def by_result_document(world, place):
    doc = result_document(world, place)
    return {"code": finished_code(world, place), "document_id": doc.pk if doc else MISSING_ID}


def by_swapped_document(world, place):
    """IDOR probe: a dossier the viewer may see ("own") with the document of ``place``."""
    doc = input_document(world, place)
    return {"code": world.dossiers["own"].code, "document_id": doc.pk if doc else MISSING_ID}


def dossier_pk(world, place):
    return {"object_id": MISSING_ID if place == MISSING else world.dossiers[place].pk}


def finished_pk(world, place):
    return {"object_id": MISSING_ID if place == MISSING else world.finished[place].pk}


def petition_pk(world, place):
    return {"object_id": MISSING_ID if place == MISSING else world.petitions[place].pk}


def unit_key(world, place) -> str:
    return MISSING_UNIT if place == MISSING else world.centres[place].code


def province_code(world, place) -> str:
    return MISSING_PROVINCE if place == MISSING else world.centres[place].province_id


def unit_visible(world, role, place) -> bool:
    """Index pages: staff see their centre's unit, managers their province's or all; a
    citizen sees none (even of the centre handling their dossier)."""
    return role != "citizen" and place in world.visible(role)


def province_visible(world, role, place) -> bool:
    return role in MANAGERS and place in world.visible(role)


def swapped_visible(world, role, place) -> bool:
    return place == "own" and "own" in world.visible(role)


# --- Rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Surface:
    id: str
    url_name: str
    kind: str
    kwargs: Callable | None = None  # (world, place) -> URL kwargs
    query: Callable | None = None  # (world, place) -> query string dict
    method: str = "GET"
    data: Callable | None = None  # (world, place) -> POST body
    json: bool = False
    login: bool = True  # anonymous gets a login redirect / 401 / 403
    subject: str = "dossier"  # what ``identifies`` reads to recognise the object in answers
    acts: frozenset = frozenset()  # roles allowed to change the object (when visible)
    complete: bool = False  # lists: every visible object must be listed
    # (world, role, place) -> may the role reach the object? default: the world's visibility
    visible: Callable | None = None
    # (world, place) -> a string a visible answer must contain (default: the subject's code;
    # None: nothing to look for, e.g. an empty list of payments)
    shows: Callable | None = None
    users: frozenset | None = None  # roles that may use the surface at all (None: anyone)
    expect: dict | None = None  # public/list rows: role -> acceptable statuses
    # Refusing a hidden object must look like a missing one. False where the objects are
    # public anyway (provinces and units: their list is open reference data).
    secret_existence: bool = True
    # "not_found": hidden objects get 403/404; "same": any answer, as long as it equals the
    # missing object's (admin bulk actions silently ignore what you may not select)
    refusal: str = "not_found"
    full_id_for: frozenset = frozenset()  # roles that need the whole CCCD here (else masked)
    note: str = ""

    @property
    def api(self) -> bool:
        return self.url_name.startswith(("api:", "scoring_api:")) or self.json


def _api(name: str) -> str:
    return f"api:{name}"


SURFACES: list[Surface] = [
    # --- Public pages and reference data ---
    Surface("home", "portal:home", PUBLIC, login=False),
    Surface("login", "portal:login", PUBLIC, login=False),
    Surface("login-code", "portal:login_code", PUBLIC, login=False),
    Surface("catalogue", "dossiers:procedure_list", PUBLIC, login=False),
    Surface(
        "procedure",
        "dossiers:procedure_detail",
        PUBLIC,
        kwargs=lambda w, p: {"code": w.procedure.code},
        login=False,
    ),
    Surface(
        "submit-form",
        "dossiers:submit",
        PUBLIC,
        kwargs=lambda w, p: {"code": w.procedure.code},
        query=lambda w, p: {"province": "91"},
    ),
    Surface(
        "petition-form", "dossiers:petition_new", PUBLIC, query=lambda w, p: {"province": "91"}
    ),
    Surface("track-page", "dossiers:track", PUBLIC, login=False),
    Surface("gateway-page", "dossiers:payment_gateway", PUBLIC, login=False),
    Surface(
        "tracking-api",
        _api("tracking"),
        PUBLIC,
        method="POST",
        data=lambda w, p: {"code": MISSING_DOSSIER, "citizen_id_last4": "0001"},
        login=False,
    ),
    Surface(
        "payment-callback",
        _api("payment-callback"),
        PUBLIC,
        method="POST",
        data=lambda w, p: {"reference": "x"},
        login=False,
    ),
    Surface("api-procedures", _api("procedure-list"), PUBLIC, login=False),
    Surface(
        "api-procedure",
        _api("procedure-detail"),
        PUBLIC,
        kwargs=lambda w, p: {"code": w.procedure.code},
        login=False,
    ),
    Surface("api-fields", _api("field-list"), PUBLIC, login=False),
    Surface(
        "api-field",
        _api("field-detail"),
        PUBLIC,
        kwargs=lambda w, p: {"code": w.procedure.field.code},
        login=False,
    ),
    Surface("api-provinces", _api("province-list"), PUBLIC, login=False),
    Surface(
        "api-province",
        _api("province-detail"),
        PUBLIC,
        kwargs=lambda w, p: {"code": "91"},
        login=False,
    ),
    Surface("api-communes", _api("commune-list"), PUBLIC, login=False),
    Surface(
        "api-commune",
        _api("commune-detail"),
        PUBLIC,
        kwargs=lambda w, p: {"code": "91001"},
        login=False,
    ),
    Surface("api-centres", _api("centre-list"), PUBLIC, login=False),
    Surface(
        "api-centre",
        _api("centre-detail"),
        PUBLIC,
        kwargs=lambda w, p: {"code": "C91001"},
        login=False,
    ),
    Surface("api-schema", "api-schema", PUBLIC, login=False),
    Surface("api-docs", "api-docs", PUBLIC, login=False),
    # --- Citizen pages ---
    Surface("my-dossiers", "dossiers:my_dossiers", LIST),
    Surface("my-petitions", "dossiers:my_petitions", LIST, subject="petition"),
    Surface("my-dossier", "dossiers:my_dossier", OBJECT, kwargs=by_dossier),
    Surface(
        "my-dossier-finished",
        "dossiers:my_dossier",
        OBJECT,
        kwargs=by_finished,
        subject="finished",
    ),
    Surface("page-document", "dossiers:document_download", OBJECT, kwargs=by_input_document),
    Surface(
        "page-result",
        "dossiers:document_download",
        OBJECT,
        kwargs=by_result_document,
        subject="finished",
    ),
    Surface(
        "page-document-swapped",
        "dossiers:document_download",
        OBJECT,
        kwargs=by_swapped_document,
        visible=swapped_visible,
        note="a visible dossier's code with another dossier's document id",
    ),
    Surface("my-petition", "dossiers:my_petition", OBJECT, kwargs=by_petition, subject="petition"),
    Surface(
        "petition-form-about",
        "dossiers:petition_new",
        OBJECT,
        query=lambda w, p: {"dossier": dossier_code(w, p)},
    ),
    Surface(
        "page-withdraw",
        "dossiers:withdraw",
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {"reason": "Không cần nữa"},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-supplement",
        "dossiers:supplement",
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {"name": "Giấy chứng sinh"},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-rate",
        "dossiers:rate",
        ACTION,
        kwargs=by_finished,
        method="POST",
        data=lambda w, p: {"satisfied": "true", "comment": "Tốt"},
        subject="finished",
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-pay",
        "dossiers:pay",
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-petition-about",
        "dossiers:petition_new",
        ACTION,
        query=lambda w, p: {"dossier": dossier_code(w, p)},
        method="POST",
        data=lambda w, p: {"subject": "Chậm", "body": "Hồ sơ chậm."},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-petition-rate",
        "dossiers:petition_rate",
        ACTION,
        kwargs=by_petition,
        method="POST",
        data=lambda w, p: {"satisfied": "true"},
        subject="petition",
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "page-petition-repeat",
        "dossiers:petition_repeat",
        ACTION,
        kwargs=by_petition,
        method="POST",
        data=lambda w, p: {},
        subject="petition",
        acts=frozenset({"citizen"}),
    ),
    # --- REST API ---
    Surface("api-dossiers", _api("dossier-list"), LIST, complete=True),
    Surface("api-ratings", _api("rating-list"), LIST, subject="finished", complete=True),
    Surface("api-petitions", _api("petition-list"), LIST, subject="petition", complete=True),
    Surface("api-dossier", _api("dossier-detail"), OBJECT, kwargs=by_dossier),
    Surface(
        "api-dossier-finished",
        _api("dossier-detail"),
        OBJECT,
        kwargs=by_finished,
        subject="finished",
    ),
    Surface(
        "api-documents",
        _api("dossier-documents"),
        OBJECT,
        kwargs=by_dossier,
        shows=lambda w, p: input_document(w, p).sha256,
    ),
    Surface("api-download", _api("dossier-download"), OBJECT, kwargs=by_input_document),
    Surface(
        "api-download-result",
        _api("dossier-download"),
        OBJECT,
        kwargs=by_result_document,
        subject="finished",
    ),
    Surface(
        "api-download-swapped",
        _api("dossier-download"),
        OBJECT,
        kwargs=by_swapped_document,
        visible=swapped_visible,
        note="a visible dossier's code with another dossier's document id",
    ),
    Surface(
        "api-payments",
        _api("dossier-payments"),
        OBJECT,
        kwargs=by_finished,
        subject="finished",
        shows=lambda w, p: None,  # free procedure: an empty list, the same for every place
    ),
    Surface("api-rating", _api("dossier-rating"), OBJECT, kwargs=by_finished, subject="finished"),
    Surface(
        "api-petition", _api("petition-detail"), OBJECT, kwargs=by_petition, subject="petition"
    ),
    Surface(
        "api-accept",
        _api("dossier-transitions"),
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {"action": "accept"},
        acts=DESK,
    ),
    Surface(
        "api-refuse",
        _api("dossier-transitions"),
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {"action": "refuse", "reason": "Thiếu giấy tờ"},
        acts=DESK,
    ),
    Surface(
        "api-withdraw",
        _api("dossier-transitions"),
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {"action": "withdraw"},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "api-pay",
        _api("dossier-payments"),
        ACTION,
        kwargs=by_dossier,
        method="POST",
        data=lambda w, p: {},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "api-rate",
        _api("dossier-rating"),
        ACTION,
        kwargs=by_finished,
        method="POST",
        data=lambda w, p: {"satisfied": False, "comment": "Đổi ý"},
        subject="finished",
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "api-petition-about",
        _api("petition-list"),
        ACTION,
        method="POST",
        data=lambda w, p: {"dossier": dossier_code(w, p), "subject": "Chậm", "body": "Chậm."},
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "api-petition-answer",
        _api("petition-answer"),
        ACTION,
        kwargs=by_petition,
        method="POST",
        data=lambda w, p: {"answer": "Đã xử lý."},
        subject="petition",
        acts=STAFF,
    ),
    Surface(
        "api-petition-rate",
        _api("petition-rating"),
        ACTION,
        kwargs=by_petition,
        method="POST",
        data=lambda w, p: {"satisfied": True},
        subject="petition",
        acts=frozenset({"citizen"}),
    ),
    Surface(
        "api-petition-repeat",
        _api("petition-repeat"),
        ACTION,
        kwargs=by_petition,
        method="POST",
        data=lambda w, p: {},
        subject="petition",
        acts=frozenset({"citizen"}),
    ),
    # --- Staff screens (Django admin and desk pages) ---
    Surface(
        "admin-dossiers",
        "admin:dossiers_dossier_changelist",
        LIST,
        users=BACK_OFFICE,
        complete=True,
    ),
    Surface(
        "admin-dossier",
        "admin:dossiers_dossier_change",
        OBJECT,
        kwargs=dossier_pk,
        users=BACK_OFFICE,
    ),
    Surface(
        "admin-dossier-history",
        "admin:dossiers_dossier_history",
        OBJECT,
        kwargs=dossier_pk,
        users=BACK_OFFICE,
    ),
    Surface(
        "admin-dossier-delete",
        "admin:dossiers_dossier_delete",
        ACTION,
        kwargs=dossier_pk,
        method="POST",
        data=lambda w, p: {"post": "yes"},
        users=BACK_OFFICE,
        note="nobody deletes a dossier: the history is the record",
    ),
    Surface(
        "admin-dossier-edit",
        "admin:dossiers_dossier_change",
        ACTION,
        kwargs=dossier_pk,
        method="POST",
        data=lambda w, p: {"state": "9", "code": "HACKED"},
        users=BACK_OFFICE,
        note="no field is editable: changes go through the transition buttons",
    ),
    Surface(
        "admin-accept",
        "admin:dossiers_dossier_act",
        ACTION,
        kwargs=dossier_pk,
        method="POST",
        data=lambda w, p: {"action": "accept"},
        users=BACK_OFFICE,
        acts=DESK,
    ),
    Surface(
        "admin-refuse",
        "admin:dossiers_dossier_act",
        ACTION,
        kwargs=dossier_pk,
        method="POST",
        data=lambda w, p: {"action": "refuse", "reason": "Thiếu giấy tờ"},
        users=BACK_OFFICE,
        acts=DESK,
    ),
    Surface(
        "admin-bulk-accept",
        "admin:dossiers_dossier_changelist",
        ACTION,
        method="POST",
        data=lambda w, p: {
            "action": "bulk_accept",
            "_selected_action": [MISSING_ID if p == MISSING else w.dossiers[p].pk],
            "index": "0",
        },
        users=BACK_OFFICE,
        acts=DESK,
        refusal="same",
    ),
    Surface(
        "admin-desk",
        "admin:dossiers_dossier_receive",
        PUBLIC,
        users=DESK,
        expect={"officer": {403}, "provincial_manager": {403}, "national_manager": {403}},
    ),
    Surface(
        "admin-petitions",
        "admin:dossiers_petition_changelist",
        LIST,
        users=BACK_OFFICE,
        subject="petition",
        complete=True,
    ),
    Surface(
        "admin-petition",
        "admin:dossiers_petition_change",
        OBJECT,
        kwargs=petition_pk,
        users=BACK_OFFICE,
        subject="petition",
    ),
    Surface(
        "admin-petition-answer",
        "admin:dossiers_petition_answer",
        ACTION,
        kwargs=petition_pk,
        method="POST",
        data=lambda w, p: {"answer": "Đã xử lý xong."},
        users=BACK_OFFICE,
        subject="petition",
        acts=STAFF,
    ),
    Surface(
        "appointment-slip",
        "dossiers_staff:appointment_slip",
        OBJECT,
        kwargs=by_finished,
        users=BACK_OFFICE,
        subject="finished",
        full_id_for=STAFF,  # the receipt handed to the citizen identifies them by CCCD
    ),
    Surface(
        "apology-slip",
        "dossiers_staff:apology_slip",
        OBJECT,
        kwargs=by_finished,
        users=BACK_OFFICE,
        subject="finished",
    ),
    Surface(
        "staff-document",
        "dossiers_staff:document_download",
        OBJECT,
        kwargs=by_input_document,
        users=BACK_OFFICE,
    ),
    Surface(
        "staff-document-swapped",
        "dossiers_staff:document_download",
        OBJECT,
        kwargs=by_swapped_document,
        users=BACK_OFFICE,
        visible=swapped_visible,
    ),
    # --- Index: manager pages, exports, API ---
    Surface(
        "rankings",
        "scoring:ranking",
        PUBLIC,
        users=MANAGERS,
        expect={role: {302} for role in STAFF},  # staff are sent to their centre's page
    ),
    Surface(
        "rankings-csv",
        "scoring:ranking",
        PUBLIC,
        query=lambda w, p: {"format": "csv"},
        users=MANAGERS,
        expect={role: {302} for role in STAFF},
    ),
    Surface(
        "rankings-xlsx",
        "scoring:ranking",
        PUBLIC,
        query=lambda w, p: {"format": "xlsx"},
        users=MANAGERS,
        expect={role: {302} for role in STAFF},
    ),
    Surface(
        "province-page",
        "scoring:province",
        OBJECT,
        kwargs=lambda w, p: {"code": province_code(w, p)},
        users=MANAGERS,
        visible=province_visible,
        secret_existence=False,
        shows=lambda w, p: w.centres[p].province.name,
    ),
    Surface(
        "province-csv",
        "scoring:province",
        OBJECT,
        kwargs=lambda w, p: {"code": province_code(w, p)},
        query=lambda w, p: {"format": "csv", "table": "units"},
        users=MANAGERS,
        visible=province_visible,
        secret_existence=False,
        shows=lambda w, p: w.centres[p].code,
    ),
    Surface(
        "unit-page",
        "scoring:unit",
        OBJECT,
        kwargs=lambda w, p: {"key": unit_key(w, p)},
        users=BACK_OFFICE,
        visible=unit_visible,
        secret_existence=False,
        shows=lambda w, p: w.centres[p].name,
    ),
    Surface(
        "unit-xlsx",
        "scoring:unit",
        OBJECT,
        kwargs=lambda w, p: {"key": unit_key(w, p)},
        query=lambda w, p: {"format": "xlsx"},
        users=BACK_OFFICE,
        visible=unit_visible,
        secret_existence=False,
        shows=lambda w, p: None,
    ),
    Surface(
        "api-rankings",
        "scoring_api:rankings",
        PUBLIC,
        users=MANAGERS,
    ),
    Surface(
        "api-province-ranking",
        "scoring_api:rankings",
        OBJECT,
        query=lambda w, p: {"province": province_code(w, p)},
        users=MANAGERS,
        visible=province_visible,
        secret_existence=False,
        shows=lambda w, p: w.centres[p].code,
    ),
    Surface(
        "api-unit-scores",
        "scoring_api:unit-scores",
        OBJECT,
        kwargs=lambda w, p: {"id": unit_key(w, p)},
        users=BACK_OFFICE,
        visible=unit_visible,
        secret_existence=False,
        shows=lambda w, p: w.centres[p].code,
    ),
    Surface("admin-rankings", "admin_scoring_rankings", PUBLIC, users=BACK_OFFICE),
]

# Routes outside the table, and why.
NOT_SURFACES = {
    "set_language": "switches the language of the session; no data",
    "portal:logout": "ends the caller's own session",
    "admin:login": "Django admin login (throttled by django-axes; tests/reliability/test_attacks.py)",
    "admin:logout": "ends the caller's own session",
    "admin:password_change": "the caller's own password",
    "admin:password_change_done": "the caller's own password",
    "admin:jsi18n": "static translations",
    "admin:index": "covered by the generic admin test (lists only permitted models)",
    "admin:app_list": "covered by the generic admin test",
    "admin:view_on_site": "redirects to the object's public URL, which has its own row",
    "admin:autocomplete": "covered by the generic admin test (autocomplete per model)",
    "admin:?": "Django admin catch-all and object redirects",
}
# Admin routes of every registered model: ``test_admin_surfaces`` in the matrix test covers
# them generically (permissions, scoping, no leak in changelist/change/history/delete).
ADMIN_MODEL_ROUTE = re.compile(r"^admin:[a-z_]+_[a-z]+_(changelist|add|change|history|delete)$")


# --- Recognising objects in answers ---------------------------------------------------------
def identifies(world, place: str) -> dict[str, str]:
    """Strings that reveal ``place``'s citizen data if they appear in an answer."""
    d, f, p = world.dossiers[place], world.finished[place], world.petitions[place]
    applicant = d.applicant
    return {
        "dossier code": d.code,
        "finished dossier code": f.code,
        "petition code": p.code,
        "citizen ID": applicant.citizen_id,
        "applicant name": f"{applicant.last_name} {applicant.first_name}",
        "applicant name (first last)": f"{applicant.first_name} {applicant.last_name}",
        "applicant e-mail": applicant.email,
    }


def subject_token(surface: Surface, world, place: str) -> str | None:
    if surface.shows is not None:
        return surface.shows(world, place)
    if surface.subject == "finished":
        return world.finished[place].code
    if surface.subject == "petition":
        return world.petitions[place].code
    return world.dossiers[place].code


def normalise(text: str, replacements: dict[str, str]) -> str:
    """The answer with the object's own identifiers replaced by placeholders, and per-request
    noise (CSRF tokens, nonces) removed: a forbidden answer must equal a missing one."""
    for value, placeholder in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if value:
            text = text.replace(value, placeholder)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', text)
    return text


# --- HTML hygiene for CSP: no inline script, no event-handler attributes -------------------
NON_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event-handler attribute")
            url_attribute = name.lower() in {"href", "src", "action", "formaction"}
            if url_attribute and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value[:40]!r}> javascript: URL")
            if name.lower() == "style":
                self.problems.append(f"<{tag} style=...> inline style (needs 'unsafe-inline')")
        if tag == "script":
            kind = (attributes.get("type") or "text/javascript").lower()
            if not attributes.get("src") and kind not in NON_SCRIPT_TYPES:
                self._in_inline_script = True
        if tag == "style":
            self.problems.append("<style> element (needs 'unsafe-inline')")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


def inline_code(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def csp_problems(response) -> list[str]:
    header = response.headers.get("Content-Security-Policy", "")
    if not header:
        return ["no Content-Security-Policy header"]
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name] = values
    problems = []
    script = directives.get("script-src", directives.get("default-src", []))
    if "'unsafe-inline'" in script or "'unsafe-eval'" in script or not script:
        problems.append(f"script-src allows inline code: {script}")
    return problems


@dataclass
class Violations:
    """Everything wrong found while walking the cases, reported together."""

    items: list[str] = field(default_factory=list)
    requests: int = 0

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def __bool__(self):
        return bool(self.items)
