"""`cdna keys` and `cdna audit` as a user runs them."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cdna.cli.app import app
from cdna.core.lake import Lake
from cdna.serve.app import create_app
from cdna.serve.audit import audit_path
from tests.serve.conftest import settings_for

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from cdna.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_keys_create_prints_the_key_alone_on_the_last_line_and_revoke_works(lake: Lake) -> None:
    code, out, _ = _run("keys", "create", "--role", "staff", "--name", "cli-kim", "--lake", str(lake.root))
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("cdna_") and " " not in key
    with TestClient(create_app(settings_for(lake))) as c:
        h = {"Authorization": f"Bearer {key}", "X-Purpose": "counseling"}
        assert c.get("/v1/customers/C0000001/profile", headers=h).status_code == 200
        code, _, _ = _run("keys", "revoke", "cli-kim", "--lake", str(lake.root))
        assert code == 0
        assert c.get("/v1/customers/C0000001/profile", headers=h).status_code == 401
    code, _, err = _run("keys", "revoke", "cli-kim", "--lake", str(lake.root))
    assert code == 2 and "no active key" in err
    code, _, err = _run("keys", "create", "--role", "root", "--name", "x", "--lake", str(lake.root))
    assert code == 2 and "staff, ml, admin" in err


def test_audit_verify_and_export_and_tamper(lake: Lake) -> None:
    _, out, _ = _run("keys", "create", "--role", "staff", "--name", "aud", "--lake", str(lake.root))
    key = out.strip().splitlines()[-1]
    with TestClient(create_app(settings_for(lake))) as c:
        for i in range(1, 6):
            c.get(
                f"/v1/customers/C{i:07d}/profile",
                headers={"Authorization": f"Bearer {key}", "X-Purpose": "review"},
            )
    keyfile = str(settings_for(lake).audit_key_file)
    code, out, _ = _run("--json", "audit", "verify", "--lake", str(lake.root), "--key-file", keyfile)
    assert code == 0 and json.loads(out)["rows"] == 5 and json.loads(out)["unanchored_rows"] == 0
    anchors = lake.root.parent / "anchors.jsonl"
    assert _run("audit", "anchors", "--out", str(anchors), "--lake", str(lake.root))[0] == 0
    assert [json.loads(x)["reason"] for x in anchors.read_text().splitlines()] == ["created", "shutdown"]
    today = date.today().isoformat()
    code, out, _ = _run(
        "audit", "export", "--from", "2000-01-01", "--to", "2100-01-01", "--lake", str(lake.root)
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["customer_id"] for r in rows] == [f"C{i:07d}" for i in range(1, 6)]
    assert all(r["key_name"] == "aud" and r["purpose"] == "review" and len(r["hash"]) == 64 for r in rows)
    dest = lake.root / "export.jsonl"
    code, _, _ = _run(
        "audit", "export", "--from", today, "--to", today, "--out", str(dest), "--lake", str(lake.root)
    )
    assert code == 0 and dest.is_file()
    code, _, err = _run(
        "audit", "export", "--from", "2025-07-02", "--to", "2025-07-01", "--lake", str(lake.root)
    )
    assert code == 1 and "before" in err

    con = sqlite3.connect(audit_path(lake.root))
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET key_name = 'someone-else' WHERE seq = 2")
    con.commit()
    con.close()
    code, _, err = _run("audit", "verify", "--lake", str(lake.root), "--key-file", keyfile)
    assert code == 1 and "row 2" in err
    code, _, err = _run(
        "audit", "verify", "--lake", str(lake.root), "--key-file", keyfile, "--anchors", str(anchors)
    )
    assert code == 1 and "row 2" in err


def test_serve_help_lists_options() -> None:
    res = runner.invoke(app, ["serve", "--help"])
    assert res.exit_code == 0 and "--workers" in res.output and "--port" in res.output


def test_demo_step_gives_a_serve_command_and_a_working_curl(lake: Lake) -> None:
    import shlex
    import shutil
    import subprocess

    from cdna.cli.console import Output
    from cdna.cli.demo import DemoContext
    from cdna.cli.demo_steps import serve_step as demo_step
    from tests.serve.live import live_server

    d = DemoContext(None, lake, Output(), customers=40, audio=False)  # type: ignore[arg-type]
    demo_step(d)
    notes = dict(d.notes)
    assert notes["service"] == f"cdna serve --lake {lake.root} --port 8080"
    assert notes["curl"].startswith("curl ") and "Authorization: Bearer cdna_" in notes["curl"]
    demo_step(d)  # a second demo run on the same lake re-issues the demo key
    curl = dict(d.notes[-2:])["curl"]
    with live_server(create_app(settings_for(lake))) as base:
        cmd = shlex.split(curl.replace("http://127.0.0.1:8080", base))
        if shutil.which("curl"):
            body = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout
        else:
            import re

            import httpx

            headers = dict(re.findall(r"-H '([^:]+): ([^']+)'", curl))
            url = re.findall(r"'(http[^']+)'", curl)[0].replace("http://127.0.0.1:8080", base)
            body = httpx.get(url, headers=headers).text
    data = json.loads(body)
    assert data["customer_id"] == "C0000001" and len(data["recommendations"]) == 3
