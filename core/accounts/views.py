"""Web sessions for staff: login, logout, own password."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core import pages
from core.accounts import services
from core.accounts.models import ROLES
from core.auth import end_web_session, login_per_account, login_per_ip, page_roles_required, start_web_session
from core.errors import APIError
from core.extensions import db
from core.formatting import mask_phone, role_name

bp = Blueprint("web", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名 / 工号", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired()])
    password = PasswordField("新密码", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("确认新密码", validators=[DataRequired(), EqualTo("password", "两次输入的密码不一致")])


def home_for(user) -> str:
    if user.has_role("admin", "agent"):  # agents: the queues they work and their scope
        return url_for("community_stewards_pages.admin_home")
    if user.has_role("engineer"):
        return url_for("community_book_pages.workbench")
    if user.has_role("partner"):
        return url_for("activation_ecosystem_pages.dashboard")
    return url_for("web.login")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("web.login"))


@bp.route("/login", methods=["GET", "POST"])
@login_per_ip
@login_per_account
def login():
    form = LoginForm()
    if session.pop("expired", False) and request.method == "GET":
        flash("登录已超时，请重新登录", "info")
    if form.validate_on_submit():
        try:
            user = services.authenticate_password(form.username.data.strip(), form.password.data)
        except APIError as exc:
            form.password.errors.append(exc.message)
        else:
            start_web_session(user)
            return redirect(pages.safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out everywhere: the user's other browsers and any saved copy of this cookie too."""
    if current_user.is_authenticated:
        end_web_session(current_user)
    flash("已退出登录", "info")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_own_password(user, form.password.data, current_password=form.current.data)
        except APIError as exc:
            db.session.rollback()
            field = form.current if "current_password" in exc.details.get("fields", {}) else form.password
            field.errors.append(exc.message)
        else:
            db.session.commit()
            start_web_session(user)  # this session carries the new session version; the others end
            flash("密码已修改", "success")
            return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)


# -- admin: users ------------------------------------------------------------------------------

class RolesForm(FlaskForm):
    pass  # the checkboxes are read from the request: roles are a set, not fixed fields


@bp.route("/admin/users")
@page_roles_required("admin")
def users():
    q, role = request.args.get("q") or None, request.args.get("role") or None
    page = services.search_users(q=q, role=role, limit=20, cursor=request.args.get("cursor") or None)
    return render_template("admin/accounts/users.html", nav="users", page=page, q=q, role=role, roles=ROLES)


@bp.route("/admin/api/autocomplete/users")
@page_roles_required("admin", "agent")
def autocomplete_users():
    """A picker's suggestions (static/js/autocomplete.js): name prefix, phone or its last 4+ digits, username."""
    return {"items": [{"id": u.id, "label": u.display_name or u.username or f"用户 #{u.id}",
                       "detail": " · ".join(filter(None, [mask_phone(u.phone), "、".join(role_name(r) for r in sorted(u.roles))]))}
                      for u in services.pick_users(request.args.get("q", ""))]}


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@page_roles_required("admin")
def user_detail(user_id):
    user = services.get_user(user_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "status":
                services.set_status(user, request.form.get("status", ""), current_user)
            else:
                services.set_roles(user, set(request.form.getlist("roles")), current_user)
            db.session.commit()
            flash("已保存", "success")
        except APIError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for("web.user_detail", user_id=user_id))
    return render_template("admin/accounts/user.html", nav="users", user=user, form=form, roles=ROLES)
