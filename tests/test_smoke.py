def test_login_page_renders(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert {"status": "ok", "database": "ok", "broker": "ok"}.items() <= response.json().items()


def test_owner_sees_dashboard(owner_client, workspace):
    response = owner_client.get(f"/w/{workspace.slug}/")
    assert response.status_code == 200
    assert b"Get started" in response.content


def test_outsider_gets_404_on_dashboard(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/").status_code == 404
