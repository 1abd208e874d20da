"""Training questions and preference wordings for the real-model PersRM (``training.real_recipe``).

Written by hand for PersRM training only. Nothing here comes from langchain-tests or from the evaluation
set (``evaluation/eval_set.py``): a test checks that no question and no preference wording is shared,
so the evaluation measures the PersRM on questions and wordings it never saw. The preference *kinds*
are the evaluation judges' kinds (``evaluation.judges.KINDS``): the pairs are ranked by those judges.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainPreference:
    kind: str  # an ``evaluation.judges`` kind
    text: str
    food_only: bool = False  # only meaningful for questions about food


# Several wordings per kind, so the PersRM learns the preference rather than one sentence.
PREFERENCES: tuple[TrainPreference, ...] = (
    TrainPreference("short", "Be brief. A sentence or two is plenty."),
    TrainPreference("short", "I only have a few seconds, so give me the shortest useful answer."),
    TrainPreference("short", "No long explanations please, just the gist in a line."),
    TrainPreference("formal", "Use a formal, professional tone without contractions or slang."),
    TrainPreference("formal", "Address me as you would in an official report: polished and impersonal."),
    TrainPreference("casual", "Keep it laid-back and chatty, like texting a buddy."),
    TrainPreference("casual", "Don't be stiff. Talk to me in a relaxed, informal way."),
    TrainPreference("beginner", "I'm new to all of this, so use plain words and simple examples."),
    TrainPreference("beginner", "Explain it the way you would to a curious twelve-year-old."),
    TrainPreference("expert", "I work in this area professionally; give me the technical details and jargon."),
    TrainPreference("expert", "Answer at a specialist level, with precise terminology."),
    TrainPreference("pirate", "Talk like an old sea pirate, arr!"),
    TrainPreference("pirate", "Please answer as a swashbuckling buccaneer would."),
    TrainPreference("enthusiastic", "Sound excited and cheerful about everything!"),
    TrainPreference("enthusiastic", "Bring lots of energy and positivity to your replies."),
    TrainPreference("bullets", "Give me your answers as a list of bullet points."),
    TrainPreference("bullets", "I prefer skimmable answers: use dashes for each point."),
    TrainPreference("ends_with_question", "Finish each reply with a question back to me."),
    TrainPreference("ends_with_question", "Keep the conversation going by closing with a question."),
    TrainPreference("emoji", "Sprinkle emojis throughout your replies."),
    TrainPreference("emoji", "Add a few fun emoji to every answer."),
    TrainPreference("vegetarian", "I don't eat meat or fish, so keep suggestions plant-based.", food_only=True),
    TrainPreference("vegetarian", "Remember that I follow a vegetarian diet.", food_only=True),
    TrainPreference("spanish", "Respond only in Spanish, please."),
    TrainPreference("spanish", "Quiero que me contestes en español."),
)


@dataclass(frozen=True)
class TrainQuestion:
    text: str
    food: bool = False


_GENERAL = (
    "Why do some trees stay green all winter?",
    "How does a microwave oven heat food?",
    "What is two-factor authentication?",
    "How do ants find their way back to the nest?",
    "Why is the ocean salty?",
    "What is the difference between a lake and a pond?",
    "How do people memorise a deck of cards?",
    "What does a librarian do all day?",
    "How do airplanes stay in the air?",
    "Why do dogs wag their tails?",
    "How do I pitch a tent in the wind?",
    "How does a compass work?",
    "What is a budget and why should I keep one?",
    "What do white blood cells do?",
    "Why do leap years exist?",
    "How do I get started with pottery?",
    "What causes thunder?",
    "How do I change a flat bicycle tyre?",
    "What is the point of recycling plastic?",
    "How does a search engine find web pages?",
    "Why do some people snore?",
    "What are the rules of chess in a nutshell?",
    "How do I care for a houseplant that is drooping?",
    "What does a central bank do?",
    "How does a wind turbine turn wind into power?",
    "Why is sleep important for students?",
    "How can I write a polite complaint letter?",
    "What is a spreadsheet used for?",
    "How do glaciers move?",
    "Why do onions make people cry?",
    "Is it worth learning Latin today?",
    "How do noise-cancelling headphones work?",
    "What does a recruiter look for on a CV?",
    "How do I get my parrot to talk?",
    "Why do we only see one side of the moon?",
    "What is a podcast and how do I start one?",
    "How does compound interest work?",
    "Why do we yawn?",
    "How can I make my mornings less rushed?",
    "What are volcanoes made of?",
    "How do trains switch tracks?",
    "What does a computer's power supply do?",
    "How do I prepare for running my first 5k?",
    "Why are flamingos pink?",
    "How does a library catalogue work?",
    "How do clouds form over mountains?",
    "How do I keep my desk tidy?",
    "What is a museum curator responsible for?",
    "How do electric cars charge?",
    "Why do stars twinkle?",
    "How do I choose a good book to read next?",
    "What is a mortgage?",
    "How do submarines dive and surface?",
    "Why do we celebrate birthdays?",
    "What makes bread rise?",
    "How does a thermostat save energy?",
    "How can I keep a journal consistently?",
    "What is machine learning in everyday terms?",
    "How do I pick a first musical instrument?",
    "Why do rivers bend?",
    "What should I know before adopting a cat?",
    "How do elections count votes?",
    "Why do we need to drink water?",
    "How do I sharpen a kitchen knife safely?",
)

_FOOD = (
    "What can I make from a can of chickpeas?",
    "Can you suggest a filling lunch to take to work?",
    "What goes well on skewers over a campfire?",
    "Give me an idea for a cosy winter stew.",
    "What can I bake with overripe bananas?",
    "What can I make with a bag of rice and some leftovers?",
    "What starter would impress my in-laws?",
    "What should I eat before a long hike?",
    "How do I make dumplings at home?",
    "What should I order at a Thai restaurant?",
    "What is a healthy meal to eat after a workout?",
    "What sandwich fillings go well together?",
    "What can I put on a homemade pizza?",
    "How do I plan a week of dinners on a budget?",
    "What soup is good when I have a cold?",
    "What should I grill besides burgers?",
)

QUESTIONS: tuple[TrainQuestion, ...] = (
    *(TrainQuestion(q) for q in _GENERAL),
    *(TrainQuestion(q, food=True) for q in _FOOD),
)
