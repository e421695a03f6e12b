"""The dispute category list, kept by station admins."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .. import audit
from ..access import require
from ..extensions import db
from ..forms import AppForm, flash_errors
from ..stamps import changed_meanwhile, is_stale, stamp
from ..submissions import Once
from .models import Category
from .views import bp

# The starting list (DOMAIN.md §3), also seeded by the migration that made the table.
DEFAULT_CATEGORIES = [
    ("divorce", "离婚", "Divorce (property, custody)"),
    ("bride_price", "彩礼/婚约财产", "Bride price / engagement gifts"),
    ("marital_conflict", "婚内矛盾", "Conflict within a marriage"),
    ("cohabitation", "同居析产", "Break-up of cohabitation"),
    ("child_support", "抚养/抚养费", "Child custody and support"),
    ("visitation", "探望权", "Visitation"),
    ("elder_support", "赡养", "Elder support"),
    ("spousal_support", "扶养", "Spousal support"),
    ("inheritance", "继承", "Inheritance"),
    ("household_partition", "分家析产", "Household partition"),
    ("intergenerational", "婆媳/代际", "In-law and intergenerational"),
    ("guardianship", "监护", "Guardianship"),
    ("neighbour", "邻里纠纷", "Neighbour dispute"),
    ("other", "其他", "Other family dispute"),
]


def seed_categories() -> int:
    """Add the default categories to an empty list (databases made without migrations)."""
    if db.session.scalar(select(func.count(Category.id))):
        return 0
    for i, (code, zh, en) in enumerate(DEFAULT_CATEGORIES):
        db.session.add(Category(code=code, name_zh=zh, name_en=en, sort_order=(i + 1) * 10))
    db.session.flush()
    return len(DEFAULT_CATEGORIES)


# Domestic violence is a risk flag on the case, never a category to mediate.
DV_WORDS = ("家暴", "家庭暴力", "domestic violence")


class CategoryForm(AppForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Please enter a code.")),
                                               Length(max=32, message=_l("At most 32 characters.")),
                                               Regexp(r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits "
                                                                                       "and underscores only."))])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(_l("Please enter a name.")),
                                                          Length(max=32, message=_l("At most 32 characters."))])
    name_en = StringField(_l("English name"), validators=[DataRequired(_l("Please enter a name.")),
                                                          Length(max=64, message=_l("At most 64 characters."))])
    sort_order = IntegerField(_l("Order"), validators=[
        Optional(), NumberRange(0, 999999, message=_l("A whole number from 0 to 999999."))], default=0)
    stamp = HiddenField()  # the values the row was shown with (stamps.py)
    active = BooleanField(_l("In use"), default=True)
    # Empty: the default period (MEDIATION_RETENTION_YEARS).
    retention_years = IntegerField(_l("Retention (years after archiving)"), validators=[
        Optional(), NumberRange(1, 100, message=_l("Between 1 and 100 years."))])

    def __init__(self, *args, category_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._category_id = category_id

    def _unique(self, column, value):
        clash = select(Category.id).where(func.lower(column) == value.strip().lower())
        if self._category_id is not None:
            clash = clash.where(Category.id != self._category_id)
        if db.session.scalar(clash) is not None:
            raise ValidationError(_l("Another category already has this name."))

    def _not_dv(self, value):
        if any(word in value.lower() for word in DV_WORDS):
            raise ValidationError(_l("Domestic violence is a risk flag on the case, not a category."))

    def validate_name_zh(self, field):
        self._not_dv(field.data or "")
        self._unique(Category.name_zh, field.data or "")

    def validate_name_en(self, field):
        self._not_dv(field.data or "")
        self._unique(Category.name_en, field.data or "")


@bp.route("/categories/", methods=["GET", "POST"])
@require("category.manage")
def categories():
    once = Once.posted(current_user)
    form = CategoryForm(prefix="new")
    if form.validate_on_submit():
        if db.session.scalar(select(Category.id).where(Category.code == form.code.data)):
            form.code.errors.append(_("The code %(code)s is already in use.", code=form.code.data))
        else:
            once.claim()
            order = form.sort_order.data or (db.session.scalar(select(func.max(Category.sort_order))) or 0) + 10
            category = Category(code=form.code.data, name_zh=form.name_zh.data.strip(),
                                name_en=form.name_en.data.strip(), sort_order=order, active=form.active.data,
                                retention_years=form.retention_years.data or None)
            db.session.add(category)
            audit.record("admin.category_create", target=category, details={
                "code": category.code, "name_zh": category.name_zh, "retention_years": category.retention_years})
            target = once.land(url_for("cases.categories"))
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(target)
    return _page(form)


def category_stamp(category: Category) -> str:
    return stamp(category.name_zh, category.name_en, category.sort_order, category.active, category.retention_years)


def _page(form, refused: tuple[int, CategoryForm] | None = None, status: int = 200):
    """The list, with the add form; ``refused``: a row whose change was refused, shown as sent
    with its errors (nothing typed is lost, with or without JavaScript)."""
    rows = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)).all()
    return render_template("cases/categories.html", rows=rows, form=form, refused=refused, stamp_of=category_stamp,
                           default_retention=current_app.config["MEDIATION_RETENTION_YEARS"]), status


@bp.route("/categories/<int:category_id>", methods=["POST"])
@require("category.manage")
def category_update(category_id: int):
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(prefix=f"c{category_id}", category_id=category_id)
    form.code.data = category.code  # the code never changes: statistics rely on it
    if form.validate_on_submit() and is_stale(form.stamp.data, category_stamp(category)):
        form.form_errors.append(changed_meanwhile(category, ("admin.category_update",)))
        # Shown again as sent: saving it once more, now knowingly, replaces the other change.
        form.stamp.data = category_stamp(category)
    elif form.validate_on_submit():
        fields = ("name_zh", "name_en", "sort_order", "active", "retention_years")
        before = {f: getattr(category, f) for f in fields}
        category.name_zh = form.name_zh.data.strip()
        category.name_en = form.name_en.data.strip()
        category.sort_order = form.sort_order.data or 0
        category.active = bool(request.form.get(f"c{category_id}-active"))
        category.retention_years = form.retention_years.data or None
        changes = {f: [before[f], getattr(category, f)] for f in fields if before[f] != getattr(category, f)}
        if changes:
            audit.record("admin.category_update", target=category, details={"code": category.code, **changes})
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("cases.categories"))
    flash_errors(form)
    return _page(CategoryForm(prefix="new", formdata=None), refused=(category_id, form), status=422)
