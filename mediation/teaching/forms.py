"""The teaching-case edit form and the reviewer's rejection form."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import AppForm


def _len(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


class TeachingForm(AppForm):
    stamp = HiddenField()  # the values the form was filled from (optimistic locking, stamps.py)
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give a title.")), _len(200)])
    facts = TextAreaField(_l("Facts and background"), validators=[_len(20000)], render_kw={"rows": 8})
    # Not "process": a Form has a method of that name. Maps to TeachingCase.process.
    mediation_process = TextAreaField(_l("Mediation process"), validators=[_len(20000)], render_kw={"rows": 8})
    outcome = TextAreaField(_l("Outcome"), validators=[_len(20000)], render_kw={"rows": 5})
    legal_point = TextAreaField(_l("Legal point (the law this case teaches)"), validators=[_len(20000)],
                                render_kw={"rows": 6})


class RejectForm(AppForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Please give a reason.")), _len(2000)],
                           render_kw={"rows": 3})
