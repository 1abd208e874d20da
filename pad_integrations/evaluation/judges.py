"""Deterministic judges that measure a preference in an answer's text (pure Python, no model).

One judge per preference kind. Each computes a measurement of the text (word count, Flesch reading ease,
share of polysyllabic words, bullet lines, emoji, Spanish function words, ...) and turns it into a graded
``score(kind, text)`` in [0, 1]; ``adheres(kind, text)`` is ``score >= 0.5``, and every judge is built so
that 0.5 is exactly its stated criterion (below). No judge passes a text by the *absence* of something:
each criterion needs a positive measurement (a short answer still needs 3 words, "formal" needs
polysyllabic vocabulary besides no slang, "vegetarian" needs a vegetarian food besides no meat). The
word lists are written for these judges from general English/Spanish; none comes from a training
corpus's templates.

Criteria (``adheres``):
- ``short``: 3 <= words <= 40.
- ``formal``: no informal marker (contraction, exclamation, slang, emoji) and >= 18 % of words have 3+ syllables
  (>= 10 words).
- ``casual``: >= 3 informal markers (contractions, slang/interjections, exclamation marks, emoji).
- ``beginner``: Flesch reading ease >= 70 (plain English, about US grade 7), >= 10 words.
- ``expert``: Flesch reading ease <= 30 (college-graduate text), >= 10 words.
- ``pirate``: >= 2 distinct pirate-speech terms ("arr", "matey", "ahoy", "ye", "landlubber", ...;
  the word "pirate" itself does not count, so echoing the request is not pirate speech).
- ``enthusiastic``: >= 3 of exclamation marks and enthusiasm words ("amazing", "exciting", "love", ...).
- ``bullets``: >= 3 lines that start with a bullet (``-``, ``*``, ``•``); numbered lines are not bullets.
- ``ends_with_question``: the answer's last sentence ends with a question mark.
- ``emoji``: >= 2 emoji.
- ``vegetarian``: >= 1 vegetarian food named and no meat or fish named (meaningful on food questions).
- ``spanish``: >= 15 % of words are Spanish function words, more than the share of English ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

KINDS: tuple[str, ...] = (
    "short", "formal", "casual", "beginner", "expert", "pirate", "enthusiastic", "bullets",
    "ends_with_question", "emoji", "vegetarian", "spanish",
)

_WORD = re.compile(r"[^\W\d_](?:[^\W_]|['’][^\W\d_])*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_BULLET_LINE = re.compile(r"^\s*[-*•]\s+\S", re.MULTILINE)
_CONTRACTION = re.compile(r"\b[A-Za-z]+['’](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)

SLANG = frozenset({
    "hey", "hi", "yeah", "yep", "nope", "gonna", "wanna", "gotta", "kinda", "sorta", "cool", "awesome", "dude",
    "buddy", "pal", "folks", "stuff", "lol", "haha", "ok", "okay", "totally", "super", "chill", "btw", "ya", "y'all",
    "yup", "wow", "oh", "huh", "hmm", "nah", "mate", "guys",
})
ENTHUSIASM = frozenset({
    "amazing", "awesome", "exciting", "excited", "fantastic", "wonderful", "love", "great", "incredible",
    "thrilled", "fun", "yay", "wow", "brilliant", "delightful", "superb", "marvelous", "marvellous", "fabulous",
    "terrific", "spectacular", "joy", "enjoy", "thrilling",
})
PIRATE = frozenset({
    "arr", "arrr", "arrrr", "ahoy", "matey", "mateys", "hearty", "hearties", "ye", "yer", "aye", "avast",
    "landlubber", "landlubbers", "scallywag", "scallywags", "buccaneer", "buccaneers", "plunder", "booty", "grog",
    "doubloon", "doubloons", "shipmate", "shipmates", "cap'n", "yo-ho", "yo", "ho", "shiver", "timbers", "savvy",
    "swab", "lass", "lad", "bilge", "seadog", "treasure", "cutlass", "parrot", "plank", "me-hearties",
})
MEAT = frozenset({
    "meat", "meats", "beef", "steak", "steaks", "pork", "bacon", "ham", "sausage", "sausages", "chicken", "turkey",
    "lamb", "veal", "duck", "goose", "fish", "salmon", "tuna", "cod", "shrimp", "prawn", "prawns", "shrimps",
    "crab", "lobster", "anchovy", "anchovies", "sardine", "sardines", "pepperoni", "salami", "prosciutto",
    "burger", "burgers", "hamburger", "meatball", "meatballs", "ribs", "brisket", "mince", "venison", "mutton",
    "chorizo", "gelatin", "oyster", "oysters", "mussels", "clams", "scallops", "squid", "octopus", "seafood",
    "hot dog", "hotdog", "hotdogs", "wings", "jerky", "pastrami", "tilapia", "trout", "halibut", "mackerel",
})
VEGETARIAN = frozenset({
    "vegetarian", "vegan", "veggie", "veggies", "vegetable", "vegetables", "tofu", "tempeh", "seitan", "beans",
    "bean", "lentil", "lentils", "chickpea", "chickpeas", "hummus", "falafel", "mushroom", "mushrooms", "spinach",
    "broccoli", "cauliflower", "eggplant", "aubergine", "zucchini", "courgette", "pepper", "peppers", "tomato",
    "tomatoes", "potato", "potatoes", "carrot", "carrots", "onion", "onions", "kale", "quinoa", "rice", "pasta",
    "cheese", "paneer", "halloumi", "egg", "eggs", "avocado", "squash", "pumpkin", "corn", "peas", "salad",
    "noodles", "nuts", "almonds", "peanut", "oats", "yogurt", "fruit", "fruits", "banana", "apple", "berries",
    "cabbage", "cucumber", "lettuce", "garlic", "ginger", "curry", "edamame", "soy", "beets", "celery",
})
SPANISH = frozenset({
    "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "unos", "unas", "es", "son", "por",
    "para", "con", "sin", "se", "al", "lo", "como", "más", "pero", "su", "sus", "muy", "también", "puede",
    "pueden", "este", "esta", "estos", "estas", "hay", "ser", "está", "están", "tu", "tus", "usted", "si",
    "sí", "cuando", "porque", "donde", "mejor", "bien", "tiene", "tienen", "hacer", "mucho", "muchos", "cada",
    "otro", "otra", "entre", "sobre", "todo", "todos", "ya", "le", "les", "nos", "mi", "mis", "qué", "cómo",
})
ENGLISH = frozenset({
    "the", "a", "an", "and", "of", "to", "in", "is", "are", "for", "with", "on", "that", "this", "it", "you",
    "your", "can", "be", "as", "by", "or", "from", "at", "have", "has", "will", "they", "their", "we", "our",
    "was", "were", "not", "but", "if", "so", "do", "does", "which", "what", "how", "when", "there", "these",
})


def words(text: str) -> list[str]:
    """Words: letters with inner apostrophes ("don't" is one word); numbers and symbols are not words."""
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    """Non-empty sentences, split after ``.``, ``!`` or ``?`` and at line breaks (list items are sentences)."""
    parts: list[str] = []
    for line in text.splitlines():
        parts += [p.strip() for p in _SENTENCE_END.split(line) if words(p)]
    return parts


def syllables(word: str) -> int:
    """English syllables by vowel groups (a common heuristic: silent final e, at least one)."""
    w = word.lower().strip("'’")
    groups = re.findall(r"[aeiouy]+", w)
    n = len(groups)
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and n > 1:
        n -= 1
    return max(1, n)


def flesch_reading_ease(text: str) -> float:
    """206.835 − 1.015·(words/sentence) − 84.6·(syllables/word); higher is easier (nan without words)."""
    ws = words(text)
    if not ws:
        return float("nan")
    n_sent = max(1, len(sentences(text)))
    syl = sum(syllables(w) for w in ws)
    return 206.835 - 1.015 * len(ws) / n_sent - 84.6 * syl / len(ws)


def count_emoji(text: str) -> int:
    """Emoji: pictographic symbols (Unicode category So in the emoji blocks), skin tones and joiners not counted."""
    n = 0
    for ch in text:
        cp = ord(ch)
        if (0x1F300 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x1F000 <= cp <= 0x1F2FF) and \
                unicodedata.category(ch) == "So" and not 0x1F3FB <= cp <= 0x1F3FF:
            n += 1
    return n


def informal_markers(text: str) -> int:
    """Contractions + slang/interjection words + exclamation marks + emoji."""
    lowered = [w.lower() for w in words(text)]
    return (len(_CONTRACTION.findall(text)) + sum(w in SLANG for w in lowered) + text.count("!")
            + count_emoji(text))


def _clip(x: float) -> float:
    return 0.0 if x != x else min(1.0, max(0.0, x))  # nan -> 0


def _lower_words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in words(text)]


def score_short(text: str) -> float:
    n = len(words(text))
    return 0.0 if n < 3 else _clip((80 - n) / 80)  # 0.5 at exactly 40 words


def score_formal(text: str) -> float:
    ws = words(text)
    if len(ws) < 10 or informal_markers(text):
        return 0.0
    poly = sum(syllables(w) >= 3 for w in ws) / len(ws)
    return _clip(poly / 0.36)  # 0.5 at 18 %


def score_casual(text: str) -> float:
    return _clip(informal_markers(text) / 6)  # 0.5 at 3 markers


def score_beginner(text: str) -> float:
    if len(words(text)) < 10:
        return 0.0
    return _clip((flesch_reading_ease(text) - 30) / 80)  # 0.5 at 70


def score_expert(text: str) -> float:
    if len(words(text)) < 10:
        return 0.0
    return _clip((70 - flesch_reading_ease(text)) / 80)  # 0.5 at 30


def score_pirate(text: str) -> float:
    low = " ".join(_lower_words(text))
    distinct = {w for w in _lower_words(text) if w in PIRATE}
    if "me hearties" in low:
        distinct.add("me-hearties")
    if re.search(r"\bshiver me timbers\b", low):
        distinct.add("shiver")
    return _clip(len(distinct) / 4)  # 0.5 at 2 distinct terms


def score_enthusiastic(text: str) -> float:
    n = text.count("!") + sum(w in ENTHUSIASM for w in _lower_words(text))
    return _clip(n / 6)  # 0.5 at 3


def score_bullets(text: str) -> float:
    return _clip(len(_BULLET_LINE.findall(text)) / 6)  # 0.5 at 3 bullet lines


def score_ends_with_question(text: str) -> float:
    stripped = "".join(ch for ch in text if not count_emoji(ch)).rstrip(" \t\n\"'”’)*_")
    return 1.0 if stripped.endswith("?") and words(stripped) else 0.0


def score_emoji(text: str) -> float:
    return _clip(count_emoji(text) / 4)  # 0.5 at 2


def score_vegetarian(text: str) -> float:
    low = _lower_words(text)
    joined = " ".join(low)
    meat = sum(w in MEAT for w in low) + len(re.findall(r"\bhot dogs?\b", joined))
    if meat:
        return 0.0
    veg = sum(w in VEGETARIAN for w in low)
    return _clip(veg / 2)  # 0.5 at one vegetarian food


def score_spanish(text: str) -> float:
    low = _lower_words(text)
    if not low:
        return 0.0
    es = sum(w in SPANISH for w in low) / len(low)
    en = sum(w in ENGLISH for w in low) / len(low)
    return 0.0 if es <= en else _clip(es / 0.30)  # 0.5 at 15 %


JUDGES: dict[str, Callable[[str], float]] = {
    "short": score_short,
    "formal": score_formal,
    "casual": score_casual,
    "beginner": score_beginner,
    "expert": score_expert,
    "pirate": score_pirate,
    "enthusiastic": score_enthusiastic,
    "bullets": score_bullets,
    "ends_with_question": score_ends_with_question,
    "emoji": score_emoji,
    "vegetarian": score_vegetarian,
    "spanish": score_spanish,
}
assert tuple(JUDGES) == KINDS


def score(kind: str, text: str) -> float:
    """Graded adherence of ``text`` to a preference of ``kind``, in [0, 1] (0.5 = the criterion's threshold)."""
    try:
        judge = JUDGES[kind]
    except KeyError:
        raise ValueError(f"no judge for {kind!r}; judged kinds: {', '.join(KINDS)}") from None
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return judge(text)


def adheres(kind: str, text: str) -> bool:
    """Whether ``text`` meets the criterion of ``kind`` (module docstring)."""
    return score(kind, text) >= 0.5
