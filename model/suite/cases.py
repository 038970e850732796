"""The project's own functional suite: reader comments, written here, each with the outcome the policy should give.

Every case is a comment as readers write them under long geopolitical articles (talks, ceasefires, pipelines,
elections, refugees, football), built from frames written for this project and filled with the site's groups,
public figures' titles and article topics. `functional_suite()` generates them deterministically (a seeded
`random.Random` chooses slots; nothing random runs at import). Nothing here trains anything.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from model.suite import slurs

SEED = 20261203
FLAG = "flag"  # the policy should review or reject the comment
CLEAR = "clear"  # the policy should approve the comment
OUTCOMES = (FLAG, CLEAR)


@dataclass(frozen=True)
class Case:
    """One suite comment: its text, the behaviour it tests, the group it is about and the expected outcome."""

    text: str
    behaviour: str
    group: str | None
    expected: str  # FLAG or CLEAR
    category: str | None = None  # the category expected to fire, when one is


@dataclass(frozen=True)
class Behaviour:
    """What a behaviour tests, the outcome every case of it expects, and the category expected to fire."""

    meaning: str
    expected: str
    category: str | None


BEHAVIOURS: dict[str, Behaviour] = {
    "derogation_direct": Behaviour("explicit negative claims about a group", FLAG, "identity_attack"),
    "derogation_implicit": Behaviour("contempt for a group implied by stereotype or hint", FLAG, "identity_attack"),
    "dehumanization": Behaviour("a group called animals, vermin, disease or less than human", FLAG, "identity_attack"),
    "threat_direct": Behaviour("the writer threatens violence against a group", FLAG, "threat"),
    "threat_normative": Behaviour("violence against a group called for or approved of", FLAG, "threat"),
    "threat_public_figure": Behaviour("violence threatened or called for against a public figure", FLAG, "threat"),
    "slur": Behaviour("a slur aimed at a group or its members", FLAG, "identity_attack"),
    "profanity_targeted": Behaviour("profanity aimed at a person", FLAG, "insult"),
    "profanity_untargeted": Behaviour("profanity aimed at no one (frustration, emphasis): no abuse", CLEAR, None),
    "hate_question": Behaviour("hate about a group phrased as a question", FLAG, "identity_attack"),
    "hate_opinion": Behaviour("hate about a group phrased as the writer's opinion", FLAG, "identity_attack"),
    "negated_hate": Behaviour("a hateful claim about a group, negated or rejected", CLEAR, None),
    "negated_praise": Behaviour("praise of a group negated, which derogates it", FLAG, "identity_attack"),
    "identity_positive": Behaviour("a positive statement about a group", CLEAR, None),
    "identity_neutral": Behaviour("a neutral statement that mentions a group", CLEAR, None),
    "counter_quote": Behaviour("counter-speech that quotes hate in order to reject it", CLEAR, None),
    "counter_reference": Behaviour("counter-speech that refers to hate without quoting it", CLEAR, None),
    "abuse_object": Behaviour("harsh words about a thing (a deal, an article, a match), not a person", CLEAR, None),
    "abuse_individual": Behaviour("abuse of one person, not for an identity", FLAG, "insult"),
    "abuse_group": Behaviour("abuse of a group that is not an identity (commenters, officials, fans)", FLAG, "insult"),
    "slur_reclaimed": Behaviour("a slur reclaimed by a member of the group it once targeted", CLEAR, None),
    "slur_homonym": Behaviour("a word spelled like a slur, in its other, ordinary meaning", CLEAR, None),
    "evasion_swap": Behaviour("hate with its key word's letters swapped", FLAG, None),
    "evasion_deletion": Behaviour("hate with a letter of its key word deleted", FLAG, None),
    "evasion_leet": Behaviour("hate with its key word in leetspeak", FLAG, None),
    "evasion_spacing": Behaviour("hate with its key word's letters spaced or dotted apart", FLAG, None),
}


@dataclass(frozen=True)
class GroupForms:
    """How a group is named in a sentence: plural noun, one member (with article) and adjective."""

    plural: str
    one: str
    adjective: str


GROUPS: dict[str, GroupForms] = {
    "armenians": GroupForms("Armenians", "an Armenian", "Armenian"),
    "azerbaijanis": GroupForms("Azerbaijanis", "an Azerbaijani", "Azerbaijani"),
    "turks": GroupForms("Turks", "a Turk", "Turkish"),
    "russians": GroupForms("Russians", "a Russian", "Russian"),
    "iranians": GroupForms("Iranians", "an Iranian", "Iranian"),
    "georgians": GroupForms("Georgians", "a Georgian", "Georgian"),
    "kurds": GroupForms("Kurds", "a Kurd", "Kurdish"),
    "jews": GroupForms("Jews", "a Jew", "Jewish"),
    "muslims": GroupForms("Muslims", "a Muslim", "Muslim"),
    "christians": GroupForms("Christians", "a Christian", "Christian"),
    "women": GroupForms("women", "a woman", "female"),
    "gay people": GroupForms("gay people", "a gay man", "gay"),
    "trans people": GroupForms("trans people", "a trans woman", "trans"),
    "immigrants": GroupForms("immigrants", "an immigrant", "immigrant"),
    "black people": GroupForms("Black people", "a Black man", "Black"),
    "disabled people": GroupForms("disabled people", "a disabled person", "disabled"),
}

# Slots chosen by the seeded generator. Threats name titles, never real people.
TOPICS = (
    "the Tehran talks", "the ceasefire on the border", "the pipeline deal", "the transit corridor",
    "the election in Tbilisi", "the refugee quota", "the new sanctions package", "the draft peace treaty",
    "the gas transit agreement", "the Champions League qualifier", "the border demarcation",
    "the prisoner exchange", "the referendum", "the grain corridor", "the customs union vote",
)  # fmt: skip
FIGURES = (
    "the foreign minister", "the mayor", "the ambassador", "the defence minister", "the speaker of parliament",
    "the chief negotiator", "the opposition leader", "the regional governor", "the central bank governor",
    "the deputy prime minister", "the president's spokesman", "the head of the election commission",
    "the interior minister", "the party chairman", "the football federation president",
)  # fmt: skip
HANDLES = (
    "@steppe_wolf", "@Arsen_K77", "@baku_observer", "@Tamar_in_Kutaisi", "@caspian_realist", "@old_diplomat",
    "@Nino_G", "@zangezur_watch",
)  # fmt: skip
# Persons spoken about; frames that speak to the person ("you") take a reader's handle instead.
PEOPLE = HANDLES + (
    "the author", "the columnist", "the user above", "the guy who wrote the last reply", "the editor",
    "the person who posted the map",
)  # fmt: skip
CROWDS = (
    "the people defending the ministry in this thread", "the negotiators in Tehran", "the away fans",
    "the journalists at this paper", "the election observers", "the moderators here", "the pipeline lawyers",
    "the members of the parliamentary committee", "the bloggers who cover the region", "the think-tank experts",
    "the pundits on state television", "the trolls in this comment section",
)  # fmt: skip
THINGS = (
    "this article", "the ceasefire agreement", "the new pipeline route", "the referee's decision",
    "the election law", "the ministry's statement", "the draft treaty", "the customs reform",
    "the stadium", "the state broadcaster's coverage", "the transit corridor plan", "the budget",
)  # fmt: skip

# ---------------------------------------------------------------------------
# Frames over a group: {groups} plural, {one} one member, {adj} adjective; {topic} and {figure} from the slots.

GROUP_FRAMES: dict[str, tuple[str, ...]] = {
    "derogation_direct": (
        "After reading about {topic} I can only say it plainly: {groups} are liars and thieves, every one of them.",
        "{groups} are a disgusting people, and nothing in this long article changes that.",
        "Whatever the analysts say about {topic}, {groups} are worthless and the region would be better without them.",
        "{groups} are filthy and stupid, which is why nobody should sit at a table with them.",
        "I have lived next to {groups} for twenty years and they are the most dishonest, lazy people on earth.",
        "{groups} are too dumb to run a village, let alone take part in {topic}.",
        "Let me be clear for the author: {adj} people are scum, and that is all there is to say about {topic}.",
        "{groups} are born cheats and the negotiators in Tehran are fools to trust them.",
        "Every {adj} politician is corrupt because {groups} are a corrupt, rotten people.",
        "{groups} are pathetic and useless; {topic} only proves it again.",
        "The problem with {topic} is simple: {groups} are a nasty, hateful lot who ruin everything they touch.",
        "{groups} are the dumbest people in the Caucasus and the rest of us pay for it.",
        "No amount of diplomacy fixes the fact that {groups} are vile, greedy people.",
        "{groups} are a stain on this country and I am sick of pretending otherwise.",
        "Reading the comments about {topic}, it is obvious again that {groups} are brainless and dangerous.",
    ),
    "derogation_implicit": (
        "Funny how every time {topic} stalls there is {one} somewhere behind it, pulling the strings.",
        "I would never let {one} near my money, and after {topic} you all know exactly why.",
        "Let's be honest, you cannot expect {groups} to understand how a real state works.",
        "Typical of {groups} to smile at the negotiating table and stab you in the back the moment it is signed.",
        "If {groups} keep moving into our district the property prices will collapse, just watch.",
        "It is in their blood: {groups} have never kept a promise, so why would {topic} be different?",
        "My landlord will not rent to {groups} any more, and honestly I cannot blame him after what I have seen.",
        "Amazing that {one} managed to write something this coherent; someone must have helped.",
        "Every neighbourhood that lets {groups} in ends up with empty shops and full police stations.",
        "You can always tell when {groups} have had a hand in a deal: it smells, like {topic}.",
        "Hire {one} and you will soon find half of the office supplies gone, as everyone knows.",
        "Don't be surprised that {topic} failed; it was left to {groups}, and they are what they are.",
        "Notice how {groups} always play the victim whenever {topic} is in the news.",
        "We all know what happens to a country once {groups} are allowed anywhere near power.",
        "Give {groups} a seat in parliament and within a year the country is a backward mess.",
    ),
    "dehumanization": (
        "{groups} are animals, and the article is naive to talk about {topic} with them as if they were people.",
        "{groups} are vermin that breed in the border villages and spread everywhere.",
        "After {topic} it should be obvious that {groups} are a disease eating this region from the inside.",
        "{groups} are cockroaches; you get rid of one and ten more crawl out.",
        "{groups} are not human beings, they are beasts in suits pretending to negotiate.",
        "{adj} people are parasites living off the rest of us, and {topic} is just their latest feeding.",
        "{groups} are rats swarming over the border, and the government keeps the doors open for them.",
        "Talking to {groups} is like talking to apes: lots of noise, no understanding.",
        "{groups} are subhuman filth and {topic} should never have included them.",
        "{groups} are a plague of locusts on every country that takes them in.",
        "Calling {groups} people is generous; they are closer to a pack of stray dogs.",
        "{groups} are a cancer on this continent, and {topic} just lets it grow.",
        "{groups} are insects, and you do not sign treaties with insects.",
        "{groups} are an infestation, nothing more, and the city needs to be cleaned of them.",
    ),
    "threat_direct": (
        "If I see any {groups} at the rally about {topic} tomorrow, I will beat them until they stop breathing.",
        "I am going to burn down the {adj} community centre on my street, and I will do it this week.",
        "Any {adj} family that moves onto our block will be dragged out and shot, I promise you that.",
        "Next time {one} comes into my shop I will break every bone in their body.",
        "I swear I will stab the first {adj} person I meet after {topic} is signed.",
        "We are coming for you, {groups}; we know where you live and we will kill you all.",
        "I have a rifle and a list of where the {groups} in this town live, and I intend to use both.",
        "I will personally put a bullet in every {adj} protester outside the parliament.",
        "Keep celebrating {topic}, {groups}, because my friends and I will slaughter you in the streets.",
        "I will hunt down {groups} in this city one by one until none are left.",
        "If {topic} goes through I will blow up the {adj} cultural centre with everyone inside.",
        "I am going to find {one} tonight and beat them to death with my own hands.",
        "Mark my words: I will set fire to every {adj} house on the hill before the summer is over.",
        "I will strangle the next {adj} neighbour who dares to speak to me about {topic}.",
    ),
    "threat_normative": (
        "Someone should round up all the {groups} in the city and shoot them, and then {topic} can go ahead.",
        "{groups} deserve to be hanged in the main square, every last one of them.",
        "The army should just flatten the towns where {groups} live and end this conversation about {topic}.",
        "Honestly, the best thing for {topic} would be if {groups} were wiped out.",
        "{groups} should be lined up against a wall and shot, and nobody would miss them.",
        "It would be a good day if a mob burned every {adj} shop in the old town.",
        "The only peace {groups} understand is a bullet, so let the soldiers give it to them.",
        "{groups} should all be thrown into the sea, and the border would be quiet at last.",
        "If someone killed a few {groups} as a warning, the rest would soon learn to behave.",
        "Gas them all. That is the only solution to the {adj} question, whatever {topic} says.",
        "We need a new pogrom to teach {groups} their place after {topic}.",
        "{groups} should be beaten in the streets until they leave this country for good.",
        "Any {adj} activist who speaks about {topic} should be shot on sight.",
        "Exterminating {groups} would be a service to humanity, as far as I am concerned.",
    ),
    "hate_question": (
        "Why are {groups} always such liars and thieves, can anyone explain it after {topic}?",
        "Honest question: is there a single {adj} person who is not a filthy cheat?",
        "Why does anyone still pretend {groups} are human, after everything they did during {topic}?",
        "Can someone tell me why {groups} are so stupid that they cannot run their own affairs?",
        "Isn't it obvious that {groups} are vermin who should never have been let into Europe?",
        "Why should we waste {topic} on {groups} when they are all parasites anyway?",
        "Has anyone ever met {one} who was not a disgusting, lying rat?",
        "How much longer do we have to put up with {groups} polluting our cities?",
        "Is it really a surprise that {groups}, the most backward people in the region, wrecked {topic}?",
        "Why do {groups} breed like rabbits and contribute nothing but crime?",
        "What else would you expect from {groups}, a people of thieves, in a deal like {topic}?",
        "Wouldn't the world be cleaner without {groups} in it?",
        "Who in their right mind would trust a filthy {adj} snake with {topic}?",
        "Are {groups} born this dishonest, or do they learn it from their disgusting parents?",
    ),
    "hate_opinion": (
        "In my opinion {groups} are a plague on this region, and {topic} only confirms it.",
        "I think {groups} are the lowest form of life, and I am entitled to say so.",
        "Just my view, but {groups} are worthless parasites and always will be.",
        "Personally I believe {groups} are too stupid and too violent to live among decent people.",
        "I honestly feel that {groups} are filth, and reading about {topic} only made that feeling stronger.",
        "My opinion, after forty years in this region: {groups} are liars and thugs by nature.",
        "I'm not afraid to say it: I think {groups} are disgusting and should leave.",
        "Call me old-fashioned, but I consider {groups} subhuman, whatever the article says.",
        "I believe the world would be better off without {groups}, and {topic} proves me right.",
        "If you ask me, {groups} are a diseased people who poison everything, starting with {topic}.",
        "It is my considered view that {groups} are vermin who do not deserve a country.",
        "I feel, and many here feel the same, that {groups} are nothing but criminals and leeches.",
        "I have always thought {groups} were inferior, and {topic} has not changed my mind.",
        "To me {groups} are simply trash, and I don't care who knows it.",
    ),
    "negated_hate": (
        "I will never accept the idea that {groups} are inferior, whatever is said about {topic}.",
        "Nobody serious believes {groups} are less human than anyone else, and the article does not say so either.",
        "{groups} are not liars or thieves, and blaming them for {topic} is lazy.",
        "It is simply false that {groups} are dangerous; the figures in the article show the opposite.",
        "I don't think {groups} are to blame for {topic}; the governments are.",
        "No, {groups} are not a threat to this country, and repeating it does not make it true.",
        "{groups} are not parasites, they pay taxes, run businesses and vote like everyone else.",
        "There is nothing dirty or backward about {groups}, and the old prejudice should die out.",
        "I refuse to believe that {one} is worth less than anyone else at the table.",
        "Saying {groups} cannot be trusted is not an argument, and it is not true either.",
        "{groups} do not deserve the blame for {topic}, and they certainly do not deserve hatred.",
        "It is not true that {groups} breed crime; the article's data on the district says otherwise.",
        "I have never believed that {groups} are stupid, and my years in the region confirmed it.",
        "{groups} are not animals and never were, whatever the nationalists shout.",
    ),
    "negated_praise": (
        "{groups} are not decent people, and {topic} has shown it again.",
        "I would never call {one} honest, not after what happened with {topic}.",
        "There is nothing admirable about {groups}; they have never contributed anything to this region.",
        "{groups} are not intelligent enough to be trusted with {topic}, let alone a state.",
        "Don't tell me {groups} are hard-working; they have never done an honest day's work.",
        "{groups} are in no way civilised, and pretending otherwise is how we got into {topic}.",
        "Not a single {adj} person I have met could be called trustworthy.",
        "{groups} have no culture worth the name and no history worth telling.",
        "I have never met {one} who deserved the least bit of respect.",
        "{groups} are not a peaceful people and never will be, treaty or no treaty.",
        "Nobody could describe {groups} as kind or generous, least of all their neighbours.",
        "{groups} are not worth the paper {topic} is written on.",
        "Whatever else they are, {groups} are not human beings with any dignity.",
        "{groups} are not fit to live in a modern country, and {topic} will not make them so.",
    ),
    "identity_positive": (
        "The {adj} colleagues I had in Tbilisi were the most generous people I have met, and they followed {topic}.",
        "{groups} in my town organised the food bank during the winter, and the article could have mentioned it.",
        "I have great respect for {groups}; their stories deserve more room in coverage of {topic}.",
        "Some of the best analysis of {topic} I have read came from {adj} scholars.",
        "My best friend is {one}, and they explained {topic} to me better than any newspaper.",
        "{groups} have enriched this city for generations, from its music to its bakeries.",
        "It was {one} who pulled my father out of the rubble after the earthquake, and I will never forget it.",
        "Proud to live in a neighbourhood where {groups} and everyone else look after each other.",
        "The {adj} volunteers at the border crossing were kind, patient and brave.",
        "Thank you to the {adj} readers here who always add facts and sources to these debates.",
        "{groups} I met in Yerevan and Baku alike were warm hosts, whatever their governments say about {topic}.",
        "The {adj} choir at the memorial concert was the most moving part of the whole evening.",
        "{groups} have built some of the best small businesses in this province.",
        "I admire the {adj} journalists who keep reporting on {topic} despite the pressure.",
    ),
    "identity_neutral": (
        "Roughly a third of the {groups} in the region voted in the last election, according to the article.",
        "The census counts {groups} separately in each district, which is why the figures on {topic} differ.",
        "My neighbour is {one}; we usually talk about football rather than {topic}.",
        "The article says {adj} organisations were invited to the consultation on {topic}.",
        "Do we know how many {groups} live in the capital now? The piece gives no number.",
        "The ministry published a report on {adj} employment, and it is linked at the bottom of the page.",
        "I am {one}, and I read this site every morning with my coffee.",
        "The university offers a course on the history of {groups} in the Caucasus.",
        "{groups} were also mentioned in the second half of the interview, about housing.",
        "There was a panel of {adj} speakers at the conference on {topic} last spring.",
        "The documentary on {groups} in the diaspora will air on Thursday evening.",
        "The {adj} association in our city asked the city council for a meeting about {topic}.",
        "The survey interviewed {groups} in three cities about the cost of living.",
        "How did {adj} voters split in the referendum? I could not find it in the article.",
    ),
    "counter_quote": (
        'Someone above wrote "{groups} are parasites". That is disgusting, and the moderators should remove it.',
        'To the commenter who said "{groups} should be shot": this is exactly the hatred that wrecked {topic}.',
        'The poster at the rally read "{groups} are vermin", and I am ashamed that people in my city carried it.',
        'When my uncle says "{groups} are all liars" at dinner, I tell him he is wrong and why.',
        'Writing "kill all {groups}" on a wall is not patriotism, it is a crime, and the police should treat it so.',
        'I keep seeing "{groups} are animals" in these threads. Report it every time; it is dehumanising.',
        'The article quotes a banner saying "{groups} out", and it rightly calls that a sign of rising hatred.',
        'If your argument about {topic} ends with "{groups} are subhuman", you have no argument.',
        'People who post "{groups} are a disease" should read the history of what such words led to.',
        'My son came home repeating "{groups} are dirty", and we had a long talk about where he heard it.',
        'The minister was right to condemn the chant "death to {groups}" at the match.',
        'Nobody should have to read "{groups} are scum" under an article about {topic}.',
        'Saying "{groups} are thieves" is a stereotype, not an analysis, and it has no place here.',
        'The graffiti "{groups} go home" appeared again on the school wall, and the parents painted over it.',
    ),
    "counter_reference": (
        "The comments calling {groups} vermin are vile, and I hope the site bans the people who wrote them.",
        "Blaming {groups} for {topic} is the oldest trick of failing politicians; don't fall for it.",
        "I am tired of reading hatred against {groups} under every article about {topic}.",
        "Hate speech against {groups} rose after the war, and the report in the article documents it well.",
        "Whoever spray-painted threats on the {adj} school should be found and prosecuted.",
        "The slurs shouted at {adj} players during the qualifier shame the whole club.",
        "Treating {groups} as the enemy is what the propagandists want, and it is wrong.",
        "The dehumanising language about {groups} in this thread is exactly what leads to violence.",
        "Attacks on {groups} are attacks on all of us, and the city should say so loudly.",
        "I reported three comments here that insulted {groups}; please do the same.",
        "It is shameful that {groups} have to fear for their safety because of a debate about {topic}.",
        "Stereotypes about {groups} being dishonest are lazy and false, and the author is right to challenge them.",
        "The hateful posts about {groups} are not opinions, they are abuse.",
        "Politicians who stir up hatred of {groups} to win votes on {topic} should be voted out.",
    ),
}

SLUR_FRAMES = (
    "Of course the {slurs} are celebrating {topic}; they always do.",
    "Another article about {topic} and again the {slurs} in the comments crying about it.",
    "Get these {slurs} out of our country before they ruin it like everything else.",
    "The {slurs} running the ministry should be kicked out along with their families.",
    "No {slur} will ever sit at the negotiating table in my name.",
    "Listen, you dirty {slur}, nobody asked for your opinion on {topic}.",
    "The neighbourhood was fine until the {slurs} moved in last year.",
    "I don't take orders about {topic} from a {slur}.",
    "Every {slur} in this thread should be banned from the site.",
    "Typical {slur}, lying about {topic} as usual.",
    "Shut up, {slur}, and go back to where you came from.",
    "The {slurs} won the election and now they want a say in {topic} too.",
)

# Reclaimed words, each with frames spoken by a member of the group.
RECLAIMED_FRAMES: dict[str, tuple[str, ...]] = {
    "queer": (
        "As a {word} Armenian living in Yerevan, I found the section on the diaspora moving.",
        "We {word} folks in Tbilisi marched again this year, and the article's photos are ours.",
        "I am {word} and proud, and I read every piece this site publishes on {topic}.",
        "Our {word} reading group discussed the essay on exile after it came out.",
        "Being {word} in Baku is not easy, but the young people I know are braver than their parents.",
        "The {word} community centre I volunteer at is collecting winter coats for the refugees.",
        "As {word} people we have learned to read news like this between the lines.",
        "My {word} friends and I watched the debate on {topic} at the bar where we always meet.",
        "I came out as {word} at twenty, in a small town near Ganja, and my mother stood by me.",
        "The {word} film festival in Tbilisi screened a documentary about families split by {topic}.",
    ),
    "dyke": (
        "My wife and I call ourselves proud {word}s, and we have followed {topic} since the start.",
        "The {word} march in our city drew twice as many people this year, and no one was hurt.",
        "Speaking as an old {word} who came out in the nineties, things have really changed here.",
        "Our {word} football team played a friendly against the embassy staff last weekend.",
    ),
    "crip": (
        "We {word}s fought for accessible polling stations, and this election we finally got them.",
        "As a {word} in a wheelchair I would love to see the new metro stations the article praises.",
        "The {word} activists in our city taught the council what accessible really means.",
        "Speaking as a proud {word}, the ramp at the new ministry building is a small victory.",
        "Our {word} collective wrote to the election commission about ballots in Braille.",
        "Old {word}s like me remember when no bus in this city had a lift.",
    ),
}
RECLAIMED_GROUPS: dict[str, tuple[str, ...]] = {"queer": ("gay people", "trans people"), "dyke": ("gay people",)}

# ---------------------------------------------------------------------------
# Frames without a group: public figures, persons, crowds, things, topics.

THREAT_FIGURE_FRAMES = (
    "{figure} should be shot for signing this ceasefire.",
    "If {figure} sets foot in our town after {topic}, I will slit his throat.",
    "Someone needs to put a bullet in {figure} before he sells out the country.",
    "I hope {figure} is hanged for what he did during {topic}, and I would gladly watch.",
    "I know which car {figure} drives; one day soon it will not start again, if you know what I mean.",
    "I will wait for {figure} outside the ministry and beat him until he cannot stand.",
    "Whoever blows up {figure}'s motorcade will be a national hero.",
    "{figure} deserves to be dragged out of his office and lynched by the crowd.",
    "If {figure} signs {topic}, his family should fear for their lives.",
    "I am going to find out where {figure} lives and burn his house down.",
    "One brave man with a rifle could rid us of {figure} tomorrow.",
    "Kill {figure}. That is the only way {topic} will ever be stopped.",
    "{figure} will not survive the week if he keeps pushing {topic}, I will make sure of that.",
    "I will cut {figure}'s tongue out the next time he lies about {topic}.",
    "Someone should poison {figure} at the next reception, and good riddance.",
)
PROFANITY_TARGETED_FRAMES = (
    "{person}, you are a fucking idiot if you think {topic} will ever work.",
    "Go fuck yourself, {person}, you clueless prick.",
    "{person} is a lying piece of shit and everyone here knows it.",
    "Shut the fuck up, {person}; nobody wants your stupid opinion on {topic}.",
    "{person}, you absolute dickhead, read the article before you reply.",
    "What a fucking moron {person} is, writing that garbage about {topic}.",
    "{person} can kiss my ass with his fake analysis.",
    "{person}, you bitch, stop spamming the thread with the same crap.",
    "Eat shit, {person}, you and your pathetic maps.",
    "{person} is a total asshole, as his comments on {topic} show.",
    "Fuck you, {person}, and fuck your propaganda about {topic}.",
    "{person}, you dumb bastard, nobody asked you.",
    "Honestly {person}, you are the biggest shithead on this site.",
    "{person} talks out of his ass about {topic} every single time, the wanker.",
)
PROFANITY_UNTARGETED_FRAMES = (
    "Holy shit, what a mess {topic} has become since the spring.",
    "Damn, I did not expect {topic} to collapse this fast.",
    "Fucking finally, {topic} is signed after eleven years of talks.",
    "Well, shit. There goes {topic}, and with it my hopes for a quiet summer.",
    "What the hell happened with {topic}? The article leaves out the second week.",
    "Bloody hell, the numbers in the third paragraph about {topic} are astonishing.",
    "I am so damn tired of waiting for news about {topic}.",
    "This shit is complicated; thank you for explaining {topic} so clearly.",
    "Fuck, I missed the live stream about {topic}; is there a recording?",
    "Crap, my flight was cancelled because of the protests over {topic}.",
    "Jesus Christ, the queue at the border was six hours long again during {topic}.",
    "Goddamn, what a goal in the last minute; I forgot all about {topic} for a moment.",
    "Oh hell yes, {topic} finally made the front page.",
    "Shit happens, as my grandfather said after every failed round of {topic}.",
)
ABUSE_OBJECT_FRAMES = (
    "{thing} is a worthless piece of paper, and {topic} will not change that.",
    "{thing} is garbage from start to finish.",
    "Honestly, {thing} is the most idiotic idea I have seen this year.",
    "{thing} is a disgrace and an embarrassment to the whole region.",
    "What a pathetic, useless mess {thing} turned out to be.",
    "{thing} is a joke, a bad one, and everyone involved in {topic} knows it.",
    "{thing} is stupid, expensive and pointless.",
    "I have never seen anything as ridiculous as {thing}.",
    "{thing} is a total disaster; scrap it and start again.",
    "{thing} is rubbish dressed up as policy.",
    "{thing} is dead on arrival, a complete waste of everyone's time.",
    "Frankly {thing} is a trainwreck, and {topic} made it worse.",
    "{thing} is an insult to the intelligence of every reader.",
    "{thing} is the dumbest thing to come out of {topic}.",
)
ABUSE_INDIVIDUAL_FRAMES = (
    "{person} is a pathetic, lying moron who knows nothing about {topic}.",
    "{person}, you are too stupid to understand a map, let alone {topic}.",
    "What an ignorant clown {person} is; every reply is dumber than the last.",
    "{person} is a brainless troll paid by some ministry.",
    "{person}, you are a disgusting little coward hiding behind a nickname.",
    "{person} is the most worthless idiot who ever commented here.",
    "Nobody cares what you think, {person}, you miserable loser.",
    "{person} is a dimwit with the manners of a pig.",
    "{person}, you are a spineless, dishonest hack.",
    "Only a complete imbecile like {person} could misread {topic} this badly.",
    "{person} is a pompous fool and a liar.",
    "{person}, you are an embarrassment, an illiterate buffoon.",
    "{person} has the brain of a goldfish and the honesty of a con man.",
    "{person}, you utter cretin, go back to school.",
)
ABUSE_GROUP_FRAMES = (
    "{crowd} are a bunch of brainless idiots.",
    "{crowd} are pathetic liars, every one of them, on {topic} as on everything else.",
    "{crowd} are clowns who could not organise a birthday party.",
    "I have nothing but contempt for {crowd}, a pack of morons.",
    "{crowd} are useless, spineless cowards.",
    "{crowd} are the stupidest people I have ever had the misfortune to read.",
    "{crowd} are a herd of ignorant sheep.",
    "{crowd} are corrupt, lazy parasites on the public purse.",
    "{crowd} are dishonest hacks and idiots, and {topic} proved it.",
    "{crowd} are losers with nothing better to do.",
    "{crowd} are a disgrace, a gang of incompetent fools.",
    "{crowd} are imbeciles who should never be allowed near {topic}.",
    "{crowd} are pompous, ignorant and dumb as rocks.",
    "{crowd} are the worst kind of cretins.",
)

# Hate sentences for the spelling evasions: {key} is the word that gets disguised (a plural slur or insult).
EVASION_FRAMES = (
    "The {adj} {key} who moved into our district after the war should all be driven out.",
    "All the {adj} {key} at the demonstration about {topic} should be locked up.",
    "Every one of those {adj} {key} is a liar, and {topic} proves it.",
    "Get the {adj} {key} out of our city before they take over.",
    "Nobody wants the filthy {adj} {key} here, whatever the article says.",
    "Of course the {adj} {key} want a seat at {topic}; kick them out.",
    "The {adj} {key} ruin everything they touch.",
    "Those {adj} {key} should be thrown out of the country.",
    "I am sick of reading comments about {topic} written by {adj} {key}.",
    "The {adj} {key} in parliament sold us out again over {topic}.",
    "Keep the {adj} {key} away from our schools and our children.",
    "Our town was decent before the {adj} {key} arrived after {topic}.",
)
# For groups without a slur in `slurs.SLURS`, a dehumanising insult is the disguised word.
EVASION_INSULTS = ("parasites", "vermin", "subhumans", "animals", "scum", "rats")
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
SPACERS = (" ", ".", "-", "_", " . ")


def _sentence(text: str) -> str:
    """Capitalise the first letter of a generated comment."""
    return text[0].upper() + text[1:]


def _fill(frame: str, group: str | None = None, **slots: str) -> str:
    """A frame with its group forms and slots filled."""
    forms = GROUPS[group] if group else None
    values = {"groups": forms.plural, "one": forms.one, "adj": forms.adjective} if forms else {}
    return _sentence(frame.format(**values, **slots))


def _plural(word: str) -> str:
    """The plural of a slur in `slurs.SLURS`."""
    return slurs.PLURALS.get(word, word + "s")


def swap_letters(word: str, rng: random.Random) -> str:
    """Two neighbouring inner letters swapped (never the first), changing the word."""
    positions = [i for i in range(1, len(word) - 1) if word[i] != word[i + 1]]
    i = rng.choice(positions)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def delete_letter(word: str, rng: random.Random) -> str:
    """One inner letter deleted, a vowel where there is one."""
    inner = range(1, len(word) - 1)
    vowels = [i for i in inner if word[i] in "aeiou"]
    i = rng.choice(vowels or list(inner))
    return word[:i] + word[i + 1 :]


def leet_spelling(word: str, rng: random.Random) -> str:
    """Letters replaced by look-alike digits and signs: at least one, each eligible letter by a coin toss."""
    eligible = [i for i, char in enumerate(word) if char in LEET]
    chosen = {i for i in eligible if rng.random() < 0.6} or {rng.choice(eligible)}
    return "".join(LEET[char] if i in chosen else char for i, char in enumerate(word))


def space_letters(word: str, rng: random.Random) -> str:
    """Every letter separated by the same spacer (space, dot, dash or underscore)."""
    return rng.choice(SPACERS).join(word)


EVASIONS: dict[str, Callable[[str, random.Random], str]] = {
    "evasion_swap": swap_letters,
    "evasion_deletion": delete_letter,
    "evasion_leet": leet_spelling,
    "evasion_spacing": space_letters,
}

# Cases per group in each behaviour whose frames take a group; cases per frame where frames take other slots.
PER_GROUP = 6
PER_FRAME = 4


def _case(text: str, behaviour: str, group: str | None, category: str | None = None) -> Case:
    """A case with its behaviour's expected outcome and (unless given) category."""
    meaning = BEHAVIOURS[behaviour]
    return Case(text, behaviour, group, meaning.expected, category or meaning.category)


def _group_cases(rng: random.Random) -> Iterable[Case]:
    """Each group-framed behaviour: PER_GROUP frames per group, drawn without repeats, each with a topic."""
    for behaviour, frames in GROUP_FRAMES.items():
        for group in GROUPS:
            for frame in rng.sample(frames, PER_GROUP):
                yield _case(_fill(frame, group, topic=rng.choice(TOPICS)), behaviour, group)


def _slur_cases(rng: random.Random) -> Iterable[Case]:
    """Each slur in four of the slur frames."""
    for group, words in slurs.SLURS.items():
        for word in words:
            for frame in rng.sample(SLUR_FRAMES, 4):
                text = _sentence(frame.format(slur=word, slurs=_plural(word), topic=rng.choice(TOPICS)))
                yield _case(text, "slur", group)


def _reclaimed_cases(rng: random.Random) -> Iterable[Case]:
    """Every reclaimed-word frame, spoken by a member of each group that reclaimed the word."""
    for group, words in slurs.RECLAIMED.items():
        for word in words:
            if group not in RECLAIMED_GROUPS.get(word, (group,)):
                continue
            for frame in RECLAIMED_FRAMES[word]:
                text = _sentence(frame.format(word=word, topic=rng.choice(TOPICS)))
                if group == "trans people":
                    text = text.replace(f"{word} ", f"{word} trans ", 1)
                yield _case(text, "slur_reclaimed", group)


def _homonym_cases() -> Iterable[Case]:
    """Every homonym sentence, about no group."""
    for sentences in slurs.HOMONYMS.values():
        for text in sentences:
            yield _case(text, "slur_homonym", None)


def _slot_cases(rng: random.Random) -> Iterable[Case]:
    """Behaviours about figures, persons, crowds, things and topics: PER_FRAME distinct fillings of each frame."""
    table: Sequence[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = (
        ("threat_public_figure", THREAT_FIGURE_FRAMES, "figure", FIGURES),
        ("profanity_targeted", PROFANITY_TARGETED_FRAMES, "person", PEOPLE),
        ("profanity_untargeted", PROFANITY_UNTARGETED_FRAMES, "topic", TOPICS),
        ("abuse_object", ABUSE_OBJECT_FRAMES, "thing", THINGS),
        ("abuse_individual", ABUSE_INDIVIDUAL_FRAMES, "person", PEOPLE),
        ("abuse_group", ABUSE_GROUP_FRAMES, "crowd", CROWDS),
    )
    for behaviour, frames, slot, fillers in table:
        for frame in frames:
            addressed = slot == "person" and re.search(r"\byou\b", frame, re.IGNORECASE)
            for filler in rng.sample(HANDLES if addressed else fillers, PER_FRAME):
                slots = {slot: filler}
                if slot != "topic":
                    slots["topic"] = rng.choice(TOPICS)
                yield _case(_sentence(frame.format(**slots)), behaviour, None)


def _evasion_cases(rng: random.Random) -> Iterable[Case]:
    """Each evasion on each group's key words (its slurs, else two insults) in three evasion frames."""
    for behaviour, disguise in EVASIONS.items():
        for group, forms in GROUPS.items():
            keys = [(_plural(word), "identity_attack") for word in slurs.SLURS.get(group, ())]
            keys = keys or [(word, "identity_attack") for word in rng.sample(EVASION_INSULTS, 2)]
            for key, category in keys:
                for frame in rng.sample(EVASION_FRAMES, 3 if len(keys) == 1 else 2):
                    # A slur names its group already; an insult needs the group's adjective before it.
                    adjective = forms.adjective if key in EVASION_INSULTS else ""
                    text = frame.format(adj=adjective, key=disguise(key, rng), topic=rng.choice(TOPICS))
                    yield _case(_sentence(" ".join(text.split())), behaviour, group, category)


def functional_suite() -> list[Case]:
    """All suite cases, in a fixed order, generated from the frames with a fixed seed."""
    rng = random.Random(SEED)
    cases = [
        *_group_cases(rng),
        *_slur_cases(rng),
        *_reclaimed_cases(rng),
        *_homonym_cases(),
        *_slot_cases(rng),
        *_evasion_cases(rng),
    ]
    seen: set[str] = set()
    for case in cases:
        if case.text in seen:
            raise ValueError(f"duplicate suite text: {case.text!r}")
        seen.add(case.text)
    return cases
