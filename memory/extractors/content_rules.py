"""Free-text content preferences from a clause: diet, allergies, likes and dislikes, things to avoid,
background, location, learning style, accessibility, work setting and preferred name.

Every pattern needs the user as the subject ('I am allergic to ...'); objects are cut at the first
connective, capped in length, and rejected when they point at the conversation ('I like it', 'I love
your answer') or at the answer's style (that is the style rules' job).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memory.extractors.clauses import Clause, is_injection
from memory.extractors.guard import is_role_name

_I = re.IGNORECASE
_DIETS = {
    "vegetarian": "vegetarian",
    "veggie": "vegetarian",
    "vegan": "vegan",
    "pescatarian": "pescatarian",
    "pescetarian": "pescatarian",
    "keto": "keto",
    "paleo": "paleo",
    "gluten-free": "gluten-free",
    "gluten free": "gluten-free",
    "dairy-free": "dairy-free",
    "dairy free": "dairy-free",
    "halal": "halal",
    "kosher": "kosher",
    "low-carb": "low-carb",
    "low carb": "low-carb",
    "plant-based": "vegan",
    "plant based": "vegan",
    "diabetic": "diabetic",
}
_DIET = "|".join(sorted(map(re.escape, _DIETS), key=len, reverse=True))
_OCCUPATIONS = (
    r"nurse|doctor|physician|surgeon|dentist|pharmacist|teacher|professor|lecturer|tutor|engineer|developer|"
    r"programmer|software engineer|data scientist|scientist|researcher|student|lawyer|attorney|paralegal|"
    r"designer|architect|accountant|chef|cook|baker|writer|author|journalist|editor|manager|consultant|"
    r"analyst|artist|musician|photographer|farmer|mechanic|electrician|plumber|carpenter|marketer|"
    r"entrepreneur|founder|ceo|cto|product manager|project manager|librarian|pilot|firefighter|police officer|"
    r"paramedic|therapist|psychologist|social worker|veterinarian|vet|salesperson|recruiter|translator|"
    r"biologist|chemist|physicist|mathematician|economist|statistician|sysadmin|devops engineer|intern"
)
_CUT = re.compile(
    r"\s*(?:\b(?:but|because|since|when|while|although|though|so|which|who|if|as long as|unless|whereas|"
    r"and i|and my|and you|and can|and could|and what|and how|can you|could you|please|any|what|how)\b|[,.;:!?()]).*$",
    _I,
)
_TRAILING = re.compile(
    r"\s+(?:very much|so much|a lot|too|as well|now|anymore|any more|these days|nowadays|lately|again|"
    r"really|though|actually|in general|generally|the most)$",
    _I,
)
_DEICTIC = re.compile(
    r"^(?:it|that|this|these|those|them|you|him|her|us|one|both|either|neither|so|too|all|everything|"
    r"nothing|something|anything|what|how|when|where|why|the idea|the way|the first|the second|the last|"
    r"the other|to (?:know|ask|see|hear|learn|get|have|be|think|say|help|try|make|do|check|start|go))\b"
    r"|\b(?:your|yours|answers?|responses?|repl(?:y|ies)|explanations?|suggestions?|advice|help|chat)\b",
    _I,
)


@dataclass(frozen=True)
class ContentSignal:
    kind: str
    value: str
    mode: str  # assert | retract
    explicit: bool  # said with a preference verb ('I love ...') rather than as a fact in passing


def clean_object(text: str, *, max_words: int = 6) -> str | None:
    """The item a pattern captured, or None when it is not a usable item."""
    text = _CUT.sub("", text).strip(" '\"-")
    previous = None
    while previous != text:
        previous, text = text, _TRAILING.sub("", text).strip()
    text = re.sub(r"^to\s+", "", text, flags=_I)
    if not text or len(text.split()) > max_words or _DEICTIC.search(text) or is_injection(text):
        return None
    return text


_FIXED_PAIRS = re.compile(
    r"\b(?:mac|macaroni|rock|salt|fish|bread|peanut butter|gin|rhythm|sweet|hot|black|pros|trial|law|"
    r"arts|dungeons|bed|bread) (?:and|&|n) \w+",
    _I,
)


def _items(text: str, *, max_words: int = 6) -> list[str]:
    """'peanuts and shellfish' and 'cooking, reading and gardening' -> several items; fixed pairs
    ('mac and cheese', 'rock and roll') stay whole."""
    text = re.sub(r"[.;:!?()].*$|,?\s+(?:and|but|because|so|as)\s+(?:i|my|you)\b.*$", "", text, flags=_I)
    protected = _FIXED_PAIRS.sub(lambda m: m.group(0).replace(" and ", "\x00").replace(" & ", "\x01"), text)
    parts = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&|as well as)\s+", protected, flags=_I)
    items = []
    for part in parts:
        item = clean_object(part.replace("\x00", " and ").replace("\x01", " & "), max_words=max_words)
        if item is None:
            break  # the list ended ('hiking, it relaxes me')
        items.append(item)
    return items


Rule = Callable[[str, dict[str, str]], list[ContentSignal]]


def _diet(text: str, active: dict[str, str]) -> list[ContentSignal]:
    current = active.get("diet")
    if m := re.search(
        rf"\bi am (?:not|no longer) (?:a |an )?(?:strict )?({_DIET})\b|\bi (?:stopped being|quit "
        rf"being|gave up being) (?:a |an )?({_DIET})\b",
        text,
        _I,
    ):
        return [ContentSignal("diet", _DIETS[(m.group(1) or m.group(2)).lower()], "retract", True)]
    if re.search(
        r"\bi (?:now eat|eat|have started eating|started eating|am eating|am back to eating) (?:fish|"
        r"seafood)\b",
        text,
        _I,
    ) and current in ("vegetarian", "vegan"):
        return [ContentSignal("diet", "pescatarian", "assert", True)]
    if re.search(
        r"\bi (?:now eat|eat|have started eating|started eating|am eating|am back to eating) meat\b", text, _I
    ) and current in ("vegetarian", "vegan", "pescatarian"):
        return [ContentSignal("diet", current, "retract", True)]
    if re.search(
        r"\bi (?:do not|never|no longer|can not) eat (?:any )?(?:animal products|meat or dairy|meat, "
        r"dairy|dairy or eggs|meat or eggs)\b",
        text,
        _I,
    ):
        return [ContentSignal("diet", "vegan", "assert", True)]
    if re.search(r"\bi (?:do not|never|no longer) eat (?:any )?meat\b", text, _I):
        return [ContentSignal("diet", "vegetarian", "assert", True)]
    if re.search(r"\bi have (?:type [12] |type (?:one|two) )?diabetes\b", text, _I):
        return [ContentSignal("diet", "diabetic", "assert", False)]
    if m := re.search(
        rf"\bi (?:am|have been|have become|became|went|have gone|turned|eat|follow|keep|am now|"
        rf"am on|have switched to|switched to)\s+(?:(?:a|an|fully|strictly|strict|mostly|now|"
        rf"completely|100%)\s+)*({_DIET})\b",
        text,
        _I,
    ):
        return [ContentSignal("diet", _DIETS[m.group(1).lower()], "assert", False)]
    if m := re.search(r"\bi (?:do not|never|can not|no longer) eat (\w+(?: \w+)?)", text, _I):
        return [ContentSignal("avoid", item, "assert", True) for item in _items(m.group(1), max_words=3)]
    return []


def _allergies(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    if m := re.search(
        r"\bi am (?:not|no longer) allergic to (.+)|\bi (?:outgrew|grew out of) my (.+?) allerg", text, _I
    ):
        return [ContentSignal("allergies", i, "retract", True) for i in _items(m.group(1) or m.group(2))]
    if m := re.search(
        r"\b(?:i am|i am also|and|and also|also)\s+(?:severely |very |deathly |highly |mildly |a bit "
        r"|extremely |quite )?allergic to (.+)",
        text,
        _I,
    ):
        return [ContentSignal("allergies", i, "assert", False) for i in _items(m.group(1))]
    if m := re.search(
        r"\bi have (?:a |an )?(?:severe |serious |mild |bad |strong )?(\w+(?: \w+)?) allerg(?:y|ies)\b",
        text,
        _I,
    ):
        return [ContentSignal("allergies", i, "assert", False) for i in _items(m.group(1), max_words=2)]
    if m := re.search(r"\bi am (\w+) intolerant\b", text, _I):
        return [ContentSignal("allergies", f"{m.group(1).lower()} intolerance", "assert", False)]
    if re.search(r"\bi have (?:celiac|coeliac)(?: disease)?\b", text, _I):
        return [ContentSignal("allergies", "gluten (celiac disease)", "assert", False)]
    return []


def _opinions(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    found = []
    if m := re.search(
        r"\bi (?:(?:really|absolutely|just|truly|also|genuinely)\s+)*(?:hate|dislike|detest|loathe|"
        r"can not stand|do not (?:really )?(?:like|enjoy|care for)|am not (?:a )?(?:big |huge )?"
        r"fan of|am not into)\s+(.+)",
        text,
        _I,
    ):
        found += [ContentSignal("dislikes", i, "assert", True) for i in _items(m.group(1))]
    if m := re.search(
        r"\bi (?:(?:really|absolutely|totally|do|also|just|truly|genuinely)\s+)*(?:love|like|enjoy|"
        r"adore|am (?:a )?(?:big |huge )?fan of|am into|am passionate about|am obsessed with|am "
        r"fond of)\s+(.+)",
        text,
        _I,
    ):
        found += [ContentSignal("likes", i, "assert", True) for i in _items(m.group(1))]
    elif m := re.search(r"\bmy (?:favou?rite|fav) (?:\w+ ){0,2}(?:is|are) (.+)", text, _I):
        found += [ContentSignal("likes", i, "assert", True) for i in _items(m.group(1), max_words=4)]
    return found


def _avoid(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = re.search(
        r"\b(?:do not|never|stop|please stop|avoid) (?:mention(?:ing)?|bring(?:ing)? up|talk(?:ing)? "
        r"about|recommend(?:ing)?|suggest(?:ing)?|referenc(?:e|ing)|remind(?:ing)? me (?:of|about))\s+"
        r"(.+)|\bi do not want to (?:hear|talk|read|be reminded) about (.+)"
        r"|(?:^|\b(?:so|and)\s+)(?:please\s+|always\s+)*avoid (.+)",
        text,
        _I,
    )
    if not m:
        return []
    return [ContentSignal("avoid", i, "assert", True) for i in _items(next(g for g in m.groups() if g))]


def _background(text: str, active: dict[str, str]) -> list[ContentSignal]:
    if m := re.search(
        rf"\bi am (?:not|no longer) (?:a |an )?((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b", text, _I
    ):
        value = m.group(1).lower()
        return (
            [ContentSignal("background", value, "retract", True)] if active.get("background") == value else []
        )
    m = re.search(
        rf"\bi (?:am|work as|am working as|have been working as|now work as|became) (?:now )?"
        rf"(?:a |an )((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b",
        text,
        _I,
    )
    if m and not re.search(r"\b(?:big|huge|fan|good|bad|great|terrible|real|total)\b", m.group(1), _I):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    if m := re.search(rf"^as an? ((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b", text, _I):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    if m := re.search(r"\bi am (retired|self-employed|a stay-at-home (?:mom|dad|parent))\b", text, _I):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    return []


def _location(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = re.search(
        r"\b(?:i|we) (?:live|am living|are living|am based|are based|reside|now live) in (.+)|\b(?:i|we) "
        r"(?:just |recently |have )?(?:moved|relocated) to (.+)",
        text,
        _I,
    )
    if not m:
        return []
    place = clean_object(m.group(1) or m.group(2), max_words=4)
    if place is None or re.match(r"^(?:a|an|my|our|the (?:city|country|countryside|suburbs))\b", place, _I):
        return []
    return [ContentSignal("location", place, "assert", False)]


def _learning(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    if m := re.search(
        r"\bi am (?:a |an )?(visual|hands-on|auditory|kinesthetic|verbal|reading) learner\b", text, _I
    ):
        return [ContentSignal("learning_style", f"{m.group(1).lower()} learner", "assert", False)]
    if m := re.search(
        r"\bi (?:learn|understand)(?: things| stuff)? (?:best|better|most easily|fastest) "
        r"((?:with|through|by|from|when|using) .+)",
        text,
        _I,
    ):
        value = clean_object(m.group(1))
        return [ContentSignal("learning_style", value, "assert", True)] if value else []
    if re.search(r"\bexamples help me\b|\bi need (?:concrete )?examples to understand\b", text, _I):
        return [ContentSignal("learning_style", "with examples", "assert", True)]
    return []


def _accessibility(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    found = re.finditer(
        r"\bi am (dyslexic|blind|colou?r[- ]?blind|deaf|hard of hearing|visually impaired|partially "
        r"sighted|autistic|neurodivergent)\b|\bi have (dyslexia|adhd|low vision|a visual impairment|"
        r"colou?r blindness|a hearing impairment|autism)\b|(?:\b(?:i|and)\s+|^)use a (screen reader)\b",
        text,
        _I,
    )
    return [
        ContentSignal("accessibility", next(g for g in m.groups() if g).lower(), "assert", False)
        for m in found
    ]


def _work_setting(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = re.search(
        r"\b(?:i (?:mostly |usually |now )?work|working) (remotely|from home|in an? (?:office|hospital|school|lab|"
        r"laboratory|factory|warehouse|restaurant|startup|bank|clinic|hotel|store|shop|call center)|"
        r"(?:night|early|late) shifts?|(?:part|full)[- ]time|for an? (?:startup|bank|hospital|school|"
        r"nonprofit|non-profit|agency|law firm|government agency))\b",
        text,
        _I,
    )
    return [ContentSignal("work_setting", m.group(1).lower(), "assert", False)] if m else []


_NOT_NAMES = {
    "back",
    "later",
    "tomorrow",
    "when",
    "if",
    "now",
    "again",
    "anytime",
    "maybe",
    "a",
    "an",
    "the",
    "not",
    "crazy",
    "out",
    "names",
    "whatever",
    "sometime",
    "soon",
    "tonight",
    "today",
    "please",
    "on",
    "at",
    "by",
}


# A name: an optional title, then one to three words (the later ones capitalised: 'Alice Smith', not
# 'Alice and I'). A role ('Administrator', 'root') is not a name.
_TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof|Sir|Dame|Rev|Capt)\.?\s+)?"
_LETTERS = r"[^\W\d_]"
_NAME = rf"({_TITLE}{_LETTERS}(?:{_LETTERS}|['-]){{1,30}}(?:\s+[A-Z](?:{_LETTERS}|['-]){{1,30}}){{0,2}})\b(?![\w'-])"


# An introduction: 'Hi, I'm Max', 'I'm Олена, nice to meet you', 'I'm Danielle.' -- one capitalised word
# (any script) and nothing else in the clause but a greeting. Nationalities ('I'm Danish', 'I'm German')
# are self-descriptions, not names.
_INTRO = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|morning|evening)(?: there)?,?\s+)?(?i:i am) (?P<n>[^\W\d_a-z][^\W\d_]{1,30})"
    r"(?:,?\s+(?:here|nice to meet you|pleased to meet you|good to meet you))?$"
)
_NATIONALITY = re.compile(
    r"(?:ish|ese|ian|ean|ican|ch|i|an|ss|ek|ai|ic)$|^(?:german|thai|greek|swiss|irish|dutch|french|welsh)$", re.I
)
_FIRST_NAMES_ENDING_LIKE_NATIONALITIES = re.compile(r"^(?:dan|ivan|susan|morgan|megan|brian|ian|jan|stan|nathan|ethan|"
                                                    r"logan|ryan|dylan|jordan|evan|alan|joan|juan|sean|julian|"
                                                    r"adrian|vivian|lillian|christian|sebastian|naomi|ali|kai|"
                                                    r"mei|heidi|eric|mick|nick|patrick|ross|jess|bess)$", re.I)


# States people say of themselves with a stray capital ('I'm Sorry.', 'I'm Back').
_STATES = frozenset(
    ["sorry", "tired", "fine", "good", "back", "here", "ready", "done", "busy", "new", "sure", "ok", "okay", "home", "late", "early", "free", "lost", "bored", "hungry", "happy", "sad", "sick", "well", "ill", "confused", "stuck", "curious", "retired", "vegan", "vegetarian", "pregnant", "single", "married", "divorced"]
)


def _introduction(text: str) -> str | None:
    m = _INTRO.match(text.strip())
    if not m:
        return None
    name = m.group("n")
    if name.lower() in _STATES:
        return None
    if _NATIONALITY.search(name) and not _FIRST_NAMES_ENDING_LIKE_NATIONALITIES.match(name):
        return None
    return name


def _name(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = re.search(
        rf"\b(?:please )?(?i:call me) {_NAME}|\b(?i:my name is) {_NAME}|\b(?i:i go by) (?=[A-Z]){_NAME}",  # 'I go by rail' is transport
        text,
    )
    if not m:
        intro = _introduction(text)
        if intro and intro.lower() not in _NOT_NAMES and not is_role_name(intro) and not is_injection(intro):
            return [ContentSignal("name", intro, "assert", True)]
        return []
    name = next(g for g in m.groups() if g).strip()
    first = re.sub(_TITLE, "", name).split()[0].lower() if re.sub(_TITLE, "", name).split() else ""
    if not first or first in _NOT_NAMES or is_role_name(name) or is_injection(name):
        return []
    return [ContentSignal("name", name, "assert", True)]


_FACTS: Sequence[Rule] = (
    _diet,
    _allergies,
    _background,
    _location,
    _learning,
    _accessibility,
    _work_setting,
    _name,
)


def content_signals(clause: Clause, active: dict[str, str], *, style_found: bool) -> list[ContentSignal]:
    """Content preferences in a clause. Self-descriptions hold even inside a task request ('give me a
    recipe, I am allergic to nuts'); instructions about what to avoid do not when they concern one task."""
    if clause.question:
        return []
    found: list[ContentSignal] = []
    for rule in _FACTS:
        found += rule(clause.text, active)
    # Tastes and 'do not mention' only where no fact or style claimed the clause: 'I do not eat meat' is a
    # diet, not also a dislike; 'I hate long answers' is verbosity, not a dislike of answers.
    if not style_found and (not clause.task or clause.standing):
        avoid = _avoid(clause.text, active)
        found += avoid if avoid or found else _opinions(clause.text, active)
    return found
