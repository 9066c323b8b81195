"""docs/operations.md's backup and restore commands, run for real: a dump restored into an
empty database holds every dossier."""

import os
import subprocess
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from dossiers.models import Dossier, Procedure, ProcedureField

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="backups are taken with pg_dump: needs DATABASE_URL=postgres://… (as .ci/run sets)",
)


def _conninfo(dbname: str) -> dict:
    s = connection.settings_dict
    return {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or "5432",
        "user": s["USER"],
        "dbname": dbname,
    }


def _env() -> dict:
    env = os.environ.copy()
    if connection.settings_dict["PASSWORD"]:
        env["PGPASSWORD"] = connection.settings_dict["PASSWORD"]
    return env


@needs_postgres
def test_dump_restores_into_an_empty_database(commune, official, tmp_path):
    field = ProcedureField.objects.create(code="HT", name="Hộ tịch")
    procedure = Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=1
    )
    now = timezone.now()
    codes = [f"000.01.16.H44-261125-{n:04d}" for n in range(1, 26)]
    Dossier.objects.bulk_create(
        Dossier(
            code=code,
            procedure=procedure,
            receiving_unit=commune,
            applicant_name="Nguyễn Văn A",
            tracking_pin="123456",
            status=2,
            received_at=now - timedelta(days=1),
        )
        for code in codes
    )
    source = _conninfo(connection.settings_dict["NAME"])
    dump = tmp_path / "postdesk.dump"
    args = ["-h", source["host"], "-p", str(source["port"]), "-U", source["user"]]
    subprocess.run(
        ["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(dump), source["dbname"]],
        check=True,
        env=_env(),
        timeout=120,
    )
    target = f"postdesk_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", *args, target], check=True, env=_env(), timeout=60)
    try:
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", "--dbname", target, str(dump)],
            check=True,
            env=_env(),
            timeout=300,
        )
        with psycopg.connect(**_conninfo(target)) as restored:
            rows = restored.execute("SELECT code FROM dossiers_dossier ORDER BY code").fetchall()
            units = restored.execute("SELECT count(*) FROM communes_administrativeunit").fetchone()[0]
        assert [r[0] for r in rows] == codes
        assert units == 3  # province, district, commune of the fixtures
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", target], check=True, env=_env(), timeout=60)
