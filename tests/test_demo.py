"""The demo network and accounts."""
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.users.models import Role, User

from .conftest import make_app


def test_demo_accounts(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(User.id))) == 3 + 9 + 131 * 2
    by_name = {u.username: u for u in db.session.scalars(select(User))}
    assert by_name["admin"].roles == {Role.ADMIN} and by_name["admin"].unit.code == "320413"
    assert by_name["stats"].roles == {Role.VIEWER}
    assert by_name["coord-320413109"].unit.name == "薛埠镇"
    assert by_name["med-320413109201"].unit.name == "上阳村"
    assert by_name["grid-320413109201"].roles == {Role.GRID_WORKER}
    assert by_name["med-320413109201"].check_password("jintan-demo")
    # Loading again changes nothing; --if-empty does nothing on a loaded database.
    assert "新增 0 个单位、0 个账号" in runner.invoke(args=["demo", "load"]).output
    assert "未载入演示数据" in runner.invoke(args=["demo", "load", "--if-empty"]).output


def test_demo_refuses_in_production(db_url):
    app = make_app(db_url, ENV="production", SECRET_KEY="p" * 40, ID_HASH_KEY="h" * 64,
                   ID_ENCRYPTION_KEYS="kY6wZ0g8a8fS6m3oQbq1dGk9V3iA0mJc2xT5uN7pR4E=")
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code != 0 and "MEDIATION_ENV=production" in result.output
        assert db.session.scalar(select(func.count(User.id))) == 0
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
