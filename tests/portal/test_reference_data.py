import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dossiers.models import Procedure, ProcedureVersion
from portal.models import Commune, Province, ServiceCenter

pytestmark = pytest.mark.django_db


def test_counts_match_the_reform(reference_data):
    assert Province.objects.count() == 34
    assert Commune.objects.count() == 3321
    assert Commune.objects.filter(kind="xa").count() == 2621
    assert Commune.objects.filter(kind="phuong").count() == 687
    assert Commune.objects.filter(kind="dac_khu").count() == 13
    assert ServiceCenter.objects.count() == 3355
    assert ServiceCenter.objects.filter(level="province").count() == 34
    assert Procedure.objects.count() == 53


def test_ha_tinh_has_its_69_communes(reference_data):
    ha_tinh = Province.objects.get(code="42")
    assert ha_tinh.short_name == "Hà Tĩnh"
    communes = dict(ha_tinh.communes.values_list("code", "name"))
    assert len(communes) == 69
    assert communes["18532"] == "Xã Hương Phố"
    assert communes["18073"] == "Phường Thành Sen"
    assert communes["18766"] == "Xã Kỳ Xuân"
    assert communes["18823"] == "Phường Vũng Áng"
    assert ha_tinh.communes.filter(kind="phuong").count() == 9
    assert ServiceCenter.objects.get(code="C18073").commune_id == "18073"


def test_loading_twice_changes_nothing(reference_data, capsys):
    before = list(ServiceCenter.objects.values_list("id", "code", "name").order_by("id"))
    call_command("load_reference_data")
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out and " 1 created" not in out
    assert list(ServiceCenter.objects.values_list("id", "code", "name").order_by("id")) == before
    assert ProcedureVersion.objects.count() == 53


def test_a_fixture_update_renames_without_breaking_references(reference_data, tmp_path):
    from portal.services import UNITS_FIXTURE

    data = json.loads(UNITS_FIXTURE.read_text(encoding="utf-8"))
    for c in data["communes"]:
        if c["code"] == "18073":
            c["name"] = "Phường Thành Sen Mới"
    path = tmp_path / "units.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    center_id = ServiceCenter.objects.get(code="C18073").id
    call_command("load_reference_data", units=path)
    assert Commune.objects.get(code="18073").name == "Phường Thành Sen Mới"
    center = ServiceCenter.objects.get(code="C18073")
    assert center.id == center_id and center.name.endswith("Phường Thành Sen Mới")


@pytest.mark.parametrize(
    "content", [None, "{not json", '{"provinces": [{"code": "01"}], "communes": []}']
)
def test_a_missing_or_corrupt_fixture_fails_cleanly_and_writes_nothing(db, tmp_path, content):
    path = tmp_path / "units.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("load_reference_data", units=path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert Province.objects.count() == 0


def test_a_corrupt_procedure_fixture_rolls_back_the_units(db, tmp_path):
    path = tmp_path / "procedures.csv"
    path.write_text("code,name\n1.0,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="expected columns"):
        call_command("load_reference_data", procedures=path)
    assert Province.objects.count() == 0 and Commune.objects.count() == 0
