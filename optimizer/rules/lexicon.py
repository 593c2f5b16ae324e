"""Word lists and the few regular expressions of the analyzer, built once at import.

Speed decides the shape: a case-insensitive alternation of fifty words costs 50-300 us per
pass over 2 KB in CPython, and the analyzer has about 500 us for everything. So the word
lists are not regexes: :data:`SINGLE_WORDS` and :data:`MULTI_WORDS` index the phrases by
their first word or first two words, and ``optimizer.rules.scan`` matches them during one
pass over the tokens of the prompt. Regexes remain only for line structure (anchored
at the start of a line, cheap) and for a few patterns run on short strings.

Phrases are lowercase words separated by single spaces; tokens are compared after stripping
surrounding punctuation and lowercasing.
"""

from __future__ import annotations

import re

CATEGORIES: dict[str, tuple[str, ...]] = {
    # --- ambiguity
    "quantifier": (
        "several", "some", "many", "few", "a few", "various", "numerous", "a lot of",
        "lots of", "plenty of", "a number of", "a bit", "a little", "enough", "sufficient",
        "sufficiently", "adequate", "adequately", "appropriate", "appropriately",
        "reasonable", "reasonably", "significant", "significantly", "substantial",
        "substantially", "considerable", "considerably", "relevant", "suitable", "proper",
        "properly", "as needed", "when necessary", "if necessary", "if needed",
        "where appropriate", "as appropriate", "too much", "too many", "too little",
        "too few", "most of", "a couple of", "a lot",
        # beyond trading: the hedged scopes of support, review and triage prompts
        "wherever appropriate", "when appropriate", "if appropriate", "where relevant",
        "where needed", "as necessary", "as required", "if required", "if warranted",
    ),
    "hedge": (
        "maybe", "might", "perhaps", "possibly", "probably", "could", "try to", "tries to",
        "attempt to", "if possible", "where possible", "when possible", "ideally",
        "you may want to", "you might want to",
        "generally", "usually", "typically", "normally", "often", "sometimes", "somewhat",
        "fairly", "quite", "relatively", "more or less", "kind of", "sort of",
        "to some extent", "as much as possible", "may want to", "might want to",
        "feel free to", "you may", "seems", "seem to", "appears to", "arguably",
        "hopefully", "in general", "for the most part",
    ),
    "open": (
        "etc", "and so on", "and so forth", "and the like", "and more", "among others",
        "or similar", "or something", "such things", "and other things", "and others",
        "whatever else", "and whatnot",
    ),
    "subjective": (
        "strong", "strongly", "weak", "weakly", "good", "bad", "high", "low", "large", "big",
        "small", "huge", "tiny", "major", "minor", "sharp", "sharply", "steep", "extreme",
        "extremely", "volatile", "stable", "risky", "safe", "solid", "decent", "healthy",
        "elevated", "excessive", "unusual", "abnormal", "sudden", "suddenly", "quick",
        "quickly", "fast", "slow", "slowly", "recent", "recently", "soon", "later",
        "long-term", "short-term", "near-term", "frequent", "frequently", "rare", "rarely",
        "expensive", "cheap", "overbought", "oversold", "overextended", "bullish", "bearish",
        "choppy", "heavy", "thin", "tight", "meaningful", "favorable", "unfavorable", "calm",
        "hot",
        # beyond trading: severity and age words that need a definition to be checkable
        "serious", "seriously", "severe", "severely", "critical", "urgent", "concerning",
        "stale", "outdated", "minimal", "moderate", "modest", "slight", "slightly",
        "noticeable", "negligible", "acceptable", "unacceptable",
    ),
    "state": (
        "volatile", "calm", "bullish", "bearish", "trending", "ranging", "choppy",
        "overbought", "oversold", "overextended", "stretched", "uncertain", "unclear",
        "risky", "safe", "strong", "weak", "high", "low", "large", "small", "big", "unusual",
        "extreme", "good", "bad", "favorable", "unfavorable", "crashing", "pumping",
        "dumping", "hot", "quiet", "significant", "significantly", "mixed", "heavy", "thin",
        "expensive", "cheap", "sharp", "sharply", "major", "appropriate", "necessary",
        "needed", "relevant", "serious", "severe", "critical", "urgent", "concerning",
        "stale", "outdated",
    ),
    "default": (
        "otherwise", "or else", "by default", "default", "in all other cases",
        "in any other case", "in every other case", "if none", "if no rule",
        "when in doubt", "if in doubt", "if unsure", "fallback", "fall back", "if neither",
        "all other cases",
    ),
    "conditional": ("if", "when", "whenever", "unless"),
    "judgment": (
        "use your judgment", "use your judgement", "use your best judgment",
        "use your best judgement", "your best judgment", "your best judgement",
        "use common sense", "as you see fit", "at your discretion", "use your discretion",
        "whatever you think", "as you think best", "use your intuition",
        "go with your gut", "where it makes sense", "when it makes sense",
        "if it makes sense", "as you like", "however you like", "up to you",
    ),
    "generic": (
        "be careful", "be smart", "be accurate", "be thorough", "be precise", "be helpful",
        "do your best", "do a good job", "think carefully", "think hard", "stay focused",
        "be professional", "be wise", "make good decisions", "make smart decisions",
        "be diligent", "be sensible", "be mindful", "use good sense", "be reasonable",
    ),
    "vague_verb": (
        "handle", "handles", "deal with", "take care of", "look into", "look at",
        "consider", "factor in", "keep an eye on", "pay attention to", "take into account",
        "think about",
    ),
    "jargon": (
        "squeeze", "flush", "chop", "pump", "dump", "moon", "mooning", "rekt", "fakeout",
        "shakeout", "whipsaw", "capitulation", "rug pull", "bagholder", "falling knife",
        "stop hunt", "liquidity grab", "dead cat bounce", "blow-off top", "melt-up", "degen",
        "ape in", "god candle", "scam wick",
    ),
    # --- clarity
    "indirect": (
        "it is important that", "it is important to", "it is very important that",
        "it is necessary that", "it is necessary to", "it is required that",
        "it is recommended that", "it is recommended to", "it is advisable to",
        "it is essential that", "it is essential to", "it is crucial that",
        "it is crucial to", "it is vital that", "it is expected that",
        "it is preferable to", "it would be good", "it would be nice", "it would be great",
        "it would be best", "it would be better", "it would be ideal", "it would be helpful",
        "you should", "you need to", "you will need to", "you have to", "we need you to",
        "we want you to", "i want you to", "i need you to", "what we need from you",
        "is required", "are required", "could you", "would you", "can you",
        "would it make sense", "what do you think",
    ),
    "filler": (
        "please note that", "please note", "note that", "it is important to note that",
        "keep in mind that", "keep in mind", "as an ai language model", "as an ai",
        "needless to say", "it goes without saying that", "it goes without saying",
        "basically", "essentially", "actually", "really", "very", "simply", "literally",
        "obviously", "of course", "in order to", "at the end of the day",
        "for all intents and purposes", "hello", "hi there", "thank you", "thanks",
        "we really appreciate it", "we appreciate it", "i hope", "you know", "so much",
    ),
    "concise": (
        "be concise", "concise", "concisely", "brief", "briefly", "succinct", "succinctly",
        "terse", "in a few words", "keep it short", "keep the answer short",
        "keep answers short", "keep the response short", "keep responses short",
        "be short", "short answer", "short answers",
    ),
    "detailed": (
        "in detail", "in great detail", "in full detail", "detailed", "thorough",
        "thoroughly", "comprehensive", "comprehensively", "elaborate", "at length",
        "exhaustive", "exhaustively", "covering every", "cover every", "covering everything",
        "cover everything", "explain everything",
    ),
    "json_only": (
        "json only", "only json", "only the json", "only a json", "only one json",
        "no other text", "nothing else", "no extra text", "no additional text",
        "only the json object",
    ),
    "extra_text": (
        "after the json", "before the json", "outside the json", "below the json",
        "above the json", "add a paragraph", "add a note", "add an explanation",
        "add a commentary", "add commentary", "add a comment", "add a summary",
        "write a paragraph", "write a note", "include a paragraph", "append a note",
        "append a paragraph", "include a note",
    ),
    "cautious": (
        "conservative", "conservatively", "cautious", "cautiously", "risk-averse",
        "avoid risk", "minimize risk", "minimise risk",
    ),
    "aggressive": (
        "aggressive", "aggressively", "maximize returns", "maximize return",
        "maximize profit", "maximize profits", "maximise returns", "maximise profits",
        "take risks", "take big risks", "take large risks", "go all in", "go all-in",
        "high-risk positions", "high-risk position",
    ),
    "always": ("always",),
    "never": ("never", "do not", "don't", "must not"),
    "modal": (
        "must", "should", "shall", "never", "always", "do not", "don't", "need to",
        "have to", "is to be", "are to be", "required",
    ),
    "role": ("you are", "you're", "act as", "your role is"),
    # --- specificity
    "comparator": (
        "above", "below", "over", "under", "more than", "less than", "at least", "at most",
        "greater than", "fewer than", "exceeds", "exceed", "exceeding", "up to",
        "no more than", "within", "between", "from", "crosses", "beyond", "higher than",
        "lower than", ">", "<", ">=", "<=", "=", "\u2264", "\u2265",
    ),
    "number_word": (
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "twelve", "twenty", "fifty", "hundred", "half", "twice", "double", "triple",
    ),
    "format": (
        "json", "yaml", "csv", "xml", "markdown table", "table", "format", "schema",
        "one line", "bullet points", "a list", "json list", "json object", "one word",
    ),
    "output_verb": (
        "return", "respond", "answer", "output", "reply", "format", "write", "give",
        "report", "say", "produce", "print", "recommend",
    ),
    "key": ("key", "keys", "field", "fields", "properties", "columns", "column", "attributes"),
    "allowed_cue": ("one of", "either", "true or false", "yes or no"),
    "input_cue": (
        "input", "inputs", "you receive", "you will receive", "you get", "you will get",
        "you are given", "you will be given", "given the", "given a", "the data contains",
    ),
    "example": ("for example", "for instance", "e.g", "example", "examples", "->", "\u2192"),
    "definition": (
        "means", "is defined as", "defined as", "refers to", "stands for", "i.e", "we call",
        "counts as", "is when",
    ),
    "score_word": (
        "confidence", "probability", "score", "rating", "conviction", "certainty",
        "likelihood",
    ),
    "change": (
        "drop", "drops", "rise", "rises", "move", "moves", "change", "changes", "increase",
        "increases", "decrease", "decreases", "gain", "gains", "loss", "losses", "fall",
        "falls", "jump", "jumps", "spike", "spikes", "dip", "dips",
    ),
    "decision": (
        "decide", "buy", "sell", "approve", "reject", "classify", "rate", "score", "flag",
        "size", "enter", "exit", "trade", "recommend",
    ),
}


def _index(categories: dict[str, tuple[str, ...]]) -> tuple[
    dict[str, tuple[str, ...]], dict[tuple[str, str], list[tuple[tuple[str, ...], str]]]
]:
    """Single words -> categories; (first, second) word -> [(remaining words, category)],
    longest first. Keying multi-word phrases by their first two words keeps the matching
    loop to one or two dictionary lookups per candidate token."""
    single: dict[str, tuple[str, ...]] = {}
    multi: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {}
    for category, phrases in categories.items():
        for phrase in phrases:
            words = phrase.split()
            if len(words) == 1:
                single[words[0]] = (*single.get(words[0], ()), category)
            else:
                multi.setdefault((words[0], words[1]), []).append((tuple(words[2:]), category))
    for entries in multi.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return single, multi


SINGLE_WORDS, MULTI_WORDS = _index(CATEGORIES)
FIRST_WORDS = frozenset(SINGLE_WORDS) | {first for first, _ in MULTI_WORDS} | {"or", "be"}

UNITS = frozenset(
    "% percent pct bps basis x times usd usdt usdc eur btc eth day days hour hours h minute "
    "minutes min mins second seconds week weeks month months year years candle candles bar "
    "bars period periods point points pts word words sentence sentences line lines character "
    "characters chars item items bullet bullets atr standard sigma percentage".split()
)
UNIT_SUFFIXES = ("%", "x", "h", "d", "m", "bps")
IMPERATIVE_VERBS = frozenset("""
add adjust allow analyze analyse answer apply approve ask assess assign attach avoid be begin
buy calculate cap check choose cite classify close collect combine compare compute confirm
consider convert copy count cover create cut decide decline define delete describe detect
determine discard document do double drop enter estimate evaluate exclude exit explain
extract fill filter find flag focus follow forecast generate give go halve hold identify
ignore include increase keep label limit list load lower make map mark measure mention
merge monitor name note open output pass pick place predict prefer prioritize produce
provide put raise rank rate read recommend record reduce reject remove repeat reply report
respond return review round say scan score sell send set show size skip sort specify split
start state stay stop submit summarize summarise support switch take tell trade treat trust
update use validate verify wait warn weigh weight write communicate ensure estimate select
reference deal handle factor pay think try watch get let leave move hedge protect trim
exit scale double-check cross-check favor favour interpret justify
accept acknowledge apologize apologise append archive cancel clarify complete correct deny
disable enable escalate fetch fix greet highlight inform insert inspect investigate notify
obtain offer omit paraphrase prepare propose recheck redirect refer refund refuse remind
reopen rephrase replace resolve restate retry rewrite route suggest translate triage""".split())
# A sentence that opens with a word outside this set, followed by one of OBJECT_STARTERS,
# reads as an imperative ("Refund the order", "Triage each message"): verbs outside
# IMPERATIVE_VERBS are recognised without a list of every English verb.
NOT_VERBS = frozenset("""
a about above across after against along also although among an and any around as at
because before behind below beneath beside between beyond both but by despite during each
either every except few for from given here how however i if in inside into it its many
most near neither next no nor not now of on once only or our outside over per since so
some such than that the their then there these they this those though through throughout
to today toward towards under unless until upon via we what whatever when whenever where
whereas wherever whether which while who whom whose why with within without yet you your
""".split())
OBJECT_STARTERS = frozenset(
    "the a an each every all any your their its this that these those them it him her us me "
    "everything anything nothing both no".split()
)
# Openers of an introductory phrase ("For enterprise customers, tell them..."): the
# instruction starts after the first comma.
INTRO_OPENERS = frozenset(
    "for after before during in on at once outside inside with without from between within "
    "upon until while since as under over given".split()
)
LEAD_WORDS = frozenset(
    "always never only then also please first next finally now and so just do don't".split()
)
CLAUSE_LEAD = LEAD_WORDS | {"to", "you", "need"}
STOPWORDS = frozenset(
    "a an the and or of to in on for with at by from as is are be it its this that these "
    "those if when then than your you we our their they them any each every all only not "
    "no has have set".split()
)
PRONOUNS = frozenset("it this that these those they them".split())
PRONOUN_VERBS = frozenset(
    "is are was were be should must will would can could may might has have had does do did "
    "means needs seems looks decides matters indicates shows suggests depends wins win fails "
    "fail applies happens counts works helps gets goes comes".split()
)
PASSIVE_LEADS = frozenset("should must has have needs need is are".split())
PLEASANTRIES = frozenset("hello hi hey thank thanks cheers".split())
KNOWN_ACRONYMS = frozenset(
    "AI API ATH ATL ATR ADX APR APY BB BTC BUY CEO CPI CSV DCA EMA EPS ETF ETH EU EUR FED "
    "FOMC FOMO FUD GDP GMT HIGH HOLD HTML ID IPO ISO JSON KYC AML LLM LOW MA MACD MEDIUM "
    "NASDAQ NFT NO NONE NOTE NULL NYSE OBV OHLC OHLCV OK OTC PDF PNL RSI ROI SEC SELL SL SMA "
    "SOL SQL TP TRUE FALSE TVL UK URL US USA USD USDC USDT UTC VWAP XML YAML YES TODO ETA "
    "IMPORTANT NOT ONE ONLY MUST NEVER ALWAYS LONG SHORT FLAT DO BNB XRP ADA DOGE UI AND OR "
    "IF THE A".split()
)
STRIP = ".,;:!?()[]{}\"'`*"
# A whole token of two to four consonants (tokens are lowercased, joined by single spaces;
# the pattern starts with a literal, so re skips ahead in C).
CLIPPED = re.compile(r" ([b-df-hj-np-tv-xz]{2,4})(?= )")
# Short words without a vowel that are not clipped words: units, ordinals, common shorthand.
KNOWN_CLIPPED = frozenset(
    "mg kg km cm mm ms px hr hrs pts bps pct st nd rd th vs mr mrs dr mph kph kb mb gb tb ml "
    "pm hh mm ss ddd www pdf csv sql html xml jpg png gif cwd pwd ls cd rm mv cp ssh tcp "
    "http https dns smtp nft ltc btc bch xmr bnb tsx js css ts vm cf pnl".split()
)

# --- line structure and template awareness (anchored or literal-led: cheap) ---------------

# Same definition as optimizer.gates: {name}, {name.attr}, {{ name }}. Written to start with
# the literal "{" (both branches share it): re then skips to each "{" in C instead of trying
# the pattern at every position, 30 us less per 2 KB.
PLACEHOLDER = re.compile(r"\{(?:\{\s*[A-Za-z_][\w.]*\s*\}\}|(?<!\{\{)[A-Za-z_][\w.]*\}(?!\}))")
# A value the heuristic rewrite leaves for a person to fill in: <N>, <THRESHOLD>.
SLOT = re.compile(r"<[A-Z][A-Z0-9_]*>")
INLINE_CODE = re.compile(r"`[^`\n]+`")
FENCE = re.compile(r"^\s*(```|~~~)")
JSON_OPEN = re.compile(r'^\s*(?:[{\[]\s*$|\{\s*"|\[\s*[{"\d])')
HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+(.+?)\s*#*\s*$|([A-Z][A-Za-z /&()'-]{1,40}):\s*$)")
LABEL = re.compile(r"^\s*([A-Z][A-Za-z ]{1,24}):\s+\S")
LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)]|[a-z][.)])\s+")
RULE_LINE = re.compile(r"^\s*(?:[-*_=]\s*){3,}$")
# A sentence end followed, on the same line, by the start of another sentence. (Ends at a
# line's end need no regex: a unit of text always ends with its line; a wrapped line ends in
# a lowercase letter or a comma, never in a sentence end.) "[.!?][.!?]*" rather than
# "[.!?]+": a pattern that starts with a character set lets re skip to the candidates.
SENTENCE_BREAK = re.compile(r"[.!?][.!?]*[\"')\]]*(?=[^\S\n]+[\"'(\[]?[A-Z0-9])")
ABBREVIATIONS = ("e.g.", "i.e.", " vs.", "(vs.", " approx.", " incl.", " cf.")
JSON_KEY = re.compile(r"\"([A-Za-z_]\w*)\"\s*:")
TWO_CANDIDATES = re.compile(
    r"\bthe\b[^.;]{1,40}\b(?:and|or|with|versus|vs\.?|than|against)\b\s+(?:the|a|an)\b",
    re.IGNORECASE,
)
SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "examples": ("example", "examples", "sample", "samples"),
    "output": ("output", "format", "response", "answer", "return", "schema", "reply"),
    "inputs": ("input", "inputs", "data", "context", "receive", "given"),
    "role": ("role", "persona", "identity", "who you are", "about you", "profile"),
    "rules": ("rule", "rules", "instructions", "guidelines", "constraints", "decision",
              "decide", "policy", "steps", "procedure", "task", "method", "criteria",
              "process", "logic", "strategy"),
}
SECTION_PATTERNS = {
    kind: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    for kind, words in SECTION_WORDS.items()
}
