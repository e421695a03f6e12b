"""DV risk screening: the question set, weights and levels of SCREENING.md §4, in one
table so a district can calibrate them. The level is computed here, never chosen."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..cases.models import RiskLevel

YES, NO, UNSURE = "yes", "no", "unsure"
ANSWER_VALUE = {YES: 1.0, UNSURE: 0.5, NO: 0.0}  # 不确定 counts half


@dataclass(frozen=True)
class Item:
    number: int
    text: object  # lazy string
    weight: int
    red_alone: bool = False  # R: red on its own


ITEMS: tuple[Item, ...] = (
    Item(1, _l("Has the other party ever strangled you or covered your nose and mouth?"), 5, True),
    Item(2, _l("Has the other party hurt you with a knife, stick or the like, or threatened you with a tool, "
               "pesticide or petrol?"), 5, True),
    Item(3, _l("Has the other party said they would kill you or the children, or “take you down with them”?"), 5,
         True),
    Item(4, _l("Do you think the other party could kill or seriously injure you?"), 4, True),
    Item(5, _l("Has the violence become more frequent or more severe in the past year?"), 3),
    Item(6, _l("In the past year, has the other party hit, kicked or shoved you?"), 2),
    Item(7, _l("Has the other party forced you into sex?"), 3),
    Item(8, _l("Were you beaten while pregnant?"), 2),
    Item(9, _l("Does the other party follow you, track your location, harass or threaten you, or smash things?"),
         3),
    Item(10, _l("Does the other party stop you seeing family and friends, control your money or papers, or show "
                "extreme jealousy?"), 3),
    Item(11, _l("Have you separated or asked for a divorce, and the other party does not accept it?"), 2),
    Item(12, _l("Has the other party threatened or attempted suicide?"), 2),
    Item(13, _l("Has the other party threatened to hurt the children, or used violence in front of them?"), 3),
    Item(14, _l("Have the police been called, a warning letter (告诫书) or a protection order issued?"), 2),
    Item(15, _l("Does the other party drink heavily or take drugs?"), 1),
    Item(16, _l("Are you afraid of the other party now?"), 2),
)
MAX_SCORE = sum(i.weight for i in ITEMS)  # 47
RED_SCORE = 12  # about four ordinary factors (LAP's 4-of-8 rule)
ORANGE_SCORE = 6

@dataclass(frozen=True)
class Result:
    score: float
    level: RiskLevel
    reasons: tuple[str, ...]  # why, in the order of the rules (codes, worded by the views)


def score(answers: dict[int, str], *, unsafe_tonight: bool = False, breach: bool = False,
          child_harmed: bool = False) -> Result:
    """The level of one party's answers. ``answers`` maps item number -> yes/no/unsure;
    a missing item counts as no. ``unsafe_tonight`` and ``breach`` are the follow-ups
    of items 16 and 14; ``child_harmed`` (our addition) makes it at least orange."""
    def value(n):
        return ANSWER_VALUE.get(answers.get(n, NO), 0.0)

    def yes(n):
        return answers.get(n) == YES

    total = sum(item.weight * value(item.number) for item in ITEMS)
    reasons = []
    if any(value(i.number) > 0 and i.red_alone for i in ITEMS if answers.get(i.number) == YES):
        reasons.append("red_item")
    if total >= RED_SCORE:
        reasons.append("red_score")
    if yes(10) and yes(11) and (yes(6) or yes(7)):
        reasons.append("red_control_separation_violence")
    if unsafe_tonight:
        reasons.append("unsafe_tonight")
    if reasons:
        return Result(total, RiskLevel.RED, tuple(reasons))
    if total >= ORANGE_SCORE:
        reasons.append("orange_score")
    if breach:
        reasons.append("breach")
    if yes(6) and yes(16):
        reasons.append("violence_and_fear")
    if child_harmed:  # our addition to §4: a harmed child is never "no risk" (and must be reported)
        reasons.append("child_harmed")
    if reasons:
        return Result(total, RiskLevel.ORANGE, tuple(reasons))
    if total > 0:
        return Result(total, RiskLevel.YELLOW, ("yellow_score",))
    return Result(0.0, RiskLevel.NONE, ())


def prompts(answers: dict[int, str], *, child_harmed: bool = False, breach: bool = False,
            unsafe_tonight: bool = False) -> list[str]:
    """Per-answer prompts (codes): what the mediator must do or offer now."""
    out = []
    if answers.get(1) in (YES, UNSURE):
        out.append("medical")
    if child_harmed:  # with or without item 13
        out.append("mandatory_report")
    if answers.get(12) in (YES, UNSURE):
        out.append("crisis")
    if breach:
        out.append("breach")
    if answers.get(16) == YES or unsafe_tonight:
        out.append("shelter")
    return out
