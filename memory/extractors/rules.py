"""The default extractor: offline rules and lexicons, fast enough to run inline on every turn."""

from __future__ import annotations

from collections.abc import Collection

from memory.extractors.base import Assert, Decision, ExtractionContext, Retract
from memory.extractors.choices import choice_clause, chosen_option, offered_options
from memory.extractors.clauses import Clause, clauses, tainted
from memory.extractors.content_rules import ContentSignal, content_signals
from memory.extractors.style_rules import PREFERENCE_VERB, StyleSignal, named_poles, style_signals
from memory.taxonomy import is_style

# The free-text kind that holds an answer-style wish in the user's words.
STYLE_WORDS = "style"

# How sure a reading is, by how it was said; hedging ('I think', 'maybe') lowers it.
CONFIDENCE = {"explicit": 0.9, "statement": 0.8, "feedback": 0.75, "implicit": 0.6, "choice": 0.55}
HEDGE_FACTOR = 0.65


class RuleExtractor:
    """Style dimensions, content preferences, corrections and choices from rules; no model, no network."""

    name = "rules"
    runs_inline = True
    # Keep a style ask's own words beside its dimension (``StyleSignal.words``). The default sentence extractor
    # does; the rules alone keep their closed readings only, as their regression floors measure them.
    keeps_style_words = False

    def extract(self, context: ExtractionContext) -> list[Decision]:
        active = {p.kind: p.value for p in context.active}
        decisions: list[Decision] = []
        previous = context.previous_assistant
        for index, message in enumerate(context.messages):
            if message.role == "assistant":
                previous = message.content
            if message.role != "user" or tainted(message.content):
                continue
            parts = clauses(message.content)
            styled = [(c, style_signals(c)) for c in parts]
            readings = [
                (c, styles, content_signals(c, active, style_found=bool(styles))) for c, styles in styled
            ]
            # A preference stated in passing inside a request ('suggest a dinner? I am vegetarian') is implicit.
            incidental = any(c.request and not styles and not content for c, styles, content in readings)
            for clause, styles, content in readings:
                decisions += self._decisions(
                    clause, styles, content, index, incidental, context.feedback, repeated=set(active.items())
                )
            if previous and not context.feedback and len(parts) == 1:
                decisions += self._from_choice(message.content, previous, index)
            previous = None
        decisions += _words_overruled(decisions, context)
        if context.feedback:
            # Feedback text reaches no other extractor: the same check by meaning as the inline path.
            from memory.extractors.screen import screen

            decisions = screen(context, decisions)
        return _dedupe(decisions)

    def _decisions(
        self,
        clause: Clause,
        styles: list[StyleSignal],
        content: list[ContentSignal],
        index: int,
        incidental: bool,
        feedback: bool,
        repeated: Collection[tuple[str, str]] = (),
    ) -> list[Decision]:
        out: list[Decision] = []
        weight = 1.5 if clause.intense and not clause.hedged else 0.7 if clause.hedged else 1.0
        factor = HEDGE_FACTOR if clause.hedged else 1.0
        for s in styles:
            if s.mode == "retract":
                out.append(
                    Retract(s.kind, s.value, source="explicit", message_index=index, extractor=self.name)
                )
                continue
            how = "feedback" if (s.feedback or feedback) else "explicit" if s.explicit else "statement"
            if how == "statement" and incidental:
                how = "implicit"
            source = "explicit" if how == "statement" else how
            out.append(
                Assert(s.kind, s.value, source, round(CONFIDENCE[how] * factor, 3), weight, index, self.name)
            )
            # (Not for a pole already held: saying it again is evidence on the dimension, not a new wish.)
            others = [other.words for other in styles if other.words and other is not s]
            if (
                self.keeps_style_words
                and s.words
                and (s.kind, s.value) not in repeated
                and not any(s.words in w for w in others)
            ):
                # The ask in the user's own words beside the dimension ('less waffle', 'miles and pounds'): what
                # the canonical sentence does not say.
                out.append(
                    Assert(STYLE_WORDS, s.words, source, round(CONFIDENCE[how] * factor, 3), weight, index, self.name)
                )
        for c in content:
            if c.mode == "retract":
                out.append(
                    Retract(c.kind, c.value, source="explicit", message_index=index, extractor=self.name)
                )
                continue
            explicit = c.explicit or bool(PREFERENCE_VERB.search(clause.text))
            how = "explicit" if explicit else "implicit" if incidental else "statement"
            source = "feedback" if feedback else "explicit" if how == "statement" else how
            out.append(
                Assert(c.kind, c.value, source, round(CONFIDENCE[how] * factor, 3), weight, index, self.name)
            )
        return out

    def _from_choice(self, reply: str, assistant_text: str, index: int) -> list[Decision]:
        options = offered_options(assistant_text)
        option = chosen_option(reply, options) if options else None
        if option is None:
            return []
        return [
            Assert(s.kind, s.value, "implicit", CONFIDENCE["choice"], 1.0, index, self.name)
            for s in style_signals(choice_clause(option))
            if s.mode == "assert"
        ]


def _words_overruled(decisions: list[Decision], context: ExtractionContext) -> list[Decision]:
    """Retract the user's earlier words for a style ask that the turn overrules: a new pole of the same dimension
    ('less waffle' once 'give me long, detailed answers' makes verbosity detailed) or a withdrawal of the pole the
    words asked for ('less waffle', then 'I don't mind long answers anymore'). The words would outlive the ask."""
    poles = {d.kind: d.value for d in decisions if isinstance(d, Assert) and is_style(d.kind)}
    withdrawn = {(d.kind, d.value) for d in decisions if isinstance(d, Retract) and is_style(d.kind) and d.value}
    if not poles and not withdrawn:
        return []
    out: list[Decision] = []
    for pref in context.active:
        if pref.kind != STYLE_WORDS:
            continue
        said = Clause(pref.value, question=False, standing=True, task=False, hedged=False, intense=False, request=False)
        asked = [(s.kind, s.value) for s in style_signals(said) if s.mode == "assert"] or sorted(named_poles(pref.value))
        overruled = [(k, v) for k, v in asked if (k in poles and v != poles[k]) or (k, v) in withdrawn]
        if overruled:
            kinds = {k for k, _ in overruled}
            index = next((d.message_index for d in decisions if is_style(d.kind) and d.kind in kinds), None)
            out.append(Retract(STYLE_WORDS, preference_id=pref.id, message_index=index, extractor="rules"))
    return out


def _dedupe(decisions: list[Decision]) -> list[Decision]:
    """One decision per (kind, value, verb), keeping the most confident reading."""
    best: dict[tuple[str, str, str, str | None], Decision] = {}
    for d in decisions:
        key = (type(d).__name__, d.kind, (d.value or "").lower(), None)
        kept = best.get(key)
        if kept is None or (
            isinstance(d, Assert) and isinstance(kept, Assert) and d.confidence > kept.confidence
        ):
            best[key] = d
    return list(best.values())
