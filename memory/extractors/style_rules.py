"""Style dimensions from a clause: which pole a term names and what the words around it do to it.

Each dimension has terms for its poles ('short' -> verbosity/concise, 'long' -> verbosity/detailed).
The frame around a term decides the outcome: 'too long' and 'no jargon' ask for the opposite pole,
'not detailed enough' and 'shorter' for the named one, and 'I don't mind long answers' only withdraws
a preference for the opposite (tolerance is not a preference).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from memory.extractors.clauses import Clause
from memory.taxonomy import OPPOSITE, STYLE_KINDS

# (kind, value, terms regex, inherent): an inherent term is about style even with no word for the answer
# ('concise'); the others ('short', 'simple') count only next to one ('short answers', 'keep it short').
_TERMS: list[tuple[str, str, str, bool]] = [
    ("verbosity", "concise", r"concise|succinct|terse|to the point|tl;?dr|fewer words|less wordy", True),
    ("verbosity", "concise", r"short(?:er)?|brief(?:er)?|compact|crisp|quick", False),
    (
        "verbosity",
        "detailed",
        r"verbose|wordy|in[- ]depth|thorough|comprehensive|elaborate|more details?",
        True,
    ),
    ("verbosity", "detailed", r"long(?:er)?|detailed|lengthy|full|step[- ]by[- ]step", False),
    ("formality", "formal", r"formal(?:ly)?|professional(?:ly)?|polite(?:ly)?|businesslike", False),
    (
        "formality",
        "casual",
        r"casual(?:ly)?|informal(?:ly)?|relaxed|laid[- ]back|chill|conversational|friendly",
        False,
    ),
    (
        "expertise",
        "beginner",
        r"eli5|layman'?s terms|plain (?:english|language|terms|words)|like i am (?:five|5|a child|a kid)",
        True,
    ),
    (
        "expertise",
        "beginner",
        r"beginners?|novice|simple|simpler|basic|the basics|easy to understand|dumb(?:ed)? down",
        False,
    ),
    ("expertise", "expert", r"jargon|technical (?:terms|details|language|depth|vocabulary)", True),
    ("expertise", "expert", r"expert|advanced|technical|in the weeds", False),
    ("humor", "playful", r"humou?r(?:ous)?|jokes?|joking|puns?|witty|playful|light-?hearted", True),
    ("humor", "playful", r"funny|fun|banter", False),
    ("humor", "serious", r"no-nonsense|straight-faced", True),
    ("humor", "serious", r"serious|dry|sober", False),
    ("format", "bullets", r"bullet(?:ed)?(?: points?| lists?)?|bullets|numbered lists?|point form", True),
    ("format", "bullets", r"lists?|headings", False),
    ("format", "prose", r"prose|paragraphs|full sentences|continuous text|plain text", True),
    (
        "units",
        "metric",
        r"metric(?: units| system)?|celsius|kilomet(?:er|re)s?|kilograms?|centimet(?:er|re)s?",
        True,
    ),
    ("units", "imperial", r"imperial(?: units| system)?|fahrenheit|miles|pounds|feet|inches|ounces", True),
]
_TERM_RES = [(k, v, re.compile(rf"\b(?:{t})\b", re.IGNORECASE), inherent) for k, v, t, inherent in _TERMS]

_ANSWER_WORDS = re.compile(
    r"\b(?:answers?|responses?|repl(?:y|ies)|explanations?|messages?|it|them|things|you|your|yourself|"
    r"writing|text|output|tone|style|language|format(?:ting)?|words|sentences|summar(?:y|ies)|"
    r"explaining|explain|talk|speak|write|answer|respond|walkthrough|overview|version|breakdown|rundown|guide)\b",
    re.IGNORECASE,
)
PREFERENCE_VERB = re.compile(
    r"\b(?:i|we)\s+(?:\w+\s+){0,2}?(?:prefer|like|love|want|need|enjoy|appreciate|use|stick with|would (?:like|prefer|love|"
    r"rather)|am a fan of|hate|dislike|can not stand|do not (?:like|want|need|enjoy|care for)|work best with|"
    r"learn best|find \w+ (?:\w+ )?(?:helpful|useful|easier|better))\b"
    r"|\b(?:is|are|works?|suits?) (?:\w+ )?(?:better|best|easier|preferable) for me\b|\bsuits? me\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^(?:please\s+|(?:and|so|also|now|just|ok|okay|you can|you may|feel free to)\s+)*(?:always\s+|just\s+|kindly\s+)?(?:be|keep|stay|stop|avoid|use|"
    r"do not|never|no|skip|talk|speak|write|answer|respond|reply|explain|go|make (?:it|them|your)|cut|tone|"
    r"less|more|fewer|add|include|drop|lose|ditch)\b",
    re.IGNORECASE,
)
_TOLERANCE = re.compile(
    r"\b(?:(?:do|does|would|did|will) not|never) mind\s+(?:\w+\s+){0,2}$|\b(?:fine|ok|okay|alright|happy|good|"
    r"comfortable) with\s+(?:\w+\s+){0,2}$|\bno problem with\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_COMPLAINT = re.compile(
    r"\b(?:too|overly|excessively|needlessly|unnecessarily|too much|too many|so much|so many|way too|far too)\s+"
    r"(?:\w+\s+)?$",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|stop|quit|avoid|skip|less|fewer|hate|dislike|can not stand|rather than|"
    r"instead of|than|none of|enough with|tired of|sick of|ditch|drop|lose|cut)\b(?:\s+\S+){0,4}\s*$",
    re.IGNORECASE,
)
_LESS = re.compile(r"\b(?:less|fewer)\s+$", re.IGNORECASE)
# A correction that is only about the last answer's style ('too long', 'that was way too technical'),
# as opposed to a complaint about something else ('the movie was too long').
_BARE_CORRECTION = re.compile(
    r"^(?:(?:that|this|it|you|yours?)\s+(?:is|was|are|were|sounds?|seems?|got|feels?|reads?)\s+)?(?:(?:way|far|much|"
    r"a bit|a little|still|kind of|just|slightly|waaay|so)\s+)?(?:too|not|less|more|fewer|shorter|longer|simpler|briefer)\b",
    re.IGNORECASE,
)
_MORE = re.compile(r"\b(?:more|extra|a lot more|much more)\s+$", re.IGNORECASE)
_COMPARATIVES = {"shorter", "briefer", "longer", "simpler"}


@dataclass(frozen=True)
class StyleSignal:
    kind: str
    value: str
    mode: str  # assert | retract
    feedback: bool  # a correction ('too long', 'shorter please') rather than a statement
    explicit: bool  # said with a preference verb or a standing marker


@functools.cache
def _language_request(langs: tuple[str, ...]) -> re.Pattern[str] | None:
    """'answer in Spanish', 'I would prefer it in French', 'my native language is German', 'Italian, please':
    compiled once per set of known languages."""
    if not langs:
        return None
    names = "|".join(langs)
    return re.compile(
        rf"\b(?:respond|reply|answer|write|talk|speak|communicate|chat)\s+(?:to me\s+|with me\s+)?(?:only\s+)?"
        rf"in\s+({names})\b|\bi (?:prefer|want|would like|would prefer)\s+(?:\w+\s+){{0,2}}?in\s+({names})\b"
        rf"|\bmy (?:preferred|native|first) language is ({names})\b|\b({names}),? please\b",
        re.IGNORECASE,
    )


_NEGATED_BEFORE = re.compile(r"\b(?:do not|never|stop|no longer|not)\b(?:\s+\w+){0,3}\s*$", re.IGNORECASE)
_PLEASE = re.compile(r"\bplease\b", re.IGNORECASE)


def _language_signals(clause: Clause) -> list[StyleSignal]:
    text = clause.text
    pattern = _language_request(STYLE_KINDS.get("language", ()))
    stated = pattern.search(text) if pattern else None
    if not stated:
        return []
    lang = next(g for g in stated.groups() if g).lower()
    negated = _NEGATED_BEFORE.search(text[: stated.start()])
    explicit = (
        clause.standing or bool(PREFERENCE_VERB.search(text)) or "language is" in stated.group(0).lower()
    )
    if not (explicit or _IMPERATIVE.search(text) or _PLEASE.search(text)) or clause.question:
        return []
    return [StyleSignal("language", lang, "retract" if negated else "assert", False, explicit)]


_BEGINNER = re.compile(
    r"\bi am (?:(?:a|an|just a|only a|still a|complete|total|absolute|very much a)\s+)*(?:beginner|novice|"
    r"newbie)\b|\bi am (?:new to|just (?:starting|learning|getting started)|learning)\b|\bi (?:do not|barely)"
    r" know (?:much|anything) about\b",
    re.IGNORECASE,
)
_EXPERT = re.compile(
    r"\bi am (?:an? )?(?:expert|specialist|seasoned|experienced|advanced)\b|\bi (?:already )?know the basics\b"
    r"|\bi have (?:\d+|many|several|years of|decades of) (?:years? (?:of )?)?experience\b",
    re.IGNORECASE,
)
_NOT_LEVEL = re.compile(r"\bi am not (?:a |an )?(?:beginner|novice|newbie|expert)\b", re.IGNORECASE)


def _self_description(clause: Clause) -> list[StyleSignal]:
    """'I am a beginner at Python', 'I know the basics': expertise from what the user says of themselves."""
    text = clause.text
    negated = _NOT_LEVEL.search(text)
    if negated:
        value = "expert" if "expert" in negated.group(0).lower() else "beginner"
        return [StyleSignal("expertise", value, "retract", False, True)]
    if _BEGINNER.search(text):
        return [StyleSignal("expertise", "beginner", "assert", False, False)]
    if _EXPERT.search(text):
        return [StyleSignal("expertise", "expert", "assert", False, False)]
    return []


_ENOUGH_AFTER = re.compile(r"\s+enough\b", re.IGNORECASE)
_NOT_BEFORE = re.compile(r"\bnot\s+(?:\w+\s+)?$", re.IGNORECASE)


# Words that name too much of a pole are complaints whatever frames them: 'your answers are walls of text', 'less
# waffle, always', 'no rambling' all ask for the other pole ('walls of text' was a term for detailed answers).
_EXCESS = (
    (
        "verbosity",
        "concise",
        re.compile(r"\b(?:walls? of text|waffl(?:e|es|ing|y)|rambl(?:e|es|ing|y)|word salad|fluff)\b", re.IGNORECASE),
    ),
)


# ... but not of the speaker's own writing: an apology ('Sorry for the rambling message, here is my question'),
# the speaker's own messages ('my replies to emails') or the speaker as the one who rambles ('I tend to waffle').
_APOLOGY = re.compile(r"\b(?:sorry|apologies|apologi[sz]e|excuse|pardon)\b", re.IGNORECASE)
# (Shared with the sentence extractor: a style it reads from such a clause is no ask either.)
SPEAKERS_WRITING = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+)?(?:answers?|repl(?:y|ies)|responses?|messages?|e-?mails?|writing|texts?|posts?)\b"
    r"|\b(?:i|we)\s+(?:(?:tend to|always|often|do|can|will|might|know i|am|usually)\s+)*(?:waffl|rambl)",
    re.IGNORECASE,
)


def _excess_signals(clause: Clause, *, pref_verb: bool, imperative: bool) -> list[StyleSignal]:
    text = clause.text
    if _APOLOGY.search(text) or SPEAKERS_WRITING.search(text):
        return []
    out = []
    for kind, value, pattern in _EXCESS:
        m = pattern.search(text)
        # About the answers by a word other than the term ('walls of text' names text itself): 'I love waffles for
        # breakfast' is about food, 'walls of text do not stick for me' about how the speaker learns.
        if m and (imperative or _ANSWER_WORDS.search(text[: m.start()] + " " + text[m.end() :])):
            # 'I do not mind walls of text' withdraws the ask for short answers.
            mode = "retract" if _TOLERANCE.search(text[: m.start()]) else "assert"
            out.append(StyleSignal(kind, value, mode, not (pref_verb or clause.standing), pref_verb or clause.standing))
    return out


def style_signals(clause: Clause) -> list[StyleSignal]:
    """Every style preference the clause states, corrects or withdraws (empty for a one-off request)."""
    text = clause.text
    if clause.task and not clause.standing:
        return []
    if clause.question and not clause.standing:
        return _self_description(clause)
    pref_verb = bool(PREFERENCE_VERB.search(text))
    imperative = bool(_IMPERATIVE.search(text))
    pleading = bool(_PLEASE.search(text))
    short = len(text.split()) <= 8
    signals = {(s.kind, s.value): s for s in _excess_signals(clause, pref_verb=pref_verb, imperative=imperative)}
    for kind, value, pattern, inherent in _TERM_RES:
        for match in pattern.finditer(text):
            before = text[: match.start()]
            term = match.group(0).lower()
            target, mode, feedback = value, "assert", False
            if _TOLERANCE.search(before):
                target, mode = OPPOSITE.get((kind, value), value), "retract"
            elif _COMPLAINT.search(before):
                target, feedback = OPPOSITE.get((kind, value), value), True
            elif _ENOUGH_AFTER.match(text, match.end()) and _NOT_BEFORE.search(before):
                feedback = True
            elif _LESS.search(before):
                target = OPPOSITE.get((kind, value), value)
                feedback = not (pref_verb or clause.standing)
            elif _NEGATION.search(before):
                target = OPPOSITE.get((kind, value), value)
                mode = "assert" if (kind, value) in OPPOSITE else "retract"
            elif term in _COMPARATIVES or _MORE.search(before):
                feedback = not (pref_verb or clause.standing)
            framed = pref_verb or clause.standing or imperative or feedback or mode == "retract" or pleading
            bare = feedback and short and bool(_BARE_CORRECTION.match(text))
            about_answers = inherent or bool(_ANSWER_WORDS.search(text)) or bare or imperative
            if not (framed and about_answers):
                continue
            signals.setdefault(
                (kind, target), StyleSignal(kind, target, mode, feedback, pref_verb or clause.standing)
            )
    result = list(signals.values())
    result += _language_signals(clause)
    if not any(s.kind == "expertise" for s in result):
        result += _self_description(clause)
    # A clause that names both poles of a dimension without a frame that resolves them says nothing sure.
    by_kind: dict[str, set[str]] = {}
    for s in result:
        if s.mode == "assert":
            by_kind.setdefault(s.kind, set()).add(s.value)
    return [s for s in result if s.mode == "retract" or len(by_kind.get(s.kind, ())) == 1]
