"""Style dimensions from a clause: which pole a term names and what the words around it do to it.

Each dimension has terms for its poles ('short' -> verbosity/concise, 'long' -> verbosity/detailed).
The frame around a term decides the outcome: 'too long' and 'no jargon' ask for the opposite pole,
'not detailed enough' and 'shorter' for the named one, and 'I don't mind long answers' only withdraws
a preference for the opposite (tolerance is not a preference).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from memory.extractors.clauses import Clause
from memory.extractors.memo import kept_lists
from memory.phrases import STYLE_PHRASES
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
    (
        "verbosity",
        "detailed",
        # ('the detail' turned down is the answers': 'Could you dial back the detail from now on?')
        r"long(?:er)?|detailed|lengthy|full|step[- ]by[- ]step|(?<=back the )detail|(?<=down the )detail|"
        r"(?<=back on the )detail|(?<=less )detail",
        False,
    ),
    # 'Don't shorten things for me': what is not to be shortened is the answers ('Please don't shorten my name' is
    # about a name; a bare 'shorten this' is an edit of one piece).
    (
        "verbosity",
        "detailed",
        r"(?:do not|never|stop|no need to)\s+shorten(?:ing)?(?=\s+(?:things|anything|everything|stuff|it all|(?:your\s+)?"
        r"(?:answers|replies|responses|explanations)))",
        True,
    ),
    ("formality", "formal", r"formal(?:ly)?|professional(?:ly)?|polite(?:ly)?|businesslike", False),
    # 'Don't be so posh with me', 'you sound robotic': words for too formal a register name the answers' register
    # only when said of the assistant's manner (``_MANNER``); 'the corporate template', 'a stiff neck' are things.
    ("formality", "formal", r"posh|stiff|stuffy|prim|robotic|corporate", False),
    (
        "formality",
        "casual",
        r"casual(?:ly)?|informal(?:ly)?|relaxed|laid[- ]back|chill|conversational|friendly|"
        r"(?:like|as) (?:a|to a) (?:friend|mate|human)|(?<=talk )normal(?:ly)?|(?<=speak )normal(?:ly)?|warmth|warmer",
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
        # ('Explain grammar simply': the manner ends the ask; 'I simply can not stand X' is emphasis.)
        r"beginners?|novice|simple|simpler|simply(?=\s*(?:please\b|thanks\b|,|$))|basic|the basics|easy to understand|"
        r"dumb(?:ed)? down",
        False,
    ),
    (
        "expertise",
        "expert",
        r"jargon|technical (?:terms|details|language|depth|vocabulary)",
        True,
    ),
    # A field's terminology is a topic of the speaker's life ('the legal terms for my new job') unless it is asked
    # of the answers ('you can use proper drug terminology with me').
    ("expertise", "expert", r"(?:\w+ )?terminology|(?:proper|precise|correct|medical|legal|scientific) terms", False),
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
    # Everyday measures ('lose five kilos', 'two litres of milk', 'parking meters') ask for units only beside an
    # answer word ('give me the recipe in grams').
    ("units", "metric", r"grams|kilos|millilit(?:er|re)s?|litres|liters|metres|meters", False),
    ("units", "imperial", r"imperial(?: units| system)?|fahrenheit|miles|pounds|feet|inches|ounces", True),
]
_TERM_RES = [(k, v, re.compile(rf"\b(?:{t})\b", re.IGNORECASE), inherent) for k, v, t, inherent in _TERMS]

_ANSWER_WORDS = re.compile(
    r"\b(?:answers?|responses?|repl(?:y|ies)|explanations?|messages?|it|them|things|you|your|yourself|"
    r"writing|text|output|tone|style|language|format(?:ting)?|words|sentences|summar(?:y|ies)|"
    r"explaining|explain|talk|speak|write|answer|respond|walkthrough|overview|version|breakdown|rundown|guide|"
    # 'when I ask about prompt engineering I want the advanced stuff': what the speaker asks for is an answer.
    r"when i ask)\b",
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
    r"^(?:please\s+|(?:and|so|also|now|just|ok|okay|mate|hey|honestly|you can|you may|feel free to|no need to|"
    r"there is no need to|you do not (?:have|need) to)\s+)*(?:always\s+|just\s+|kindly\s+)?(?:be|keep|stay|stop|avoid|use|"
    r"do not|never|no|skip|talk|speak|write|answer|respond|reply|explain|go|make (?:it|them|your)|cut|tone|dial|"
    r"ease|lay off|rein in|scale back|hold back|"
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
    r"instead of|than|none of|enough with|tired of|sick of|ditch|drop|lose|cut|"
    # Asking for less of it: 'Tone down the jokes', 'go easy on the technical terms', 'dial back the formality'.
    r"tone (?:it )?down|dial (?:it )?(?:down|back)|ease (?:up|off)|go easy on|lay off|rein in|scale back|"
    r"hold back on)\b(?:\s+\S+){0,4}\s*$",
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
# A unit named as the thing measured or converted ('how many ounces in a pound', 'convert 5 miles') asks nothing of
# the answers' units.
_MEASURED = re.compile(
    r"\b(?:how (?:many|much|far|heavy|tall|big|long|hot|cold|fast)|convert(?:ing)?|conversion|in (?:a|an|one)|"
    r"\d+(?:[.,]\d+)?|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|a hundred|a few|several|half a)"
    r"\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
# 'Could you (please) (always) write in ...?': a question in form, an ask in use.
_POLITE_ASK = re.compile(
    r"^(?:(?:so|and|also|ok|okay)\s+)*(?:could|can|would|will) you\s+(?:please\s+)?(?:(?:always|just|try to)\s+)*"
    r"(?:be|keep|stay|use|write|reply|respond|answer|talk|speak|explain|stop|avoid|give me|go|skip|include|add|tone|dial|"
    r"ease|scale|rein|hold|cut back|"
    r"cut|drop|put|make (?:your|the) (?:answers|replies|responses))\b",
    re.IGNORECASE,
)
# A preference said by what the term is passed over for: 'I prefer code examples over long explanations'.
_PREFERRED_OVER = re.compile(
    r"\b(?:prefer|rather|like|love|want|give me|take)\b.{1,60}?\b(?P<verb>[\w-]+)\s+over\s+(?:\S+\s+){0,2}$",
    re.IGNORECASE,
)
# ... but not 'over' as part of a phrasal verb: 'I love going over the jokes', 'go over the technical details'.
_PHRASAL_OVER = frozenset(
    re.findall(
        r"\w+",
        "go goes going went gone look looks looking looked read reading talk talking talked think thinking get getting "
        "come coming run running pore poring mull mulling hand handing pass passing fall falling turn turning start "
        "starting take taking took chat chatting hang hanging win move moving sleep sleeping",
    )
)


def _passed_over(before: str) -> bool:
    """'(I prefer X) over' right before the term: a thing between the verb and 'over', no phrasal 'go over'."""
    m = _PREFERRED_OVER.search(before)
    return m is not None and m.group("verb").lower() not in _PHRASAL_OVER


# A verdict after the term: against it ('Jargon drives me up the wall', 'long answers are exhausting') or for it
# ('A bit of humour is welcome', 'bullet points help me').
_VERDICT_AGAINST = re.compile(
    r"\s+(?:\w+\s+){0,2}?(?:(?:drives?|drove) me (?:up the wall|mad|crazy|nuts|bananas|round the bend)|"
    r"(?:annoys?|irritates?|bugs?|bothers?|frustrates?|loses?) me|gets? on my nerves|"
    r"(?:is|are) (?:so |really |just |a bit |way )?(?:annoying|irritating|the worst|unreadable|exhausting|overkill|"
    r"a nightmare|a pain|unbearable|useless|a turn-?off|too much|a bit much|noisy|cluttered|distracting|messy|"
    r"confusing|hard to (?:read|follow)))\b",
    re.IGNORECASE,
)
_VERDICT_FOR = re.compile(
    r"\s+(?:\w+\s+){0,2}?(?:(?:is|are) (?:always |so |really |very |much )?(?:welcome|appreciated|a plus|"
    r"(?:much |so much |a lot )?(?:easier|better|more helpful) for me|helpful|ideal|perfect|great|fine by me|"
    # 'I've moved to Germany, so metric is fine now'.
    r"fine(?: now| these days| from now on)?$)|"
    r"helps? me|works? (?:better |best )?for me|suits? me|or nothing|or bust|every time|any day)\b",
    re.IGNORECASE,
)
_MORE = re.compile(r"\b(?:more|extra|a lot more|much more)\s+$", re.IGNORECASE)
_COMPARATIVES = {"shorter", "briefer", "longer", "simpler"}
# 'Give me miles and pounds', 'Give me recipes in grams': an ask, though 'give me' alone does not make a word like
# 'simple' or 'quick' about the answers ('Give me something quick for lunch').
_GIVE_ME = re.compile(r"^(?:please\s+|just\s+|always\s+)*give me\b", re.IGNORECASE)
# A verdict on the thing's quality rather than on having it in the answers ('welcome', 'drives me mad').
_QUALITY_VERDICT = re.compile(
    r"\s+(?:\w+\s+){0,2}?(?:is|are) (?:so |really |just |a bit |way |always |very )?(?:the worst|great|perfect|ideal|"
    r"annoying|irritating|a nightmare|a pain|unbearable|useless|hilarious|funny|brilliant|amazing|awful|terrible)\b",
    re.IGNORECASE,
)
_YOURS = re.compile(r"\byour\s+(?:[\w-]+\s+)?$", re.IGNORECASE)
# Length words in idioms of quantity or time: 'three lengths short of a mile', 'as long as it works', 'long ago'.
_IDIOM = re.compile(
    r"short (?:of|on|for|notice|term|while|cut)\b|long (?:ago|since|term|run|story short)\b|(?<=as )long as\b|"
    r"full (?:time|stop|moon|house|marks)\b|(?:in|at|for) (?:brief|short)\b",
    re.IGNORECASE,
)
_IN_UNITS = re.compile(r"\b(?:in|into)\s+$", re.IGNORECASE)
# Words for too formal a register name the answers' register only said of a manner ('do not be so stiff', 'you
# sound robotic', 'a bit posh', 'less corporate').
_MANNER_TERMS = frozenset({"posh", "stiff", "stuffy", "prim", "robotic", "corporate"})
_MANNER = re.compile(
    r"\b(?:be|being|sound|sounds|sounding|seem|seems|are|so|too|less|more|bit|little|quite|very|as|feel|feels)\s+$",
    re.IGNORECASE,
)
# The assistant's manner said of it ('you sound so robotic', 'you come across as a bit stiff').
_YOU_SOUND = re.compile(
    r"\byou(?:\s+(?:always|often|still|really))?\s+(?:sound|seem|are|come across as|read as|feel)\s+"
    r"(?:(?:so|too|a bit|very|really|quite|kind of|a little|way|rather|pretty)\s+)*$",
    re.IGNORECASE,
)
# Someone's own ('his puns', "my brother's jokes", 'her long emails'): a thing of theirs, not of the answers.
_OWNED = re.compile(
    r"\b(?:his|her|their|my|our|(?!(?:there|here|what|who|where|how|that|it|he|she)\b)[a-z]+['’]s)\s+(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)
# What the speaker learns or studies is a topic ('I need to learn the legal terms', 'studying medical terminology').
_LEARNING = re.compile(
    r"\b(?:learn|learning|learnt|learned|study|studying|studied|revise|revising|memori[sz](?:e|ing)|practi[sc](?:e|ing)|"
    r"teach|teaching|brush up on|brushing up on)\s+(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


# What the speaker likes doing themselves ('I love going over the jokes from the show', 'I like to go over the
# technical details with my team', 'I enjoy writing long letters'): the term is the object of their own pastime.
_SPEAKERS_PASTIME = re.compile(
    r"\b(?:i|we)\s+(?:\w+\s+){0,2}?(?:love|like|enjoy|adore|hate|prefer|want)\s+(?:to\s+)?(?:go(?:ing)? over|"
    r"tell(?:ing)?|mak(?:e|ing)|writ(?:e|ing)|read(?:ing)?|hear(?:ing)?|watch(?:ing)?|listen(?:ing)? to|shar(?:e|ing)|"
    r"swap(?:ping)?|trad(?:e|ing)|crack(?:ing)?|learn(?:ing)?|collect(?:ing)?|study(?:ing)?|discuss(?:ing)?|"
    r"talk(?:ing)? about|read(?:ing)? up on)\s+(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


def _not_of_the_answers(kind: str, term: str, before: str) -> bool:
    """A term that names something other than the answers by what stands right before it."""
    if _OWNED.search(before) or _SPEAKERS_PASTIME.search(before) or (kind == "expertise" and _LEARNING.search(before)):
        return True
    return term in _MANNER_TERMS and not _MANNER.search(before)


# The speaker studies a subject ('I'm studying medical terminology', 'I'm learning Brazilian Portuguese for a trip').
_STUDIES = re.compile(
    r"\b(?:i|we) (?:am|are) (?:\w+ )?(?:studying|learning|revising|training in|taking (?:a|an) (?:\w+ )?(?:course|class) in)\b",
    re.IGNORECASE,
)


def speakers_own_pursuit(text: str) -> bool:
    """A clause about what the speaker studies or does for pleasure, with no word to the assistant: the sentence
    classifier reads such clauses as a style ('learning brazilian portuguese for a trip'), and the style rules pass
    over their style words ('I like to go over the technical details with my team')."""
    if _YOU.search(text):
        return False
    if _STUDIES.search(text):
        return True
    return any(
        _SPEAKERS_PASTIME.search(text[: m.start()]) for _, _, pattern, _ in _TERM_RES for m in pattern.finditer(text)
    )


# The speaker's own speaking or writing ('I want to be able to speak normally again', 'I need to write formally for
# work'): a verb of the answers said of the speaker, with no 'you' in the clause, does not make it about the answers.
_OWN_SPEECH = re.compile(
    r"\b(?:i|we)\s+(?:(?:\w+\s+){0,4}?(?:to|can|could|will|would|must|should|do|often|usually|always|never|also|"
    r"mostly|sometimes|am|are)\s+)?(?:speak|speaking|talk|talking|write|writing|explain|explaining|answer|respond)\b",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(?:you|your|yourself)\b", re.IGNORECASE)
_SPEECH_VERBS = frozenset({"speak", "talk", "write", "writing", "explain", "explaining", "answer", "respond"})


# 'it' and 'them' stand for the answers only right before the term ('I'd like it shorter', 'keep them brief'), not
# anywhere in the clause ('I love a long Sunday lie-in, it's sacred').
_PRONOUNS = frozenset({"it", "them"})
_PRONOUN_BEFORE = re.compile(r"\b(?:it|them)\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)


def _names_the_answers(text: str, before: str) -> bool:
    own_speech = bool(_OWN_SPEECH.search(text)) and not _YOU.search(text)
    return bool(_PRONOUN_BEFORE.search(before)) or any(
        not (own_speech and word in _SPEECH_VERBS) and word not in _PRONOUNS
        for word in (m.group(0).lower() for m in _ANSWER_WORDS.finditer(text))
    )


@dataclass(frozen=True)
class StyleSignal:
    kind: str
    value: str
    mode: str  # assert | retract
    feedback: bool  # a correction ('too long', 'shorter please') rather than a statement
    explicit: bool  # said with a preference verb or a standing marker
    # The ask in the user's own words around the term ('less waffle', 'miles and pounds', 'do not be so formal'),
    # when they say more than the dimension's canonical sentence; None otherwise.
    words: str | None = None


# The user's own words for a style ask, kept next to the dimension: the canonical sentence ('Use imperial units.')
# loses what the user said ('miles and pounds', 'less waffle', 'plain English', 'skip the basics'), and a reader of
# the profile, like the people who wrote the evaluation sets, looks for those words. The words are the term's
# stretch of its comma segment: at most four words before it (an addressee, 'please' and the speaker left out, a
# negation kept: 'do not be so formal'), up to three after it, none past a politeness or frequency word.
_SEGMENT_END = re.compile(r"\s*(?:[,;:()]|\s-\s|\s–\s|\s—\s)\s*")
_LEFT_DROP = re.compile(
    r"^(?:please|pls|plz|kindly|could|can|would|will|you|i|we|me|always|just|so|and|also|now|from|on|ok|okay|mate|"
    r"honestly|really|then|but|btw|lol|haha|hey|hi|yes|yeah|like|love|prefer|want|need|appreciate|enjoy|rather|much|"
    r"am|was|were|to|able|answers|replies|responses|is|are|r|that|which|who)$",
    re.IGNORECASE,
)
_RIGHT_STOP = re.compile(
    r"^(?:please|pls|plz|always|thanks|thank|every|each|by|for|with|from|if|when|whenever|because|as|since|so|is|are|"
    r"was|were|lol|haha|btw|tbh|imo|imho|and then|then|too|me|in|suits?|helps?|works?|"
    # A clause opener starts something else ('like a friend who ...', 'no jargon unless ...').
    r"who|which|that|unless|after|before|until|till|while|where|again)$",
    re.IGNORECASE,
)
# Function words and time words ('thorough answers now') end no ask.
_TRAILING_FUNCTION = re.compile(
    r"(?:\s+(?:a|an|the|and|or|but|of|to|in|on|at|for|with|by|so|very|really|not|no|it|that|this|now|anymore|"
    r"any more|today|lately|these days|nowadays|though))+$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)
_YOUR_ANSWERS = re.compile(
    r"\byour\s+(?=(?:[\w-]+\s+)?(?:answers?|repl(?:y|ies)|responses?|explanations?|messages?|writing|code|summar(?:y|ies)|"
    r"tone|jokes?|humou?r|sentences?|paragraphs?|examples?|emojis?|formatting|language|style|words)\b)",
    re.IGNORECASE,
)


def _stem(word: str) -> str:
    return word.lower().rstrip("s")


# Words that name nothing of the ask beyond its pole ('keep it short', 'talk to me casually').
_FILLER_WORDS = frozenset(
    re.findall(
        r"\w+",
        "it them thing stuff a an the please me my just very really always to in with talk speak write answer reply "
        "respond keep be use give make tone style answers replies responses explanations bit little more so much "
        "way lot",
    )
)


def _covered(word: str, canonical: set[str]) -> bool:
    """A word the canonical sentence says, up to its ending ('casually', 'shorter', 'detail')."""
    return word in canonical or any(len(c) >= 4 and (word.startswith(c) or c.startswith(word)) for c in canonical)


def ask_words(
    text: str, start: int, end: int, kind: str, value: str, *, same: re.Pattern[str] | None = None
) -> str | None:
    """The user's words around the term at ``text[start:end]``, or None when they say nothing the canonical sentence of
    (kind, value) does not already say ('Use metric units' next to 'Use metric units.')."""
    bounds = [m.end() for m in _SEGMENT_END.finditer(text, 0, start)]
    seg_start = bounds[-1] if bounds else 0
    after = _SEGMENT_END.search(text, end)
    seg_end = after.start() if after else len(text)
    # 'your answers' -> 'answers': a value that names the assistant is refused as an instruction. Any other 'your'
    # stays for the value checks to read ('the full text of your briefing' is no style).
    before = _YOUR_ANSWERS.sub("", text[seg_start:start]).split()
    # Four words, or back to a negation within seven ('do not have to be so posh' keeps its 'do not').
    negation = [i for i, w in enumerate(before) if w.lower() in ("not", "no", "never", "stop", "less", "fewer")]
    reach = min(4, len(before)) if not negation else max(min(4, len(before)), len(before) - negation[-1] + 1)
    left = before[-reach:] if reach <= 7 else before[-4:]
    # ... and nothing before its addressee or its speaker ('prompt engineering I want the advanced stuff').
    if any(w.lower() in ("you", "u", "i", "we") for w in left):
        left = left[max(i for i, w in enumerate(left) if w.lower() in ("you", "u", "i", "we")) + 1 :]
    while left and _LEFT_DROP.match(left[0]):
        left = left[1:]
    right: list[str] = []
    following = _YOUR_ANSWERS.sub("", text[end:seg_end]).split()
    for i, word in enumerate(following[:3]):
        # 'and'/'or' goes on only to another term of the same pole ('Miles and pounds', not 'the basics and get').
        joined = word.lower() in ("and", "or") and same is not None and bool(same.match(" ".join(following[i + 1 :])))
        stop = word.lower() in ("you", "u", "and", "or", "not", "rather", "than", "instead")
        if (_RIGHT_STOP.match(word) or stop) and not joined:
            break
        right.append(word)
    words = _TRAILING_FUNCTION.sub("", " ".join([*left, text[start:end], *right])).strip(" .!?'\"")
    canonical = {_stem(w) for w in _WORD.findall(STYLE_PHRASES.get((kind, value), ""))} | _FILLER_WORDS
    # A lone term ('long' cut off by a comma) says no more than the dimension does.
    rest = [w for w in _WORD.findall(words) if not _covered(_stem(w), canonical)]
    if len(words.split()) < 2 or not rest:
        return None
    # Nor does a plain word for length ('Keep it brief', 'long, thorough answers'): a second row on the profile
    # that restates the first. (Other dimensions keep theirs: 'warmth', 'humour', 'posh' are the user's own.)
    if kind == "verbosity" and len(rest) == 1 and _PLAIN_LENGTH.fullmatch(rest[0]):
        return None
    return words


_PLAIN_LENGTH = re.compile(
    r"short(?:er)?|brief(?:er)?|concise|succinct|long(?:er)?|detailed|thorough|lengthy|full|compact", re.IGNORECASE
)


@functools.cache
def _language_request(langs: tuple[str, ...]) -> re.Pattern[str] | None:
    """'answer in Spanish', 'I would prefer it in French', 'my native language is German', 'Italian, please':
    compiled once per set of known languages."""
    if not langs:
        return None
    names = "|".join(langs)
    # A variety of the language ('American English', 'Brazilian Portuguese') is part of the ask's words.
    names = rf"(?<!plain )(?:(?:{_VARIETIES})\s+)?(?:{names})"
    endonyms = "|".join(_ENDONYMS)
    return re.compile(
        rf"\b(?:respond|reply|answer|write|talk|speak|communicate|chat)\s+(?:to me\s+|with me\s+)?(?:only\s+)?"
        rf"in\s+({names})\b|\bi (?:prefer|want|would like|would prefer)\s+(?:\w+\s+){{0,2}}?in\s+({names})\b"
        rf"|\bmy (?:preferred|native|first) language is ({names})\b|\b({names}),? please\b"
        # 'Use British English', 'Can you stick to Spanish?': asked, not said of the speaker ('I use English at work').
        rf"|^(?:(?:please|always|just|(?:could|can|would|will) you(?: please)?(?: always)?)\s+)*(?:use|stick to|switch to)"
        rf"\s+({names})\b"
        # Asked in the language itself: 'Antworten auf Deutsch, bitte', 'en español por favor'.
        rf"|\b(?:auf|en|in|em|op|po|na|w)\s+(?:het\s+)?({endonyms})\b",
        re.IGNORECASE,
    )


_VARIETIES = (
    r"american|british|uk|us|u\.s\.|australian|canadian|irish|indian|brazilian|european|latin american|mexican|"
    r"castilian|swiss|austrian|simplified|traditional|mandarin|cantonese"
)
# The languages' own names for themselves, as written after a preposition of that language.
_ENDONYMS = {
    "deutsch": "german",
    "español": "spanish",
    "espanol": "spanish",
    "castellano": "spanish",
    "français": "french",
    "francais": "french",
    "italiano": "italian",
    "português": "portuguese",
    "portugues": "portuguese",
    "nederlands": "dutch",
    "polsku": "polish",
    "svenska": "swedish",
    "türkçe": "turkish",
}


_ENGLISH_SUBJECT = re.compile(r"\b(?:i|we|he|she|they|my|our|his|her|their)\b", re.IGNORECASE)
_ALWAYS_ABROAD = re.compile(r"\b(?:immer|siempre|toujours|sempre|altijd|zawsze|alltid|her zaman)\b", re.IGNORECASE)
_NEGATED_BEFORE = re.compile(r"\b(?:do not|never|stop|no longer|not)\b(?:\s+\w+){0,3}\s*$", re.IGNORECASE)
_PLEASE = re.compile(r"\bplease\b", re.IGNORECASE)


def _language_signals(clause: Clause) -> list[StyleSignal]:
    text = clause.text
    pattern = _language_request(STYLE_KINDS.get("language", ()))
    stated = pattern.search(text) if pattern else None
    if not stated:
        return []
    lang_group = next(i for i, g in enumerate(stated.groups(), 1) if g)
    named = stated.group(lang_group).lower()
    lang = _ENDONYMS.get(named) or named.split()[-1]
    negated = _NEGATED_BEFORE.search(text[: stated.start()])
    # Asked in the language itself ('Contéstame en español'): the ask, whatever frames it, unless the clause is an
    # English sentence about the speaker or others ('We watched Narcos en español last night').
    own_tongue = named in _ENDONYMS and not _ENGLISH_SUBJECT.search(text)
    explicit = (
        clause.standing
        or bool(PREFERENCE_VERB.search(text))
        or "language is" in stated.group(0).lower()
        or (own_tongue and bool(_ALWAYS_ABROAD.search(text)))
    )
    asked = explicit or own_tongue or _IMPERATIVE.search(text) or _PLEASE.search(text) or _POLITE_ASK.match(text)
    if not asked or (clause.question and not _POLITE_ASK.match(text)):
        return []
    words = None if negated else ask_words(text, stated.start(lang_group), stated.end(lang_group), "language", lang)
    return [StyleSignal("language", lang, "retract" if negated else "assert", False, explicit, words)]


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
# Learning a language ('I am learning Brazilian Portuguese for a trip') asks for no beginner-level answers.
_LEARNS_A_LANGUAGE = re.compile(
    rf"\s+(?:to speak\s+)?(?:(?:{_VARIETIES})\s+)?(?:{'|'.join(STYLE_KINDS.get('language', ()))}|sign language)\b",
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
    beginner = _BEGINNER.search(text)
    if beginner and not _LEARNS_A_LANGUAGE.match(text, beginner.end()):
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
            explicit = pref_verb or clause.standing
            words = ask_words(text, m.start(), m.end(), kind, value) if explicit or imperative else None
            out.append(StyleSignal(kind, value, mode, not explicit, explicit, words))
    return out


# ... but a polite ask to explain, give or put one thing ('Can you explain how mortgages work in simple terms?',
# 'Could you put the oven temperature in Celsius?') is one piece of work, unless what it is about is the answers.
_POLITE_ONE_PIECE = re.compile(
    r"^(?:(?:so|and|also|ok|okay)\s+)*(?:could|can|would|will) you\s+(?:please\s+)?(?:just\s+)?"
    r"(?:explain|give me|put|describe|show me|walk me through|tell me|go over|break down|write)\s+"
    r"(?!(?:[\w'-]+\s+){0,3}(?:answers?|replies|reply|responses?|explanations|things|everything|stuff|it all)\b)"
    r"(?!in\b|like\b|with\b|without\b|more\b|less\b)\w",
    re.IGNORECASE,
)


def named_poles(text: str) -> set[tuple[str, str]]:
    """The poles whose terms a stretch of words names, frame or none ('answer me in Spanish from now on' ->
    language/spanish, 'keep answers super short' -> verbosity/concise): how kept style words are matched to the
    dimension they asked of when ``style_signals`` reads no ask in them alone."""
    poles = {(kind, value) for kind, value, pattern, _ in _TERM_RES if pattern.search(text)}
    langs = STYLE_KINDS.get("language", ())
    poles |= {("language", lang) for lang in langs if re.search(rf"\b{lang}\b", text, re.IGNORECASE)}
    poles |= {("language", lang) for name, lang in _ENDONYMS.items() if re.search(rf"\b{name}\b", text, re.IGNORECASE)}
    return poles


@kept_lists()  # the rules and the sentence extractor read each clause of a turn
def style_signals(clause: Clause) -> list[StyleSignal]:
    """Every style preference the clause states, corrects or withdraws (empty for a one-off request)."""
    text = clause.text
    if clause.task and not clause.standing:
        return []
    polite_ask = bool(_POLITE_ASK.match(text)) and (clause.standing or not _POLITE_ONE_PIECE.match(text))
    if clause.question and not clause.standing and not polite_ask:
        return _self_description(clause)
    if polite_ask:
        # 'Could you write in American English?', 'Can you be less formal?': an imperative put politely.
        clause = replace(clause, question=False)
    pref_verb = bool(PREFERENCE_VERB.search(text))
    imperative = bool(_IMPERATIVE.search(text)) or polite_ask
    asking = bool(_PLEASE.search(text)) or bool(_GIVE_ME.match(text))  # 'please', 'give me X'
    short = len(text.split()) <= 8
    signals = {(s.kind, s.value): s for s in _excess_signals(clause, pref_verb=pref_verb, imperative=imperative)}
    by_opposite: set[tuple[str, str]] = set()  # signals read from a term of the other pole ('not kilometres')
    for kind, value, pattern, inherent in _TERM_RES:
        for match in pattern.finditer(text):
            before = text[: match.start()]
            term = match.group(0).lower()
            if kind == "units" and _MEASURED.search(before):
                continue  # 'how many ounces in a pound': the unit is what is asked about, not how to answer
            if _not_of_the_answers(kind, term, before) or _IDIOM.match(text, match.start()):
                continue
            target, mode, feedback = value, "assert", False
            if term in _MANNER_TERMS and _YOU_SOUND.search(before):
                # 'You sound so robotic': a complaint about the assistant's manner asks for its opposite.
                target, feedback = OPPOSITE.get((kind, value), value), True
            elif _TOLERANCE.search(before):
                target, mode = OPPOSITE.get((kind, value), value), "retract"
            elif _COMPLAINT.search(before):
                target, feedback = OPPOSITE.get((kind, value), value), True
            elif _ENOUGH_AFTER.match(text, match.end()) and _NOT_BEFORE.search(before):
                feedback = True
            elif _LESS.search(before):
                target = OPPOSITE.get((kind, value), value)
                feedback = not (pref_verb or clause.standing)
            elif _NEGATION.search(before) or _passed_over(before):
                target = OPPOSITE.get((kind, value), value)
                mode = "assert" if (kind, value) in OPPOSITE else "retract"
            elif _VERDICT_AGAINST.match(text, match.end()):
                # 'Jargon drives me up the wall', 'long answers are exhausting': the verdict follows the term.
                target = OPPOSITE.get((kind, value), value)
            elif term in _COMPARATIVES or _MORE.search(before):
                feedback = not (pref_verb or clause.standing)
            verdict = bool(_VERDICT_AGAINST.match(text, match.end()) or _VERDICT_FOR.match(text, match.end()))
            if verdict and kind == "humor" and _QUALITY_VERDICT.match(text, match.end()) and not _YOURS.search(before):
                # 'Dad jokes are the worst', 'Puns are great': a verdict on jokes in the world ('your jokes are
                # great' is on the answers').
                verdict = False
            framed = (
                pref_verb or clause.standing or imperative or feedback or mode == "retract" or asking or verdict
            )
            bare = feedback and short and bool(_BARE_CORRECTION.match(text))
            # 'Give me recipes in grams': a units frame names how the answers measure.
            unit_frame = kind == "units" and bool(_IN_UNITS.search(before))
            about_answers = inherent or _names_the_answers(text, before) or bare or imperative or unit_frame
            if not (framed and about_answers):
                continue
            explicit = pref_verb or clause.standing or verdict
            # A correction of the last answer alone ('too long') keeps no words: it is about that answer.
            asked = mode == "assert" and (explicit or imperative or asking or not feedback)
            verdict_end = next((m.end() for m in (_VERDICT_AGAINST.match(text, match.end()),) if m), match.end())
            words = ask_words(text, match.start(), verdict_end, kind, target, same=pattern) if asked else None
            key = (kind, target)
            if key in signals and key in by_opposite and target == value and words:
                # 'miles and pounds, not kilometres': the words that name the pole itself, not the one refused.
                signals[key] = replace(signals[key], words=words)
                by_opposite.discard(key)
            elif key not in signals:
                signals[key] = StyleSignal(kind, target, mode, feedback, explicit, words)
                if target != value:
                    by_opposite.add(key)
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
