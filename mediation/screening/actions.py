"""Forms of the risk-level steps for the generic action page (``cases.views.act``)."""
from ..cases.models import ORDER, RiskLevel, rank
from .forms import RiskForm


def build(case, name: str):
    """(form, to_data, hints) for raise_risk / lower_risk, or None."""
    if name not in ("raise_risk", "lower_risk"):
        return None
    form = RiskForm()
    now = rank(case.risk_level)
    levels = [lv for lv in ORDER if (rank(lv) > now if name == "raise_risk" else rank(lv) < now)]
    form.set_levels(levels)
    return form, lambda f: {"risk_level": RiskLevel(f.risk_level.data) if f.risk_level.data else None,
                            "reason": f.reason.data}, []
