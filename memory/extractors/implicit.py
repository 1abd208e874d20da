"""Implicit preferences from self-disclosure, by meaning: 'I get seasick even on ferries' -> avoid boats.

A disclosure rarely names the preference, so the sentence classifier and the span extractor cannot store
it. This extractor compares each disclosure clause of the user (first person, not a question, not a task
request, not an instruction to the assistant) with a hand-written inventory of concepts
(``data/concepts.tsv``: a kind, the value to store and a few disclosures that imply it), by cosine
similarity of all-MiniLM-L6-v2 embeddings, and asserts the nearest concept when it is close enough, as an
``implicit`` preference (which never overturns an explicit one).

It runs off the request path by default (``runs_inline = False``): the store's background worker runs it
from the durable turn, and its results appear in the profile when done. It only knows the concepts in
its inventory; a disclosure about anything else stores nothing.

Measured alternative: SmolLM2-135M-Instruct with JSON forced by the engine's constraints, see
docs/memory.md; at this size it does not infer implicit preferences reliably.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.extractors.classifier import SentenceClassifier, shared_classifier
from memory.extractors.clauses import (
    _HYPOTHETICAL,
    _NOT_A_TASTE,
    _PAST,
    _POLITE,
    _REPORTER,
    _REQUEST_START,
    INJECTION,
    MOMENT_STATES,
    TOLERANCE,
    Clause,
    clauses,
    expand,
    tainted,
)
from memory.extractors.guard import is_instruction

CONCEPTS_FILE = Path(__file__).with_name("data") / "concepts.tsv"
DEVOTION_CONFIDENCE = 0.5  # a pastime named by its frequency or count, not by a taste word
_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our)\b", re.IGNORECASE)
# The speaker as a subject: a request that says something of the speaker ('Give me a mystery and I am happy').
_SPEAKER = re.compile(r"\b(?:i|we)\b", re.IGNORECASE)
# A state of the moment, not of the person: today's mood or craving, an ache after yesterday's run, a cold.
# 'I am in the mood for a scary movie tonight' says nothing about horror films in general.
_MOMENT = re.compile(
    r"\b(?:today|tonight|this (?:morning|afternoon|evening|week|weekend)|yesterday(?:'s)?|last night|"
    rf"{MOMENT_STATES}|in the mood|fancy|feel(?:ing)? like|could (?:really )?(?:use|do with|murder)|"
    r"short on time|in a (?:rush|hurry)|running late|can not wait|right now|"
    # an arrangement minutes or hours ahead ('I am boarding in two minutes')
    r"(?:am|is|are)\s+\w+ing\s+in\s+(?:a|an|a few|a couple of|\w+)\s+(?:minutes?|hours?)|"
    r"(?:a|the|stinking|bad|heavy|streaming|horrible) (?:cold|flu|headache|hangover|cough|fever|sore throat|"
    r"migraine|jet ?lag))\b",
    re.IGNORECASE,
)
# Polarity. A disclosure implies avoiding a thing only when it says something against it: a bad reaction, a
# fear, an abstinence, a negation. Someone who needs, uses or relies on X ('I need a coffee', 'I use an
# iPhone', 'I can't live without my morning coffee') is not avoiding X, however close the topic is to a
# concept like 'avoid caffeine'. Dependence is said by a closed class of verbs (not by the topic) ...
_DEPENDS = re.compile(
    r"\b(?:i|we)\s+(?:(?:really|just|still|always|totally|basically|so)\s+)*(?:need|needs|use|rely on|depend on|"
    r"swear by|live on|live in|am (?:addicted to|hooked on|reliant on|dependent on))\b"
    r"|\b(?:can|could) not (?:live|do|function|survive|cope|manage|start (?:the|my) day|get through (?:the|a) day|"
    r"go (?:a|one) day|imagine (?:life|a day)|wake up|work|sleep|travel)\s+(?:\w+\s+){0,3}?without\b",
    re.IGNORECASE,
)
# ... and a negation, an abstinence, a stop or a condition turns any reading back towards avoidance ('I do not
# drink coffee any more, it makes me jittery', 'I gave up flying', 'If I have a coffee after 2pm I'm staring at
# the ceiling till 4'); a clause with one is never read as dependence.
_AGAINST = re.compile(
    r"\b(?:not|no|never|nothing|none|neither|nor|no longer|any ?more|stopped|quit|gave up|give up|cut (?:out|down)|"
    r"off|avoid|without|if|whenever|every time|each time)\b",
    re.IGNORECASE,
)
# ... which the model also tells by meaning: a clause nearer to 'I need X' / 'I use X every day' than to the
# disclosures that imply avoiding X is about wanting X ('I drink coffee every morning', 'always on planes for
# work and love it'). These frames are filled with each avoid/dislikes concept's value.
_APPROACH_FRAMES = (
    "I need {}",
    "I use {} every day",
    "I love {}",
    "I can not live without {}",
    "I rely on {}",
    "I have {} all the time",
)
_NEGATIVE_KINDS = frozenset({"avoid", "dislikes"})
# A speakerless clause that is a bare negation or a reply ('not scary for Halloween', 'No emojis in this one')
# answers or asks for something; it is no narration of the speaker's life.
_NOT_NARRATION = re.compile(
    r"^(?:not|no|nothing|yes|yeah|any|anything|something|what|how|is|are|do|does|can|could|would|should)\b", re.IGNORECASE
)
# A third party inside a disclosure. clauses() drops a piece that someone else says or is the subject of
# ('Coffee gives me palpitations, my GP told me to cut it out'; 'My dad was a soldier and war scenes really
# upset me'), which is right for stated tastes but loses the speaker's own part of a disclosure: that part is
# read here on its own. Split at commas, 'and' before the speaker, 'so', and after a fronted subordinate clause
# ('Since my brother died I can't cope with tragic headlines').
_SUBPIECE = re.compile(
    r",\s+|\s+and\s+(?=(?:\w+\s+){0,4}?(?:i|me|my|we|us|our)\b|(?:the|his|her|their|he|she|they|it)\s)|\s+so\s+|"
    r"^(?:since|after|ever since|when|because|as)\s+[^,]{3,60}?\s+(?=(?:i|we)\s)",
    re.IGNORECASE,
)
# The speaker's household or charges, whose needs constrain the speaker's plans ('My puppy eats everything in the
# garden', 'our toddler naps after lunch', 'my mum can't manage steps'): read for constraints only.
_HOUSEHOLD = re.compile(
    r"^\s*(?:my|our)\s+(?:\w+\s+)?(?:puppy|puppies|dog|dogs|cat|cats|kitten|pets?|rabbit|horse|baby|toddler|"
    r"kids?|children|son|daughter|twins|mum|mom|mother|dad|father|parents|grandma|grandmother|grandad|grandfather|"
    r"nan|gran|partner|wife|husband)\b",
    re.IGNORECASE,
)
# Reported words stay someone else's, and what clauses() drops for the whole sentence (a hypothetical, a past
# habit, an injection, politeness, no preference) is not read again part by part.
_REPORTING = re.compile(r"\b(?:said|says|say|told|tells|thinks|reckons|claims?|according to|asked)\b", re.IGNORECASE)


def _sentence_ruled_out(sentence: str) -> bool:
    text = expand(sentence)
    return bool(
        _HYPOTHETICAL.search(text) or _PAST.search(text) or _POLITE.search(text) or _NOT_A_TASTE.search(text)
        or INJECTION.search(text) or is_instruction(sentence) or _REPORTER.search(text)
    )


def _disclosures(message: str) -> list[tuple[Clause, bool]]:
    """(clause, constraint_only) for the message's disclosure clauses: those ``clauses()`` keeps, then the
    speaker's own parts of the sentences it dropped for a third party, and household needs (constraints only)."""
    kept = clauses(message)
    out = [(c, False) for c in kept]
    covered = [c.text.lower() for c in kept]
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", message[:2000])[:16]:
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or _sentence_ruled_out(sentence):
            continue
        for part in _SUBPIECE.split(expand(sentence)):
            part = (part or "").strip(" ,.;:!")
            low = part.lower()
            if len(part.split()) < 3 or _REPORTING.search(part) or any(low in c or c in low for c in covered):
                continue
            own = [c for c in clauses(part) if c.text.lower() not in covered]
            if own:
                out += [(c, False) for c in own]
            elif _HOUSEHOLD.search(part) and not _REQUEST_START.search(part):
                own = [Clause(part, False, False, False, False, False, False)]
                out.append((own[0], True))
            covered += [c.text.lower() for c in own]
    return out


def _wants(text: str, score: float, approach: Any) -> bool:
    """The clause is about needing or using the thing an avoid/dislikes concept names: said by a dependence
    verb, or nearer in meaning to the concept's approach probes than to its disclosures; never when the clause
    negates, stops or avoids something."""
    if _AGAINST.search(_DEPENDS.sub(" ", text)):
        return False
    return bool(_DEPENDS.search(text)) or (approach.size > 0 and float(approach.max()) >= score)


# A circumstance ('My garden faces north', 'My kitchen is tiny', 'I've been a nurse for twenty years') is a fact
# about the speaker; it implies a preference (shade-tolerant plants, expert-level answers) only when it is said
# against something the assistant suggested, or with a word that makes it a difficulty or a feeling ('my commute
# drains me'). Said on its own, or as the background of a question ('I've been a nurse for twenty years. How do
# I move into teaching?'), it limits nothing. Concepts marked ``circumstance`` in concepts.tsv are read so.
_FEELING = re.compile(
    r"\b(?:love[sd]?|hate[sd]?|miserable|hell|nightmare|torture|awful|horrible|dread\w*|struggl\w*|hard|"
    r"impossible|not|never|no|only|need|needs|have to|had to|must|wish|drain\w*|exhaust\w*|stress\w*|anxi\w*|"
    r"panic\w*|overwhelm\w*|sick|ill|worst|best|can barely|too (?:small|tight|dark|far|long))\b",
    re.IGNORECASE,
)


# A language to answer in is said of a language: 'mi inglés no es muy bueno', 'je préfère lire en français'.
# A sentence that is merely in a language near Spanish ('Mi chiamo Ignazio') asks for none.
_LANGUAGE_STYLES = frozenset({"Spanish", "French", "German"})
_LANGUAGE_NAMED = re.compile(
    r"\b(?:english|ingl[eé]s|espa[nñ]ol|castellano|anglais|fran[cç]ais|englisch|deutsch|spanish|french|german)\b",
    re.IGNORECASE,
)


def _said_as_preference(text: str, previous_assistant: str | None) -> bool:
    """A circumstance implies its concept: in reply to the assistant, or said as a difficulty or feeling."""
    return bool(previous_assistant and previous_assistant.strip()) or bool(_FEELING.search(text))


# A bodily reaction names its trigger: 'Last time I ate coconut my throat swelled up' is close to the nut-allergy
# concept, but what the speaker reacts to is coconut. For the allergy and intolerance concepts (a value 'X
# (condition)'), the thing eaten or drunk in the clause replaces X when the concept's value does not name it.
# Diabetes is no reaction to a food eaten ('I have taken insulin every day' named 'taken'): not read this way.
_CONDITION = re.compile(r"^(?P<thing>[^(]+?)\s*\((?P<condition>[^)]*(?:allergy|intoleran|coeliac)[^)]*)\)$", re.I)
_EATEN = re.compile(
    r"\b(?:ate|eat|eats|eating|had|have|has|having|tried|tasted|drank|drink|drinks|drinking|touch|touched|"
    r"bite of|mouthful of|sip of|taste of|trace of)\s+"
    r"(?:(?:a|an|the|some|any|anything|something|that|this|much|more|little|bit|slice|piece|plate|bowl|glass|cup|"
    r"of|with|like|too|so|even|just|normal|single|tiny|small|one|two)\s+)*(?P<thing>[a-z][a-z-]{2,})",
    re.IGNORECASE,
)
_NOT_A_TRIGGER = frozenset(
    {
        "to", "it", "its", "them", "that", "this", "those", "these", "one", "food", "meal", "meals",
        "dinner", "lunch", "breakfast", "lot", "time", "times", "day", "days", "go", "look",
        "reaction", "problem", "problems", "allergy", "allergies", "doctor", "test", "tests", "been",
        "got", "my", "your", "our", "their", "his", "her", "in", "at", "and", "or", "but", "then",
        "once", "before", "after", "since", "ever", "taken", "made", "done", "gone", "seen", "had",
        # How it went, not what was eaten ('had a really bad reaction after eating prawns').
        "really", "very", "bad", "terrible", "awful", "severe", "serious", "mild", "nasty", "funny", "weird",
        "strange", "horrible",
    }
)


def named_trigger(text: str, value: str) -> str:
    """The concept's value with the trigger the clause names ('coconut (allergy)' for 'nuts (allergy)' read
    from 'Last time I ate coconut my throat swelled up'); the value itself when the clause names no trigger,
    names one the value already contains, or the concept is no allergy or intolerance."""
    condition = _CONDITION.match(value)
    if not condition:
        return value
    for eaten in _EATEN.finditer(text):
        thing = eaten.group("thing").lower()
        if thing in _NOT_A_TRIGGER or thing.endswith("ly"):  # 'whenever I eat too quickly'
            continue
        if thing.rstrip("s") in value.lower():
            return value
        return f"{thing} ({condition.group('condition')})"
    return value


# Devotion: a pastime said by how often, how much or how many, not by a taste word ('I'm up a Munro most
# weekends', 'That makes four dogs now', 'Just passed 2,000 hours in Factorio', 'I've finished every Halo').
# It implies liking the thing it names, which no inventory can list: the value is the speaker's own word for it.
_DEVOTION = re.compile(
    r"\b(?:every|most|each)\s+(?:single\s+)?(?:morning|evening|night|day|weekend|week|summer|winter|spring|autumn|"
    r"year|monday|tuesday|wednesday|thursday|friday|saturday|sunday|one|ball|episode|series|season|match|game|"
    r"book|novel|film|album|race)s?\b|"
    r"\ball year round\b|\b[\d,]+\s+hours\s+(?:in|on|of|playing)\b|"
    # 'That makes four dogs now' counts; 'that makes two of us' is an idiom.
    r"\b(?:that|this) makes\s+(?:it\s+)?(?:\d+|two|three|four|five|six|seven|eight|nine|ten|a dozen)\s+(?!of\b)[a-z]+s\b|"
    r"(?-i:\bevery\s+[A-Z])|"
    r"\b(?:second|third|fourth|fifth|sixth|tenth|\d+(?:st|nd|rd|th))\b[^,.;]{0,40}\bthis (?:week|month|year|season)\b",
    re.IGNORECASE,
)
# ... or by a verdict on it, which may stand beside it in the same sentence ('I'm doing my third Open University
# degree, I just can't stop').
_VERDICT = re.compile(
    r"\b(?:can|could) not (?:stop|get enough|imagine (?:stopping|giving (?:it|them) up|life without))\b|"
    r"\bnothing (?:better|beats)\b|\bwould not have it any other way\b|\bhave not looked back\b",
    re.IGNORECASE,
)
# A pastime is not a job, a duty or a chore ('I work every weekend at the garden centre', 'I check every label').
_DUTY = re.compile(
    r"\b(?:(?<!off )(?<!after )(?<!before )work|works|working (?:at|for|as|in|on|with)|job|shift|shifts|office|"
    r"boss|commute|commuting|school run|have to|had to|must|check|checks|pay|pays|clean|cleans|"
    r"take (?:my|the) (?:pills?|tablets?|medication))\b",
    re.IGNORECASE,
)
_NUMBER = (
    r"(?:\d[\d,]*(?:st|nd|rd|th)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"fifty|hundred|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|twelfth|twentieth|hundredth)"
)
# Where the thing is named: 'N hours in X', a name ('up a Munro most weekends', but not one that dates: 'since
# Life on Earth'), or a count or an ordinal before it ('four dogs', 'the fourth spy novel this month').
# 'N hours in X' names a title ('2,000 hours in Factorio'), not 'hours on hold' or 'hours in traffic'.
_HOURS_IN = re.compile(r"\b[\d,]+\s+hours\s+(?:in|on|of|playing)\s+(?P<thing>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_COUNTED = re.compile(
    rf"\b{_NUMBER}(?:-\w+)?\s+(?P<thing>(?:[A-Z][\w'-]*\s+){{0,3}}[a-z][a-z'-]+(?:\s+(?:novel|book|film|game|degree|"
    r"series|show|album|band|race|marathon|plant|bird)s?)?)\b",
)
_NAME = re.compile(
    r"(?<!^)(?<![.!?]\s)\b(?P<thing>[A-Z][a-z][\w'-]*(?:\s+(?:(?:de|du|la|le|of|on|the|and|von|van)\s+)?(?!I\b)[A-Z][\w'-]*)*)\b"
)
_PLACE_OR_PERSON = re.compile(r"\b(?:in|into|to|from|at|near|with|around|outside)\s+(?:the\s+)?$", re.IGNORECASE)
# A name that dates something is not its object ('I have seen every one since Life on Earth').
_DATING = re.compile(r"\b(?:since|before|after|until)\b[^,.;]*", re.IGNORECASE)
# Counted things that are measures or family, not pastimes ('twenty-two people', 'three hours', 'two kids').
_MEASURE = frozenset(
    {
        "hours", "hour", "minutes", "minute", "days", "day", "weeks", "week", "months", "month", "years", "year",
        "times", "time", "people", "miles", "mile", "kilometres", "km", "kilos", "kg", "degrees", "pounds", "quid",
        "euros", "dollars", "percent", "am", "pm", "of", "in", "on", "at", "and", "or", "a", "the", "last", "this",
        "next", "now", "more", "less", "kids", "children", "grandchildren", "sisters", "brothers",
    }
)
_NOT_A_NAME = frozenset(
    {
        "I", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
        "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        "Easter", "God", "Mum", "Dad", "Mom", "Can", "Could", "Would", "What", "Which", "How", "Any", "Is", "Are",
    }
)
# The question the devotion answers ('What channel is the Ashes on? I've taken a week off to watch every ball'):
# its name, or what it asks to be recommended ('Can you recommend a good bird seed?').
_ASKED_FOR = re.compile(
    r"\b(?:recommend|suggest|tips for|advice on|ideas for)\s+(?:a|an|the|some|any)?\s*(?:good|new|nice|decent)?\s*"
    r"(?P<thing>[a-z][a-z'-]+(?:\s+(?!(?:for|to|with|on|in|of|about|that|which)\b)[a-z][a-z'-]+)?)",
    re.IGNORECASE,
)


# A frequency in a complaint is endurance, not devotion ('I hate driving into London every morning', 'I hated every
# episode of Friends', 'stuck in traffic every evening').
_COMPLAINT = re.compile(
    r"\b(?:hate[sd]?|hating|dislike[sd]?|loathe[sd]?|can(?:no|')?t stand|can not stand|could(?:n't| not) stand|dread\w*|"
    r"sick of|tired of|fed up|annoy\w*|awful|terrible|horrible|worst|stuck|on hold|in traffic|queue\w*|"
    r"moan\w*|complain\w*)\b",
    re.IGNORECASE,
)


def devotion_marked(clause: str, sentence: str) -> bool:
    """The clause says a pastime by its frequency or count, or its sentence gives a verdict of devotion; never a
    job, a duty, a chore or a complaint."""
    return (
        bool(_DEVOTION.search(clause) or _VERDICT.search(sentence))
        and not _DUTY.search(sentence)
        and not _COMPLAINT.search(sentence)
    )


def named_in(text: str) -> str | None:
    """The thing a clause of devotion names: 'N hours in X', a name, or a counted thing; None when none."""
    hours = _HOURS_IN.search(text)
    if hours:
        return hours.group("thing")
    undated = _DATING.sub(" ", text)
    for name in _NAME.finditer(undated):
        thing = name.group("thing")
        # A place or a person ('my mum in Leeds', 'a call with Sarah') is where or with whom, not the pastime.
        if thing.split()[0] in _NOT_A_NAME or _PLACE_OR_PERSON.search(undated[: name.start()]):
            continue
        return thing
    for counted in _COUNTED.finditer(text):
        thing = counted.group("thing")
        if thing.split()[0].lower() not in _MEASURE and thing.split()[-1].lower() not in _MEASURE:
            return thing
    return None


# People a question names ('a film to watch with Grandma', 'a gift for Auntie Jean') are company or the one
# given to, not what the speaker is devoted to.
_KIN = frozenset(
    {
        "Grandma", "Grandpa", "Grandad", "Granddad", "Granny", "Gran", "Nan", "Nana", "Nanna", "Auntie", "Aunty",
        "Aunt", "Uncle", "Cousin", "Mummy", "Daddy", "Mama", "Papa",
    }
)
_FOR_A_PERSON = re.compile(r"\b(?:with|to|gift for|present for|card for|something for|anything for)\s+$", re.I)


def asked_about(question: str) -> str | None:
    """What a question or request names: a name in it, or the thing it asks to be recommended."""
    for name in _NAME.finditer(question):
        first = name.group("thing").split()[0]
        before = question[: name.start()]
        if first in _NOT_A_NAME or first in _KIN or _FOR_A_PERSON.search(before) or _PLACE_OR_PERSON.search(before):
            continue
        return name.group("thing")
    asked = _ASKED_FOR.search(question)
    return asked.group("thing") if asked else None


def devoted_to(clause: str, sentence: str = "", questions: Sequence[str] = ()) -> str | None:
    """What a clause of devotion names ('Munro' from 'I am up a Munro most weekends'), else what the speaker's
    latest question names; None when the clause is no devotion or nothing is named."""
    if not devotion_marked(clause, sentence or clause):
        return None
    thing = named_in(clause)
    if thing is None and _SPEAKER.search(clause):
        # Only a clause the speaker does something in points back to the question ('I've taken a week off to
        # watch every ball'); a bare 'Same every year, honestly.' is small talk.
        for question in questions:
            thing = thing or asked_about(question)
    return thing


_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentence_of(message: str, clause: str) -> str:
    """The sentence of the message a clause (as ``clauses()`` wrote it) comes from; the clause when none is."""
    low = clause.lower()
    for sentence in _SENTENCES.split(message[:2000]):
        if low in expand(sentence).lower():
            return expand(sentence)
    return clause


def _questions(message: str, earlier: Sequence[str]) -> list[str]:
    """The speaker's questions and requests a devotion may answer: those of the message, then the user's message
    before it."""
    return [
        sentence
        for text in [message, *reversed(earlier)]
        for sentence in _SENTENCES.split(text[:2000])
        if sentence.rstrip().endswith("?") or _REQUEST_START.search(expand(sentence))
    ]


def load_concepts(path: Path = CONCEPTS_FILE) -> list[tuple[str, str, list[str]]]:
    return [(kind, value, examples) for kind, value, examples, _ in load_concept_rows(path)]


def load_concept_rows(path: Path = CONCEPTS_FILE) -> list[tuple[str, str, list[str], bool]]:
    """(kind, value, example disclosures, circumstance) per concept; ``circumstance``: the optional fourth
    column says ``circumstance`` (see ``_said_as_preference``)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, value, examples, *flags = line.split("\t")
        examples_list = [e.strip() for e in examples.split("|") if e.strip()]
        out.append((kind, value, examples_list, "circumstance" in (f.strip() for f in flags)))
    return out


class ImplicitExtractor:
    """Nearest concept to each disclosure clause, by embedding similarity (background by default)."""

    name = "implicit"

    def __init__(
        self,
        classifier: SentenceClassifier | None = None,
        *,
        threshold: float = 0.5,
        margin: float = 0.0,
        runs_inline: bool = False,
        max_clauses: int = 16,
        stated_none: float = 0.0,
        speakerless_threshold: float = 0.6,
        path: Path = CONCEPTS_FILE,
    ) -> None:
        self._classifier = classifier
        self.threshold = threshold
        self.margin = margin
        self.runs_inline = runs_inline
        self.max_clauses = max_clauses
        self.stated_none = stated_none
        self.speakerless_threshold = speakerless_threshold
        self.path = path
        self._lock = threading.Lock()
        self._index: tuple[Any, list[int], list[tuple[str, str]], Any, Any] | None = None
        self._circumstances: frozenset[int] = frozenset()  # concepts a bare circumstance implies only as said

    def _concepts(self) -> tuple[Any, list[int], list[tuple[str, str]], Any, Any]:
        """Example vectors and their concepts, plus the approach probes of the avoid/dislikes concepts
        (``_APPROACH_FRAMES`` filled with the value) and the concept each probe belongs to."""
        with self._lock:
            if self._index is None:
                import numpy as np

                rows = load_concept_rows(self.path)
                concepts = [(kind, value, examples) for kind, value, examples, _ in rows]
                self._circumstances = frozenset(i for i, row in enumerate(rows) if row[3])
                owners, sentences = [], []
                for i, (_, _, examples) in enumerate(concepts):
                    owners += [i] * len(examples)
                    sentences += examples
                probe_owners, probes = [], []
                for i, (kind, value, _) in enumerate(concepts):
                    if kind in _NEGATIVE_KINDS:
                        probe_owners += [i] * len(_APPROACH_FRAMES)
                        probes += [frame.format(value) for frame in _APPROACH_FRAMES]
                encoder = (self._classifier or shared_classifier()).encoder
                vectors = encoder.encode(sentences + probes)
                self._index = (
                    vectors[: len(sentences)],
                    owners,
                    [(k, v) for k, v, _ in concepts],
                    vectors[len(sentences) :],
                    np.asarray(probe_owners, dtype=int),
                )
            return self._index

    def extract(self, context: ExtractionContext) -> list[Decision]:
        import numpy as np

        from memory.extractors.sentences import (
            _TASK_VERB,
            SAME_SORT_SIMILARITY,
            SAME_THING_SIMILARITY,
            _ruled,
            resolve_by_meaning,
        )

        active = {p.kind: p.value for p in context.active}
        candidates: list[tuple[int, str]] = []
        constraint_only: set[tuple[int, str]] = set()  # a household member's need: constraints only
        speakerless: set[tuple[int, str]] = set()  # no sign of the speaker: read at ``speakerless_threshold``
        devotions: dict[tuple[int, str], str | None] = {}  # what a clause of devotion names (likes)
        recent = context.extra.get("recent_user_messages")
        earlier = [str(m) for m in recent[-1:]] if isinstance(recent, list) else []
        for index, message in enumerate(context.messages):
            if message.role != "user" or tainted(message.content):
                continue
            questions = _questions(message.content, earlier)  # what a devotion may answer: once per message
            for clause, household in _disclosures(message.content):
                if clause.question or is_instruction(clause.text):
                    continue
                if not _PERSON.search(clause.text):
                    # Narration drops its 'I' ('Eight years sober next month', 'Flew to Lisbon and had a panic
                    # attack on the runway'): read it, but only when it is that and very close to a concept.
                    if _TASK_VERB.search(clause.text) or _NOT_NARRATION.search(clause.text) or len(clause.text.split()) < 4:
                        continue
                    speakerless.add((index, clause.text))
                if (_REQUEST_START.search(clause.text) and not _SPEAKER.search(clause.text)) or _MOMENT.search(clause.text):
                    continue  # a request ('give me a recipe for banana bread') or a passing state discloses no habit
                if TOLERANCE.search(clause.text):
                    continue  # 'I don't mind spicy food' neither likes nor avoids it
                if _ruled(clause, active):
                    continue  # the rules already read it (a diet, an allergy, a style): no second reading
                candidates.append((index, clause.text))
                if household:
                    constraint_only.add((index, clause.text))
                else:
                    devotions[(index, clause.text)] = devoted_to(
                        clause.text, _sentence_of(message.content, clause.text), questions
                    )
        candidates = candidates[: self.max_clauses]
        if not candidates:
            return []
        vectors, owners, concepts, probe_vectors, probe_owners = self._concepts()
        classifier = self._classifier or shared_classifier()
        clause_vectors = classifier.encoder.encode([t for _, t in candidates])
        # As inline: a message with a clause the instruction guard reads as hostile gives nothing, so an
        # inference cannot ride on a planted sentence ('... I love writing ransomware ...').
        from memory.extractors.classifier import shared_guard
        from memory.extractors.sentences import HOSTILE_THRESHOLD

        hostile = shared_guard().hostile_vectors(clause_vectors) >= HOSTILE_THRESHOLD
        poisoned = {index for (index, _), bad in zip(candidates, hostile, strict=True) if bad}
        if poisoned:
            clean = np.asarray([index not in poisoned for index, _ in candidates])
            candidates = [c for c, ok in zip(candidates, clean, strict=True) if ok]
            clause_vectors = clause_vectors[clean]
            if not candidates:
                return []
        # A clause the inline classifier already reads as a stated preference is its business, not ours:
        # inferring a concept from it as well would store the same thing twice.
        keep = [p.none >= self.stated_none for p in classifier.predict_vectors(clause_vectors)]
        candidates = [c for c, k in zip(candidates, keep, strict=True) if k]
        if not candidates:
            return []
        sims = clause_vectors[np.asarray(keep)] @ vectors.T
        owner = np.asarray(owners)
        found: dict[tuple[str, str], Assert] = {}
        for index, text in candidates:  # still clean: the guard has read them
            thing = devotions.get((index, text))
            if thing:
                found[("likes", thing)] = Assert("likes", thing, "implicit", DEVOTION_CONFIDENCE, 1.0, index, self.name)
        approach = clause_vectors[np.asarray(keep)] @ probe_vectors.T
        for (index, text), row, near in zip(candidates, sims, approach, strict=True):
            best = int(row.argmax())
            score = float(row[best])
            if score < (self.speakerless_threshold if (index, text) in speakerless else self.threshold):
                continue
            # The runner-up concept must be clearly behind (a sentence close to two concepts is ambiguous).
            others = row[owner != owner[best]]
            if others.size and score - float(others.max()) < self.margin:
                continue
            kind = concepts[owners[best]][0]
            if (index, text) in constraint_only and kind != "constraint":
                continue  # 'my husband loves sci-fi' is his taste; only his needs constrain the speaker
            if kind in _NEGATIVE_KINDS and _wants(text, score, near[probe_owners == owners[best]]):
                continue  # 'I need a coffee' is not 'avoid caffeine'
            if owners[best] in self._circumstances and not _said_as_preference(text, context.previous_assistant):
                continue  # 'My garden faces north.' on its own is a fact, not a need for shade-tolerant plants
            kind, value = concepts[owners[best]]
            if kind == "style" and value in _LANGUAGE_STYLES and not _LANGUAGE_NAMED.search(text):
                continue
            value = named_trigger(text, value)
            confidence = round(min(0.7, score), 3)
            key = (kind, value)
            if key not in found or found[key].confidence < confidence:
                found[key] = Assert(kind, value, "implicit", confidence, 1.0, index, self.name)
        # Against what is stored: an inference restating a stored preference is evidence on that row.
        return resolve_by_meaning(
            list(found.values()), context.active, classifier.encoder,
            same_thing=SAME_THING_SIMILARITY, same_sort=SAME_SORT_SIMILARITY, concepts=True,
        )
