"""Comment-section sentences written for this project, for behaviours the shippable corpora teach poorly.

Nine kinds, each a set of frames in our own words crossed with identity groups, public roles or subjects:
counter-speech that quotes or refers to a hateful claim in order to reject it, negated hateful claims,
positive and neutral statements about groups, first-person statements of who the writer is, statements of
hatred for a group (plain, asked as a question or as praise denied), threats against public figures, swearing
aimed at no one, and harsh words about things.
The frames were written for this module; they are not taken from any published test suite, and the project's
own evaluation suite is neither read nor imported here. Pure Python, no torch: the normal
test suite checks that generation is deterministic and labelled.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from model.corpora import CorpusInfo, Example, LoadedCorpus

NAME = "stage2_synthetic"
SEED = 2026

# Categories every synthetic row labels (spam is left unknown: none of this says anything about spam).
LABELLED = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")

GROUPS = (
    "muslims", "jews", "christians", "hindus", "sikhs", "atheists", "immigrants", "refugees", "black people",
    "white people", "asian people", "latinos", "arabs", "women", "men", "gay people", "lesbians",
    "trans people", "disabled people", "roma", "mexicans", "chinese people", "indians", "africans",
    "catholics", "old people", "deaf people", "nigerians", "poles", "pakistanis",
    # The site's own readership and subjects.
    "armenians", "azerbaijanis", "turks", "russians", "iranians", "georgians", "kurds", "ukrainians",
    "chechens", "persians",
)  # fmt: skip

# One person, for first-person statements of who the writer is.
PEOPLE = (
    "a jew", "a muslim", "a christian", "an armenian", "an azerbaijani", "a turk", "a russian", "an iranian",
    "a georgian", "a kurd", "a black woman", "a black man", "a gay man", "a lesbian", "a trans woman",
    "a trans man", "an immigrant", "a refugee", "a disabled veteran", "a wheelchair user", "a catholic",
    "a hindu", "a sikh", "an atheist", "an arab", "a persian", "a woman", "a jewish mother", "a muslim student",
    "an armenian american", "a kurdish journalist", "a russian speaker", "a deaf reader", "a mexican immigrant",
)  # fmt: skip

# Things a comment can be harsh about without abusing anyone.
SUBJECTS = (
    "the pipeline contract", "this peace plan", "the new visa regime", "the trade deal", "the sanctions bill",
    "the budget proposal", "the referendum question", "the road map for the talks", "the election app",
    "the tariff schedule", "this week's summit communique", "the new metro line", "the ministry website",
    "the transit fee agreement", "the match on saturday", "the draft constitution", "the tax reform",
    "the grain export scheme", "the cable car project", "the paywall on this site",
)  # fmt: skip

ROLES = (
    "the mayor", "the governor", "the senator", "that congressman", "the prime minister", "the president",
    "the police chief", "the school board chair", "the city councillor", "the judge in this case",
    "the health minister", "that news anchor", "the party leader", "the county sheriff", "the ceo",
    "councilwoman Hadley", "senator Okafor", "mayor Lindqvist", "governor Brandt", "minister Castellano",
)  # fmt: skip

# Someone else's hateful claim, reported or quoted so that it can be rejected.
COUNTER_FRAMES = (
    "the guy above says {g} are ruining the town. no, they run half the shops on main street and pay taxes "
    "like the rest of us",
    "someone in this thread wrote that {g} should be thrown out of the country. that is vile and the mods "
    "should remove it",
    'people keep posting "{g} are animals" under every article like this. it is hateful and it is wrong',
    "i am tired of seeing comments calling {g} parasites. my neighbours are {g} and they are good people",
    "saying all {g} are criminals is exactly the kind of bigotry this article is warning about",
    "reported the comment claiming {g} are subhuman. there is no place for that here",
    'to whoever wrote "get rid of the {g}": you are describing real families. shame on you',
    "the idea that {g} are less intelligent was debunked decades ago, stop repeating it",
    "quoting the hate back at them: \"{g} don't belong here\". yes they do. they live here",
    "if your argument boils down to hating {g}, you have lost the argument",
    "i grew up hearing that {g} were dangerous. then i actually met some. the stereotype is garbage, not them",
    "calling {g} vermin in a comment section does not make you brave, it makes you a bigot",
    "the flyer said {g} are a disease. our church covered it with a banner welcoming everyone",
    "no, {g} are not 'taking over'. that is a conspiracy theory and the numbers in the article show it",
    "my uncle says {g} are freeloaders every christmas. every christmas i show him the employment figures",
    "whoever keeps writing that {g} are inferior: the moderators have your ip and the rest of us have your number",
    "the comment calling {g} cockroaches got forty likes. that says more about this section than about them",
    "he called {g} a cancer on the country and the crowd cheered. that clip should worry everyone",
    "repeating that {g} breed like rats is not 'just asking questions', it is dehumanising propaganda",
    "the poster claimed {g} are all terrorists. i am reporting it, and you should too",
    "stop sharing the meme that says {g} are stupid. it is racist and it is not even funny",
    "historians have traced the slander that {g} are traitors back to wartime propaganda",
    "when a politician says {g} are invaders, remember what that word was used to justify before",
    "the article quotes a man shouting that {g} should die. quoting him is not endorsing him",
)  # fmt: skip

# A hateful claim, negated by the writer.
NEGATED_FRAMES = (
    "{g} are not a threat to anyone in this country",
    "nobody here thinks {g} are worse than anyone else",
    "{g} are not criminals, and the data in this piece backs that up",
    "i would never say {g} deserve less than the rest of us",
    "{g} do not need to be sent anywhere, they are already home",
    "there is nothing wrong with {g}, full stop",
    "{g} aren't lazy, most of the ones i know work two jobs",
    "it's simply false that {g} can't be trusted",
    "i don't hate {g} and i don't understand people who do",
    "{g} are not the reason rents went up, landlords are",
    "{g} are no more violent than any other people, the crime statistics are clear",
    "i refuse to believe {g} are the enemy here",
    "nothing in this report suggests {g} are to blame",
    "{g} are not animals and never were, whatever that senator says",
    "it is not true that {g} hate this country",
    "{g} are not a problem to be solved",
    "no one should think less of {g} because of what a few extremists did",
    "contrary to the rumours, {g} did not start the fire",
)  # fmt: skip

POSITIVE_FRAMES = (
    "{g} in our neighbourhood organised the food drive again this winter, thank you",
    "the article should have talked to more {g}, their view on this is worth hearing",
    "so many {g} volunteer at the shelter, the town would be poorer without them",
    "proud that our school welcomes {g} and everyone else",
    "happy holidays to all the {g} reading this",
    "the best teacher i ever had was one of the {g} who moved here in the nineties",
    "glad to see {g} represented on the new council",
    "{g} have added so much to the food and music of this city",
    "my {g} colleagues were the first to offer help when the floods came",
    "respect to the {g} who marched for peace last weekend",
    "the {g} family next door brought us soup when we were ill",
    "i have learned a lot from {g} writers over the years",
    "{g} are as much a part of this city as anyone",
    "hats off to the {g} volunteers at the border crossing",
)  # fmt: skip

NEUTRAL_FRAMES = (
    "how many {g} live in the county according to the last census?",
    "the reporter interviewed several {g} for the second half of the piece",
    "does anyone know if the survey broke the results down for {g}?",
    "the documentary tonight is about {g} in the early twentieth century",
    "a group of {g} is hosting a public talk at the library on thursday",
    "i think the figures for {g} in the third chart are mislabelled",
    "the bill would affect {g} and farmers differently, the article explains how",
    "the census counts {g} separately since 2011",
    "most {g} in the region speak two languages",
    "the museum has a new wing on the history of {g}",
    "there was a debate on the radio about {g} and the new housing law",
    "the map shows where {g} lived before the war",
    "a delegation of {g} met the mayor on tuesday",
)  # fmt: skip

HATE_FRAMES = (
    "i can't stand {g}, every single one of them",
    "{g} are filth and this country would be better without them",
    "honestly {g} are a plague on every place they settle",
    "{g} are subhuman and i don't care who hears me say it",
    "every time i read about {g} i am reminded how much i despise them",
    "{g} are vermin, no other word for it",
    "the world would be a cleaner place with no {g} in it",
    "{g} are a disease and the comments here prove i'm right",
    "never trust {g}, they are liars and thieves by nature",
    "{g} should not be allowed to live among decent people",
    "i loathe {g} and so does everyone i know",
    "{g} are worthless, all of them",
    # The same hatred asked as a question, or as praise denied.
    "why do {g} always lie about everything, what is wrong with them",
    "am i the only one who thinks {g} are leeches on everyone else?",
    "would anyone really miss {g} if they all vanished tomorrow?",
    "how can anyone defend {g} when they are such filthy cheats",
    "{g} are not decent human beings and they never were",
    "there is not one honest person among {g}, not one",
    "{g} have never done anything good for anyone, ever",
    "nobody could call {g} civilised with a straight face",
)  # fmt: skip

THREAT_FRAMES = (
    "someone should put a bullet in {r} before the next vote",
    "if {r} shows up at the town hall i will be waiting with my rifle",
    "{r} will not live to see the end of this term, i will make sure of it",
    "i know where {r} lives and i am going to burn the house down",
    "{r} deserves a rope and i would happily supply it",
    "keep pushing this bill, {r}, and you will find out what a pipe bomb feels like",
    "i'm going to find {r} after the rally and beat them until they stop moving",
    "{r} better watch the car every morning, one day it won't start, it'll explode",
    "count the days, {r}. we are coming for you and your family",
    "i swear i will stab {r} if i ever get close enough",
)  # fmt: skip

# The writer says who they are, then says something ordinary: not abuse of anyone.
SELF_FRAMES = (
    "speaking as {p}, i thought the piece was fair to both sides",
    "i'm {p} and i read this outlet every morning",
    "as {p} myself, i would add one thing to the third paragraph",
    "i am {p}, and i still think the treaty is a good start",
    "being {p}, i found the interviews in this article moving",
    "as {p} living abroad, thank you for covering this so carefully",
    "i'm {p} who disagrees with the author, but respectfully",
    "as {p}, i have been waiting for a report like this",
    "i write this as {p}: the timeline in the article is accurate",
    "as {p} i can confirm the prices in the market have doubled",
    "i'm {p}, born and raised here, and this is the best summary of the talks i have read",
    "as {p}, i was glad the author checked the facts with people on the ground",
    "i am {p}, and most of this matches what my family tells me",
    "as {p} i read every article on this subject, this one is good",
    "i'm {p} and i have relatives on both sides of the border",
    "{p} here: the second half of the piece gets the economics right",
)  # fmt: skip

# Swearing about events and things, aimed at no person: obscene, but not toxic, not an insult.
PROFANITY_FRAMES = (
    "{s} is a fucking shambles and it was obvious from day one",
    "oh for fuck's sake, {s} got delayed again",
    "holy crap, {s} actually went through after all that",
    "what a shitshow {s} turned out to be",
    "{s}? what the fuck were they thinking when they wrote it",
    "damn it, i really hoped {s} would work this time",
    "bloody hell, have you seen the cost of {s}",
    "screw {s}, i am sick of reading about it every morning",
    "{s} is complete bullshit from page one to the end",
    "shit, i forgot {s} starts on monday",
    "fuck me, {s} passed",
    "{s} is a bloody mess, pardon my language",
    "shit happens, but {s} was avoidable",
    "{s} is so damn confusing",
)  # fmt: skip

# Harsh words about a thing, no profanity, no person attacked: not abuse.
OBJECT_FRAMES = (
    "{s} is a useless waste of money and should be binned",
    "i have read {s} twice and it is still nonsense",
    "{s} is the worst piece of planning i have seen in years",
    "frankly {s} is a farce, nobody believes it will last",
    "{s} is stupid and everyone who reads it can see that",
    "{s} looks like it was written by a broken printer",
    "{s} is a catastrophe waiting to happen",
    "what an idiotic design {s} has, it makes no sense at all",
    "{s} is trash and the editorial board should say so",
    "{s} deserves to die in committee",
    "{s} is pathetic and the numbers do not add up",
    "{s} is rubbish, plain and simple",
    "what a disgusting waste of public money {s} is",
    "{s} is dead on arrival, nobody will sign it",
    "{s} is a joke and a bad one",
)  # fmt: skip

KINDS = ("counter_speech", "negated", "positive", "neutral", "self", "hate", "threat", "profanity", "object")

_NON_TOXIC = dict.fromkeys(LABELLED, 0)
LABELS: dict[str, dict[str, int]] = {
    "counter_speech": dict(_NON_TOXIC),
    "negated": dict(_NON_TOXIC),
    "positive": dict(_NON_TOXIC),
    "neutral": dict(_NON_TOXIC),
    "self": dict(_NON_TOXIC),
    # Plain hatred of a group: toxic and an identity attack, with no violence in these frames; whether it is
    # an insult or severe is left unknown.
    "hate": {"toxicity": 1, "identity_attack": 1, "threat": 0},
    # A threat of violence at a named role, no group mentioned; insult and severity left unknown.
    "threat": {"toxicity": 1, "threat": 1, "identity_attack": 0},
    "profanity": {**_NON_TOXIC, "obscene": 1},
    "object": dict(_NON_TOXIC),
}

_FRAMES: dict[str, tuple[str, ...]] = {
    "counter_speech": COUNTER_FRAMES,
    "negated": NEGATED_FRAMES,
    "positive": POSITIVE_FRAMES,
    "neutral": NEUTRAL_FRAMES,
    "self": SELF_FRAMES,
    "hate": HATE_FRAMES,
    "threat": THREAT_FRAMES,
    "profanity": PROFANITY_FRAMES,
    "object": OBJECT_FRAMES,
}
_FILLERS = {"threat": ROLES, "profanity": SUBJECTS, "object": SUBJECTS, "self": PEOPLE}

# How many (frame, filler) pairs of each kind to keep; every frame keeps at least one.
PER_KIND = {
    "counter_speech": 600, "negated": 420, "positive": 320, "neutral": 300, "self": 480, "hate": 360, "threat": 200,
    "profanity": 220, "object": 220,
}  # fmt: skip


@dataclass(frozen=True)
class Sentence:
    """One generated sentence with its kind and labels."""

    text: str
    kind: str
    labels: dict[str, int]


def _fill(frame: str, filler: str) -> str:
    """A frame with its group or role slot filled, first letter capitalised for some frames."""
    return frame.format(g=filler, r=filler, s=filler, p=filler)


def generate(seed: int = SEED) -> list[Sentence]:
    """Every kind's sentences, the same list for the same seed, in a fixed order."""
    out: list[Sentence] = []
    for kind in KINDS:
        fillers = _FILLERS.get(kind, GROUPS)
        frames = _FRAMES[kind]
        pairs = [(f, w) for f in range(len(frames)) for w in range(len(fillers))]
        rng = random.Random(f"{seed}:{kind}")
        rng.shuffle(pairs)
        chosen = sorted(pairs[: PER_KIND[kind]])
        for missing in sorted(set(range(len(frames))) - {f for f, _ in chosen}):
            chosen.append((missing, missing % len(fillers)))
        for f, w in chosen:
            text = _fill(frames[f], fillers[w])
            if rng.random() < 0.5:
                text = text[0].upper() + text[1:]
            out.append(Sentence(text, kind, dict(LABELS[kind])))
    return out


INFO = CorpusInfo(
    name=NAME,
    title="Stage-2 behaviour sentences (written for this project)",
    source="model/stage2/synthetic.py in this repository",
    licence="same as this project",
    shippable=True,
    attribution="Written by the project; no third-party text.",
    categories=LABELLED,
    mapping="Comment-section frames crossed with identity groups or public roles: counter-speech quoting or "
    "describing hate to reject it, negated hateful claims, positive and neutral statements about groups (all "
    "six abuse categories 0); the writer naming their own identity in an ordinary comment (all six 0); plain "
    "hatred of a group (toxicity 1, identity_attack 1, threat 0; insult and "
    "severity unknown); threats of violence against public figures (toxicity 1, threat 1, identity_attack 0); "
    "swearing about an event or a thing (obscene 1, the other five 0); harsh words about a thing (all six 0). "
    "Spam is unknown throughout.",
)


def synthetic_corpus(seed: int = SEED) -> LoadedCorpus:
    """The generated sentences as a corpus (group = kind), with a hash of their text and labels."""
    sentences = generate(seed)
    examples = [Example(s.text, dict(s.labels), NAME, group=s.kind) for s in sentences]
    digest = hashlib.sha256()
    for s in sentences:
        digest.update(f"{s.kind}\x00{s.text}\x00{sorted(s.labels.items())}\n".encode())
    return LoadedCorpus(INFO, examples, [], digest.hexdigest())
