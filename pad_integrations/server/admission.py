"""Server requests on the process-wide decode queue, with admission control and cheap bounds first.

Decoding goes through :class:`pad_integrations.runtime.decode_queue.DecodeQueue`, the same queue the
LangChain and LlamaIndex adapters use: requests join its running decode between steps, so concurrent
users share decode steps, and a client that goes away cancels its request (:meth:`Job.abandon`, the
row leaves at the next step). The server adds bounds, each checked before
the work it protects:

1. :class:`TokenBound`: a conversation that surely cannot fit the context window is refused from its
   character counts alone (microseconds), before it is tokenized;
2. :class:`Admission`: at most ``max_pending`` requests hold a slot (reading the profile, tokenizing,
   waiting or decoding); beyond that the server answers 429 with Retry-After at once, so a burst of huge
   prompts is never tokenized side by side and the backlog in memory is bounded.

Results reach the request's task through the shared :class:`pad_integrations.runtime.bridge.ResultStream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from pad_integrations.runtime.bridge import Event, ResultStream

if TYPE_CHECKING:
    from pad_integrations.generation import GenerationRequest, GenerationResult
    from pad_integrations.runtime.decode_queue import DecodeQueue


class QueueFullError(RuntimeError):
    """Too many requests are admitted already; retry later."""


class ClientGone(Exception):
    """The client of a request disconnected; its decode was cancelled."""


class Job:
    """One admitted request: :meth:`events` yields Delta* then Done or Failed, on the submitting loop."""

    def __init__(
        self, decode_queue: DecodeQueue, request: GenerationRequest, *, stream: bool, release: Callable[[], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        self._stream = ResultStream(loop)
        self._future: Future[GenerationResult] = decode_queue.submit(
            request, self._stream.on_delta if stream else None
        )

        def released(_: Future[GenerationResult]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is counting any more
                loop.call_soon_threadsafe(release)

        # Registered first, so the slot is free by the time the caller sees Done.
        self._future.add_done_callback(released)
        self._stream.attach(self._future)

    def events(self) -> AsyncIterator[Event]:
        return self._stream.aevents()

    def abandon(self) -> None:
        """The client went away: the request is cancelled, queued or decoding (its row leaves the decode at
        the next step)."""
        self._future.cancel()

    async def result(self) -> GenerationResult:
        """Wait for the final result (deltas, if any, are skipped)."""
        return await self._stream.aresult()

    async def result_unless_gone(
        self, is_disconnected: Callable[[], Awaitable[bool]], poll_s: float = 0.5
    ) -> GenerationResult:
        """:meth:`result`, but a client that disconnects meanwhile (polled every ``poll_s``: one cheap look at
        the ASGI receive channel) abandons the request and raises :class:`ClientGone`."""
        return await self._unless_gone(self.result(), is_disconnected, poll_s)

    async def first_event_unless_gone(
        self, events: AsyncIterator[Event], is_disconnected: Callable[[], Awaitable[bool]], poll_s: float = 0.5
    ) -> Event:
        """The first event of ``events`` (this job's :meth:`events`), with :meth:`result_unless_gone`'s watch
        on the client. A stream's response waits for it, so that a request the decode queue refuses while
        planning it (over the per-request budget, say) still gets its 4xx instead of a 200 and an error event."""
        return await self._unless_gone(anext(events), is_disconnected, poll_s)

    async def _unless_gone(
        self, awaitable: Awaitable[Any], is_disconnected: Callable[[], Awaitable[bool]], poll_s: float
    ) -> Any:
        waiting = asyncio.ensure_future(awaitable)
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=poll_s)
                if done:
                    return waiting.result()
                if await is_disconnected():
                    self.abandon()
                    raise ClientGone("the client disconnected before its completion was ready")
        finally:
            if not waiting.done():
                waiting.cancel()


class Slot:
    """An admitted request before its decode is queued: :meth:`submit` hands the slot to the job (freed
    when decoding ends); :meth:`release` (idempotent) frees it when the request fails before that."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission._release()

    def submit(self, request: GenerationRequest, *, stream: bool = False) -> Job:
        if not self._held:
            raise RuntimeError("this admission slot was released already")
        job = Job(self._admission.decode_queue, request, stream=stream, release=self._admission._release)
        self._held = False  # the job releases it when its decode is done
        return job


class Admission:
    """Counts admitted requests (on the event loop only, so no lock) and refuses beyond ``max_pending``."""

    def __init__(self, decode_queue: DecodeQueue, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.decode_queue = decode_queue
        self.max_pending = max_pending
        self.in_flight = 0

    def _release(self) -> None:
        self.in_flight -= 1

    def reserve(self) -> Slot:
        """A slot for one request, or ``QueueFullError``: taken before any expensive step of the request."""
        if self.in_flight >= self.max_pending:
            raise QueueFullError(f"the server is busy: {self.max_pending} requests are already in progress")
        self.in_flight += 1
        return Slot(self)

    def submit(self, request: GenerationRequest, *, stream: bool = False) -> Job:
        """Reserve and queue at once (a request with nothing to do between)."""
        slot = self.reserve()
        try:
            return slot.submit(request, stream=stream)
        except BaseException:
            slot.release()
            raise


# Character classes of the bound, counted on UTF-8 bytes with bytes.translate (C speed, about 1 ms per
# MB): ASCII letters, ASCII digits, ASCII whitespace, other ASCII, and non-ASCII characters (one lead byte
# each). Any classes work as long as the vocabulary and the text are counted alike.
_LETTERS = string.ascii_letters.encode()
_DIGITS = string.digits.encode()
_SPACES = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_HIGH = bytes(range(0x80, 0x100))
_LEADS = bytes(range(0xC0, 0x100))
_CLASSES = 5
REPLACEMENT = "\ufffd"


def _class_counts(text: str) -> list[int]:
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)
    letters, digits, spaces = (n - len(data.translate(None, chars)) for chars in (_LETTERS, _DIGITS, _SPACES))
    high = n - len(data.translate(None, _HIGH))
    return [letters, digits, spaces, n - high - letters - digits - spaces, n - len(data.translate(None, _LEADS))]


class TokenBound:
    """A lower bound on a text's token count from its characters, sound for the tokenizer it was built for.

    For each character class c (ASCII letters, digits, whitespace, other; non-ASCII) no token of the vocabulary decodes
    to more than ``most[c]`` characters of class c (a replacement character, a byte-level piece of a
    longer character, counts for every class). So a text with n_c characters of class c needs at least
    ceil(n_c / most[c]) tokens, for every c: the largest of these is the bound. A tokenizer with a
    normalizer (which may merge characters) gets a 4x safety margin.

    The chat template adds tokens of its own around every message (ChatML: ``<|im_start|>user\n`` ...
    ``<|im_end|>\n``), which characters do not show: 25,000 one-letter messages in a 1 MiB body are 25 kB of
    text but 160k tokens. So the bound also counts ``per_message`` template tokens for each user and
    assistant message, measured once on the template itself (0 without a template).

    Building it decodes the vocabulary once (about 0.4 s for 49k tokens); :meth:`at_least` costs a few
    microseconds per kB, so too long a conversation is refused before the tokenizer ever sees it.
    """

    def __init__(self, tokenizer: Any) -> None:
        most = [1] * _CLASSES
        ids = list(range(len(tokenizer)))
        for piece in tokenizer.convert_ids_to_tokens(ids):
            if piece is None:
                continue
            text = tokenizer.convert_tokens_to_string([piece])
            counts = _class_counts(text)
            wild = text.count(REPLACEMENT)
            for c in range(_CLASSES):
                most[c] = max(most[c], counts[c] + wild)
        self.most = most
        backend = getattr(tokenizer, "backend_tokenizer", None)
        normalizer = getattr(backend, "normalizer", None) if backend is not None else True
        self.margin = 1 if normalizer is None else 4
        self.per_message = _template_tokens_per_message(tokenizer)

    def at_least(self, texts: Iterable[str], chat_messages: int = 0) -> int:
        """Tokens that ``texts`` surely need, plus the template's own for ``chat_messages`` user and
        assistant messages."""
        totals = [0] * _CLASSES
        for text in texts:
            for c, n in enumerate(_class_counts(text)):
                totals[c] += n
        text_bound = max(-(-n // m) for n, m in zip(totals, self.most, strict=True)) // self.margin
        return text_bound + self.per_message * chat_messages


def _template_tokens_per_message(tokenizer: Any) -> int:
    """The fewest tokens the chat template adds per user or assistant message, beyond the message's text.

    Measured, not assumed: render 1, 3 and 5 alternating one-character messages and take the smaller
    increment per message, less one token for the character itself. Any error or a template that adds
    nothing gives 0, which leaves the bound as sound as the characters alone made it.
    """
    if not getattr(tokenizer, "chat_template", None):
        return 0
    turn = ({"role": "user", "content": "x"}, {"role": "assistant", "content": "x"})
    try:
        texts = [tokenizer.apply_chat_template([turn[i % 2] for i in range(n)], tokenize=False) for n in (1, 3, 5)]
        sizes = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]
    except Exception:  # a template that refuses such a conversation: no claim about it
        return 0
    return max(0, min(sizes[1] - sizes[0], sizes[2] - sizes[1]) // 2 - 1)


def chat_message_count(messages: Iterable[Mapping[str, Any]]) -> int:
    """The user and assistant messages among ``messages`` (:meth:`TokenBound.at_least`'s ``chat_messages``)."""
    return sum(1 for m in messages if m.get("role") in ("user", "assistant"))


def message_texts(messages: Iterable[Mapping[str, Any]], tools: Iterable[Any] | None = None) -> list[str]:
    """The text a prompt is built from (contents, tool-call arguments, tool schemas), for :class:`TokenBound`."""
    import json

    texts = [str(m.get("content") or "") for m in messages]
    texts += [json.dumps(m["tool_calls"]) for m in messages if m.get("tool_calls")]
    if tools:
        texts.append(json.dumps(list(tools)))
    return texts
