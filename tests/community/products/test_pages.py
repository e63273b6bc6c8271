"""The console's catalogue pages: models and plans listed for staff, created and edited by admins
through their forms (refusals shown on the fields), phone-friendly tables."""
import io

import sqlalchemy as sa

from tests.conftest import PASSWORD, flashes, html, post_form


def test_an_admin_creates_and_edits_a_model_with_an_image(app, console, catalogue):
    from PIL import Image

    page = console.get("/admin/products/models")
    assert page.status_code == 200
    assert "RO-600G" in html(page) and 'class="cards"' in html(page) and 'data-label="型号编码"' in html(page)
    assert 'href="/admin/products/models"' in html(page) and 'href="/admin/products/conflicts"' in html(page)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, "PNG")
    r = post_form(console, "/admin/products/models/new", "/admin/products/models/new", {
        "code": "cxw-200", "name": "油烟机 CXW-200", "category": "range_hood", "warranty_months": "60",
        "active": "y", "image_file": (io.BytesIO(buffer.getvalue()), "hood.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "型号已创建" in flashes(r)
    assert "CXW-200" in html(r) and "/api/v1/uploads/" in html(r)
    # a duplicate code is refused on its field, nothing saved
    r = post_form(console, "/admin/products/models/new", "/admin/products/models/new", {
        "code": "CXW-200", "name": "重复", "category": "range_hood", "warranty_months": "12"})
    assert r.status_code == 200 and "型号编码 CXW-200 已存在" in html(r)
    # the edit page shows the plans that apply, with the category's
    r = console.get(f"/admin/products/models/{catalogue.purifier}")
    assert "PP棉滤芯更换" in html(r) and "安装后回访检测" in html(r)
    r = post_form(console, f"/admin/products/models/{catalogue.purifier}", f"/admin/products/models/{catalogue.purifier}",
                  {"code": "RO-600G", "name": "反渗透净水器 RO-600G Pro", "category": "water_purifier",
                   "warranty_months": "36"}, follow_redirects=True)
    assert "型号已保存" in flashes(r) and "RO-600G Pro" in html(r)


def test_an_admin_creates_and_edits_a_plan(app, console, catalogue):
    from community.products.models import MaintenancePlan
    from core.extensions import db

    page = console.get("/admin/products/plans")
    assert page.status_code == 200 and "4–6 月" in html(page) and "每 6 个月（按上次完成）" in html(page)
    r = post_form(console, "/admin/products/plans/new", "/admin/products/plans/new", {
        "name": "RO膜更换", "category": "", "product_model_id": str(catalogue.purifier), "service_type": "repair",
        "first_due_days": "730", "interval_months": "24", "season_start_month": "", "season_end_month": "",
        "lead_days": "21", "description": "更换反渗透膜", "active": "y"}, follow_redirects=True)
    assert "保养计划“RO膜更换”已创建，适用的产品已排期" in flashes(r)
    with app.app_context():
        plan = db.session.scalars(sa.select(MaintenancePlan).where(MaintenancePlan.name == "RO膜更换")).one()
        assert (plan.product_model_id, plan.category, plan.lead_days, plan.after_completion) == (
            catalogue.purifier, None, 21, False)  # an unticked box is False
        plan_id = plan.id
    edit = console.get(f"/admin/products/plans/{plan_id}")
    assert f'<option selected value="{catalogue.purifier}">' in html(edit)
    # both a category and a model: refused, shown on the form
    r = post_form(console, f"/admin/products/plans/{plan_id}", f"/admin/products/plans/{plan_id}", {
        "name": "RO膜更换", "category": "water_purifier", "product_model_id": str(catalogue.purifier),
        "service_type": "repair", "first_due_days": "730", "lead_days": "21"})
    assert r.status_code == 200 and "请选择品类或型号之一" in html(r)
    r = post_form(console, f"/admin/products/plans/{plan_id}", f"/admin/products/plans/{plan_id}", {
        "name": "RO膜更换", "category": "", "product_model_id": str(catalogue.purifier), "service_type": "repair",
        "first_due_days": "700", "interval_months": "24", "season_start_month": "11", "season_end_month": "2",
        "lead_days": "21"}, follow_redirects=True)
    assert "保养计划已保存" in flashes(r)
    with app.app_context():
        plan = db.session.get(MaintenancePlan, plan_id)
        assert (plan.first_due_days, plan.season_start_month, plan.season_end_month) == (700, 11, 2)


def test_agents_read_the_catalogue_but_do_not_change_it(app, client, make_admin, web_login, catalogue):
    make_admin("agent7", PASSWORD, roles={"agent"})
    web_login("agent7", PASSWORD)
    page = client.get("/admin/products/models")
    assert page.status_code == 200 and "新建型号" not in html(page)
    assert client.get("/admin/products/plans").status_code == 200
    assert client.get("/admin/products/conflicts").status_code == 200
    assert client.get("/admin/products/models/new").status_code == 403
    assert client.get(f"/admin/products/plans/{catalogue.filters}").status_code == 403
