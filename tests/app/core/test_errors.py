"""Friendly error pages in Chinese, never a stack trace; a tampered CSRF token is a 400."""

from __future__ import annotations

import pytest

from conference_app import create_app
from conference_app.core.permissions import Role, public
from conference_app.extensions import db
from tests.app.conftest import FreshGlobalsClient, app_settings, log_in_session


def test_404_in_chinese(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "页面不存在" in html and "返回首页" in html


def test_403_in_chinese(client, make_user):
    log_in_session(client, make_user(Role.EXPERT))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "您没有访问此页面的权限" in response.get_data(as_text=True)


def test_405_in_chinese(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "此页面不支持该请求方式" in response.get_data(as_text=True)


def test_tampered_csrf_token_is_a_400_in_chinese(client, make_user):
    user = make_user(Role.STAFF)
    response = client.post("/auth/login", data={"email": user.email, "password": "x", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "表单已过期或无效，请刷新页面后重新提交" in response.get_data(as_text=True)
    missing = client.post("/auth/login", data={"email": user.email, "password": "x"})
    assert missing.status_code == 400


def test_english_user_gets_english_error_pages(client, make_user):
    log_in_session(client, make_user(Role.EXPERT, locale="en"))
    assert "You do not have permission" in client.get("/admin/users").get_data(as_text=True)


@pytest.fixture()
def fragile_app(database_url, tmp_path):
    """An app with routes that fail, serving errors the way production does."""
    app = create_app(app_settings(database_url, tmp_path / "instance") | {"TESTING": False, "MAX_CONTENT_LENGTH": 1024})
    app.test_client_class = FreshGlobalsClient

    @app.get("/boom")
    @public
    def boom():
        raise RuntimeError("secret stack detail")

    @app.post("/upload")
    @public
    def upload():
        from flask import request

        return str(len(request.form))

    with app.app_context():
        yield app
        db.session.remove()


def test_500_page_hides_the_error(fragile_app):
    response = fragile_app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "服务器错误" in html and "secret stack detail" not in html and "Traceback" not in html


def test_413_in_chinese(fragile_app):
    fragile_app.config["WTF_CSRF_ENABLED"] = False
    response = fragile_app.test_client().post("/upload", data={"blob": "x" * 5000})
    assert response.status_code == 413
    assert "上传的文件超过允许的 1 KB" in response.get_data(as_text=True)



def test_security_headers_on_every_page(client):
    for response in (client.get("/"), client.get("/no/such/page"), client.get("/auth/reset/some-token")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
