"""The real-model evaluation set: questions (a dev split and a held-out split) and preferences.

Written for this evaluation by hand: no question or preference wording comes from langchain-tests, from
the PersRM training prompts (``training/real_prompts.py``, checked disjoint by a test) or from any
training corpus. Dev questions are for choosing strategy settings; held-out questions are only ever used
to report the chosen settings. Every preference is judged on every question of a split, except
``vegetarian``, which is only meaningful for questions about food and is judged on the food questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from pad_integrations.evaluation.judges import KINDS


@dataclass(frozen=True)
class EvalPreference:
    """A preference as a user states it, and the kind of judge that measures it."""

    kind: str
    text: str
    food_only: bool = False


@dataclass(frozen=True)
class EvalQuestion:
    text: str
    food: bool = False


PREFERENCES: tuple[EvalPreference, ...] = (
    EvalPreference("short", "Keep your answers very short: one or two sentences at most."),
    EvalPreference("formal", "Please write in a formal, academic register, as in a scholarly essay."),
    EvalPreference("casual", "Talk to me casually, like a friend would: relaxed, with contractions and everyday slang."),
    EvalPreference("beginner", "I'm a complete beginner. Explain things simply, with short sentences and everyday "
                               "words a ten-year-old would understand."),
    EvalPreference("expert", "I am an expert in the field. Use precise technical terminology and do not simplify."),
    EvalPreference("pirate", "Always answer in the voice of a pirate."),
    EvalPreference("enthusiastic", "Be very upbeat and enthusiastic in your answers!"),
    EvalPreference("bullets", "Format every answer as a bulleted list."),
    EvalPreference("ends_with_question", "Always end your answer by asking me a follow-up question."),
    EvalPreference("emoji", "Use lots of emojis in your answers."),
    EvalPreference("vegetarian", "I'm vegetarian, so never suggest meat or fish.", food_only=True),
    EvalPreference("spanish", "Always reply in Spanish."),
)
assert {p.kind for p in PREFERENCES} == set(KINDS)

_DEV_GENERAL = (
    "How do I get started with jogging?",
    "Why do we have seasons?",
    "How do I take care of a goldfish?",
    "What is a credit score?",
    "How do magnets work?",
    "How can I make my presentations more interesting?",
    "What is the internet?",
    "How do I plant tomatoes in my garden?",
    "How do I stop procrastinating?",
    "Why does the moon have phases?",
    "How do I write a polite email to my landlord?",
    "What are the benefits of reading every day?",
    "How does a refrigerator keep food cold?",
    "How can I learn to draw?",
    "What is electricity?",
    "How do I plan a road trip?",
    "What is a healthy weekly exercise routine?",
    "How do bees make honey?",
)
_DEV_FOOD = (
    "What should I make for dinner tonight?",
    "What is a good dish to cook on a rainy evening?",
    "What can I grill this weekend?",
    "What is a good meal to pack for lunch at work?",
    "What should I cook for a birthday dinner?",
    "What goes well in a stir-fry?",
)
_HELDOUT_GENERAL = (
    "How do I keep my houseplants alive during winter?",
    "What is the difference between weather and climate?",
    "How can I get better at public speaking?",
    "Why do cats purr?",
    "How does a bicycle stay upright when it moves?",
    "What should I pack for a weekend camping trip?",
    "How do vaccines train the immune system?",
    "How do I start learning to play the guitar?",
    "Why is the sky blue?",
    "How can I improve my sleep?",
    "How do I make a monthly budget?",
    "How do solar panels produce electricity?",
    "What makes a good cover letter?",
    "How do I train my dog to sit?",
    "What causes earthquakes?",
    "How should I prepare for a job interview?",
    "What is the water cycle?",
    "How can I learn a new language faster?",
    "Why do leaves change colour in autumn?",
    "How do I write a short story?",
    "What is inflation?",
    "How can I reduce stress at work?",
    "How do airplanes fly?",
    "How do I clean a cast iron pan?",
    "How do I choose a good pair of running shoes?",
    "What is photosynthesis?",
    "How do I back up the files on my computer?",
    "What are black holes?",
    "How can I be more productive when working from home?",
    "How does recycling help the environment?",
    "How do I make friends in a new city?",
    "What is a password manager and should I use one?",
    "How do tides work?",
    "How can I teach a child to ride a bike?",
    "What is the difference between a virus and a bacterium?",
    "How do I stay motivated when learning to code?",
)
_HELDOUT_FOOD = (
    "What should I cook for a quick weeknight dinner?",
    "Can you suggest a hearty soup for a cold day?",
    "What can I bring to a summer barbecue?",
    "What is a good high-protein lunch?",
    "How do I make a filling breakfast?",
    "What should I put in a sandwich for a picnic?",
    "Can you recommend a main dish for a dinner party with friends?",
    "What is an easy recipe for someone who is just learning to cook?",
    "What snacks are good after a workout?",
    "What fillings should I use for tacos?",
    "What is a good pasta sauce to make from scratch?",
    "What can I cook in one pan for a family of four?",
)

DEV: tuple[EvalQuestion, ...] = (
    *(EvalQuestion(q) for q in _DEV_GENERAL), *(EvalQuestion(q, food=True) for q in _DEV_FOOD),
)
HELDOUT: tuple[EvalQuestion, ...] = (
    *(EvalQuestion(q) for q in _HELDOUT_GENERAL), *(EvalQuestion(q, food=True) for q in _HELDOUT_FOOD),
)
SPLITS: dict[str, tuple[EvalQuestion, ...]] = {"dev": DEV, "heldout": HELDOUT}

PROMPTS_DEV: list[str] = [q.text for q in DEV]
PROMPTS_HELDOUT: list[str] = [q.text for q in HELDOUT]


@dataclass(frozen=True)
class EvalCase:
    """One (question, preference) pair of a split; ``preference`` None is the unsteered reference."""

    question: EvalQuestion
    preference: EvalPreference


def cases(split: str, kinds: tuple[str, ...] | None = None, n_questions: int | None = None) -> list[EvalCase]:
    """Every (question, preference) pair of ``split`` (food-only preferences on food questions only).

    ``n_questions`` keeps the first n general and the first n food questions (smoke runs).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLITS)}")
    questions = list(SPLITS[split])
    if n_questions is not None:
        general = [q for q in questions if not q.food][:n_questions]
        food = [q for q in questions if q.food][:n_questions]
        questions = general + food
    prefs = [p for p in PREFERENCES if kinds is None or p.kind in kinds]
    return [EvalCase(q, p) for p in prefs for q in questions if q.food or not p.food_only]
