"""Word lists for person-name boundary repair (:mod:`._names`); all lower case, compared with ``token.lower_``.

The lists are short and general: they describe how English text surrounds names (greetings,
titles, verbs of addressing someone, role nouns, sign-offs), not any test sentence.
"""

from __future__ import annotations

__all__ = [
    "ADDRESS_VERBS",
    "GREETINGS",
    "HEADER_FIELDS",
    "NOT_NAMES",
    "PARTICLES",
    "PHRASE_CUES",
    "ROLES",
    "SIGN_OFFS",
    "TITLES",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Honorifics and titles: never part of a PERSON span (OntoNotes and Presidio convention, spaCy's too).
TITLES = _words(
    "mr mrs ms miss mx dr prof sir dame lord lady madam rev fr hon mr. mrs. ms. dr. prof. rev. fr. hon. mx. "
    "st. sr sr. jr jr. messrs messrs."
)
# Salutations: a name may follow directly ("Dear Maria", "Hi Tom", "Good morning Ms. Rossi").
GREETINGS = _words("dear hi hello hey hiya yo morning afternoon evening greetings")
# Verbs that take a person as object and that small NER models glue to the name ("Call Ana Souza").
ADDRESS_VERBS = _words(
    "call phone ring email e-mail mail text message msg contact ask meet tell ping invite remind thank thanks "
    "cc bcc attn welcome congratulate congrats congratulations sorry"
)
# Role nouns written before a name ("Customer Li Wei", "Patient Maria Silva"): not part of the name.
ROLES = _words(
    "customer client user patient applicant candidate caller agent employee student tenant member holder "
    "manager officer nurse doctor professor president senator judge captain sergeant colleague contractor "
    "driver technician engineer director minister inspector detective coach"
)
# Email header fields and form labels followed by a name at the start of a line.
HEADER_FIELDS = _words("from to cc bcc attn name signed")
# Multi-word cues ending right before a name: ("my", "name", "is") + "Ibrahim Musa".
PHRASE_CUES: tuple[tuple[str, ...], ...] = (
    ("name", "is"), ("i", "'m"), ("i", "’m"), ("i", "am"), ("this", "is"), ("named",),
    ("good", "morning"), ("good", "afternoon"), ("good", "evening"),
)
# A line holding only these (plus punctuation) is a sign-off; a name on the next line is a signature.
SIGN_OFFS = _words("thanks thank you regards best kind warm many cheers sincerely yours cordially -- br")
# Lower-case words inside names ("Ludwig van Beethoven", "Maria da Silva").
PARTICLES = _words("van von der den de da di del della du la le bin ibn al el dos das ter ten y zu")
_CALENDAR = _words(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec today tomorrow yesterday tonight weekend"
)
# Generic addressees and the heads of organisation or place names: never a person's name.
_GENERIC = _words(
    "team all everyone everybody folks guys friends colleagues customer customers user users there valued "
    "support sales service services help desk helpdesk billing admin administrator hr legal finance "
    "inc llc ltd corp co gmbh ag plc group bank university college school hospital clinic office department "
    "foundation association airlines labs systems technologies solutions partners sons associates company "
    "club center centre street road avenue lane city county state apt suite unit floor building"
)
# Words a capitalised token often is at the start of a sentence or a line.
_SENTENCE_STARTERS = _words(
    "please thanks thank sorry hello hi hey dear yes no ok okay note reminder update urgent fyi re fw fwd "
    "also then so but and or if when while after before since because however meanwhile anyway well "
    "good great happy welcome congratulations congrats best kind regards cheers sincerely spoke talked met "
    "sent subject ticket order invoice meeting call email"
)
# Not a name when extending a span or taking a second chance (besides spaCy's stop words).
NOT_NAMES = TITLES | GREETINGS | ADDRESS_VERBS | ROLES | _CALENDAR | _GENERIC | _SENTENCE_STARTERS
