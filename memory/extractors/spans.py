"""From a sentence the classifier marked as a preference to the user's own words naming the thing.

``preference_spans(text, label)`` returns ``(label, phrase)`` pairs: usually one, two for a comparison
('I would take project work over lectures' -> likes 'project work', dislikes 'lectures') or for two
preferences joined in one sentence ('I love jazz and hate country'). The phrase is the object of the
preference predicate, cleaned: cut at the first connective or clause boundary, leading articles and
intensifiers removed, trailing fillers ('any day', 'at all', 'these days') removed, at most
``MAX_WORDS`` words. When no predicate is recognised the whole clause, minus its subject, is kept (still
the user's words, still naming the thing), capped the same way.

The label decides which predicates are read: the classifier says *whether* and *what kind*; the
predicates only say *where the thing is*. Input is the expanded clause from ``clauses.expand`` (so
"can't" reads "can not", "I'm" reads "i am").
"""

from __future__ import annotations

import functools
import re

MAX_WORDS = 8
_I = re.IGNORECASE

_ADV = (
    r"(?:(?:really|truly|just|absolutely|totally|definitely|genuinely|honestly|also|still|always|simply|much|"
    r"so|quite|pretty|rather|actually|personally|generally|usually|strongly|deeply|seriously|kind of|sort of)\s+)*"
)
_SUBJ = r"(?:^|\b)(?:i|we)\s+" + _ADV + r"(?:(?:do|would|will|can|have|had)\s+)?" + _ADV

# Predicates whose object is the thing, per polarity. Order matters: longer, more specific cues first.
_NEG_CUES = (
    r"(?:have|feel|got)\s+(?:a|an)\s+(?:real\s+|strong\s+|deep\s+|serious\s+|huge\s+|big\s+|bit of an?\s+)?"
    r"(?:aversion|dislike|distaste|hatred|phobia|intolerance|allergy)\s+(?:to|for|of|towards)",
    r"can\s*not\s+(?:stand|bear|stomach|tolerate|abide|handle|deal with|put up with|get into|do|eat|drink|have)",
    r"(?:hate|dislike|detest|loathe|despise|abhor|resent)",
    r"(?:do|would|will|can)\s+not\s+(?:really\s+|ever\s+|even\s+)?(?:like|enjoy|love|care for|want|fancy|"
    r"get on with|get along with|get into)",
    r"(?:would|will)\s+not\s+(?:ever\s+)?miss",
    r"would\s+(?:much\s+)?rather\s+not|(?:do|would|will)\s+not\s+(?:really\s+|ever\s+|even\s+)?(?=\w)",
    r"(?:am|are)\s+(?:not|never)\s+(?:really\s+|much of\s+|a\s+|an\s+|big\s+|huge\s+|the biggest\s+)*"
    r"(?:fan of|into|keen on|fond of|a fan of|person for|one for|interested in|big on)",
    r"steer\s+(?:well\s+)?clear\s+of",
    r"(?:stay|keep|keeping|staying)\s+(?:well\s+)?(?:away from|clear of|off)",
    r"(?:avoid|avoiding|shun|shunning)|(?:refuse|refusing)\s+to",
    r"(?:would|will|am)\s+never\s+(?:ever\s+)?(?:again\s+)?",
    r"never\s+(?:ever\s+)?(?:again\s+)?",
    r"(?:am|are)\s+(?:sick|tired|fed up|done|over)\s+(?:of|with)",
    r"swore\s+off|gave\s+up(?:\s+on)?|cut\s+(?:out|back on|down on)|(?:have\s+)?stopped|quit",
    r"(?:am|are)\s+(?:trying\s+to\s+)?(?:avoid|avoiding|cutting out|cutting back on|off)",
    r"(?:skip|leave out|opt out of|pass on|exclude)",
)
# 'I will not miss X' is glad to be rid of it ('I won't miss the London traffic when we move'); 'would not miss X
# for the world' and 'never miss' are likings.
_DOUBLE_NEGATIVE = (
    # ... and so is never skipping it ('I never skip my Sunday swim' stored dislikes).
    r"never\s+(?:get|got|grow)\s+(?:tired|sick|bored)\s+of|(?:would|will)\s+never\s+miss|never\s+(?:miss|skip)|"
    r"(?:would|will)\s+not\s+(?:ever\s+)?miss(?=.*\bfor\s+(?:the world|anything)\b)"
)
_GLAD_TO_LOSE = re.compile(
    _SUBJ + r"(?:would|will)\s+not\s+(?:ever\s+)?miss\b(?!.*\bfor\s+(?:the world|anything)\b)", re.IGNORECASE
)
# ... whatever negative label the classifier gave the clause ('I never get tired of gardening' stored dislikes).
_SAID_AS_DOUBLE_NEGATIVE = re.compile(_SUBJ + r"(?:" + _DOUBLE_NEGATIVE + r")\b", re.IGNORECASE)
# ('I like Coldplay' was read as dislikes 'Coldplay': the classifier guessed from a name it does not know.)
_PLAIN_LIKING = re.compile(r"^(?:i|we)\s+" + _ADV + r"(?:love|adore|enjoy|like)\b", re.IGNORECASE)
_NOT_PLAIN = re.compile(
    r"\b(?:not|never|no|nothing|hate|dislike|without|except|but|unless|too|stop|quit|less)\b|\b(?:love|adore|enjoy)\s+"
    r"(?:it|how|that|when|the way)\b",
    re.IGNORECASE,
)
_POS_CUES = (
    r"(?:love|like|enjoy|want)\s+nothing\s+(?:more|better)\s+than",
    r"(?:am|are|been)\s+" + _ADV + r"(?:a\s+|an\s+|such\s+a\s+|the\s+|big\s+|huge\s+|total\s+|massive\s+|real\s+)*"
    r"(?:fan of|into|keen on|fond of|passionate about|obsessed with|crazy about|mad about|nuts about|"
    r"sucker for|all about|partial to|drawn to|hooked on|big on|enthusiast of|lover of|devoted to|addicted to)",
    r"(?:have|got)\s+(?:a\s+|an\s+)?(?:real\s+|soft\s+|deep\s+|big\s+)?(?:soft spot|weakness|passion|love|thing)\s+for",
    r"(?:love|like|enjoy|adore|prefer|fancy|appreciate|value|relish|favou?r|treasure|cherish|dig)",
    r"(?:tend to |usually |always )?(?:go for|opt for|lean towards?|gravitate towards?|pick|choose|stick to|stick with)",
    r"could\s+(?:listen to|eat|watch|read|play|drink)",
    r"(?:would|will)\s+(?:happily|gladly|always)\s+\w+",
    r"(?:live|lives)\s+for",
    # Being at ease with a thing, or able to bear it, frames it ('I'm fine with spicy food' stored likes 'fine with
    # spicy food', 'I can tolerate spicy curries now' stored 'tolerate spicy curries').
    r"(?:am|are)\s+(?:totally\s+|perfectly\s+|completely\s+|quite\s+)?(?:fine|ok|okay|alright|happy|comfortable)\s+with",
    r"(?:can|could)\s+(?:now\s+)?(?:tolerate|handle|stomach|cope with)",
    # A double negative of tiring or missing is a liking ('I never get tired of gardening').
    _DOUBLE_NEGATIVE,
    r"(?:nothing|no one|nobody|little)\s+(?:beats|compares to|tops)|(?:there is|i know)\s+nothing\s+(?:like|better than)"
    r"|(?:can|could)\s*not\s+beat|(?:can|could)\s*not\s+get enough of|(?:can|could)\s*not\s+live without",
)
_CONSTRAINT_CUES = (
    r"(?:am|are)\s+(?:severely\s+|very\s+|mildly\s+|deathly\s+)?(?:allergic|intolerant|sensitive)\s+to",
    r"(?:need|needs|require|requires|have to have|must have|depend on|rely on|use|have)\s+(?:a\s+|an\s+)?",
    r"(?:have to|must|need to|can only|only)\s+",
    r"(?:am|are)\s+(?:on\s+)?(?:a\s+|an\s+)?(?:strict\s+)?",
    r"(?:can|could)\s*not\s+(?:eat|have|drink|do|use|afford|climb|walk|handle|tolerate)",
)
_STYLE_CUES = (
    r"(?:keep|make)\s+(?:it|things|answers|your answers|replies|your replies|responses|your responses)",
    r"(?:use|give me|include|put answers in|put it in|write in|answer in|reply in|respond in|stick to)",
    r"(?:prefer|like|want|appreciate|love)",
    r"(?:do not|never|no)\s+(?:use|give me|include)?",
)

# A comma between clauses; one inside a number is none ('a 1,500-calorie diet' stored constraint '1').
_CLAUSE_COMMA = r"(?:(?<!\d),|,(?!\d{3}\b))"
_CONNECTIVE_CUT = re.compile(
    # A connective right after an article is part of a name ('The Who'); a comma inside a number is no boundary
    # ('a 1,500-calorie diet' stored constraint '1').
    r"\s*(?:(?<!\bthe )(?<!\ba )\b(?:because|since|as long as|unless|whereas|while|although|though|but|so that|so i|so we|so it|"
    r"which|who|where|when|whenever|if|especially when|and then|and i|and we|and my|and it|and there|instead)\b|"
    + _CLAUSE_COMMA + r"|[;:!?()]"
    # A full stop cuts, except after a lone letter: an initialism ('the U.K. countryside', 'D.C.') is one name.
    r"|(?<!\b[a-z])\.|\s-\s|\s–\s|\s—\s).*$",
    _I,
)
_LEADING = re.compile(
    # 'The Who' keeps its article: without it the name is a function word.
    # ('Lately podcasts bore me', 'These days it is flats': a time word opening the clause is no part of the thing.)
    r"^(?:(?:(?:these days|nowadays|lately|recently),?\s+it is|these days|nowadays|lately|recently|the(?!\s+who$)|a|an|any|some|my|our|all|most|kind of|sort of|type of|types of|those|these|any kind of|"
    r"anything (?:with|involving|that involves|that has)|things like|stuff like|lots of|a lot of|"
    r"to|being|going|doing|having|really|very|too|much|more|of|with|about|for)\s+)+",
    _I,
)
_TRAILING = re.compile(
    r"\s+(?:any day|every time|any time|anytime|at all|please|for me|to me|these days|nowadays|anymore|"
    r"any more|ever|again|now|really|though|a lot|so much|very much|the most|most|in general|generally|"
    r"whatever happens|if i can|if possible|if i can help it|whenever possible|whenever i can|no matter what|"
    r"by far|above all|more|most of all|personally|honestly|myself|too|as well|either|lately|recently|"
    r"of all time|in particular|in my life|wherever possible|all day|all the time|every day|for sure|for the world|"
    r"instead|thank you|thanks|"
    # How long a taste has been held is no part of the thing ('I have been into rugby for years').
    r"for (?:(?:many|some|\d+|two|three|four|five|ten|twenty|thirty) )?(?:years|ages|decades)(?: now)?|for a (?:long )?"
    r"(?:while|time))$",
    _I,
)
# A word or phrase about the telling, set off by a comma ('I hate rugby, oddly' stored dislikes 'oddly'): no thing.
ASIDE = re.compile(
    r"^(?:oddly|weirdly|funnily|strangely|admittedly|ironically|surprisingly|curiously|bizarrely|sadly|thankfully|"
    r"luckily|unfortunately|frankly|truthfully|obviously|apparently|seriously|honestly|clearly|literally|basically|"
    r"supposedly|naturally|of course|to be (?:fair|honest)|tbh|if i am honest|i admit|i confess|i must admit|"
    r"(?:oddly|weirdly|funnily|strangely|curiously|bizarrely) enough)$",
    _I,
)
_EMPTY = re.compile(
    r"^(?:it|that|this|them|those|these|things|stuff|one|ones|you|him|her|what|everything|anything|"
    r"something|nothing|so|too|me|much|some|to|the|a|an|my|our|"
    # 'I coach my son's team and love every minute': the minutes are of the thing said before.
    r"every (?:minute|second|bit|moment)(?: of it)?)$",
    _I,
)


# A 'phrase' that is only a predicate or ends on a pronoun names nothing ('prefer', 'like it', 'follow it').
_ONLY_CUES = re.compile(
    r"^(?:(?:i|you|we|really|just|do|would|like|love|prefer|want|enjoy|hate|need|am|is|are|it|when|so)\s*)+$",
    _I,
)


_DANGLING = re.compile(
    r"(?:\s+(?:a|an|the|and|or|but|of|to|in|on|at|for|with|by|from|no|not|my|our|your|their|his|her|its|"
    r"there(?:'s|’s| is| are)?|is|are|was|were|that|this|than|as|so|very|really))+$",
    _I,
)


def clean_phrase(text: str, *, max_words: int = MAX_WORDS) -> str | None:
    """The thing named by the start of ``text``: cut at a connective, trimmed, at most ``max_words``."""
    text = _CONNECTIVE_CUT.sub("", text.strip())
    previous = None
    while previous != text:
        previous = text
        text = _LEADING.sub("", text).strip(" '\"-")
        text = _TRAILING.sub("", text).strip(" '\"-")
    words = text.split()
    if not words or _EMPTY.match(text) or _ONLY_CUES.match(text) or ASIDE.match(text):
        return None
    if len(words) > max_words:
        # A cut mid-clause must not end on a word that leads into the rest ('live on the fourth floor and
        # there's no' was stored).
        text = _DANGLING.sub("", " ".join(words[:max_words])) or " ".join(words[:max_words])
    return text


# Which word sets the second thing against the first depends on the verb: 'prefer X to Y', 'rather X than Y', but
# 'love taking my kids to the zoo' is one thing ('to' after 'love' is a direction, not a comparison: it stored
# dislikes 'zoo'). 'over', 'rather than', 'instead of' and 'more than' compare after any of these verbs.
_ANY_VERB_AGAINST = r"over|rather than|instead of|more than|better than"
_COMPARISON = re.compile(
    # ('would rather walk than drive': the verb after 'rather' is optional, and so is its space.)
    r"\b(?:(?:would\s+(?:much\s+|far\s+)?(?:rather|sooner)(?:\s+(?:have|take|do|go with|go for|pick|choose|read|"
    r"watch|eat|play|listen to|use))?)\s+(?P<a1>.+?)\s+(?:" + _ANY_VERB_AGAINST + r"|than|before)"
    r"|(?:prefer|favou?r)\s+(?P<a2>.+?)\s+(?:" + _ANY_VERB_AGAINST + r"|to|than)"
    r"|(?:would\s+(?:take|pick|choose|go for)|(?:will|would)\s+take)\s+(?P<a3>.+?)\s+(?:" + _ANY_VERB_AGAINST
    + r"|before)"
    r"|(?:give me|choose|pick|love|like|enjoy|take)\s+(?P<a>.+?)\s+(?:" + _ANY_VERB_AGAINST + r"))"
    r"\s+(?P<b>.+)$",
    _I,
)


def _first_compared(m: re.Match[str]) -> tuple[str, int]:
    """The first thing of a comparison match and where it starts."""
    group = next(g for g in ("a1", "a2", "a3", "a") if m.group(g) is not None)
    return m.group(group), m.start(group)
_VERBLESS_OVER = re.compile(r"^(?P<a>(?!i\b|we\b)[^,]+?)\s+over\s+(?P<b>[^,]+)", _I)
_WHAT_I = re.compile(
    r"^(?P<x>.+?)\s+(?:is|are|was|were)\s+(?:what|where|how|who|something|one thing|a thing|"
    r"the (?:one|thing|kind|type|sort)s?(?:\s+that)?)\s+"
    r"(?:i|we)\b",
    _I,
)
_TROUBLED = (
    r"\s+(?:\w+\s+){0,2}(?:hate|dislike|avoid|dread|detest|loathe|fear|can not|could not|do not|never|least|worry|"
    r"worried|struggle|suffer|scared|afraid|frightened|terrified|regret|stress|hurt|miss)\b"
)
# ... and what troubles the speaker most is not liked, whatever the classifier said ('Heights are what I'm scared of
# most' stored likes 'Heights').
_TROUBLED_MOST = re.compile(_TROUBLED + r"(?:\s+\w+){0,2}?\s+(?:most|the most|most of all|more than anything)\s*$", _I)
_KEEPS_ME_UP = re.compile(r"^[^,]+?\s+(?:is|are)\s+what\s+keeps\s+(?:me|us)\s+(?:up|awake)\b", _I)
_WORRIED_MOST = re.compile(r"\s+(?:\w+\s+){0,2}?(?:worry|worried|fret|stress|stressed)\b", _I)
_DONE_MOST = re.compile(
    rf"(?!{_TROUBLED})"
    r"\s+(?:\w+\s+){1,3}?(?:most|the most|most of all|all the time|all day|every day|every night|every weekend|"
    r"more than anything)\s*$",
    _I,
)
_PERSON_TYPE = re.compile(
    r"\b(?:i|we)\s+(?:am|are)\s+(?:(?:a real|a total|a big|a huge|a massive|such a|definitely a|more of a|an|a|more)\s+)?"
    r"(?P<x>[\w' -]+?)[, -]*(?:person|people|kind of (?:person|guy|girl)|type|sort of person|fan|guy|girl|"
    r"lover|addict|nut|enthusiast|fanatic|buff|geek|nerd|junkie)\b"
    # 'I am a big fan of jazz' names its thing after 'of' (the cue below), not 'big'.
    r"(?!\s+(?:of|for)\b)",
    _I,
)
_PRONOUN_END = re.compile(r"(?:^|\s)(?:it|them|this|that|these|those|one|ones|you|him|her)$", _I)
# An imperative 'give me X' (at the start, after a comma, 'just' or 'please'); 'Lilies give me hay fever' is a reaction.
_GIVE_ME = re.compile(
    r"(?:^|,\s*|\b(?:just|please|always|so)\s+)give me\s+(?P<a>.+?)(?:\s+(?:any day|every time|anytime|any time))?$", _I
)
_TOO_LITTLE = r"(?:short|good|cute|quick|quickly|soon|fast|kind|nice|precious|beautiful|brief|rare)\b"
_TOO_LITTLE_VERDICT = re.compile(r"^[^,]+?\s+(?:is|are|was|were)\s+(?:(?:way|far|much|just)\s+)?too\s+" + _TOO_LITTLE + r"[^,]*$", _I)
_COMPOUND_SUBJECT = re.compile(r"^(?:my|our)\s+[\w'-]+(?:\s+[\w'-]+)?\s+and\s+(?:i|we)\s+", _I)
_SUBJECT_FIRST = re.compile(
    r"^(?P<x>.+?)\s+(?:is|are|has been|have been|was|were)\s+(?:definitely\s+|really\s+|always\s+|just\s+|"
    r"hands down\s+|absolutely\s+)?(?P<cue>(?:my|our|the)\s+(?:absolute\s+|all-time\s+|real\s+|big\s+|"
    r"biggest\s+|number one\s+|total\s+)?(?:favou?rite|fav|go-to|thing|jam|passion|guilty pleasure|idea of|"
    r"weakness|least favou?rite|pet peeve|nightmare|kryptonite)(?:\s+(?:hell|a nightmare|torture|misery))?|not\s+(?:really\s+)?(?:me$|my|for me|for us|"
    r"my thing|my cup of tea|my scene|my style)|(?:a\s+)?(?:no-go|no go|dealbreaker|deal breaker|must|"
    r"must-have|essential|non-negotiable|torture|the worst|the best|great|awful|boring|painful|too much|"
    # A hardship said of a thing is a verdict against it ('Winter is brutal', 'Summers are miserable for me'), not
    # one on how well it does something ('some services are dreadful at it').
    r"(?:brutal|miserable|unbearable|dreadful|horrible|hell|a struggle|a nightmare|exhausting)(?!\s+(?:at|with)\b)|"
    # 'Fizzy drinks are way too sweet for me'
    # ('Life is too short for bad wine', 'Summer is too short here': too little of a good thing, no verdict.)
    r"(?:(?:way|far|much|a bit|a little)\s+)?too\s+(?!" + _TOO_LITTLE + r")\w+)"
    r"|right up my alley"
    # Praise or scorn of how a thing is rated ('Slow cookers are underrated' stored dislikes).
    r"|(?:so\s+|massively\s+|hugely\s+|seriously\s+|criminally\s+|totally\s+|very\s+|vastly\s+|wildly\s+)?"
    r"(?:under-?rated|underappreciated|over-?rated|over-?hyped)\b"
    # 'Reading stories to my twins is the highlight of my evening', 'Sunday brunch is a ritual'.
    r"|the\s+(?:highlight|best part|best bit|high point)\s+of|(?:a|an|my|our)\s+(?:\w+\s+)?(?:ritual|tradition|"
    r"happy place|highlight|treat|sanctuary))",
    _I,
)
_SUBJECT_VERB = re.compile(
    # ('Rote memorisation has never worked for me': the auxiliary belongs to the verb, not to the thing.)
    r"^(?P<x>(?!i\b|we\b|it\b|that\b|this\b)[\w' -]+?)\s+(?P<cue>(?:(?:has|have|had)\s+)?"
    r"(?:really\s+|just\s+|always\s+|never\s+|simply\s+)?"
    r"(?:bores?|annoys?|irritates?|frustrates?|grates? on|drives? me|puts? me|leaves? me|gives? me|makes? me|"
    r"stresses? me|creeps? me|speaks? to me|appeals? to me|"
    # What wears on the speaker ('Karaoke nights drag on forever for me' stored likes).
    r"drags? on|go(?:es)? on (?:forever|and on)|takes? forever|wears? me (?:out|down)|does my head in|"
    r"gets? on my nerves|"
    # 'Spiders terrify me' stored avoid 'Spiders terrify me'.
    r"(?:terrif(?:y|ies)|scares?|frightens?|petrif(?:y|ies)|unsettles?|upsets?|freaks?|grosses?) me|"
    r"(?:works?|worked) (?:(?:much |so much |far |a lot |way )?better |best |well |wonders )?for (?:me|us)|"
    r"(?:helps?|helped) me|relaxes? me|calms? me|(?:do|does|did)\s+not\s+(?:really\s+)?(?:work|appeal|agree|suit|sit well)"
    r"(?:\s+(?:for|to|with))?\s+me|never\s+(?:really\s+)?(?:clicked|appealed|worked|agreed|suited)"
    r"(?:\s+(?:for|to|with) me)?|"
    r"tastes? like|disgusts? me|turns? me off|"
    # 'Fast food does not do it for me', 'Opera has never done it for me', 'X loses me'.
    r"(?:do|does|did)\s+not\s+(?:really\s+)?do\s+(?:it|much|anything|a lot)\s+for\s+(?:me|us)|"
    r"(?:has|have)\s+never\s+(?:really\s+)?done\s+(?:it|much|anything)\s+for\s+(?:me|us)|"
    r"never\s+(?:really\s+)?does?\s+(?:it|much|anything)\s+for\s+(?:me|us)|loses?\s+me))",
    _I,
)
_NEG_WORDS = re.compile(
    # (after any auxiliary or adverb of the cue: 'just do not work for me', 'has never clicked')
    r"^(?:(?:has|have|had|really|just|always|simply)\s+)*(?:not|never|no|bores?|annoys?|irritates?|frustrates?|grates?|drives?|stresses?|creeps?|disgusts?|"
    r"terrif|scares?|frightens?|petrif|unsettles?|upsets?|freaks?|grosses?|"
    r"turns?|my least|least|my pet peeve|my nightmare|my kryptonite|(?:my|our|the) idea of (?:hell|a nightmare|torture|misery)|torture|the worst|awful|boring|painful|"
    r"brutal|miserable|unbearable|dreadful|horrible|hell|a struggle|a nightmare|exhausting|"
    r"too much|a no|no-go|do|does|did|never|has never|have never|loses?|tastes? like|puts? me|leaves? me|"
    r"(?:(?:so|massively|hugely|seriously|criminally|totally|very|vastly|wildly)\s+)?over-?(?:rated|hyped)|drags?|"
    r"go(?:es)? on|takes? forever|wears?|does my head|gets? on my|"
    r"gives? me|makes? me|(?:(?:way|far|much|a bit|a little)\s+)?too\b)",
    _I,
)
_AND_SPLIT = re.compile(
    r",?\s+(?:and|but)\s+(?:i\s+|we\s+)?(?=" + _ADV + r"(?:hate|love|like|enjoy|adore|dislike|detest|avoid|"
    r"prefer|can not|do not|am|never|steer|stay|refuse)\b)",
    _I,
)
_SPECIFIC = re.compile(r",?\s+(?:especially|particularly|mostly|mainly|above all)\s+(?P<y>[^,.;]+)", _I)

_POLARITY = {"likes": 1, "dislikes": -1, "avoids": -1}
_NEVER_SUGGEST = re.compile(
    r"^(?:please\s+)?(?:do not|never|no more)\s+(?:ever\s+)?(?:recommend|suggest|show|send|give|offer|book|include|"
    r"pick|choose|put)(?:\s+me)?\s+(?:anything|any|things|stuff)\s*(?:with|involving|that (?:has|have|involves?)|"
    r"featuring|containing)?\s+"
    r"|^(?:please\s+)?(?:do not|never)\s+(?:ever\s+)?(?:recommend|suggest)\s+(?!the\b|this\b|that\b|these\b|those\b|"
    r"a\b|an\b|it\b|them\b|one\b|me\b)(?=(?:[\w-]+\s+){0,2}[\w-]+s\b)",
    _I,
)


@functools.cache
def _cue_patterns(cues: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    """Per cue: the cue after the speaker, then the cue alone; compiled once (they are read on every clause)."""
    # The cue ends at a word's end ('I hated the crowds' stored 'd the crowds'); a past form reads as the verb.
    return tuple(
        (re.compile(_SUBJ + r"(?:" + cue + r")(?:e?d)?\b\s*", _I), re.compile(r"(?:^|\b)(?:" + cue + r")\s+", _I))
        for cue in cues
    )


def _after_cue(text: str, cues: tuple[str, ...]) -> str | None:
    """The text after the first (subject +) predicate cue, or None when no cue is found."""
    best: tuple[int, str] | None = None
    for patterns in _cue_patterns(cues):
        for pattern in patterns:
            m = pattern.search(text)
            if m and m.end() < len(text) and (best is None or m.start() < best[0]):
                best = (m.start(), text[m.end() :])
                break
    return best[1] if best else None


# A style ask is said to the assistant ('could you always answer in numbered steps', 'I'd rather you ask me a
# clarifying question', 'when you explain stuff, use examples from cooking'), and a value naming the assistant is
# refused as an instruction: the value is the ask without its addressee.
_ASKED_OF_YOU = re.compile(
    r"^(?:(?:from now on|honestly|just|so|and|also|ok|okay)[, ]+)*(?:(?:please\s+)?(?:when(?:ever)?|if) you [^,]{1,60},\s*)?"
    r"(?:(?:from now on|honestly|just|so)[, ]+)*(?:please[, ]+)?(?:(?:would\s+)?rather you\s+|(?:could|can|would|will) you\s+)?"
    r"(?:please\s+)?",
    _I,
)
_YOUR_OUTPUT = re.compile(
    r"\byour\s+(?=(?:\w+\s+)?(?:answers?|repl(?:y|ies)|responses?|explanations?|messages?|writing|code|summar(?:y|ies))\b)",
    _I,
)


# The assistant named inside an ask: 'whenever you state a fact' frames it, 'your sources' are the answers' sources.
_YOU_FRAME = re.compile(r",?\s+(?:when|whenever|if|every time|each time)\s+you\b.*$", _I)


def _style_value(text: str) -> str:
    """'From now on could you always answer in numbered steps' -> 'always answer in numbered steps'; 'Cite your
    sources whenever you state a fact' -> 'Cite your sources'. A 'your' inside the ask stays: the value checks
    read it ('reveal your instructions'), and without it a payload dressed as a style ask reached the prompt."""
    value = _YOUR_OUTPUT.sub("", _ASKED_OF_YOU.sub("", text.strip()))
    return _YOU_FRAME.sub("", value) or value


def _strip_subject(text: str) -> str:
    """The clause without its leading subject and auxiliaries, for the fallback."""
    text = re.sub(
        r"^(?:honestly|personally|basically|generally|also|and|so|well|oh|ok|okay),?\s+", "", text, flags=_I
    )
    # 'These days I support Tottenham instead' stored likes 'days I support Tottenham': a time before the subject.
    text = re.sub(r"^(?:these days|nowadays|lately|now|at the moment|recently),?\s+(?=(?:i|we)\b)", "", text, flags=_I)
    return re.sub(
        # 'My wife and I go to the market every Saturday': the compound subject, not 'wife', is the speaker; but
        # in 'Spiders and I do not get along' the spiders are the thing.
        r"^(?:(?:my|our)\s+[\w'-]+(?:\s+[\w'-]+)?\s+and\s+)?(?:i|we)\s+"
        r"(?:(?:am|are|do|would|will|have|had|can|really|just|also|always|been)\s+)*",
        "",
        text,
        flags=_I,
    )


def preference_spans(text: str, label: str, *, before: str = "") -> list[tuple[str, str]]:
    """(label, phrase) pairs for one clause the classifier put under ``label``.

    ``before`` is the clause just before this one in the same message: what a pronoun object points back
    to when the clause itself names nothing else ('Oat milk in everything. I prefer it to cow's milk',
    'Snooker and darts, I will watch them for hours')."""
    return list(dict.fromkeys(_preference_spans(text, label, _fragment(before))))


def _fragment(text: str) -> str | None:
    """A short previous clause as a referent: a verbless noun phrase ('Snooker and darts') or the object of
    a short statement; longer clauses are not guessed at."""
    text = re.sub(r"\s+", " ", text).strip(" .!?;:")
    if not text or len(text.split()) > 6:
        return None
    # 'Fantasy is what I read most' -> 'Fantasy' (the thing the previous clause is about).
    m = _WHAT_I.search(text) or _SUBJECT_FIRST.search(text) or _SUBJECT_VERB.search(text)
    phrase = clean_phrase(m.group("x") if m else _strip_subject(text), max_words=6)
    # 'so no tennis for a while, but I still love it': the thing is tennis, its pause is not part of it.
    phrase = re.sub(r"^(?:no|not|never)\s+(?=\w)", "", phrase, flags=_I) if phrase else phrase
    # A one-word reaction ('Terrible. I love it.') is no referent; the user's pronoun then names nothing.
    if not phrase or (m is None and len(phrase.split()) < 2) or _PRONOUN_END.search(phrase):
        return None
    return phrase


def _preference_spans(text: str, label: str, referent: str | None) -> list[tuple[str, str]]:
    text = re.sub(r"\s+", " ", text).strip(" .!?;:")
    # 'Please do not recommend anything with jump scares' -> 'i avoid jump scares'.
    text = _NEVER_SUGGEST.sub("i avoid ", text)
    # "Hiking's my favourite" -> 'Hiking is my favourite' (a contraction, not a possessive, before these).
    text = re.sub(r"(\w)['’]s\s+(?=(?:my|our|not|so|really|just|definitely|always|the best|the worst)\b)", r"\1 is ", text, flags=_I)
    text = re.sub(r"^(?:(?:actually|honestly|well|ok|okay|so|anyway|tbh|to be fair|fwiw|in fact|oh)\b,?\s*)+", "", text, flags=_I)
    # 'My husband and I love hiking': the compound subject is the speaker ('and I love' split off likes 'husband').
    text = _COMPOUND_SUBJECT.sub("i ", text)
    if _TOO_LITTLE_VERDICT.match(text):
        return []  # 'Summer is too short here': too little of a good thing, said of nothing the speaker wants
    if ":" in text:  # 'Two things: keep it brief' -- the preference follows the colon
        before, after = text.rsplit(":", 1)
        verb = re.search(r"\b(love|like|enjoy|adore|hate|dislike|avoid|can not stand|prefer)\b", before, _I)
        text = (f"i {verb.group(1)} {after.strip()}" if verb else after.strip()) or text
    if not text:
        return []
    spliced = _spliced_readings(text, label)
    if spliced is not None:
        return spliced
    parts = _AND_SPLIT.split(text)
    if len(parts) > 1 and label in _POLARITY:
        out = []
        for i, part in enumerate(parts):
            part_label = label
            if re.match(_ADV + r"(?:hate|dislike|detest|can not|do not|am not|never)\b", part, _I):
                part_label = "dislikes" if label == "likes" else label
            elif re.match(_ADV + r"(?:love|like|enjoy|adore|prefer)\b", part, _I):
                part_label = "likes"
            elif re.match(_ADV + r"(?:avoid|steer|stay|refuse)\b", part, _I):
                part_label = "avoids"
            # 'I tried smartwatches and I just do not like them': 'them' points into the part before.
            said_before = (_fragment(parts[i - 1]) if i else None) or referent
            out += _single(part if i == 0 else f"i {part}", part_label, fallback=i == 0, referent=said_before)
        return out
    return _single(text, label, referent=referent)


# Two statements spliced with a comma, each with its own subject and polarity: 'Fizzy drinks are way too sweet for
# me, sparkling water is my go-to', 'I'm a red wine person, white wine gives me a headache', 'I hate touchscreens in
# cars, give me real buttons'. One label for the clause named one side only, and often the wrong thing.
_SPLICE = re.compile(_CLAUSE_COMMA + r"\s+")


# The speaker suffering in or from a thing ('I wilt in the heat', 'we struggle with crowds'): a complaint about it,
# though the classifier reads such clauses as likes ('wilt in the heat' was stored as a like).
_SUFFERING = re.compile(
    r"^(?:i|we)\s+" + _ADV + r"(?:wilt|wilts|melt|melts|suffer|suffers|struggle|struggles|burn|freeze|shiver|overheat|"
    r"sweat|go numb|get (?:sunburnt|sunburned|car ?sick|sea ?sick|travel ?sick))\s+(?:\w+ly\s+)?(?:in|with|from|on|at)\s+"
    r"(?P<x>.+)$",
    _I,
)
# ... but how soon is no thing ('I burn in about ten minutes'): a complaint that names nothing.
_HOW_SOON = re.compile(r"^(?:about|around|under|within|less than|after|a few|a couple|\d+|one|two|three|five|ten|twenty)\b", _I)


def _suffered(text: str) -> list[tuple[str, str]] | None:
    """('dislikes', thing) for 'I wilt in the heat'; [] when what is suffered is a time; None when no suffering."""
    m = _SUFFERING.search(text)
    if m is None:
        return None
    x = None if _HOW_SOON.match(m.group("x")) else clean_phrase(m.group("x"))
    return [("dislikes", x)] if x else []


def _own_reading(segment: str) -> list[tuple[str, str]]:
    """What a comma segment says by its own predicate (subject-first verdict, person type or 'I' + a taste verb)."""
    if (suffered := _suffered(segment)) is not None:
        return suffered
    m = _SUBJECT_FIRST.search(segment) or _SUBJECT_VERB.search(segment)
    if m and not re.match(r"^(?:i|we)\b", m.group("x"), _I):
        x = clean_phrase(m.group("x"))
        return [("dislikes" if _NEG_WORDS.match(m.group("cue")) else "likes", x)] if x else []
    if (m := _PERSON_TYPE.search(segment)) and (x := clean_phrase(m.group("x"), max_words=4)):
        return [("likes", x)]
    if m := _GIVE_ME.search(segment):
        return [("likes", a)] if (a := clean_phrase(m.group("a"))) else []
    starts = {}
    for lab, cues in (("likes", _POS_CUES), ("dislikes", _NEG_CUES)):
        found = [m.start() for pattern, _ in _cue_patterns(cues) if (m := pattern.search(segment))]
        if found:
            starts[lab] = min(found)
    if not starts:
        return []
    lab = min(starts, key=lambda k: starts[k])
    return [(lab, p) for lab_, p in _single(segment, lab, fallback=False) if lab_ == lab]


def _spliced_readings(text: str, label: str) -> list[tuple[str, str]] | None:
    """Each comma segment read on its own when at least two say something by their own predicate; else None."""
    if label not in _POLARITY or "," not in text:
        return None
    readings = [_own_reading(s) for s in _SPLICE.split(text)[:3]]
    if sum(1 for r in readings if r) < 2:
        return None
    negative = "avoids" if label == "avoids" else "dislikes"
    return [(lab if lab == "likes" else negative, p) for r in readings for lab, p in r]


def _with_specifics(phrase: str, original: str) -> str:
    """'jazz' + ', especially bebop' -> 'jazz, especially bebop' (the user's own qualifier, kept)."""
    m = _SPECIFIC.search(original)
    if m and phrase in original[: m.start()]:
        extra = clean_phrase(m.group("y"), max_words=4)
        if extra:
            return f"{phrase}, especially {extra}"
    return phrase


def _antecedent(text: str) -> str | None:
    """What a trailing 'them'/'it' points back to: the fragment before the first comma ('Garden gnomes, no
    thanks, can not stand them' -> 'Garden gnomes')."""
    head = text.split(",", 1)[0] if "," in text else ""
    if not head:
        return None
    m = _SUBJECT_VERB.search(head)
    return clean_phrase(m.group("x")) if m else clean_phrase(_strip_subject(head))


# The verb of using or consuming after a refusal is no part of the thing ('I never use plastic straws' stored avoid
# 'use plastic straws'), unless what follows is a time or a manner ('never eat after eight', 'never drink and drive').
_USE_VERB = re.compile(
    r"^(?:use|buy|wear|order|carry|eat|drink)\s+(?!(?:after|before|at|in|on|out|with|when|late|early|much|too|more|"
    r"less|and|or|it|them|that|this|alone|anything|something)\b)(?=\w)",
    _I,
)
_LEADING_OBJECT = re.compile(r"^(?:[\w-]+\s+){0,2}(?:it|them)\b", _I)


def _single(text: str, label: str, *, fallback: bool = True, referent: str | None = None) -> list[tuple[str, str]]:
    found = _single_raw(text, label, fallback=fallback, referent=referent)
    out = []
    for lab, phrase in found:
        if _PRONOUN_END.search(phrase) or _ONLY_CUES.match(phrase):
            phrase = _antecedent(text) or referent or ""
        elif referent and _LEADING_OBJECT.search(phrase):
            phrase = referent  # 'watch them for hours' after 'Snooker and darts'
        if (lab, phrase) in out:
            continue
        if phrase:
            out.append((lab, phrase))
    return out


_FAVOURITE = re.compile(
    r"\b(?:my|our)\s+(?:absolute\s+|all-time\s+)?(?:favou?rites?|fav|go-to)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:is|are|has to be|have to be|would be|will always be)\s+(?P<x>.+)$",
    _I,
)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+", _I)


def _items(rest: str, *, max_items: int = 4) -> list[str]:
    """'techno, deep house, and anything Berlin-ish' -> three items; stops at the first non-item."""
    rest = re.split(r"[.;!?]|\s+\b(?:because|since|but|so|which|when|while)\b", rest, maxsplit=1, flags=_I)[0]
    items = []
    for part in _LIST_SPLIT.split(rest)[:max_items]:
        item = clean_phrase(part, max_words=5)
        if item is None or re.match(r"^(?:i|we|it|you)\b", item, _I):
            break
        items.append(item)
    return items


def _single_raw(
    text: str, label: str, *, fallback: bool = True, referent: str | None = None
) -> list[tuple[str, str]]:
    text = re.sub(r"\s*\([^)]*\)", "", text)  # '(for the record)'
    if label in ("dislikes", "avoids") and (
        _SAID_AS_DOUBLE_NEGATIVE.search(text) or (_PLAIN_LIKING.match(text) and not _NOT_PLAIN.search(text))
    ):
        # 'I love jazz, especially bebop' was read as dislikes 'jazz, especially bebop': the speaker's own plain
        # verb of liking, with nothing against, says which way.
        label = "likes"
    elif label == "likes" and _GLAD_TO_LOSE.search(text):
        label = "dislikes"
    if ((m := _WHAT_I.search(text)) and _WORRIED_MOST.match(text, m.end())) or _KEEPS_ME_UP.search(text):
        return []  # 'Money is what I worry about most': a worry, not a thing the speaker avoids, dislikes or needs
    if label in ("likes", "dislikes", "avoids") and (suffered := _suffered(text)) is not None:
        return [("dislikes" if label == "likes" else label, x) for _, x in suffered]
    if label in ("likes", "dislikes", "avoids"):
        m = _FAVOURITE.search(text)
        if m and label == "likes":
            items = _items(m.group("x"))
            if items:
                return [("likes", item) for item in items]
        m = _WHAT_I.search(text)
        if m:
            x = clean_phrase(m.group("x"))
            if x:
                # 'Fantasy is what I read most', 'Tea is what we drink all day': what the speaker does most is liked,
                # whatever negative label the classifier gave it.
                if _TROUBLED_MOST.match(text, m.end()):
                    return [("dislikes" if label == "likes" else label, x)]
                return [("likes" if _DONE_MOST.match(text, m.end()) else label, x)]
        m = _VERBLESS_OVER.search(text)
        if m and label == "likes":
            a, b = clean_phrase(m.group("a")), clean_phrase(m.group("b"))
            if a and b:
                return [("likes", a), ("dislikes", b)]
        m = _PERSON_TYPE.search(text)
        if m and label == "likes":
            x = clean_phrase(m.group("x"), max_words=4)
            if x:
                return [("likes", x)]
        m = _COMPARISON.search(text)
        if m:
            first, first_start = _first_compared(m)
            a, b = clean_phrase(first), clean_phrase(m.group("b"))
            if a is None and b and _EMPTY.match(first.strip()):
                a = _antecedent(text) or referent  # 'I prefer it to cow's milk': 'it' is said before
            if a and b:
                negative_verb = re.search(r"\b(?:hate|dislike|avoid)\b", text[:first_start], _I)
                first, second = ("dislikes", "likes") if negative_verb else ("likes", "dislikes")
                return [(first, a), (second, b)]
        if m := _GIVE_ME.search(text):
            a = clean_phrase(m.group("a"))
            if a:
                return [("likes", a)]
        m = _SUBJECT_FIRST.search(text) or _SUBJECT_VERB.search(text)
        if m and not re.match(r"^(?:i|we)\b", m.group("x"), _I):
            x = clean_phrase(m.group("x"))
            if x:
                guessed = "dislikes" if _NEG_WORDS.match(m.group("cue")) else "likes"
                if label == "avoids" and guessed == "dislikes":
                    guessed = "avoids"
                # The speaker's own verdict decides the sign ('Yoga has really helped me' was stored as avoid).
                return [(guessed if label != guessed and (label != "avoids" or guessed == "likes") else label, x)]
        cues = _POS_CUES + _NEG_CUES if label == "likes" else _NEG_CUES + _POS_CUES
        rest = _after_cue(text, cues)
        if rest is not None and re.match(r"(?:it|them|that|this|those|these|one)\b", rest.strip(), _I):
            phrase = _antecedent(text) or referent
            return [(label, phrase)] if phrase else []
        if rest is not None:
            if label in ("dislikes", "avoids"):
                rest = _USE_VERB.sub("", rest.strip())
            if _SPECIFIC.search(rest) is None and "," in rest.split(".")[0]:
                items = _items(rest)
                if len(items) > 1:
                    return [(label, item) for item in items]
            phrase = clean_phrase(rest)
            if phrase:
                return [(label, _with_specifics(phrase, rest))]
        m = re.search(
            r"\bno (?!thanks|thank you|way|chance|idea|worries)(?:more )?(?P<x>.+?)(?: for me| for us| please| ever|$)",
            text,
            _I,
        )
        if m and label != "likes":
            phrase = clean_phrase(m.group("x"))
            if phrase:
                return [(label, phrase)]
    elif (
        label == "constraint"
        and (m := _COMPARISON.search(text))
        and re.search(r"\b(?:prefer|rather|sooner|over)\b", text, _I)
    ):
        # 'X over Y' said of anything the classifier called a constraint or a style: still a choice.
        a, b = clean_phrase(_first_compared(m)[0]), clean_phrase(m.group("b"))
        if a and b and not _PRONOUN_END.search(a):
            return [("likes", a), ("dislikes", b)]
    if label == "constraint":
        rest = _after_cue(text, _CONSTRAINT_CUES)
        phrase = clean_phrase(rest, max_words=MAX_WORDS) if rest else None
        if phrase:
            return [(label, phrase)]
    elif label == "style":
        phrase = clean_phrase(_style_value(_strip_subject(text)), max_words=10)
        if phrase:
            return [(label, phrase)]
        return []
    phrase = clean_phrase(_strip_subject(text)) if fallback else None
    return [(label, phrase)] if phrase else []


# A change of taste said as a change: 'switched from coffee to tea', 'moved over to PC gaming', 'come round to
# jazz', 'gave up running', 'happy taking the bus now'. Read whatever the classifier's label: the verb says
# both the polarity and that an older preference of the same sort is superseded.
_CHANGE_FROM_TO = re.compile(
    r"\b(?:switched|swapped|changed|moved|gone|went|converted|migrated|upgraded)\s+(?:over\s+|back\s+)?from\s+"
    r"(?P<old>.+?)\s+(?:to|for)\s+(?P<new>.+)$",
    _I,
)
_CHANGE_TO = re.compile(
    r"\b(?:(?:switched|swapped|changed|converted|migrated)\s+(?:(?!from\b)\w+\s+){0,3}?(?:over\s+|back\s+)?|"
    # 'moved over to PC gaming', not 'moved to Leeds': a move of house names no taste.
    r"moved\s+(?:everything\s+|it all\s+)?(?:over|back|on)\s+|"
    r"(?:gone|went)\s+(?:over|back)\s+|"
    r"turned\s+|(?:come|came)\s+(?:round|around)\s+)(?:to|into)\s+(?P<new>.+)$|\bwarmed\s+(?:up\s+)?to\s+(?P<new2>.+)$|\bgot\s+(?:me\s+|us\s+|back\s+)?into\s+"
    r"(?P<new3>.+)$|(?:\b(?:am|are)\s+(?:now\s+)?|^)(?:fine|happy|ok|okay|good|comfortable)\s+(?:with\s+|taking\s+|using\s+|"
    r"having\s+|eating\s+|doing\s+|flying\s+|to\s+)(?P<new4>.+?)\s+(?:now|again|these days)\b|\b(?:following|doing|eating|"
    r"watching|taking|playing|reading|having|drinking|wearing|using|riding|listening to|going to)\s+(?P<new5>.+?)\s+again\b"
    r"|^(?P<new6>[\w' -]+?)\s+(?:is|are)\s+back on\b"
    # 'I have started having fish again', 'Pottery has taken over'.
    r"|\b(?:have|has|had)\s+started\s+(?:having|eating|drinking|doing|playing|using|wearing|reading|watching|"
    r"riding|cooking|listening to|going to)\s+(?P<new7>.+)$|^(?P<new8>[\w' -]+?)\s+(?:has|have)\s+taken over\b"
    # 'I only want the original language now'.
    r"|\b(?:i|we)\s+(?:only|just|now)\s+(?:want|eat|drink|wear|watch|read|play|use|buy)\s+(?P<new9>.+?)\s+(?:now|these days|from now on)\b",
    _I,
)
# What took the place of a thing the same turn gave up, said as a bare phrase with 'now' or 'instead' ('Gave up on
# roses. It's native wildflowers now.', 'No more running, I swim instead', 'Herbal tea only now'). Read only beside
# a stated stop (``change_spans(..., after_a_stop=True)``): alone, 'Bedtime now' or 'Lunch now' names no taste.
_IN_ITS_PLACE = re.compile(
    r"^(?:(?:these days|nowadays|now)\s+(?P<front>it is|it's|i am all about|i am into)\s+(?P<new2>.+)$)|"
    r"^(?:it is\s+|it's\s+|(?:i|we)\s+)?"
    r"(?!(?:i|we|you|he|she|they|it|am|is|are|was|were|have|has|had|do|does|did|will|would|can|could|not|no|never)\b)"
    r"(?P<new>[\w' -]+?)\s+"
    r"(?:(?:only|for me|for us|all the way)\s+)*(?:now|these days|instead)$",
    _I,
)
# The pieces of a clause a bare replacement may stand in: 'Went dairy-free in January, so it's oat flat whites now'.
_PIECES = re.compile(r",\s*(?:so\s+)?|\s+[—–-]\s+|;\s*|\s+so\s+", _I)
_NEVER_AGAIN = re.compile(
    # ('Never drinking tequila again after last night!': the vow with its subject left out.)
    r"(?:^(?:i\s+)?|\b(?:am|are|will|would)\s+)never\s+(?:ever\s+)?(?:be\s+)?(?:having|buying|doing|going|eating|using|booking|"
    r"getting|taking|watching|playing|visiting|flying|drinking|wearing|trying|choosing|picking|ordering|cooking|making|"
    r"riding|reading|hiring|renting|staying (?:at|in)|listening to)\s+(?P<old>.+?)\s+again\b",
    _I,
)
_CHANGE_AWAY = re.compile(
    # ('stopped at a café', 'stopped by my mum's', 'stopped off for lunch' pause a journey; they give nothing up.)
    r"\b(?:gave up|given up|(?:have )?stopped(?!\s+(?:at|by|in|off|for|outside|near|over|to|on|into|round)\b)|quit|"
    r"sold (?:the|my)|no longer (?:eat|drink|use|do|play|watch|"
    r"like|want)|moved away from|ditched|dropped|"
    # 'done with my homework' / 'this form' is finished work, 'over the moon' is joy: neither gives a taste up.
    r"(?:am|are) (?:so |completely |totally )?done with(?!\s+(?:my|our|this|that|these|those)\b)|(?:grew|grown) out of|"
    r"(?:went|gone|have gone) off|lost interest in|fell out of love with|(?:am|are) (?:so |completely |totally )?"
    r"(?:over(?!\s+the moon\b)|bored of|sick of|tired of))"
    r"\s+(?P<old>.+)$"
    # A taste denied with 'any more': 'I do not like horror films any more', 'I would not say I love it anymore'.
    r"|\b(?:do not|does not|would not say (?:that )?i|can not say (?:that )?i)\s+(?:really\s+)?(?:like|love|enjoy|"
    r"care for|want)\s+(?P<old2>.+?)\s+any ?more\b",
    _I,
)
# An abstinence said around its thing: 'cut caffeine out', 'cut out sugar', 'no more late nights', 'off the bike for
# good', 'have not touched cash in months', 'went dairy-free', 'deleted my Amazon account'.
_ABSTAIN = re.compile(
    # 'cut the coupon out of the paper' is scissors, not abstinence.
    r"\b(?:i|we|have|has|had)\s+cut\s+(?:out\s+(?!of\b)(?P<old>.+)$|(?P<old2>(?:\w+\s+){0,2}?\w+)\s+out\b(?!\s+of\b))"
    r"|(?:^|,\s*|\bso\s+)no more\s+(?!than\b|of\b)(?P<old3>.+)$"
    # 'off to the gym', 'off work', 'off sick' go somewhere or have a day off; 'off motorbikes for good' abstains.
    r"|\b(?:am|are)\s+(?:now\s+)?off\s+(?!to\b|work\b|sick\b|duty\b|home\b|out\b|school\b)"
    r"(?P<old4>.+?)\s+(?:for good|now|these days|completely|altogether)\b"
    # Not having done something for a while is abstinence only with a verb of consuming and no owner: 'have not
    # touched alcohol in months'; 'have not been to Spain in years' or 'touched my guitar' is missing it or neglect.
    r"|\b(?:have|has) not\s+(?:touched|eaten|drunk|smoked)\s+(?!my\b|our\b|the\b|his\b|her\b)"
    r"(?P<old5>.+?)\s+(?:in|for)\s+(?:\w+\s+)?(?:months|years|weeks|ages|year|month|while)\b"
    r"|\b(?:went|gone|going|am|are|now)\s+(?P<old6>[a-z]+)-free\b"
    r"|\b(?:have|had)\s+(?:deleted|cancell?ed|closed)\s+(?:my|our)\s+(?P<old7>.+)$"
    # 'I am not eating mangoes any more' (stored avoid 'not eating mangoes').
    r"|\b(?:am|are)\s+not\s+(?:eating|drinking|buying|using|wearing|smoking)\s+(?P<old8>.+?)\s+any ?more\b",
    _I,
)


_CHANGE_TAIL = re.compile(
    r"\s+(?:after|when|once|because|now|these days|completely|entirely|for good|for everything|full-time|"
    r"in my old age|instead|(?:last|this|next) (?:week|month|year|spring|summer|autumn|winter|morning|afternoon|evening|"
    r"night)|yesterday|today|tonight|a while ago|not going back|earlier|"
    r"(?:a|one|two|three|four|five|six|a few|a couple of|\d+) (?:days|weeks|months|years) ago|"
    r"from (?:there|them|that (?:place|shop|restaurant)))\b.*$",
    _I,
)


# The subject right before a stop verb when it is someone or something else ('the teacher', 'my knees', 'she').
_SOMEONE_ELSE = re.compile(
    r"(?:\b(?:he|she|they|it)|\b(?:the|my|his|her|their|our|your)\s+(?:\w+\s+)?\w+)\s+(?:\w+ly\s+)?$", _I
)
_PRONOUN_START = re.compile(r"^(?:me|us|him|her|them|you|it)\b", _I)


def _change_phrase(text: str) -> str | None:
    # 'gave up on roses': the preposition belongs to the verb.
    return clean_phrase(re.sub(r"^(?:on|with|from)\s+", "", _CHANGE_TAIL.sub("", text.strip()), flags=_I))


def change_spans(text: str, *, after_a_stop: bool = False) -> list[tuple[str, str]]:
    """(label, phrase) pairs when the clause states a change of taste; [] otherwise. ``after_a_stop``: the turn
    gave something up in another clause, so a bare 'X now' / 'X instead' names what took its place."""
    text = re.sub(r"\s+", " ", text).strip(" .!?;:")
    if m := _CHANGE_FROM_TO.search(text):
        new, old = _change_phrase(m.group("new")), _change_phrase(m.group("old"))
        return [(label, p) for label, p in (("likes", new), ("dislikes", old)) if p]
    out: list[tuple[str, str]] = []
    if m := _NEVER_AGAIN.search(text):
        old = _change_phrase(m.group("old"))
        if old and not _PRONOUN_END.search(old):
            return [("avoids", old)]
    if m := _CHANGE_TO.search(text):
        raw = next(g for g in m.groups() if g)
        new = _change_phrase(re.sub(r"\s+(?:person|people|type|fan)\b.*$", "", raw, flags=_I))
        if new and not _PRONOUN_END.search(new):
            out.append(("likes", new))
    stops = _stops(text)
    for label, m in stops:
        old = _change_phrase(next(g for g in m.groups() if g))
        if (
            old
            and not _PRONOUN_END.search(old)
            and not _PRONOUN_START.match(old)
            and old.lower() not in ("new", "old")
            and not object_left_out(old)
        ):
            out.append((label, old))
    if (after_a_stop or stops) and not any(label == "likes" for label, _ in out):
        for piece in _PIECES.split(text):
            if m := _IN_ITS_PLACE.match(piece.strip()):
                new = _change_phrase(m.group("new2") or m.group("new"))
                if new and not _PRONOUN_END.search(new) and all(new != p for _, p in out):
                    out.append(("likes", new))
    return out


def _stops(text: str) -> list[tuple[str, re.Match[str]]]:
    """(label, match) for each thing the speaker gives up in the clause; 'the teacher gave up on me' and 'my knees
    gave up' are someone else's."""
    return [
        (label, m)
        for pattern, label in ((_CHANGE_AWAY, "dislikes"), (_ABSTAIN, "avoids"))
        for m in pattern.finditer(text)
        if not _SOMEONE_ELSE.search(text[: m.start()])
    ]


# A verb that needs its object, given up with the object left out: 'Podcasts bore me, I've stopped listening' names
# the thing in the clause before ('listening' was stored as a dislike beside it).
_OBJECT_LEFT_OUT = re.compile(r"^(?:listening|watching|using|going|doing|buying|playing|following|bothering)$", _I)


def object_left_out(phrase: str) -> bool:
    """A value that is a verb needing an object, without it ('listening', 'watching'): it names nothing."""
    return bool(_OBJECT_LEFT_OUT.match(phrase.strip()))


def states_a_stop(text: str) -> bool:
    """The clause gives something up ('gave up roses', 'cut caffeine out', 'no more running', 'I grew out of it')."""
    return bool(_stops(re.sub(r"\s+", " ", text).strip(" .!?;:")))


# The words a turn says a change of taste with, whatever its verb: a time ('now', 'these days', 'any more'), a
# reason the speaker's life changed ('since I moved', 'doctor's orders'), a retraction ('scratch that', 'on second
# thoughts', 'forget what I said'), a start or an end ('I've started', 'no longer').
_CHANGE_MARKER = re.compile(
    r"\b(?:now|any ?more|no longer|these days|nowadays|from (?:now|here) on|going forward|again|lately|"
    r"since (?:i|we|moving|starting|the)|doctor'?s orders|(?:my )?(?:gp|doctor|dentist|physio) (?:says|said|told|suggested)|"
    r"(?:have|has|had|just) started|started (?:to|on)|changed my mind|on second thoughts?|on reflection|scratch that|"
    r"forget (?:what i said|that|it)|actually|update|converted|made my peace|(?:come|came) round|new me|for good|"
    r"turned into|used to|not any ?more)\b",
    _I,
)


# A restatement says nothing changed: 'Jazz is still my favourite', 'like I said', 'as always'.
_NO_CHANGE = re.compile(
    r"\b(?:still|like i said|as i said|as i (?:mentioned|told you)|as always|like always|remember|did i mention)\b", _I
)


def says_no_change(text: str) -> bool:
    """The message restates a taste as it stands ('Jazz is still my favourite, nothing beats it') and says no
    change: a reading of the opposite of a stored taste from it is a misreading, not a change of mind."""
    return (
        bool(_NO_CHANGE.search(text))
        and not says_a_change(re.sub(_NO_CHANGE, "", text))
        and not _OUTRIGHT_AGAINST.search(text)  # 'I still hate beer': said outright, not misread
    )


_OUTRIGHT_AGAINST = re.compile(r"\b(?:hate|hated|loathe|detest|despise|dislike|can ?not stand|can't stand|could never stand)\b", _I)


def says_a_change(text: str) -> bool:
    """The message says a taste has changed ('Herbal tea only now', 'I've started having fish again')."""
    return bool(_CHANGE_MARKER.search(text))


_REPLACING = re.compile(
    r"\b(?:(?:switched|swapped|changed|converted|migrated)\s+(?:(?!from\b)\w+\s+){0,3}?|(?:moved|(?:gone|went)\s+(?:over|back)|"
    r"turned)\s+(?:everything\s+|it all\s+)?)(?:over\s+|back\s+)?(?:from|to|into)\b|\b(?:has|have)\s+taken over\b"
    # 'These days I support Tottenham instead': what the clause names takes the place of something.
    r"|\binstead\s*$",
    _I,
)


def replaces(text: str) -> bool:
    """The clause replaces one thing with another ('switched to Spotify'), not only adds one ('got into jazz')."""
    return bool(_REPLACING.search(text))
