"""The heuristic analyzer's parts. The public entry point is :func:`optimizer.analyzer.analyze`.

- ``base``: :class:`~optimizer.rules.base.Finding` and the catalogue of rules (``RULES``).
- ``lexicon``: word lists (indexed by first words) and the few regexes, built once at import.
- ``text``: :class:`~optimizer.rules.text.Document`, the prompt split into prose sentences,
  headings, list items and non-prose spans (fenced code, JSON examples, ``{placeholders}``,
  inline code), which are kept out of the prose rules.
- ``scan``: one pass over all tokens: lexicon hits, numbers, values; per-sentence marks
  (instruction, filler, concrete, repeat).
- ``specificity``, ``clarity``, ``ambiguity``: each exposes ``check(doc) -> Result`` with the
  findings of that dimension, its score and the raw numbers the score comes from.
"""
