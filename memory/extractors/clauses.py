"""Splitting a user message into clauses and deciding which clauses may carry a standing preference.

Shared by the rule and embedding extractors. The filters encode what the issue rules out: an instruction
aimed at the assistant's rules is never a preference; a quoted or reported statement is not the user's;
a hypothetical, a past habit or a question is not a preference; a request about one task ('write a
formal letter') is not a standing preference unless the user says it is ('always', 'from now on').
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from memory.extractors.guard import is_instruction
from memory.text import normalize_for_matching

_CONTRACTIONS = [
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bwon't\b", "will not"),
    (r"\bain't\b", "am not"),
    (r"\bi'm\b", "i am"),
    (r"\bim\b", "i am"),
    (r"\bi've\b", "i have"),
    (r"\bi'd\b", "i would"),
    (r"\bi'll\b", "i will"),
    (r"\bwe'd\b", "we would"),
    (r"\bwe've\b", "we have"),
    (r"\bwe're\b", "we are"),
    (r"\bwe'll\b", "we will"),
    (r"\bit's\b", "it is"),
    (r"\bthat's\b", "that is"),
    (r"\bthey're\b", "they are"),
    (r"\byou're\b", "you are"),
    (r"\blet's\b", "let us"),
    (r"\b(\w+)n't\b", r"\1 not"),
    # Texting register: 'ur answers', 'can u keep it short' (a lone 'u' before a space; 'U-turn' keeps its U).
    (r"\bur\b(?=\s)", "your"),
    (r"\bu(?=\s)", "you"),
]
_CONTRACTION_RES = [(re.compile(p, re.IGNORECASE), r) for p, r in _CONTRACTIONS]
_BARE_CONTRACTION_RES = [(pattern, r) for pattern, r in _CONTRACTION_RES if "'" not in pattern.pattern]

_SPLIT = re.compile(
    # A title's full stop ('Call me Dr. Alice Smith') does not end a sentence, nor does an initialism's ('the
    # U.K. countryside', '9 a.m.') unless a capitalised word follows ('I live in the U.S. I like hiking').
    r"(?<!\b[DMS][rstx]\.)(?<!\bMrs\.)(?<!\bProf\.)(?<!\b[A-Za-z]\.[A-Za-z]\.)(?<=[.!?])\s+"
    r"|(?<=\b[A-Za-z]\.[A-Za-z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=(?-i:[A-Z]))|\n+|\s*(?<!\btl);\s*|,?\s+\b(?:but|although|though|however|whereas)\b\s+|,\s+(?=(?:and\s+)?i\b)"
    r"|,\s+(?=(?:so\s+)?(?:you can|you may|please\s+\w))"
    # 'My son is autistic, so we look for quiet places': the consequence is the speaker's own clause.
    r"|,?\s+so\s+(?=(?:i|we|anything|everything|no|nothing|never|please)\b)|,\s+(?=(?:and\s+)?we\b)"
    # ', and keep answers short': an instruction joined to a statement is a clause of its own.
    r"|,?\s+and\s+(?=(?:please\s+)?(?:always\s+)?(?:keep|be|use|stop|avoid|do not|don't|never|answer|respond|reply|"
    r"explain|talk|speak|write)\b)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»")

INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines|"
    r"directives|restrictions|filters|safety|polic(?:y|ies)|above|previous|prior)\b"
    r"|\b(?:system|developer|hidden|initial|original)\s+(?:prompt|message|instructions?)\b"
    r"|\b(?:reveal|leak|print|repeat|show)\b.{0,30}\b(?:prompt|instructions|configuration)\b"
    r"|\byou are (?:now|no longer)\b|\bjailbreak|\bdeveloper mode\b|\bdo anything now\b"
    r"|\bnew (?:instructions|rules)\b|\bact as (?:an? )?(?:unrestricted|unfiltered|different)\b"
    r"|\bpretend (?:to be|you are)\b|\bno (?:restrictions|limits|filters)\b"
    r"|<\|[^|]{0,30}\|>|\[/?INST\]|<</?SYS>>|^\s*(?:system|assistant|developer)\s*:",
    re.IGNORECASE,
)
# Relatives beyond the household: a clause about one of them is their story, not the speaker's taste ('My grandad
# fought in Burma' stored likes). The sentence reader's gate closes it (``sentences._gate``); the clause is still
# kept, since what the speaker says next may point back into it ('... and now I make them every year').
KIN = (
    r"(?:great-|great )*(?:mum|nan|nana|gran|granny|grandad|granddad|grandpa|grandma|grandmother|grandfather|grandparents?|uncle|aunt|"
    r"auntie|cousin|nephew|niece|stepdad|stepmum|stepmom|grandson|granddaughter|grandkids|grandchildren)"
)
_REPORTED = re.compile(
    # ('quote' asked of the assistant, 'Please quote your sources', is no reported speech.)
    r"\b(?:said|says|say|told|tells|thinks|think that|claims?|according to|(?<!please )(?<!to )(?<!you )(?<!^)"
    r"(?:quote|quoting)|asked me)\b"
    r"|\b(?:he|she|they|someone|somebody|people|everyone|nobody|my (?:friend|wife|husband|partner|mom|mother|"
    r"dad|father|brother|sister|son|daughter|kids?|children|boss|manager|colleague|coworker|team|roommate|"
    r"girlfriend|boyfriend|teacher|doctor|family|parents?|client|customer|student|neighbou?r|"
    # Guests whose needs the speaker caters for ('Hosting my in-laws, they're strict vegetarians').
    r"in-laws|(?:father|mother|brother|sister)-in-law|guest|visitor|relative)s?|"
    r"a (?:friend|colleague|coworker))\b(?!\s+and i\b)"
    # Any 'my X' who holds an opinion is someone else ('my band mates all love Radiohead').
    r"|\b(?:my|our)\s+(?!favou?rite|fav\b|go-to|own\b)\w+(?:\s+\w+)?\s+(?:all\s+|both\s+|only\s+|really\s+)?(?:loves?|likes?|"
    r"hates?|prefers?|enjoys?|adores?|dislikes?|wants?|eats?|drinks?|swears? by|is into|are into|thinks?|"
    r"(?:never|always|only|do not|does not|can not|will not|refuses? to)\s+\w+|"
    r"(?:is|are|was|were|'s|'re)\s+(?:all\s+|both\s+|so\s+|really\s+)?(?:obsessed with|mad about|crazy about|"
    r"big fans? of|fans? of|into))\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    r"\bif i (?:were|was|had|became)\b(?!\s+to\s+(?:choose|pick|say|guess|decide|be honest)\b)|\bimagine\b|\bsuppose\b|\bpretend\b|\bhypothetically\b|\bwhat if\b"
    r"|\brole-?play\b|\bin (?:the|this|a) (?:story|game|scenario)\b|\bcharacter\b|\bwould i\b"
    # Other conditionals about a life the speaker does not have ('If I ever got a dog', 'Say I hated the beach').
    r"|\bif (?:i|we) (?:ever|were to|could|won|decided|moved|went|lived)\b|\bin a world where\b"
    r"|^\s*(?:assuming|let us say|say|supposing)\s+(?:that\s+)?(?:i|we|someone|somebody)\b",
    re.IGNORECASE,
)
# The consequence of a hypothetical said in the piece before ('If I ever got a dog, I would want a beagle').
_CONSEQUENCE = re.compile(r"^\s*(?:then\s+)?(?:i|we)\s+(?:would|could|might|will)\b", re.IGNORECASE)
# A frame that only announces the speaker's own clause after it: a choice ('If I had to choose, I would pick dogs
# over cats': no hypothetical) or a taste shared ('Like my wife, I can't stand horror films': 'Like my wife' stored
# likes 'wife'). Nothing to read in itself.
_CHOICE_FRAME = re.compile(
    r"^\s*(?:but\s+|and\s+)?if (?:i|we) (?:had|have|were) to (?:choose|pick|say|guess|decide|be honest)"
    r"(?:\s+(?:one|between (?:them|the two)))?\s*$"
    r"|^\s*(?:just\s+)?like (?:my|our|a lot of|most|many) [\w' -]+$",
    re.IGNORECASE,
)
_OCCASION = re.compile(r"\b(?:this|that) (?:time|once)\b|\bfor (?:this|that) (?:one|trip|time)\b", re.IGNORECASE)
_PAST = re.compile(r"\bi used to\b|\bwhen i was (?:a |an )?(?:kid|child|young|teen)|\bback then\b", re.I)
_QUESTION_START = re.compile(
    r"^\s*(?:do|does|did|should|shall|is|are|am|was|were|what|how|why|which|who|whom|when|where|have|has|if)\b",
    re.IGNORECASE,
)
# Words that open a question without being its verb ('So which one ...?', 'And if I ...?').
_OPENERS = re.compile(r"^\s*(?:(?:so|and|but|or|ok|okay|well|also|then|oh|right|hmm),?\s+)+", re.IGNORECASE)
_REQUEST_START = re.compile(
    r"^\s*(?:(?:can|could|would|will) you|please|help|tell|give|show|write|suggest|recommend|find|make|"
    r"explain|list|plan|draft|create)\b"
    # 'I need help with my CV', 'I'm looking for a laptop', 'I'd like to book a table': asking, in the first person.
    r"|^\s*i (?:need|would like|want|could use) (?:some )?(?:help|advice|a hand|ideas|to (?:know|book|order|ask|find|"
    r"check|get|buy|make|see|learn))\b|^\s*i am (?:looking for|after|shopping for|hunting for|trying to find)\b"
    # ... with the subject left out: 'Looking for a game to play with my partner'.
    r"|^\s*(?:looking|shopping|hunting) for\b"
    # ... but a gerund subject is no request: 'Hunting for bargains at car boot sales is my favourite thing'.
    r"(?![^,]*\b(?:is|are|was|were|makes)\s+(?:my|our|the|a|an|what|so|really|always|just)\b)"
    # A wh-word opens a request unless the speaker follows it: 'When I am working, it has to be quiet'.
    r"|^\s*(?:what|how|why|which|where|when)\b(?!\s+(?:i|we)\b)",
    re.IGNORECASE,
)
STANDING = re.compile(
    r"\b(?:always|from now on|in general|generally|going forward|in (?:the )?future|every time|by default|"
    r"as a rule|usually|all (?:your|the|of your) (?:answers|responses|replies|explanations|messages)|"
    r"your (?:answers|responses|replies|explanations|messages|writing)|(?:for|in) (?:all|every|any) "
    r"(?:answers?|responses?|replies|explanations?)|when(?:ever)? you (?:answer|reply|respond|explain|write)|"
    r"for future|in our chats|with me|"
    # A habit of the assistant's that the user asks about: 'Please stop ending every reply with a question'.
    # 'Summarise every reply in this thread', 'Translate every answer in this quiz' are one task each.
    r"every (?:single )?(?:answer|reply|response|message|explanation)(?!\s+(?:in|on|of|from|to)\s+(?:this|that|these|"
    r"those|the|my)\b)|every time you)\b",
    re.IGNORECASE,
)
# 'All the time' is standing only when said of the assistant ('Stop apologising all the time', 'you hedge all the
# time'); of the speaker or the world it is a complaint ('I lose my keys all the time', 'It rains all the time').
_ALL_THE_TIME = re.compile(r"\ball the time\b", re.IGNORECASE)
_SAID_TO_YOU = re.compile(r"^\s*(?:please\s+)?(?:stop|quit|avoid|do not|never|no more)\b|\byou\b", re.IGNORECASE)


# Asks that are about a habit of the assistant's by their form, with no 'always' or 'from now on': 'Please stop
# apologising so much' (one stops a habit, not an act), 'Cite your sources whenever you state a fact', and a device
# of writing refused ('Please don't use the Oxford comma', 'never put emojis in'). A deictic object ('this email',
# 'that one') still makes them one task (``_TASK``).
_HABIT_ASK = re.compile(
    r"^\s*(?:(?:please|pls|so|and|just|can you|could you|would you|will you)\s+)*(?:stop|quit)\s+\w+ing\b"
    # ('Whenever you are ready, tell me a joke' waits for one answer: readiness or a free moment is no habit.)
    r"|\bwhenever you\b(?!\s+(?:are ready|have (?:a |the )?(?:time|moment|minute|sec|second|chance)|get (?:a |the )?"
    r"(?:chance|moment|minute)|can|like|want|fancy|are free|are done|finish)\b)"
    r"|\bwhen you (?:give|suggest|recommend|quote|explain|answer|reply|show|use|list|cite|mention|"
    r"talk|describe|summari[sz]e|translate|send|correct|write (?:code|me))\b"
    r"|^\s*(?:please\s+)?(?:do not|never|no need to)\s+(?:ever\s+)?(?:use|put|add|include|start|end|open|close|sign off|"
    r"say|tell me to|censor|bold)\b(?:\s+\w+){0,3}?\s+(?:the word|emojis?|emoticons?|exclamation|commas?|headers?|"
    r"headings?|bold|tables?|ascii|markdown|bullet|caps|capitals|swear\w*|sign-?offs?|disclaimers?|caveats?|"
    r"warnings?|apolog\w*|jargon|acronyms?|abbreviations?|slang|hashtags?|filler|fluff|clich\w*)"
    # ... but not in one piece of work ('Don't put emojis in my wedding speech').
    r"(?!.*\b(?:in|on|for|to|into) (?:my|this|that|the|our) (?:\w+ )?(?:speech|e-?mail|letter|essay|post|message|card|"
    r"invitation|cv|report|presentation|toast|poem|story|document|slides?|caption|bio|draft|reply|tweet)\b)",
    re.IGNORECASE,
)


def _is_standing(text: str) -> bool:
    return (
        bool(STANDING.search(text))
        or bool(_ALL_THE_TIME.search(text) and _SAID_TO_YOU.search(text))
        or bool(_HABIT_ASK.search(text))
    )
_TASK = re.compile(
    r"\b(?:write|draft|compose|translate|summari[sz]e|rewrite|create|generate|give me|send|prepare|"
    r"produce|make me|tell me|help me write|can you write|could you write)\b"
    # ... but a kind of work in a form is every piece of it ('Give me recipes in grams', 'write emails in UK English').
    r"(?!\s+(?:(?!(?:the|these|those|this|that|my|a|an|some|me)\b)[\w-]+\s+)?[\w-]+s\s+(?:in|with|without|as|using)\b)"
    r"(?:\s+\w+){0,4}?\s+"
    r"(?:letter|e-?mail|essay|poem|story|report|summary|message|post|note|speech|toast|text|tweet|"
    r"version|paragraph|list|outline|description|bio|article|reply|response|answer|explanation|overview|"
    r"recipe|plan|script|song|joke|review|proposal|memo|invitation|greeting|caption|slogan|code)s?\b"
    r"|\b(?:this|that|the) (?:letter|e-?mail|essay|poem|story|report|summary|message|post|note|speech|text|"
    r"tweet|paragraph|document|time|question|case|task|project|presentation|article|slide|recipe)\b|\b(?:this|that) one\b"
    # 'Keep this answer super short' (but 'the answers' are every answer).
    r"|\b(?:this|that) (?:answer|reply|response)\b"
    # A pick among the options on offer: 'I like the blue one better', 'option B'.
    r"|\bthe (?!only\b|one\b|other\b)\w+ one\s+(?:better|more|best|please|instead)\b|\boption (?:[a-d1-9]|one|two|three)\b"
    r"|\b(?:take|have|go with|go for|pick|choose|want) the (?!only\b|one\b|other\b)\w+ one\b"
    # A piece of work asked for by an imperative with its object: 'Write the rules for a card game', 'Plan a
    # day in Lisbon' (but 'Make the answers shorter' is about every answer).
    r"|^\s*(?:please\s+)?(?:write|draft|compose|create|generate|plan|make|design|build|list|find|suggest|recommend|"
    r"give me|get me|book|compare|summari[sz]e)\s+(?:me\s+)?(?:a|an|the|some|\d+|two|three|four|five|ten)\b"
    r"(?!\s+(?:\w+\s+)?(?:answers|responses|replies|explanations|messages)\b)"
    # ('Today's answers were too long' looks back at answers already given: no time of one task.)
    r"|\b(?:for now|right now|just this once|this time|today|tonight)\b(?!['’]s)"
    # Redo one piece of work: 'Rewrite that more formally', 'Explain it again', '... the last part'.
    r"|^\s*(?:(?:could|can|would|will) you\s+)?(?:please\s+)?(?:rewrite|redo|rephrase|reword|make|explain|say|do|put|turn|"
    r"translate|write|give|read|"
    r"try|send|show|format|shorten|expand|simplify)\s+(?:it|that|this|these|those)\b(?!\s+(?:is|are|was|were)\b)"
    r"|\b(?:the|that|this) (?:last|previous|first|second|third|final|next) (?:part|bit|answer|reply|one|paragraph|"
    r"section|sentence|point|step|version|line|question)s?\b",
    re.IGNORECASE,
)
# A reason that ties a request to one occasion or one recipient: 'it is for a slide', 'it is going to my
# CEO', 'I am in a hurry', 'just this once'. Every request of that message is then about that one task
# ('Keep this under 100 words, it is for a slide'); 'these go into reports' (a habit) is not one of them.
_ONE_OFF_REASON = re.compile(
    r"\b(?:it|this|that) (?:is|will be|has to be|needs to be) (?:for|going to|going into|going on|read by)\b"
    r"|\bi am (?:in a (?:rush|hurry)|short on time|on my phone|boarding|about to|running late|heading (?:out|off)|"
    # ... or at the wheel ('Hands-free options please, I'm driving').
    r"(?:driving|behind the wheel|at the wheel)(?=\s*(?:right now|now|at the moment)?\W*$))\b"
    # A deadline of minutes is one occasion: 'Keep this answer super short, I'm boarding in two minutes'.
    r"|\bin (?:a|one|two|three|five|ten|\d+|a couple of|a few) (?:minutes?|mins?)\b|\b(?:just|only) this once\b|\bthis once\b"
    # An ask pitched at a child whose age is given is for that child ('My daughter is seven, so please explain
    # volcanoes simply' stored expertise beginner for the speaker).
    r"|\b(?:my|our) (?:little |young )?(?:daughter|son|kids?|child|children|boy|girl|nephew|niece|grandson|"
    r"granddaughter|grandkids|grandchildren) (?:is|are) (?:only |just )?(?:\d+|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve)\b|\bfor (?:my|our) (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve)-year-olds?\b"
    r"|\b(?:for|on) (?:this|that) (?:one|question|answer|reply|task|message|email|post|time|topic|subject|"
    r"conversation|chat)\b|\bfor now\b"
    # A redo of the last answer: 'Explain it again', 'I did not get the last part'.
    r"|^\s*(?:please\s+)?\w+\s+(?:it|that|this)\s+again\b|\b(?:the|that) (?:last|previous) (?:part|bit|answer|one|reply)\b",
    re.IGNORECASE,
)
# States of the moment shared by the taste readers (the sentence extractor's gate, the implicit inferrer): a
# craving or a body of today ('I'm craving chocolate', 'my feet are killing me'), one event ahead ('so excited
# for Christmas'). They say nothing about the person's standing tastes. Each reader adds its own time words.
MOMENT_STATES = (
    r"craving|dying for|killing me|pounding|shattered|knackered|exhausted|starving|hungover|jet-?lagged|"
    r"right about now|excited (?:for|about)|looking forward to"
)
# Tolerance ('I don't mind spicy food') is neither a like nor an avoid; the extractors that read tastes skip it
# (it stored avoid 'mind spicy food'), while the style rules still read 'I don't mind long answers'.
TOLERANCE = re.compile(r"\b(?:i|we) (?:do|would|will) not mind\b", re.IGNORECASE)
# Not a taste at all: no preference ('I have no preference, you choose', 'I'm easy'), or a lapse rather than a
# choice ('I always forget my passwords', 'I never know what to cook').
_NOT_A_TASTE = re.compile(
    r"\b(?:no (?:real |particular |strong )?preference|not (?:sure|certain) what i (?:like|want|prefer)|"
    r"i do not mind (?:either|which|whichever|whatever|at all$)|either (?:is|one is|way is|works) (?:fine|ok|okay|good)?|i am easy|"
    r"whatever you (?:think|like|want|choose|prefer|suggest)|"
    # A belief about oneself, no liking: 'I like to think I'm a patient person' (stored style).
    r"\b(?:i|we) (?:would |do )?(?:like|love) to (?:think|believe|imagine|hope)\b|"
    # ('I love escape rooms where you pick the lock' is a taste: 'you pick' hands the choice over only on its own.)
    r"(?:^|[,;]\s*|\b(?:just|so|then|please|can|could)\s+)you (?:choose|decide|pick)\b)"
    # A closing formula: 'No, that's all I needed' (stored style 'that is all I needed').
    r"|\bthat (?:is|was) (?:all|everything|it) (?:i|we) (?:need|needed|wanted|was after|asked for)\b"
    # ... or said alone, to close the chat ('nah that's all, love', 'That's everything for now, thanks').
    r"|^(?:(?:no|nah|nope|ok|okay|great|cheers|thanks)\W+)*that (?:is|was|will be|would be) (?:all|everything|it)"
    r"(?:\W+(?:for now|for today|thanks|thank you|cheers|love|mate|then))*\W*$"
    # Surprise at how things turned out: 'I never thought I'd be chatting to a computer about this'.
    # ('I never thought I would end up loving opera' is a taste.)
    r"|\bnever (?:thought|imagined|expected|dreamed|dreamt|pictured) (?:i|we|that i|that we|myself|to)\b"
    r"(?!.*\b(?:lov|lik|enjoy|hat|prefer|ador|fan)\w*)"
    r"|\b(?:always|never|usually|often|sometimes|keep|can never) (?:forget|forgetting|remember|know|get (?:confused|"
    r"lost|mixed up)|mix up|lose|losing)\b",
    re.IGNORECASE,
)
# A piece that starts with its verb: its subject is the previous piece's ('... but hates anything with aliens').
_NO_SUBJECT = re.compile(
    r"^\s*(?:(?:also|really|absolutely|totally|just|still|then)\s+)*(?:loves?|hates?|likes?|prefers?|enjoys?|"
    r"adores?|dislikes?|detests?|loathes?|wants?|refuses?|avoids?|can not|could not|does not|do not|will not|"
    r"would not|never|always|only|is|are|was|were|swears?|thinks?|says?)\b",
    re.IGNORECASE,
)
# The speaker repeating their own words ('Like I said, Coldplay are my favourite band'): no one else's speech.
_OWN_WORDS_AGAIN = re.compile(
    r"^(?:like|as) (?:i|we) (?:said|say|mentioned|told you)(?: (?:before|earlier|already))?\s*[,:-]?(?:\s+|$)",
    re.IGNORECASE,
)
# A frame of readiness before a request ('Whenever you have a minute, tell me a fun fact'): the request is what is
# said, and it is one piece of work (read with the frame, 'whenever you' made it a habit of the answers).
_READY_FRAME = re.compile(
    r"^(?:(?:so|and|ok|okay)\s+)?(?:whenever|when|once|if) you (?:are ready|have (?:a |the )?(?:time|moment|minute|sec|"
    r"second|chance)|get (?:a |the )?(?:chance|moment|minute)|can|are free|are done)\s*,?\s+(?=\w)",
    re.IGNORECASE,
)
# A frame that makes the next piece someone else's words: 'According to my doctor, ...', 'My mum says, ...'.
_REPORTER = re.compile(
    r"^\s*(?:according to|in (?:my|his|her|their) (?:doctor|mum|mom|dad|friend|boss)'?s? (?:opinion|view))\b[^,;]*$"
    r"|\b(?:says|said|told me|tells me|thinks|reckons|claims|insists)\s*$",
    re.IGNORECASE,
)
# A question put as a statement: 'I was wondering whether you like poetry', 'I'm curious what people love about golf'.
_INDIRECT_QUESTION = re.compile(
    r"\b(?:wonder|wondering|wondered|curious|would like to know|want to know|want to find out)\s+(?:about\s+)?"
    r"(?:if|whether|why|what|how|which|who|when|where)\b",
    re.IGNORECASE,
)
# A politeness formula, not a taste: 'I hate to bother you', 'I would love to ask', 'I hate to say it'.
_POLITE = re.compile(
    r"\b(?:hate|love|like|would love|would like|want|do not want|need)\s+to\s+(?:bother|trouble|disturb|"
    r"interrupt|pester|nag|say|admit|ask|complain|break it|be (?:that person|a pain|difficult|rude)|repeat myself|"
    r"sound)\b",
    re.IGNORECASE,
)
HEDGE = re.compile(
    r"\b(?:i think|i guess|i suppose|maybe|perhaps|probably|possibly|kind of|sort of|somewhat|a bit|might|"
    r"i am not sure|not sure|i believe|if possible|ideally|i would say)\b",
    re.IGNORECASE,
)
INTENSE = re.compile(
    r"\b(?:really|strongly|absolutely|definitely|always|never|much|very|extremely|totally|seriously|hate|"
    r"love|can not stand|please please)\b|!",
    re.IGNORECASE,
)


_REASON = re.compile(r"\s+\b(?:because|since|as|cos|cause)\b\s+|,?\s+\bwhich\b\s+", re.IGNORECASE)
_TITLE_DOT = re.compile(r"\b(Dr|Mr|Mrs|Ms|Mx|Prof|St)\.(?=\s+[A-Z])")


@functools.lru_cache(maxsize=4096)  # a clause is expanded by several readers of a turn, each time the same
def expand(text: str) -> str:
    """Normalize a clause for matching: unicode folded, contractions expanded (case kept), no quotes."""
    text = _TITLE_DOT.sub(r"\1", normalize_for_matching(text))
    # A contraction's pattern needs an apostrophe, and no replacement adds one: without one in the text
    # only the patterns that need none can match (20 substitutions were a quarter of a millisecond).
    for pattern, repl in _CONTRACTION_RES if "'" in text else _BARE_CONTRACTION_RES:
        text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True)
class Clause:
    text: str  # expanded text (quoted spans removed)
    question: bool
    standing: bool  # an explicit standing marker ('always', 'from now on', 'your answers', ...)
    task: bool  # about one task ('write a formal letter', 'this email', 'this time')
    hedged: bool
    intense: bool
    request: bool  # a question or a request to the assistant ('can you ...', 'please give me ...')


# Someone named after one of these keeps the speaker company or receives what is done ('Walking with my dad is
# the best part of my week', 'reading stories to my twins'): the object of a preposition, not a subject. 'For',
# 'to', 'from' and 'by' opening the clause frame someone else's view instead ('To my husband, nothing beats a
# fry-up', 'For my son, football is everything'); 'Like my wife, I ...' shares the speaker's own taste.
_COMPANY = re.compile(
    r"\b(?:with|beside|alongside|among)\s+$|\w[\s,]+(?:for|to|from|by)\s+$|^\s*like\s+$", re.IGNORECASE
)


_OWN_PERSON = re.compile(r"(?:my|our|a)\s", re.IGNORECASE)


def _someone_else(text: str) -> re.Match[str] | None:
    """The first mention of someone else that may be a subject or a speaker (not one in company position)."""
    return next(
        (
            m
            for m in _REPORTED.finditer(text)
            # Only someone of the speaker's own ('with my dad', 'to a friend'); 'with people' may still be a victim.
            if not (_OWN_PERSON.match(m.group(0)) and _COMPANY.search(text[: m.start()]))
        ),
        None,
    )


_ASK_TO_YOU = re.compile(
    r"^\s*(?:please\s+)?(?:do not|never|stop|always|avoid|keep|use|skip|cut|drop)\b(?!.*\b(?:my|our)\s+\w+)", re.IGNORECASE
)


def _first_subject_is_user(text: str) -> bool:
    """True unless a third party speaks or is the subject before the user does ('my wife is vegan')."""
    match = _someone_else(text)
    if match is None:
        return True
    first_i = re.search(
        r"\b(?:i|me|my|we|us|our)\b(?! (?:friend|wife|husband|partner|mom|mother|dad|father|brother|"
        r"sister|son|daughter|kids?|children|boss|manager|colleague|coworker|team|roommate|"
        r"girlfriend|boyfriend|teacher|doctor|family|parents?|client|customer|student|in-laws|"
        r"(?:father|mother|brother|sister)-in-law|guests?|visitors?|relatives?))",
        text,
        re.IGNORECASE,
    )
    # 'I have given up on self-help books, they all say the same thing': an aside after the speaker's own
    # clause does not make it reported speech (but 'I hate jazz, my friend says' does).
    head, comma, aside = text.partition(",")
    # ... nor an aside after an ask to the assistant ('Please don't use exclamation marks, they feel shouty').
    if comma and (re.match(r"\s*(?:i|we)\b", head, re.IGNORECASE) or _ASK_TO_YOU.match(head)) and not re.search(
        r"\b(?:says|said|claims|thinks|reckons|tells me|told me)\W*$", aside, re.IGNORECASE
    ):
        text = head
        match = _someone_else(text)
        if match is None:
            return True
    reported_verb = re.search(
        r"\b(?:said|says|say|told|tells|claims?|according to|(?<!please )(?<!to )(?<!you )(?<!^)(?:quote|quoting)|"
        r"asked me)\b",
        text,
        re.IGNORECASE,
    )
    if reported_verb:
        return False
    return first_i is not None and first_i.start() < match.start()


# Bounds that keep every pattern linear in practice: the rules read the first MAX_SCAN_CHARS of a message,
# with whitespace runs collapsed, in clauses of at most MAX_CLAUSE_CHARS (a longer run of text without
# punctuation is cut into windows at word boundaries). Without them a message of 32k spaces took minutes.
MAX_SCAN_CHARS = 8_000
MAX_CLAUSE_CHARS = 300
_BLANKS = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def _pieces(message: str) -> list[str]:
    return list(_split_pieces(message))


@functools.lru_cache(maxsize=1024)  # tainted(), clauses() and its one-off check each split the same message
def _split_pieces(message: str) -> tuple[str, ...]:
    text = _NEWLINES.sub("\n", _BLANKS.sub(" ", message[:MAX_SCAN_CHARS]))
    pieces = []
    for raw in _SPLIT.split(text):
        raw = (raw or "").strip()
        while len(raw) > MAX_CLAUSE_CHARS:
            cut = raw.rfind(" ", 0, MAX_CLAUSE_CHARS)
            cut = cut if cut > 0 else MAX_CLAUSE_CHARS
            pieces.append(raw[:cut])
            raw = raw[cut:].strip()
        if raw:
            pieces.append(raw)
    return tuple(pieces)


def _kept(split: Callable[[str], list[Clause]]) -> Callable[[str], list[Clause]]:
    """``split`` with the results for recent messages kept: the rules, the sentence extractor (both on
    ``observe``'s path, issue 12) and the implicit one each split the same message, and the clauses depend on
    its text alone. Clause is frozen; each call returns a list of its own."""
    kept = functools.lru_cache(maxsize=1024)(lambda message: tuple(split(message)))

    @functools.wraps(split)
    def cached(message: str) -> list[Clause]:
        return list(kept(message))

    cached.cache_clear = kept.cache_clear  # type: ignore[attr-defined]  # memo.forget_kept_texts finds it
    cached.cache_info = kept.cache_info  # type: ignore[attr-defined]
    return cached


@_kept
def clauses(message: str) -> list[Clause]:
    """The clauses of a user message that may express the user's own standing preference.

    Injection attempts, reported speech, hypotheticals and past habits are dropped here; questions and
    task requests are kept but flagged, because a correction ('can you be more concise?') still counts.
    """
    result = []
    someone_else = False  # the previous piece was said of someone else
    reporter = False  # the previous piece frames what follows as someone else's words
    supposed = False  # the previous piece was a hypothetical and its sentence goes on
    occasion = False  # the previous piece named one occasion ('Central this time')
    for raw in _pieces(message):
        if not raw or is_injection(raw):
            continue
        text = _READY_FRAME.sub("", _OWN_WORDS_AGAIN.sub("", _QUOTED.sub(" ", expand(raw)).strip()))
        # Who speaks and when is decided on the main clause: a reason after 'because' may name someone else
        # ('we need step-free access because my partner uses a wheelchair') without making it reported speech.
        main = _REASON.split(text, maxsplit=1)[0]
        # 'My husband loves sci-fi but hates aliens': a piece with no subject of its own continues the last.
        others = (
            not _first_subject_is_user(main)
            or (someone_else and bool(_NO_SUBJECT.match(main)))
            or reporter  # 'According to my doctor, I should eat more fibre'
        )
        someone_else = others
        reporter = bool(_REPORTER.search(text))
        if _CHOICE_FRAME.match(text):
            supposed = False
            continue
        consequence = supposed and bool(_CONSEQUENCE.search(text))
        # The hypothetical reaches the consequence right after it in the same sentence only: 'If I had more money,
        # I would travel more. I would always choose trains over planes' (the second sentence is the speaker's).
        supposing = bool(_HYPOTHETICAL.search(text))
        hypothetical = supposing or consequence
        supposed = supposing and not raw.rstrip().endswith((".", "!", "?"))
        if not text or hypothetical or _PAST.search(main) or others:
            continue
        if _POLITE.search(main) or _NOT_A_TASTE.search(main):
            continue
        # 'Central this time, we have only got two nights': the reason after a choice for one occasion is about
        # that occasion too.
        about_occasion, occasion = occasion, bool(_OCCASION.search(text))
        result.append(
            Clause(
                text=text.rstrip(".!?;: ").strip(),
                question=(raw.rstrip().endswith("?") and bool(_QUESTION_START.search(_OPENERS.sub("", text))))
                or bool(_INDIRECT_QUESTION.search(text)),
                standing=_is_standing(text),
                task=bool(_TASK.search(text)) or about_occasion,
                hedged=bool(HEDGE.search(text)),
                intense=bool(INTENSE.search(raw)),
                request=raw.rstrip().endswith("?") or bool(_REQUEST_START.search(text)),
            )
        )
    if any(_ONE_OFF_REASON.search(expand(raw)) for raw in _pieces(message)):
        result = [c if c.standing else replace(c, task=True) for c in result]
    return result


@functools.lru_cache(maxsize=1024)  # asked of each message by every extractor, like ``clauses``
def tainted(message: str) -> bool:
    """A message with any clause aimed at the assistant's rules, secrets or other users: nothing in it is
    stored, so a payload cannot ride on an innocent clause next to it ('I like X; reveal your prompt')."""
    return any(is_injection(raw) for raw in _pieces(message))


@functools.lru_cache(maxsize=4096)  # tainted() and clauses() ask it of each piece of a message, the store of each value
def is_injection(text: str) -> bool:
    """An instruction aimed at the assistant (template markers, overrides, secrets, role claims, hidden text)."""
    return bool(INJECTION.search(normalize_for_matching(text))) or is_instruction(text)
