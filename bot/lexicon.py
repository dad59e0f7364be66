"""Words of English news copy that attribution turns on: saying, denying, roles and bodies.

These are general English, not names: the verbs that report speech, the nouns that name a
statement, the roles people speak in, the institutions a state speaks through, and the voices
that stand outside a dispute. No party, place or person is listed here.
"""

from __future__ import annotations

REPORTING_VERBS = frozenset(
    """say tell claim deny announce insist confirm reject dismiss accuse hail inform state
    report add warn assert allege blame acknowledge admit argue maintain note write post
    declare suggest believe estimate counter dispute refute contend stress explain reiterate
    vow promise predict brand label condemn quote call describe testify concede reply
    respond recount repeat rebut disclose reveal caution urge verify question doubt
    praise threaten pledge demand charge complain boast concede""".split()
)
# Nouns that name a statement: "claims by X", "X's assertion", "the ministry's statement".
SPEECH_NOUNS = frozenset(
    """claim assertion statement announcement allegation accusation report insistence
    denial declaration remark comment""".split()
)
# A light verb with a speech noun is a reporting verb: "cast doubt on", "made the declaration".
LIGHT_VERBS = frozenset("make cast issue give release publish express raise voice".split())
LIGHT_OBJECTS = SPEECH_NOUNS | frozenset("doubt announcement declaration".split())
ANSWER_VERBS = frozenset(["respond", "reply", "comment"])
DENIAL_VERBS = frozenset(
    "deny reject dismiss refute dispute rebut counter question doubt contest".split()
)
# "X accused Y", "X blamed Y": the object is the speaker's opponent.
ACCUSING_VERBS = frozenset("accuse blame condemn criticise criticize".split())

# Roles a person speaks in. The last word of a speaker's description decides whether a
# pronoun can refer to it ("the spokesman ... he said", "the ministry ... it said").
PERSON_ROLES = frozenset(
    """spokesman spokeswoman spokesperson minister chief commander officer official president
    premier chancellor general leader head director secretary ambassador envoy analyst expert
    researcher witness eyewitness resident soldier captain colonel lieutenant major sergeant
    governor mayor adviser advisor aide deputy member lawmaker legislator senator
    congressman congresswoman correspondent reporter journalist founder co-founder chairman
    chairwoman chair executive ceo manager lawyer attorney prosecutor judge economist
    professor scholar academic activist organiser organizer campaigner candidate negotiator
    diplomat pilot fighter militant rebel insurgent worker doctor nurse medic source
    representative counsel king queen prince monarch emperor dictator""".split()
)
FEMALE_ROLES = frozenset("spokeswoman chairwoman congresswoman queen".split())
MALE_ROLES = frozenset("spokesman chairman congressman king prince emperor".split())

# Voices outside a dispute: their words are reported, they are no camp.
INDEPENDENT_ROLES = frozenset(
    """analyst analysts expert experts researcher researchers observer observers monitor
    monitors witness witnesses eyewitness eyewitnesses resident residents local locals
    academic academics professor scholar scholars economist economists blogger bloggers
    watchdog think-tank thinktank pollster pollsters""".split()
)
# Words in an organisation's description that make it an outside voice: a monitoring group,
# a rights group, a humanitarian agency, a research institute, an intergovernmental body.
INDEPENDENT_MARKS = frozenset(
    """monitor monitoring watchdog observatory think tank institute rights humanitarian
    relief charity ngo agency""".split()
)
# Bodies that speak for the international community, not for a party.
INTERNATIONAL_BODIES = ("united nations", "u.n.", "un", "red cross", "red crescent")

# What a state speaks through. A speaker headed by one of these belongs to the country its
# description names ("Sylvania's defence ministry"), and its camp is that country's.
STATE_INSTITUTIONS = frozenset(
    """military army navy forces troops soldiers ministry government administration cabinet
    presidency parliament staff command headquarters junta regime authorities authority
    officials official police embassy intelligence service services office council
    spokesman spokeswoman spokesperson president minister premier leader leadership
    commander commanders chief general generals officer officers corps brigade battalion
    regiment division unit units""".split()
)
# The armed forces of a state, under any of their names: "the military" is "the army".
ARMED_FORCES = frozenset(
    "military army forces troops soldiers junta corps brigade battalion unit units".split()
)
# Nouns for a group that is not a state: it is its own camp.
GROUP_NOUNS = frozenset(
    """group groups militia militias rebels insurgents paramilitary paramilitaries faction
    movement alliance coalition organisation organization party union company firm
    campaign""".split()
)
# Words that make an armed body a non-state one: "an insurgent army", "rebel forces".
NON_STATE_MARKS = frozenset(
    """insurgent insurgents rebel rebels militant militants paramilitary paramilitaries
    separatist separatists guerrilla guerrillas opposition mercenary mercenaries jihadist
    jihadists ethnic militia militias""".split()
)
# Words a state body's name is made of once its country is set aside ("Defence Ministry").
INSTITUTION_WORDS = frozenset(
    """defence defense foreign interior home health justice finance economy education
    emergency emergencies security armed general central state air naval national border
    coast guard special presidential prime public information press media operational
    joint main regional ministry""".split()
)
# Nouns that stand for a place already named ("the city", "the town").
PLACE_NOUNS = frozenset(
    "city town village region province district territory settlement country area".split()
)
# Words saying a body belongs to another: "Sylvanian-backed", "Okavi-run", "Vell-aligned".
OWNED_SUFFIXES = ("-run", "-led", "-controlled", "-owned", "-operated")
BACKED_SUFFIXES = ("-backed", "-aligned", "-allied", "-supported", "-funded", "-sponsored")
