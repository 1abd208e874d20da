"""The synthetic English of the demo model: topics, styled answers and the phrasings of preferences.

Answers vary along five style dimensions (the kinds of ``memory.phrases.STYLE_PHRASES``): verbosity,
formality, expertise, humor and format. Each dimension is rendered with surface markers that the
deterministic judges in ``pad_integrations.evaluation.judges`` can check, so adherence is measured
exactly. Some topics, question templates and preference phrasings are held out of training and used
only by the evaluation (``split="eval"``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from memory.phrases import PREFERENCE_HEADER, STYLE_PHRASES

Split = Literal["train", "eval"]

# The style dimensions the demo model renders: kind -> its two values (memory's STYLE_PHRASES keys).
# A style with no value for a kind uses the unmarked default.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "verbosity": ("concise", "detailed"),
    "formality": ("formal", "casual"),
    "expertise": ("beginner", "expert"),
    "humor": ("playful", "serious"),
    "format": ("bullets", "prose"),
}
assert all(pair in STYLE_PHRASES for kind, values in DIMENSIONS.items() for pair in ((kind, v) for v in values))

TOPICS_TRAIN = [
    "rain", "tea", "coffee", "bicycles", "the moon", "gardens", "music", "chess", "bread", "rivers",
    "clocks", "maps", "trains", "bees", "snow", "paper", "glass", "bridges", "kites", "soap",
    "volcanoes", "libraries", "forests", "deserts", "boats", "candles", "mirrors", "batteries",
    "magnets", "rockets", "robots", "spreadsheets", "databases", "passwords", "email", "printers",
    "cameras", "umbrellas", "shoes", "cheese", "rice", "apples", "whales", "owls", "penguins",
    "tigers", "frogs", "mushrooms", "cactus plants", "sunsets", "thunder", "rainbows", "oceans",
    "islands", "mountains", "tunnels", "elevators", "keyboards", "compilers", "networks", "sorting",
    "recursion", "algebra", "fractions", "poetry", "painting", "dancing", "running", "swimming",
    "sleep", "breakfast", "soup", "pizza", "honey", "salt", "wind", "clouds", "stars", "planets",
    "gravity", "electricity", "vaccines", "recycling", "budgets", "taxes", "interviews", "meetings",
    "history", "languages", "museums", "cities", "villages", "farms", "markets", "bakeries",
]
TOPICS_EVAL = [
    "lighthouses", "telescopes", "pianos", "origami", "puzzles", "lanterns", "canoes", "orchards",
    "glaciers", "compasses", "violins", "spiders", "pottery", "sandwiches", "helmets", "tractors",
]

QUESTIONS_TRAIN = [
    "Tell me about {t}.",
    "What can you tell me about {t}?",
    "Can you explain {t}?",
    "Explain {t} to me.",
    "What should I know about {t}?",
    "I want to learn about {t}.",
    "Give me an overview of {t}.",
    "Describe {t}.",
    "How do {t} work?",
    "Why are {t} interesting?",
    "tell me about {t}",
    "What are {t}?",
]
QUESTIONS_EVAL = [
    "Could you tell me about {t}?",
    "What do you know about {t}?",
    "Please explain {t}.",
]

FACTS = [
    "{T} is useful in many everyday situations.",
    "Many people learn about {t} at some point in life.",
    "{T} has a long and interesting history.",
    "The main idea behind {t} is simple to state.",
    "People often use {t} to solve real problems.",
    "There are several kinds of {t} to choose from.",
    "Most of the time {t} works well with little effort.",
    "A good place to start with {t} is the basics.",
    "{T} can look different from place to place.",
    "The details of {t} matter more than most people think.",
    "With practice, {t} becomes easier to understand.",
    "Some of the best ideas about {t} came from careful study.",
]
BEGINNER = [
    "In simple words, {t} is like a helpful friend.",
    "Think of {t} as a box that keeps things tidy.",
    "You can picture {t} as taking one small step at a time.",
    "Imagine {t} as a recipe that you follow.",
    "In simple words, {t} helps you do a job more easily.",
    "Think of {t} as a toy with a few easy parts.",
]
EXPERT = [
    "Formally, {t} is a parameterized process with clear invariants.",
    "In practice, {t} trades throughput against latency.",
    "The asymptotic behavior of {t} depends on a stochastic term.",
    "Empirically, {t} follows a canonical heuristic.",
    "A rigorous model of {t} uses an orthogonal decomposition.",
    "The canonical analysis of {t} bounds the variance empirically.",
]
JARGON = ("parameterized", "invariants", "throughput", "latency", "asymptotic", "stochastic",
          "empirically", "canonical", "heuristic", "rigorous", "orthogonal", "decomposition", "variance")
JOKES = [
    "Why did the {t} cross the road? To get to the other side, haha!",
    "Here is a little joke: {t} never tell lies, they just get creative, haha.",
    "Fun fact with a wink: {t} love a good pun, lol.",
    "I would tell you a joke about {t}, but it is still loading, haha.",
]
SHORT_JOKE = "{T} is no joke, haha."
SUMMARY = "To sum up, there is much more to say about {t}."
OPEN_FORMAL = ["Certainly.", "Good day.", "Thank you for your question.", "I would be pleased to explain."]
CLOSE_FORMAL = ["I hope this information is useful.", "Kind regards.", "Please let me know if you require more."]
OPEN_CASUAL = ["Hey!", "Sure thing!", "Oh, nice question!", "Alright, here's the deal."]
CLOSE_CASUAL = ["Hope that helps!", "Cheers!", "That's pretty cool, right?"]
OPEN_NEUTRAL = ["Here is an answer.", "Here is what I know.", "Sure."]

# Paraphrases of every style sentence. The canonical STYLE_PHRASES sentence and the first paraphrases
# are used in training; the last paraphrase of each is held out for the evaluation.
PARAPHRASES: dict[tuple[str, str], list[str]] = {
    ("verbosity", "concise"): ["Be brief.", "I like short answers.", "Answer in one sentence if you can.",
                               "Please be concise; I do not need much detail."],
    ("verbosity", "detailed"): ["Please explain in depth.", "I like long, complete answers.",
                                "Be thorough and cover many points.", "I want a lot of detail in every reply."],
    ("formality", "formal"): ["Please be formal.", "Write like a polite professional.",
                              "Keep a proper, courteous register.", "I prefer a very formal style of reply."],
    ("formality", "casual"): ["Talk to me like a friend.", "Keep it relaxed and informal.",
                              "Casual language is great.", "Feel free to be chatty and informal with me."],
    ("expertise", "beginner"): ["I am new to this.", "Use simple words please.", "Explain it like I am a child.",
                                "I have no background, so keep it simple."],
    ("expertise", "expert"): ["I am an expert.", "Use technical language.", "Be rigorous and precise.",
                              "I work in this field, so technical detail is welcome."],
    ("humor", "playful"): ["Make me laugh.", "Add a joke.", "I like funny answers.",
                           "A bit of humor in the reply would be nice."],
    ("humor", "serious"): ["No jokes please.", "Stay serious.", "Please keep humor out of it.",
                           "I want a strictly serious answer."],
    ("format", "bullets"): ["Use a list.", "Put the points in bullets.", "Format the answer as a list.",
                            "I prefer answers as a bulleted list."],
    ("format", "prose"): ["No lists please.", "Write it as a paragraph.", "Use full sentences, not bullets.",
                          "Please avoid bullet points and write prose."],
}


_SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "zu", "pel", "dor", "fin", "gra", "bes", "quo", "lin", "sar",
              "tem", "wex", "yol", "nim", "bro", "cal", "dex", "fo", "hul", "jin", "mar", "ost", "pri", "rud", "sel"]


def novel_topic(rng: random.Random) -> str:
    """A made-up topic word ("kalodors"), so the model learns to copy the topic rather than recall it."""
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word + ("s" if rng.random() < 0.5 else "")


def phrasings(kind: str, value: str, split: Split) -> list[str]:
    """The sentences that state the preference ``(kind, value)`` in ``split``."""
    paraphrases = PARAPHRASES[(kind, value)]
    if split == "eval":
        return paraphrases[-1:]
    return [STYLE_PHRASES[(kind, value)], *paraphrases[:-1]]


def topics(split: Split) -> list[str]:
    return TOPICS_EVAL if split == "eval" else TOPICS_TRAIN


def questions(split: Split) -> list[str]:
    return QUESTIONS_EVAL if split == "eval" else QUESTIONS_TRAIN


@dataclass(frozen=True)
class Style:
    """One value per dimension; a missing kind means the unmarked default."""

    values: dict[str, str] = field(default_factory=dict)

    def get(self, kind: str) -> str | None:
        return self.values.get(kind)

    def with_(self, kind: str, value: str | None) -> Style:
        values = dict(self.values)
        if value is None:
            values.pop(kind, None)
        else:
            values[kind] = value
        return Style(values)


# How often an answer shows each style value when nobody asked for one. Chosen so that the base
# model's unprompted adherence is well below 1 for every preference.
DEFAULT_RATES: dict[tuple[str, str], float] = {
    ("verbosity", "concise"): 0.2, ("verbosity", "detailed"): 0.2,
    ("formality", "formal"): 0.2, ("formality", "casual"): 0.2,
    ("expertise", "beginner"): 0.15, ("expertise", "expert"): 0.15,
    ("humor", "playful"): 0.3, ("humor", "serious"): 0.0,
    ("format", "bullets"): 0.2, ("format", "prose"): 0.0,
}


def default_style(rng: random.Random) -> Style:
    """A style drawn from the unprompted distribution."""
    values: dict[str, str] = {}
    for kind, options in DIMENSIONS.items():
        u = rng.random()
        for value in options:
            rate = DEFAULT_RATES[(kind, value)]
            if u < rate:
                values[kind] = value
                break
            u -= rate
    return Style(values)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, topic: str) -> str:
    return template.replace("{T}", _cap(topic)).replace("{t}", topic)


def render_answer(topic: str, style: Style, rng: random.Random) -> str:
    """An answer about ``topic`` written in ``style``."""
    verbosity, formality = style.get("verbosity"), style.get("formality")
    concise = verbosity == "concise"
    n_body = {"concise": 1, "detailed": 6}.get(verbosity or "", 3)
    pool = {"beginner": BEGINNER, "expert": EXPERT}.get(style.get("expertise") or "")
    body: list[str] = []
    facts = rng.sample(FACTS, k=n_body)
    for i in range(n_body):
        # Every other sentence carries the expertise marker, the first one always.
        use_pool = pool is not None and i % 2 == 0
        body.append(_fill(rng.choice(pool) if use_pool else facts[i], topic))
    if verbosity == "detailed":
        body.append(_fill(SUMMARY, topic))
    joke = None
    if style.get("humor") == "playful":
        joke = _fill(SHORT_JOKE if concise else rng.choice(JOKES), topic)

    # A concise answer keeps only the shortest openings and no closing, so it stays short in any register.
    opening = {"formal": OPEN_FORMAL, "casual": OPEN_CASUAL}.get(formality or "")
    if opening is None and not concise and rng.random() < 0.4:
        opening = OPEN_NEUTRAL
    if opening is not None and concise:
        opening = opening[:2]
    closing = None if concise else {"formal": CLOSE_FORMAL, "casual": CLOSE_CASUAL}.get(formality or "")

    head = rng.choice(opening) if opening else None
    tail = rng.choice(closing) if closing else None
    if style.get("format") == "bullets":
        lines = [head] if head else []
        lines += [f"- {s}" for s in body]
        if joke:
            lines.append(f"- {joke}")
        if tail:
            lines.append(tail)
        return "\n".join(lines)
    parts = [p for p in (head, *body, joke, tail) if p]
    return " ".join(parts)


GREETINGS_TRAIN = ["Hello", "Hello!", "Hi", "Hi there", "hi", "hello", "Hey", "Good morning",
                   "Hi!", "Hello there", "hey there", "Greetings"]
HOW_ARE_YOU = ["how are you", "How are you?", "How are you doing?", "how is it going", "How are you today?"]


def render_greeting(style: Style, rng: random.Random, *, how_are_you: bool = False) -> str:
    formality = style.get("formality")
    if how_are_you:
        core = {"formal": "I am doing well, thank you for asking. How may I assist you today?",
                "casual": "I'm great, thanks! What's up with you?"}.get(
            formality or "", "I am doing well, thanks. How can I help you today?")
    else:
        core = {"formal": "Good day. How may I assist you today?",
                "casual": "Hey there! What's up?"}.get(
            formality or "", rng.choice(["Hello! How can I help you today?", "Hi! What can I do for you?"]))
    if style.get("humor") == "playful":
        core += " I promise my jokes are better than my puns, haha."
    if style.get("verbosity") == "detailed":
        core += " I can answer questions, explain topics, and use tools when they are available."
    return core


def preference_message(prefs: list[tuple[str, str]], split: Split, rng: random.Random) -> str:
    """A system message stating ``prefs``: a single sentence, or memory's header with bullet lines."""
    sentences = [rng.choice(phrasings(kind, value, split)) for kind, value in prefs]
    if len(sentences) == 1 and rng.random() < 0.5:
        return sentences[0]
    return PREFERENCE_HEADER + "".join(f"\n- {s}" for s in sentences)


def random_preferences(rng: random.Random, max_n: int = 3) -> list[tuple[str, str]]:
    """1..max_n preferences on distinct dimensions (one preference most of the time)."""
    n = rng.choices(range(1, max_n + 1), weights=[6, 3, 1][:max_n])[0]
    kinds = rng.sample(sorted(DIMENSIONS), k=n)
    return [(kind, rng.choice(DIMENSIONS[kind])) for kind in kinds]
