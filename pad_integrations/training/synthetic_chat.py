"""The demo corpus: chat examples for the base model, preference pairs for the PersRM, an eval set.

Base-model examples state a preference in a system message some of the time, and the answer follows
each stated preference only with probability ``follow_rate``; otherwise it keeps the unprompted style.
Preference prompting therefore helps, but not fully, which leaves room for decoding-time guidance.
Preference pairs share prompt and content and differ only in one stated dimension.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pad_integrations.training.data import PreferencePair
from pad_integrations.training.synthetic_style import (
    DIMENSIONS,
    GREETINGS_TRAIN,
    HOW_ARE_YOU,
    Split,
    Style,
    default_style,
    novel_topic,
    phrasings,
    preference_message,
    questions,
    random_preferences,
    render_answer,
    render_greeting,
    topics,
)
from pad_integrations.training.synthetic_tools import tool_conversation

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class ChatExample:
    """A conversation whose last message is the assistant turn to learn."""

    messages: Messages
    tools: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class EvalCase:
    """One held-out prompt under one preference, for the adherence evaluation."""

    kind: str
    value: str
    preference: str
    messages: Messages


def _opposite(kind: str, value: str) -> str:
    a, b = DIMENSIONS[kind]
    return b if value == a else a


def _apply(style: Style, prefs: list[tuple[str, str]]) -> Style:
    for kind, value in prefs:
        style = style.with_(kind, value)
    return style


def _prompt(rng: random.Random, split: Split) -> tuple[str, Messages]:
    """(topic, user turns so far); a topic of "" means a greeting."""
    r = rng.random()
    if r < 0.12:
        return "", [{"role": "user", "content": rng.choice(GREETINGS_TRAIN)}]
    if r < 0.16:
        return "", [{"role": "user", "content": rng.choice(HOW_ARE_YOU)}]
    # In training, made-up topics keep the model from memorising the topic list: it must copy the topic.
    topic = novel_topic(rng) if split == "train" and rng.random() < 0.35 else rng.choice(topics(split))
    return topic, [{"role": "user", "content": rng.choice(questions(split)).format(t=topic)}]


def _answer(topic: str, user: str, style: Style, rng: random.Random) -> str:
    if topic:
        return render_answer(topic, style, rng)
    return render_greeting(style, rng, how_are_you=user in HOW_ARE_YOU)


def _history(rng: random.Random) -> Messages:
    """Zero or one earlier exchange, so the model learns to answer the last user turn."""
    if rng.random() > 0.25:
        return []
    topic, user = _prompt(rng, "train")
    return [*user, {"role": "assistant", "content": _answer(topic, user[0]["content"], default_style(rng), rng)}]


def chat_example(rng: random.Random, *, preference_rate: float = 0.6, follow_rate: float = 0.5) -> ChatExample:
    """A styled answer; with a stated preference, each stated dimension is followed with ``follow_rate``."""
    history = _history(rng)
    topic, user = _prompt(rng, "train")
    style = default_style(rng)
    system: Messages = []
    if rng.random() < preference_rate:
        prefs = random_preferences(rng)
        system = [{"role": "system", "content": preference_message(prefs, "train", rng)}]
        style = _apply(style, [p for p in prefs if rng.random() < follow_rate])
    answer = _answer(topic, user[0]["content"], style, rng)
    return ChatExample([*system, *history, *user, {"role": "assistant", "content": answer}])


def sft_examples(n: int, seed: int, *, tool_rate: float = 0.3, follow_rate: float = 0.5) -> list[ChatExample]:
    """The base model's corpus: styled chat and tool-calling conversations, seeded."""
    rng = random.Random(seed)
    out: list[ChatExample] = []
    for _ in range(n):
        if rng.random() < tool_rate:
            system = None
            if rng.random() < 0.2:
                system = preference_message(random_preferences(rng, 1), "train", rng)
            conv = tool_conversation(rng, system)
            out.append(ChatExample(conv.messages, conv.tools))
        else:
            out.append(chat_example(rng, follow_rate=follow_rate))
    return out


def preference_pairs(n: int, seed: int) -> list[PreferencePair]:
    """Pairs whose chosen answer follows every stated preference and whose rejected one breaks one."""
    rng = random.Random(seed)
    pairs: list[PreferencePair] = []
    for _ in range(n):
        history = _history(rng)
        topic, user = _prompt(rng, "train")
        prefs = random_preferences(rng)
        text = preference_message(prefs, "train", rng)
        base = default_style(rng)
        chosen_style = _apply(base, prefs)
        kind, value = rng.choice(prefs)
        # Break the preference by its opposite, or by the default when the default does not satisfy it.
        broken = _opposite(kind, value) if rng.random() < 0.6 or kind in ("humor", "format") else None
        rejected_style = chosen_style.with_(kind, broken)
        content_seed = rng.randrange(2**31)
        chosen = _answer(topic, user[0]["content"], chosen_style, random.Random(content_seed))
        rejected = _answer(topic, user[0]["content"], rejected_style, random.Random(content_seed))
        if chosen == rejected:  # e.g. a greeting has no marker for this dimension
            continue
        pairs.append(PreferencePair(prompt=[*history, *user], preference=text, chosen=chosen, rejected=rejected))
    return pairs


def eval_cases(n_prompts: int, seed: int = 1234) -> list[EvalCase]:
    """Held-out topics, question templates and phrasings: ``n_prompts`` per preference."""
    cases: list[EvalCase] = []
    for kind, values in DIMENSIONS.items():
        for value in values:
            rng = random.Random(f"{seed}-{kind}-{value}")
            sentence = phrasings(kind, value, "eval")[0]
            for i in range(n_prompts):
                topic = rng.choice(topics("eval"))
                question = rng.choice(questions("eval")).format(t=topic)
                text = preference_message([(kind, value)], "eval", random.Random(i)) if i % 2 else sentence
                cases.append(EvalCase(kind, value, text, [{"role": "user", "content": question}]))
    return cases


def iter_rendering_corpus(examples: list[ChatExample]) -> Iterator[str]:
    """Every string a tokenizer should see: contents, plus tool JSON fragments."""
    import json

    for ex in examples:
        for m in ex.messages:
            if m.get("content"):
                yield m["content"]
            for call in m.get("tool_calls", []):
                yield json.dumps(call["function"]["arguments"])
        for tool in ex.tools or []:
            yield json.dumps(tool)
