"""The grid worker's one-minute lead form."""
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..forms import AppForm
from ..labels import URGENCY_LABELS
from .models import Urgency


class LeadForm(AppForm):
    who = StringField(_l("Who"), validators=[DataRequired(_l("Say who is involved.")),
                                             Length(max=200, message=_l("At most %(max)d characters.", max=200))],
                      render_kw={"placeholder": _l("e.g. the Wang family, 3组: husband and wife")})
    where = StringField(_l("Where"), validators=[DataRequired(_l("Say where.")),
                                                 Length(max=200, message=_l("At most %(max)d characters.", max=200))],
                        render_kw={"placeholder": _l("e.g. 3组12号")})
    what = TextAreaField(_l("What happened"),
                         validators=[DataRequired(_l("Say what happened.")),
                                     Length(max=2000, message=_l("At most %(max)d characters.", max=2000))],
                         render_kw={"rows": 4})
    urgency = RadioField(_l("How urgent"), choices=[(u.value, URGENCY_LABELS[u]) for u in Urgency],
                         default=Urgency.NORMAL.value)
    contact_phone = StringField(
        _l("Contact phone (optional)"),
        validators=[Optional(), Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
                                       message=_l("Enter an 11-digit mobile number or a landline such as "
                                                  "0519-82812345."))],
        render_kw={"inputmode": "tel"})


class DismissForm(AppForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Please give a reason.")),
                                                     Length(max=2000, message=_l("At most %(max)d characters.",
                                                                                 max=2000))],
                           render_kw={"rows": 2})
