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
from memory.extractors.memo import kept_lists
from memory.extractors.spans import ASIDE

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
    r"really|though|actually|in general|generally|the most|lol|lmao|rofl|(?:ha){2,}h?|tbh|honestly)$",
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
    text = _LEADING_TO.sub("", text)
    if not text or len(text.split()) > max_words or _DEICTIC.search(text) or ASIDE.match(text) or is_injection(text):
        return None
    return text


_LEADING_TO = re.compile(r"^to\s+", _I)
_FIXED_PAIRS = re.compile(
    r"\b(?:mac|macaroni|rock|salt|fish|bread|peanut butter|gin|rhythm|sweet|hot|black|pros|trial|law|"
    r"arts|dungeons|bed|bread) (?:and|&|n) \w+",
    _I,
)

_ITEMS_END = re.compile(r"[.;:!?()].*$|,?\s+(?:and|but|because|so|as)\s+(?:i|my|you)\b.*$", _I)
_ITEM_SPLIT = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&|as well as)\s+", _I)


def _items(text: str, *, max_words: int = 6) -> list[str]:
    """'peanuts and shellfish' and 'cooking, reading and gardening' -> several items; fixed pairs
    ('mac and cheese', 'rock and roll') stay whole."""
    text = _ITEMS_END.sub("", text)
    protected = _FIXED_PAIRS.sub(lambda m: m.group(0).replace(" and ", "\x00").replace(" & ", "\x01"), text)
    parts = _ITEM_SPLIT.split(protected)
    items = []
    for part in parts:
        item = clean_object(part.replace("\x00", " and ").replace("\x01", " & "), max_words=max_words)
        if item is None:
            break  # the list ended ('hiking, it relaxes me')
        items.append(item)
    return items


Rule = Callable[[str, dict[str, str]], list[ContentSignal]]


_DIET_RETRACT = re.compile(
    rf"\bi am (?:not|no longer) (?:a |an )?(?:strict )?({_DIET})\b|\bi (?:stopped being|quit "
    rf"being|gave up being) (?:a |an )?({_DIET})\b",
    _I,
)
_EATS_FISH = re.compile(
    r"\bi (?:now eat|eat|have started eating|started eating|am eating|am back to eating) (?:fish|"
    r"seafood)\b",
    _I,
)
_EATS_MEAT = re.compile(
    r"\bi (?:now eat|eat|have started eating|started eating|am eating|am back to eating) meat\b", _I
)
_NO_ANIMAL_PRODUCTS = re.compile(
    r"\bi (?:do not|never|no longer|can not) eat (?:any )?(?:animal products|meat or dairy|meat, "
    r"dairy|dairy or eggs|meat or eggs)\b",
    _I,
)
_NO_MEAT = re.compile(r"\bi (?:do not|never|no longer) eat (?:any )?meat\b", _I)
_DIABETES = re.compile(r"\bi have (?:type [12] |type (?:one|two) )?diabetes\b", _I)
_DIET_ASSERT = re.compile(
    rf"\bi (?:am|have been|have become|became|went|have gone|turned|eat|follow|keep|am now|"
    rf"am on|have switched to|switched to)\s+(?:(?:a|an|fully|strictly|strict|mostly|now|"
    rf"completely|100%)\s+)*({_DIET})\b",
    _I,
)
_DOES_NOT_EAT = re.compile(r"\bi (?:do not|never|can not|no longer) eat (\w+(?: \w+)?)", _I)


def _diet(text: str, active: dict[str, str]) -> list[ContentSignal]:
    current = active.get("diet")
    if m := _DIET_RETRACT.search(text):
        return [ContentSignal("diet", _DIETS[(m.group(1) or m.group(2)).lower()], "retract", True)]
    if current in ("vegetarian", "vegan") and _EATS_FISH.search(text):
        return [ContentSignal("diet", "pescatarian", "assert", True)]
    if current in ("vegetarian", "vegan", "pescatarian") and _EATS_MEAT.search(text):
        return [ContentSignal("diet", current, "retract", True)]
    if _NO_ANIMAL_PRODUCTS.search(text):
        return [ContentSignal("diet", "vegan", "assert", True)]
    if _NO_MEAT.search(text):
        return [ContentSignal("diet", "vegetarian", "assert", True)]
    if _DIABETES.search(text):
        return [ContentSignal("diet", "diabetic", "assert", False)]
    if m := _DIET_ASSERT.search(text):
        return [ContentSignal("diet", _DIETS[m.group(1).lower()], "assert", False)]
    if m := _DOES_NOT_EAT.search(text):
        return [ContentSignal("avoid", item, "assert", True) for item in _items(m.group(1), max_words=3)]
    return []


_ALLERGY_RETRACT = re.compile(
    r"\bi am (?:not|no longer) allergic to (.+)|\bi (?:outgrew|grew out of) my (.+?) allerg", _I
)
_ALLERGIC_TO = re.compile(
    r"\b(?:i am|i am also|and|and also|also)\s+(?:(?:severely|very|deathly|highly|mildly|a bit|extremely|quite|seriously|"
    r"really|genuinely|properly|actually|truly|badly|dangerously|super|so|also)\s+)*allergic to (.+)",
    _I,
)
_HAS_ALLERGY = re.compile(
    r"\bi have (?:a |an )?(?:severe |serious |mild |bad |strong )?(\w+(?: \w+)?) allerg(?:y|ies)\b", _I
)
_INTOLERANT = re.compile(r"\bi am (\w+) intolerant\b", _I)
_CELIAC = re.compile(r"\bi have (?:celiac|coeliac)(?: disease)?\b", _I)


# 'Allergic to' said as a joke, of something no body reacts to (days, mornings, work, exercise, meetings: 'I'm
# allergic to Mondays, haha') or taken back ('just kidding'): a complaint, not an allergy. (Laughter alone is no
# joke: 'allergic to cats lol' is texting.)
# ('No kidding', 'joking aside', 'I'm not joking' insist that it is true.)
_JOKING = re.compile(
    r"\b(?:jk|just kidding|only kidding|(?<!\bno )(?<!\bnot )kidding(?! aside)|(?<!\bnot )joking(?! aside))\b", _I
)
_ASIDE = re.compile(
    r"^(?:all )?(?:joking|kidding) aside$|^(?:no kidding|not joking|seriously|honestly|for real|no joke)$", _I
)
_LAUGHTER = re.compile(r"^(?:(?:ha){2,}h?|he(?:he)+|lol|lmao|rofl)$", _I)
_NO_ALLERGEN = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)days?|mornings?|early (?:mornings?|starts?)|work|working|exercise|"
    r"effort|meetings?|small talk|commitment|housework|homework|chores|cleaning|people|running|the gym|taxes|"
    r"paperwork|deadlines?|responsibility|alarm clocks?|queues?|mondays)$",
    _I,
)


def joking_allergy(text: str) -> bool:
    """'I'm allergic to Mondays, haha', 'allergic to early starts': 'allergic to' as a figure of speech (the sentence
    classifier reads it as a constraint too)."""
    m = _ALLERGIC_TO.search(text)
    if m is None:
        return False
    return bool(_JOKING.search(text)) or any(_NO_ALLERGEN.match(i) for i in _items(m.group(1)))


def _allergies(text: str, active: dict[str, str]) -> list[ContentSignal]:
    if joking_allergy(text):
        return []
    # '..., haha', '..., joking aside': the telling, not an allergen.
    return [s for s in _allergy_signals(text, active) if not (_LAUGHTER.match(s.value) or _ASIDE.match(s.value))]


def _allergy_signals(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    if m := _ALLERGY_RETRACT.search(text):
        return [ContentSignal("allergies", i, "retract", True) for i in _items(m.group(1) or m.group(2))]
    if m := _ALLERGIC_TO.search(text):
        return [ContentSignal("allergies", i, "assert", False) for i in _items(m.group(1))]
    if m := _HAS_ALLERGY.search(text):
        return [ContentSignal("allergies", i, "assert", False) for i in _items(m.group(1), max_words=2)]
    if m := _INTOLERANT.search(text):
        return [ContentSignal("allergies", f"{m.group(1).lower()} intolerance", "assert", False)]
    if _CELIAC.search(text):
        return [ContentSignal("allergies", "gluten (celiac disease)", "assert", False)]
    return []


_DISLIKE = re.compile(
    r"\bi (?:(?:really|absolutely|just|truly|also|genuinely)\s+)*(?:hate|dislike|detest|loathe|"
    r"can not stand|do not (?:really )?(?:like|enjoy|care for)|am not (?:a )?(?:big |huge )?"
    r"fan of|am not into)\s+(.+)",
    _I,
)
_LIKE = re.compile(
    r"\bi (?:(?:really|absolutely|totally|do|also|just|truly|genuinely)\s+)*(?:love|like|enjoy|"
    r"adore|am (?:a )?(?:big |huge )?fan of|am into|am passionate about|am obsessed with|am "
    r"fond of)\s+(.+)",
    _I,
)
_MY_FAVOURITE = re.compile(r"\bmy (?:favou?rite|fav) (?:\w+ ){0,2}(?:is|are) (.+)", _I)


def _opinions(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    found = []
    if m := _DISLIKE.search(text):
        found += [ContentSignal("dislikes", i, "assert", True) for i in _items(m.group(1))]
    if m := _LIKE.search(text):
        found += [ContentSignal("likes", i, "assert", True) for i in _items(m.group(1))]
    elif m := _MY_FAVOURITE.search(text):
        found += [ContentSignal("likes", i, "assert", True) for i in _items(m.group(1), max_words=4)]
    return found


_AVOID = re.compile(
    r"\b(?:do not|never|stop|please stop|avoid) (?:mention(?:ing)?|bring(?:ing)? up|talk(?:ing)? "
    r"about|recommend(?:ing)?|suggest(?:ing)?|referenc(?:e|ing)|remind(?:ing)? me (?:of|about))\s+"
    r"(.+)|\bi do not want to (?:hear|talk|read|be reminded) about (.+)"
    r"|(?:^|\b(?:so|and)\s+)(?:please\s+|always\s+)*avoid (.+)",
    _I,
)


def _avoid(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = _AVOID.search(text)
    if not m:
        return []
    return [ContentSignal("avoid", i, "assert", True) for i in _items(next(g for g in m.groups() if g))]


_NOT_OCCUPATION = re.compile(
    rf"\bi am (?:not|no longer) (?:a |an )?((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b", _I
)
_OCCUPATION = re.compile(
    rf"\bi (?:am|work as|am working as|have been working as|now work as|became) (?:now )?"
    rf"(?:a |an )((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b",
    _I,
)
_NOT_AN_OCCUPATION_WORD = re.compile(r"\b(?:big|huge|fan|good|bad|great|terrible|real|total)\b", _I)
_AS_AN_OCCUPATION = re.compile(rf"^as an? ((?:[\w-]+ ){{0,2}}?(?:{_OCCUPATIONS}))\b", _I)
_LIFE_STAGE = re.compile(r"\bi am (retired|self-employed|a stay-at-home (?:mom|dad|parent))\b", _I)


def _background(text: str, active: dict[str, str]) -> list[ContentSignal]:
    if m := _NOT_OCCUPATION.search(text):
        value = m.group(1).lower()
        return (
            [ContentSignal("background", value, "retract", True)] if active.get("background") == value else []
        )
    m = _OCCUPATION.search(text)
    if m and not _NOT_AN_OCCUPATION_WORD.search(m.group(1)):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    if m := _AS_AN_OCCUPATION.search(text):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    if m := _LIFE_STAGE.search(text):
        return [ContentSignal("background", m.group(1).lower(), "assert", False)]
    return []


_LIVES_IN = re.compile(
    r"\b(?:i|we) (?:live|am living|are living|am based|are based|reside|now live) in (.+)|\b(?:i|we) "
    r"(?:just |recently |have )?(?:moved|relocated) to (.+)",
    _I,
)
# When or why the speaker moved is no part of the place ('I moved to Bologna last year' stored 'Bologna last year').
_WHEN_MOVED = re.compile(
    r"\s+(?:(?:last|this|next)\s+(?:year|month|week|spring|summer|autumn|winter)|(?:back\s+)?in\s+(?:\d{4}|january|"
    r"february|march|april|may|june|july|august|september|october|november|december)|(?:a|one|two|three|four|five|six|"
    r"a few|a couple of|\d+)\s+(?:years?|months?|weeks?)\s+ago|recently|for (?:work|uni|university|my job))\b.*$",
    _I,
)
_VAGUE_PLACE = re.compile(r"^(?:a|an|my|our|the (?:city|country|countryside|suburbs))\b", _I)


def _location(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = _LIVES_IN.search(text)
    if not m:
        return []
    place = clean_object(_WHEN_MOVED.sub("", m.group(1) or m.group(2)), max_words=4)
    if place is None or _VAGUE_PLACE.match(place):
        return []
    return [ContentSignal("location", place, "assert", False)]


_LEARNER = re.compile(
    r"\bi am (?:a |an )?(visual|hands-on|auditory|kinesthetic|verbal|reading) learner\b", _I
)
_LEARNS_BEST = re.compile(
    r"\bi (?:learn|understand)(?: things| stuff)? (?:best|better|most easily|fastest) "
    r"((?:with|through|by|from|when|using) .+)",
    _I,
)
_NEEDS_EXAMPLES = re.compile(r"\bexamples help me\b|\bi need (?:concrete )?examples to understand\b", _I)


def _learning(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    if m := _LEARNER.search(text):
        return [ContentSignal("learning_style", f"{m.group(1).lower()} learner", "assert", False)]
    if m := _LEARNS_BEST.search(text):
        value = clean_object(m.group(1))
        return [ContentSignal("learning_style", value, "assert", True)] if value else []
    if _NEEDS_EXAMPLES.search(text):
        return [ContentSignal("learning_style", "with examples", "assert", True)]
    return []


_ACCESSIBILITY = re.compile(
    r"\bi am (dyslexic|blind|colou?r[- ]?blind|deaf|hard of hearing|visually impaired|partially "
    r"sighted|autistic|neurodivergent)\b|\bi have (dyslexia|adhd|low vision|a visual impairment|"
    r"colou?r blindness|a hearing impairment|autism)\b|(?:\b(?:i|and)\s+|^)use a (screen reader)\b",
    _I,
)


def _accessibility(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    return [
        ContentSignal("accessibility", next(g for g in m.groups() if g).lower(), "assert", False)
        for m in _ACCESSIBILITY.finditer(text)
    ]


_WORK_SETTING = re.compile(
    r"\b(?:i (?:mostly |usually |now )?work|working) (remotely|from home|in an? (?:office|hospital|school|lab|"
    r"laboratory|factory|warehouse|restaurant|startup|bank|clinic|hotel|store|shop|call center)|"
    r"(?:night|early|late) shifts?|(?:part|full)[- ]time|for an? (?:startup|bank|hospital|school|"
    r"nonprofit|non-profit|agency|law firm|government agency))\b",
    _I,
)


def _work_setting(text: str, _active: dict[str, str]) -> list[ContentSignal]:
    m = _WORK_SETTING.search(text)
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
    # 'call me Monday morning', "I'd rather you called me ASAP": the telephone sense, with a time
    "asap",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekend",
    "morning",
    "afternoon",
    "evening",
    "first",
    "whenever",
    "instead",
    "straight",
    "directly",
    "right",
}
# After a name phrase in another language, a pronoun alone is no name: German capitalises the polite 'you'
# ('Ich heiße Sie herzlich willkommen' welcomes someone). Only there: Lei and Du are given names in English.
_PRONOUNS_AFTER_NAMED_ELSEWHERE = frozenset({"sie", "ihnen", "ihr", "euch", "dich", "du", "usted", "ustedes", "vous",
                                            "lei", "te", "tu", "toi"})


# A name: an optional title, then one to three words (the later ones capitalised: 'Alice Smith', not
# 'Alice and I'). A role ('Administrator', 'root') is not a name.
_TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof|Sir|Dame|Rev|Capt)\.?\s+)?"
_LETTERS = r"[^\W\d_]"
_NAME = rf"({_TITLE}{_LETTERS}(?:{_LETTERS}|['-]){{1,30}}(?:\s+[A-Z](?:{_LETTERS}|['-]){{1,30}}){{0,2}})\b(?![\w'-])"


# 'call me X', 'my name is X', 'I go by X' (capitalised: 'I go by rail' is transport), and the same said in
# the other languages users write in ('Mein Name ist X', 'je m'appelle X', 'appelle-moi X', 'me llamo X',
# 'mi chiamo X', 'me chamo X'): a name is the one preference every language states the same way.
_NAMED_ELSEWHERE = (
    r"mein name ist|ich hei(?:ß|ss)e|nenn(?:t|en sie)? mich|je m['’]appelle|appelle[sz]?[- ]moi|mon nom est|"
    r"me llamo|mi nombre es|ll[aá]mame|mi chiamo|chiamami|meu nome [eé]|me chamo|me chame de"
)
_NAMED = re.compile(
    rf"\b(?:please )?(?i:call me) {_NAME}|\b(?i:my name is) {_NAME}|\b(?i:i go by) (?=[A-Z]){_NAME}"
    # A name asked for as a wish: 'I'd rather you called me Jo', 'I prefer to be called Jo' ('my boss called me Jo'
    # is what someone else did).
    rf"|\b(?i:(?:rather|prefer it if|like it if|prefer if) you called me|(?:prefer|like|want|rather) to be called)"
    rf" (?=[^\W\d_a-z]){_NAME}"
    # (The other languages' alternative stays last: ``_name`` reads its group as the last one.)
    rf"|(?<![\w'’])(?i:{_NAMED_ELSEWHERE}) (?=[^\W\d_a-z]){_NAME}"
)
_TITLE_RE = re.compile(_TITLE)


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
    ["sorry", "tired", "fine", "good", "back", "here", "ready", "done", "busy", "new", "sure", "ok", "okay", "home", "late", "early", "free", "lost", "bored", "hungry", "happy", "sad", "sick", "well", "ill", "confused", "stuck", "curious", "retired", "vegan", "vegetarian", "pregnant", "single", "married", "divorced",
     # ... and conditions, faiths and states the other readers know, typed with a capital ('I'm Coeliac.')
     "coeliac", "celiac", "diabetic", "asthmatic", "epileptic", "autistic", "dyslexic", "deaf", "blind", "disabled",
     "pescatarian", "muslim", "hindu", "sikh", "buddhist", "atheist", "agnostic", "exhausted", "stressed",
     "shattered", "knackered", "starving", "freezing", "awake", "broke", "drunk", "hungover", "nervous", "anxious",
     "scared", "worried", "upset", "excited", "gay", "lesbian", "bisexual", "trans", "colourblind", "colorblind"]
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
    m = _NAMED.search(text)
    if not m:
        intro = _introduction(text)
        if intro and intro.lower() not in _NOT_NAMES and not is_role_name(intro) and not is_injection(intro):
            return [ContentSignal("name", intro, "assert", True)]
        return []
    name = next(g for g in m.groups() if g).strip()
    words = _TITLE_RE.sub("", name).split()
    first = words[0].lower() if words else ""
    if not first or first in _NOT_NAMES or is_role_name(name) or is_injection(name):
        return []
    if m.group(m.re.groups) and name.lower() in _PRONOUNS_AFTER_NAMED_ELSEWHERE:  # the last group: another language
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


@kept_lists()  # the rules and the sentence extractor read each clause of a turn
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
