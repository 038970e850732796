"""Comment-section sentences written for this project, for behaviours the shippable corpora teach poorly.

Kinds of sentence, each a set of frames in our own words crossed with identity groups, single people, public
roles or subjects: counter-speech that quotes or refers to a hateful claim in order to reject it, negated hateful
claims, positive and neutral statements about groups and about single members of a group, first-person
statements of who the writer is, statements of hatred for a group (plain, asked as a question, endorsed after
being quoted, or as praise denied), threats against public figures and sharp but peaceful criticism of them
(in shared shells, the wished-for fate alone deciding), harsh words about public figures (insults) and the same
words about things (not abuse), swearing aimed at no one, a group's adjective before a word for vermin (hatred)
or before an ordinary noun (not), contempt implied by a backhanded compliment or a stereotype, violence against a
group called for (a threat) or remembered and condemned (not), slurs of our own list used (hatred) or mentioned
to reject them (not), and hateful sentences with the hateful word misspelt.

Many frames are contrast sets: one list of hateful claims ("{g} are vermin") and one of praise whose negation
is hateful ("{g} are not our equals") are each put into hateful frames (stated, endorsed) and into frames that
reject them (quoted to oppose, reported, negated), so the same words appear with both labels and only the
sentence around them decides.
The frames were written for this module; they are not taken from any published test suite, and the project's
own evaluation suite is neither read nor imported here (tests/test_stage2_data.py checks that its public figures,
things, slurs and wording are not reused). Pure Python, no torch: the normal
test suite checks that generation is deterministic and labelled.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from model.cascade import SLURS
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
    "the new parking rules", "this treaty", "the zoning plan", "the stadium design", "the school timetable",
    "the latest phone update", "the winter bus timetable", "the ceasefire proposal", "the pension reform",
    "the water tariff", "the new city logo", "the season finale", "the offside rule", "the exam format",
    "this app", "the energy bill", "the census form", "the highway extension", "the museum renovation",
    "the new airport terminal", "the border crossing queue system", "the coalition agreement", "this policy",
    "the recycling scheme", "the new comment layout",
)  # fmt: skip

ROLES = (
    "the deputy mayor", "the governor", "the senator", "that congressman", "the prime minister", "the president",
    "the police chief", "the school board chair", "the city councillor", "the judge in this case",
    "the health minister", "that news anchor", "the party leader", "the county sheriff", "the ceo",
    "councilwoman Hadley", "senator Okafor", "mayor Lindqvist", "governor Brandt", "minister Castellano",
    "the transport secretary", "the agriculture minister", "our consul", "the chair of the assembly",
    "the leader of the minority party", "that mp", "the justice secretary", "the chief prosecutor",
    "the finance commissioner", "the head of the audit office", "the editor of this paper",
    "the author of this article", "that journalist", "the mayor of the capital", "deputy Ohanyan", "minister Guliyeva",
    "governor Petrov", "mayor Beridze", "ambassador Karimi", "chairwoman Demir", "president Varga",
    "prime minister Aldana", "the minister of education", "the union boss", "the ombudsman",
)  # fmt: skip

# Single members of a group, for stories about one person.
INDIVIDUALS = (
    "an armenian", "an azerbaijani", "a turk", "a russian", "an iranian", "a georgian", "a kurd", "a jew",
    "a muslim", "a christian", "a woman", "a gay man", "a lesbian", "a trans woman", "a trans man", "an immigrant",
    "a refugee", "a black man", "a black woman", "a disabled woman", "a wheelchair user", "a blind man", "an arab",
    "a ukrainian", "a chechen", "a persian", "a hindu", "a sikh", "a mexican", "a syrian refugee",
    "a jewish man", "a muslim woman", "a kurdish woman", "an armenian grandmother", "an azerbaijani student",
    "a turkish man", "a russian woman", "a georgian priest", "a deaf man", "a nigerian nurse",
)  # fmt: skip

# Hateful claims about a group (after "{g} "), each with its negation (a rejection of the claim).
HATE_CLAIMS = (
    ("are vermin", "are not vermin"),
    ("are parasites who live off our taxes", "are not parasites living off our taxes"),
    ("are all thieves", "are not thieves"),
    ("are born liars", "are not born liars"),
    ("are animals", "are not animals"),
    ("should be deported, every one of them", "should not be deported"),
    ("are a disease on this country", "are not a disease on this country"),
    ("are destroying our culture", "are not destroying our culture"),
    ("are too stupid to vote", "are not too stupid to vote"),
    ("breed like rats", "do not breed like rats"),
    ("are a tumour on society", "are not a tumour on society"),
    ("are subhuman", "are not subhuman"),
    ("are dirty and stink", "are not dirty"),
    ("are criminals by nature", "are not criminals by nature"),
    ("should be locked up", "should not be locked up"),
    ("are terrorists", "are not terrorists"),
    ("are traitors to this nation", "are not traitors to this nation"),
    ("are lazy scroungers", "are not lazy scroungers"),
    ("are inferior to us", "are not inferior to us"),
    ("should go back where they came from", "do not need to go back anywhere"),
    ("are mentally ill", "are not mentally ill"),
    ("are a blight", "are not a blight"),
    ("are savages", "are not savages"),
    ("are a danger to our children", "are not a danger to our children"),
    ("are dumber than normal people", "are not dumber than anyone else"),
    ("should lose the right to vote", "should not lose the right to vote"),
    ("are invading us", "are not invading anyone"),
    ("are cockroaches", "are not cockroaches"),
    ("are freaks of nature", "are not freaks of nature"),
    ("are perverts", "are not perverts"),
    ("secretly run the banks and the media", "do not secretly run the banks or the media"),
    ("spread disease wherever they go", "do not spread disease"),
    ("are worthless", "are not worthless"),
    ("are all rapists", "are not rapists"),
    ("are barbarians", "are not barbarians"),
    ("are a burden on everyone", "are not a burden on anyone"),
    ("ruin every neighbourhood they move into", "do not ruin the neighbourhoods they move into"),
    ("are scum", "are not scum"),
)

# Praise of a group (after "{g} "), each with its negation, which is hateful.
PRAISE_CLAIMS = (
    ("are our equals", "are not our equals"),
    ("are fully human", "are not fully human"),
    ("deserve respect", "do not deserve respect"),
    ("belong in this country", "do not belong in this country"),
    ("are welcome here", "are not welcome here"),
    ("can be trusted", "can never be trusted"),
    ("deserve the same rights as everyone", "do not deserve the same rights as everyone"),
    ("are equal to the rest of us", "will never be equal to the rest of us"),
    ("have every right to live here", "have no right to live here"),
    ("are honest folk", "are not honest folk"),
    ("are real citizens", "are not real citizens"),
    ("should be allowed to teach in our schools", "should never be allowed to teach in our schools"),
    ("deserve to be safe", "do not deserve to be safe"),
    ("are part of this nation", "will never be part of this nation"),
    ("are capable of honest work", "are not capable of honest work"),
    ("have given a lot to this country", "have never given anything to this country"),
    ("deserve kindness", "deserve no kindness at all"),
    ("are as smart as anyone", "are nowhere near as smart as normal people"),
    ("are worth listening to", "are not worth listening to"),
    ("should have a say in how the city is run", "should have no say in how anything is run"),
    ("are trustworthy", "are never trustworthy"),
    ("are kind and generous", "are neither kind nor generous"),
    ("are clever people", "are not clever people"),
    ("are worth something", "are worth nothing"),
    ("have a history to be proud of", "have no history anyone could be proud of"),
    ("contribute to this country", "contribute nothing to this country"),
    ("make good neighbours", "could never make good neighbours"),
    ("are loyal citizens", "are not loyal citizens and never will be"),
)

# Claims (with the group slot) stated as hate, and the same words rejected.
HATEFUL_CLAIMS = tuple("{g} " + hate for hate, _ in HATE_CLAIMS) + tuple("{g} " + neg for _, neg in PRAISE_CLAIMS)
REJECTED_CLAIMS = tuple("{g} " + neg for _, neg in HATE_CLAIMS)
PRAISE = tuple("{g} " + praise for praise, _ in PRAISE_CLAIMS)

# Someone else's hateful claim {c}, quoted, reported or referred to in order to reject it.
COUNTER_TEMPLATES = (
    'someone under this article wrote "{c}". that is bigotry, not an opinion',
    "my coworker keeps insisting that {c}. i have stopped letting it slide",
    "a sign at the protest read {c}. i was ashamed of my town that day",
    '"{c}"? no. that kind of lie is how people end up hurt',
    "anyone who tells you that {c} has clearly never sat down with one of them",
    "i flagged a comment saying {c}. hate like that should not stay up",
    "when people say {c}, challenge them every single time",
    "the pamphlet argued that {c}. it was propaganda then and it is propaganda now",
    "if you really believe {c}, go and talk to an actual person for once",
    "a man on the tram shouted that {c}. the whole carriage told him to be quiet",
    "a teacher once told our class that {c}. i still remember how wrong that felt",
    "the old slogan '{c}' is back on the walls near the station. paint over it",
    "people are still typing '{c}' in these comments in this day and age. unbelievable",
    "he posted that {c} and got fired, and rightly so",
    "every time someone writes {c}, i ask for evidence. there never is any",
    "the film shows how the lie that {c} spread in the years before the war",
    "they chanted {c} outside the community centre and the police just watched",
    "please stop repeating that {c}. it is untrue and it is cruel",
    "my grandmother grew up being told {c}. she spent her whole life proving them wrong",
    "the account in the replies claims {c}. don't feed it, just report it",
    "typing {c} in a comment box does not make it a debate, it makes it hate",
    "the councillor who said {c} on the radio should apologise or resign",
    "i used to believe {c}. i was wrong and i am sorry",
    "a boy in my daughter's class said {c}. the school handled it well and he apologised",
    "dressing up '{c}' as common sense does not make it any less prejudiced",
    "it frightens me how many likes the post saying {c} got",
    "the speaker told the crowd {c}, and i walked out",
    "the myth that {c} has been debunked again and again",
    "i won't stay quiet while someone at my table says {c}",
    "to the person above who wrote {c}: be ashamed of yourself",
    "a candidate saying {c} on live television should end his campaign",
    "my neighbour stuck a sticker on the lamppost saying {c}. i peeled it off and told him why",
    "the graffiti says {c}. the residents scrubbed it off by lunchtime",
    "the troll's whole argument is '{c}'. that is not an argument, it is hatred",
    "all the research points the same way: the claim that {c} is false",
    "so the top comment says {c}. great, this section is a sewer",
    "whoever wrote '{c}' on the school gate: we see you, and we reject it",
    "my cousin repeated the old line that {c}. i told him how much that hurt me",
    "bigots have said {c} for a hundred years. they were wrong then too",
    "the report documents officials saying {c} behind closed doors. disgraceful",
    "if your first thought is that {c}, ask yourself where you learned it",
    "'{c}', says the man who has never left his village. no thanks",
    "the moderators removed a post claiming {c}. good",
    "hearing a child say {c} shows how early this poison starts",
    "he wrote {c} under my photo. i blocked him and reported it",
    "the textbook from the 1930s actually teaches that {c}. thank god we moved on",
    "my answer to everyone who says {c} is the same: you are wrong",
    "if someone tells you {c}, they are selling you hatred",
)  # fmt: skip

# A hateful claim {c} stated or endorsed by the writer, including after quoting it.
HATE_TEMPLATES = (
    "{c}",
    "{c}, and everyone knows it",
    "let's be honest, {c}",
    "sorry, but {c}",
    "face it, {c}",
    "{c} and i will keep saying it",
    "it's a simple fact that {c}",
    "i have always said {c}",
    "the truth nobody dares to say: {c}",
    "every day i am more convinced that {c}",
    "yes, {c}. deal with it",
    "the guy above is right, {c}",
    "he said {c} and he was right",
    '"{c}" - finally someone says it out loud',
    "my father taught me that {c}, and he was right",
    "i'm no bigot, but {c}",
    "wake up people, {c}",
    "{c}. there, i said it",
    "of course {c}, just look at the news",
    "anyone with eyes can see {c}",
    "i agree with the sign at the march: {c}",
    "the flyer got it right: {c}",
    "the comment saying {c} is the only honest thing on this page",
    "i don't care who is offended, {c}",
    # Stated as the writer's considered opinion: the opinion shells below are also in DENIAL_TEMPLATES, turned
    # to deny, and in PRAISE_TEMPLATES, so the claim decides and not the shell.
    "i genuinely believe {c}",
    "personally, i think {c}",
    "my honest view is that {c}",
    "i've come to the conclusion that {c}",
    "it is true that {c}",
    "it's obvious to me that {c}",
    "i have no doubt that {c}",
    "i am convinced that {c}",
    "the evidence shows that {c}",
    "as far as i'm concerned, {c}",
    "believe me, {c}",
    "after years of watching them, i'm sure {c}",
)  # fmt: skip

# Rejections of a claim {c} the writer names in order to deny it.
DENIAL_TEMPLATES = (
    "it is false that {c}",
    "it is simply not true that {c}",
    "i have never once thought that {c}",
    "i don't think {c}, not for a second",
    "no sensible person thinks {c}",
    "you will never get me to agree that {c}",
    "there is no evidence at all that {c}",
    "the idea that {c} is absurd",
    "it was never true that {c}, and it isn't now",
    "nobody in my family has ever said {c}",
    "do i think {c}? of course not",
    "it is a lie that {c}",
    "i refuse to believe {c}",
    "nothing in the data suggests {c}",
    "i genuinely don't believe {c}",
    "personally, i don't think {c}",
    "my honest view is that it's wrong to claim {c}",
    "i've come to the conclusion that it's a myth that {c}",
    "it is untrue that {c}",
    "it's obvious to me that the claim that {c} is prejudice",
    "i very much doubt that {c}",
    "i am not convinced that {c}, not at all",
    "the evidence does not show that {c}",
    "as far as i'm concerned, whoever says {c} is a bigot",
    "believe me, it is nonsense that {c}",
    "after years of watching them, i'm sure it's false that {c}",
)  # fmt: skip

# A negated claim {n} ("{g} are not ...") in the writer's own words.
NEGATION_TEMPLATES = (
    "{n}",
    "{n}, and whoever says otherwise is lying",
    "no, {n}. they are people like anyone else",
    "{n}, they are our neighbours",
    "of course {n}",
    "let me be clear: {n}",
    "{n}. it is sad that this needs saying",
    "whatever you heard, {n}",
    "{n}, full stop",
    "for the record, {n}",
)  # fmt: skip

# Praise whose negation {n} is hateful ("{g} are not our equals"), stated by the writer.
NEGATED_PRAISE_TEMPLATES = (
    "{n}",
    "let's be honest, {n}",
    "sorry, but {n}",
    "i'll say it: {n}",
    "{n}, no matter what the papers say",
    "everyone knows {n}",
    "{n}. period",
    "the simple truth is that {n}",
    "call me what you like, {n}",
    "i've lived next to them for years and {n}",
    "trust me, {n}",
    "i don't care what anyone says, {n}",
)  # fmt: skip

# Praise {a} affirmed by the writer.
PRAISE_TEMPLATES = (
    "{a}",
    "of course {a}",
    "{a}, like everyone else",
    "i have always believed {a}",
    "let's not forget that {a}",
    "{a}, and no comment section will change that",
    "personally, i think {a}",
    "my honest view is that {a}",
    "i am convinced that {a}",
    "it is true that {a}",
    "as far as i'm concerned, {a}",
    "after years of living beside them, i'm sure {a}",
)  # fmt: skip


# Someone else's hateful claim, reported or quoted so that it can be rejected.
COUNTER_FRAMES = (
    "the guy above says {g} are ruining the town. no, they run half the shops on main street and pay taxes "
    "like the rest of us",
    "someone in this thread wrote that {g} should be kicked out of the country. that is vile and the mods "
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
    "{g} are not animals, never have been, whatever that senator says",
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
    "hats off to the {g} volunteers at the aid station",
    # Stories of gratitude, neighbours, history, food, sport and work.
    "the {g} who run the bakery on our corner open at five every morning, best bread in town",
    "my grandfather always said the {g} in his village were the first to share when the harvest failed",
    "{g} lived next door to us for two decades and were the kindest people on the street",
    "the local {g} raised money for the children's hospital again this year",
    "our football club has three {g} in the first team and they carried us to the title",
    "i learned to cook from {g} friends and my kitchen has never been the same",
    "the {g} nurses on the night shift looked after my father like he was family",
    "{g} have been part of this town's story for centuries",
    "a huge thank you to the {g} who cleared the snow off our street without being asked",
    "the {g} choir at the festival was the highlight of the weekend",
    "{g} who settled here after the war built half the workshops along the river",
    "my best friend since primary school comes from a family of {g}",
    "the {g} at my work covered my shifts when my daughter was born",
    "so many {g} turned up to help after the earthquake",
    "{g} on our block look out for the elderly residents",
    "the {g} restaurant by the station does the best soup i have ever eaten",
    "i'm grateful to the {g} who taught me their language and were patient with my mistakes",
    "{g} founded the first library in this district, a fact the article leaves out",
    "{g} won four medals for our team at the games",
    "the {g} volunteers at the food bank never ask anyone for anything in return",
    "the {g} engineers on the project were brilliant to work with",
    "whenever my car breaks down, the {g} mechanics on the hill sort it out for a fair price",
    "my kids' favourite teachers are both {g}",
    "the {g} students organised a blood drive and beat last year's record",
    "the market stalls run by {g} are the liveliest part of the weekend",
    "{g} brought chess to our youth club and now half the kids play",
    "the {g} who fought in the resistance deserve a proper memorial",
    "young {g} are leading the clean-up of the river this spring",
    "i owe my career to {g} mentors who believed in me",
    "{g} and their traditions make our holidays richer",
    "the wedding of our {g} friends was the most joyful party i have ever been to",
    "our hospital would struggle without the {g} doctors working there",
    "{g} shopkeepers were the first to reopen after the flood",
    "the {g} artists in the exhibition were outstanding",
    "the oldest bridge in the city was built by {g} masons",
    "our {g} neighbours always invite us over during their holidays",
    "when the power went out, the {g} next door shared their generator with the whole building",
    "{g} have been writing wonderful poetry in this region for a very long time",
    "i'm glad my children are growing up with {g} classmates",
    "the {g} firefighters who worked through the night saved our street",
    "{g} farmers grow most of the fruit at the market and it is superb",
    "the {g} who coach the under-twelves give up every saturday for our kids",
    "{g} in this city have started some of its best small businesses",
    "listening to {g} elders tell their stories taught me more history than school did",
    "the {g} rescue team found the missing hikers after two days",
    "the {g} who run the night school taught my mother to read",
    "big respect to the {g} lads who helped push my car out of the ditch",
    "the {g} i have worked with are some of the hardest working people i know",
    "our town's best festival was started by {g} decades ago",
    "{g} deserve credit for rebuilding the old quarter",
    "i have nothing but good memories of the {g} who lived in our village",
    "{g} are among the most generous hosts you will ever meet",
    "the {g} team played a beautiful match and deserved to win",
    "the {g} in my building organised a party for everyone who lives here",
    "thank you to the {g} who donated blood after the bus crash",
    "some of the bravest journalists covering this conflict are {g}",
    "the {g} grandmothers at the community kitchen feed half the neighbourhood",
    "{g} i met while travelling were endlessly hospitable",
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
    "what share of {g} voted in the last election?",
    "the survey asked {g} about housing and transport",
    "a new book on the migration of {g} comes out next month",
    "the article says {g} make up about a tenth of the district",
    "is there a source for the number of {g} in the city?",
    "the radio programme on {g} and their festivals is on at nine",
    "the statistics office put out a study of {g} in rural areas",
    "{g} living abroad can vote at the embassy this year",
    "the exhibition covers the music of {g} from 1900 to today",
    "the lecture is about how {g} were counted in old tax records",
    "there is a support group for {g} meeting at the town hall",
    "several {g} spoke at the hearing on the new zoning plan",
    "the museum is collecting letters written by {g} during the war",
    "the poll has {g} split evenly on the new tax",
    "researchers interviewed two hundred {g} for the study",
    "how do {g} in the north celebrate the new year?",
    "the article compares {g} in three countries",
    "the festival programme includes films by {g}",
    "the documentary follows three {g} through a year of work",
    "are {g} covered by the new health scheme?",
    "the city hired a liaison officer for {g}",
    "the author grew up among {g} and writes about that time",
    "a new cookbook collects recipes from {g} across the region",
    "the panel on {g} and the media starts at ten",
    "what do {g} think about the new ceasefire, has anyone asked them?",
    "the article does not say how many {g} were at the meeting",
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
    "{r} should face a bullet for this betrayal",
    "someone needs to put {r} in the ground",
    "i hope {r} gets a bullet at the next press conference",
    "{r} will hang from a lamppost when this is over",
    "if {r} signs that deal, i will personally make sure they never sign anything again",
    "let's see how brave {r} is with a knife at the throat",
    "{r} should be dragged out of the office and beaten to death",
    "one day soon {r} is going to have an accident, and it won't be an accident",
    "we know which school the children of {r} go to. think about that",
    "i'd happily strangle {r} with my bare hands",
    "{r} deserves a firing squad",
    "next time {r} walks to the car, someone should be waiting",
    "a car bomb is too good for {r}",
    "i'm bringing a gun to the next rally of {r}",
    "{r} will be torn apart by the crowd and i'll be at the front",
    "sharpening my axe for {r}",
    "{r}, enjoy your last summer",
    "the people will string {r} up, and i'll bring the rope",
    "execute {r} live on television",
    "i hope someone burns {r} alive in that office",
    "{r} belongs in front of a firing line",
    "somebody please shoot {r} already",
    "{r} has a target on their back now and i've got good aim",
    "i will break every bone in the body of {r} if they come to our village",
    "when {r} comes out of parliament tonight, we'll be waiting with bats",
    "poison the coffee of {r} and save us all the trouble",
    "{r} had better sleep with one eye open",
    "death to {r}",
    "{r} needs to be taken out, permanently",
    "if the courts won't stop {r}, a sniper will",
    "i'm going to make {r} bleed for this",
    "throw {r} off the bridge and let the river decide",
    "{r} won't make it to the next election alive, trust me",
    "i'd pay good money to see {r} with a noose around the neck",
    "run {r} over at the next ribbon cutting",
    "hunt {r} down like a dog",
    "i hope {r} chokes to death on those lies, and i'd help",
    "{r} is a dead man walking, we have the address",
)  # fmt: skip

# What a public figure {r} is blamed for, and what the writer wants done to them: the same shells take a violent
# fate (a threat) or a peaceful one (criticism), so the fate, not the grievance or the shape, decides.
FATE_SHELLS = (
    "{r} should be {fate} for {why}",
    "after {why}, {r} deserves to be {fate}",
    "i want to see {r} {fate} over {why}",
    "{r} ought to be {fate} for {why}, and soon",
    "for {why}, {r} should be {fate}",
    "honestly {r} should be {fate} after {why}",
    "mark my words, {r} will be {fate} for {why}",
    "if there were any justice {r} would be {fate} for {why}",
)  # fmt: skip
GRIEVANCES = (
    "what they did to the pension fund", "the vote on the fuel tax", "selling out the farmers",
    "lying about the budget numbers", "the water privatisation", "signing away the harbour", "the new curfew",
    "closing the maternity ward", "the bridge contract", "raising bread prices", "the hospital cuts",
    "gutting the teachers' pay",
)  # fmt: skip
VIOLENT_FATES = (
    "shot", "hanged", "lynched", "beaten to a pulp", "stabbed", "executed", "strung up from a tree", "stoned",
    "burned alive", "put in front of a firing squad",
)  # fmt: skip
PEACEFUL_FATES = (
    "fired", "impeached", "investigated", "voted out", "censured", "sued", "recalled by the voters", "suspended",
    "replaced", "put on trial",
)  # fmt: skip


def _fated(fates: tuple[str, ...], salt: str) -> tuple[str, ...]:
    """FATE_SHELLS with their fate and grievance slots filled (the role slot left for the filler)."""
    shells = _cross(FATE_SHELLS, "fate", fates, 40, f"{salt} fate")
    return _cross(shells, "why", GRIEVANCES, 120, f"{salt} grievance")


# Harsh words that fit a thing and a person alike: about a thing {s} they are not abuse, about a person {r}
# they are an insult. The same words in both teach the target, not the word, to decide.
HARSH_WORDS = (
    "stupid", "idiotic", "pathetic", "useless", "ridiculous", "dumb", "moronic", "brainless", "worthless",
    "laughable", "incompetent", "absurd", "hopeless", "contemptible",
)  # fmt: skip
HARSH_SHELLS = (
    "{x} is simply {h}",
    "{x} is {h} and everybody at work knows it",
    "let me say it plainly: {x} is {h}",
    "has anyone else noticed how {h} {x} is?",
    "{x} is utterly {h}",
    "the more i read, the more {h} {x} looks",
    "sorry, but {x} is just {h}",
    "{x} gets more {h} every week",
    "i can't get over how {h} {x} is",
    "{x}? {h}, as always",
    "{x} is {h}, there is no kinder word for it",
    "nothing about {x} is anything but {h}",
)  # fmt: skip


def _harsh(slot: str) -> tuple[str, ...]:
    """HARSH_SHELLS aimed at `slot` ("s" a thing, "r" a person), each with a harsh word."""
    shells = tuple(shell.replace("{x}", "{" + slot + "}") for shell in HARSH_SHELLS)
    return _cross(shells, "h", HARSH_WORDS, 70, "harsh")


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
    "{s} should be killed off before it does more damage",
    "burn {s} and start again from scratch",
    "{s} is garbage from start to finish",
    "{s} is the dumbest idea this council has ever had",
    "shoot {s} down in the vote tomorrow",
    "{s} deserves to be torn to pieces by the auditors",
    "{s} is an absolute disgrace",
    "{s} is so stupid it hurts",
    "i hate {s} with a passion",
    "{s} needs to die a quiet death",
    "someone should put {s} out of its misery",
    "{s} is a pathetic excuse for a policy",
    "{s} is idiotic, there is no other word",
    "{s} stinks",
    "{s} is a steaming pile of nonsense",
    "rip up {s} and throw it in the bin",
    "{s} is the worst thing to happen to this town in years",
    "{s} is dumb and dangerous",
    "{s} is a total failure",
    "{s} is moronic",
    "{s} is ugly, expensive and pointless",
    "{s} is a scam and a disgrace",
    "{s} should be buried and never spoken of again",
    "kill {s} now, before it costs us another cent",
    "i would happily set fire to my copy of {s}",
    "{s} is insane, who approved this",
    "{s} is a hideous mess",
    "{s} is a ridiculous, brainless plan",
    "{s} is a dumpster fire",
    "{s} is worthless",
    "{s} is a crime against common sense",
    "{s} is beyond stupid",
    "i loathe {s}, it ruins my mornings",
)  # fmt: skip


# The site's groups as adjectives, for noun phrases ("the {a} {n}").
GROUP_ADJECTIVES = (
    "armenian", "azerbaijani", "turkish", "russian", "iranian", "georgian", "kurdish", "jewish", "muslim",
    "christian", "ukrainian", "chechen", "arab", "syrian", "afghan", "african", "mexican", "polish", "roma",
    "pakistani", "chinese", "gay", "trans", "black", "foreign", "immigrant", "refugee", "catholic", "hindu",
)  # fmt: skip
# Nouns that make a group into vermin or filth when put after its adjective, and ordinary nouns for the same
# shells: "the kurdish rats" is hatred, "the kurdish pensioners" is not, and only the noun differs.
VILE_NOUNS = (
    "rats", "vermin", "parasites", "cockroaches", "leeches", "savages", "animals", "scum", "filth", "pigs",
    "snakes", "mongrels", "swine", "maggots", "lice", "roaches", "dogs", "subhumans", "degenerates", "lowlifes",
)  # fmt: skip
PLAIN_NOUNS = (
    "pensioners", "students", "engineers", "doctors", "tourists", "football fans", "delegates", "farmers",
    "families", "shopkeepers", "nurses", "journalists", "musicians", "volunteers", "teachers", "bakers",
    "taxi drivers", "neighbours", "chess players", "veterans",
)  # fmt: skip
PHRASE_SHELLS = (
    "those {a} {n} are everywhere in the city centre now",
    "i watched the {a} {n} walk through the old town yesterday",
    "the {a} {n} next door are at it again",
    "a group of {a} {n} was interviewed for this article",
    "the morning bus was packed with {a} {n}",
    "look at all the {a} {n} commenting under this article",
    "i talked to some {a} {n} at the bus stop about the talks",
    "the {a} {n} from the next village came to the festival",
    "there were {a} {n} queueing outside the consulate all morning",
    "my cousin says the {a} {n} in his building keep to themselves",
    "the new estate by the river is full of {a} {n}",
    "more {a} {n} are arriving at the station every week",
    "the {a} {n} were out in the park again on sunday",
    "we had {a} {n} at the wedding, of all things",
)  # fmt: skip

# Contempt implied, not stated: a compliment with a sting about a person {p}, a hint at a stereotype or a warning
# about a group {g}. Each is an identity attack without a single abusive word.
BACKHANDED_FRAMES = (
    "not bad at all for {p}, i have to admit",
    "surprisingly well argued, considering it comes from {p}",
    "{p} who actually pays taxes? now i have seen everything",
    "quite clever for {p}, isn't it",
    "who would have guessed {p} could run a shop without cheating the customers",
    "{p} with a steady job, that must be a first",
    "{p} telling the truth for once? mark the date",
    "let me guess, {p} wrote this. it shows in every line",
    "put {p} in charge of the budget and watch the money disappear",
    "{p} on the school board? lock up the library books",
    "i'm impressed {p} got into university at all",
    "hold on to your wallets, {p} just joined the committee",
    "pretty smart for {p}, to be fair",
    "{p} who showed up on time, will wonders never cease",
)  # fmt: skip
STEREOTYPE_FRAMES = (
    "{g} are good at one thing: complaining",
    "funny how the thefts started right after the {g} moved in",
    "count your change twice when {g} are around",
    "{g} have many talents, but honesty is not one of them",
    "i'm sure some {g} work hard. i just haven't met one yet",
    "{g} should be grateful we let them in at all",
    "there goes the neighbourhood, the {g} are buying houses on our street",
    "you don't need to ask who left the mess in the stairwell. the {g} moved in last month",
    "a hospital run by {g}? i'd rather stay sick",
    "{g} know how to work the system, you have to give them that",
    "when {g} say they are refugees, check their phones first",
    "i'd never marry into a family of {g}, my parents raised me better",
    "sure, {g} can be nice, as long as you are paying",
    "keep an eye on your bike when {g} are in the neighbourhood",
    "{g} in the police force? then who will arrest their cousins",
    "trust {g} to turn a peace deal into a business",
)  # fmt: skip

# Violence against a whole group {g} called for, wished for or approved of: a threat and an identity attack.
GROUP_THREAT_FRAMES = (
    "wiping the {g} off the map would fix this region for good",
    "the world will be a better place once the {g} are gone, all of them",
    "someone should round up the {g} and finish what history started",
    "a few bombs on the streets where {g} live would end this debate",
    "it is time to cleanse this country of {g}",
    "the {g} should be driven into the sea",
    "whoever gets rid of the {g} once and for all deserves a medal",
    "i would not shed a tear if every last one of the {g} were wiped out",
    "what the {g} need is a purge, a real one",
    "there is only one solution for the {g} and we all know what it is",
    "line the {g} up against a wall and let the soldiers deal with them",
    "it would be a mercy to put the {g} down like sick dogs",
    "our army should march in and finish off the {g}",
    "gas the {g}, every one of them",
    "the {g} deserve another massacre, a bigger one",
    "burn the {g} out of their villages and let them run",
    "shooting {g} at the border should be legal",
    "the only good {g} are the ones in the ground",
    "starve the {g} until they beg",
    "i say we lynch the {g} the next time they march",
    "honestly, killing {g} is no crime in my book",
    "the {g} must be exterminated before they spread",
    "if the government will not deal with the {g}, ordinary men with guns will",
    "no mercy for {g}: hang them in the square",
)  # fmt: skip
# Violence against a group {g} remembered, condemned or reported: not a threat, not abuse, though it names the
# same deeds.
REMEMBRANCE_FRAMES = (
    "we must never forget the {g} who were massacred in those villages",
    "the museum tells the story of how {g} were driven from their homes, and everyone should visit it",
    "my grandfather survived the pogrom against {g}, and he never stopped talking about it",
    "the report documents the killings of {g} at the border, and the men responsible must be tried",
    "every year we light candles for the {g} murdered in the war",
    "the attacks on {g} last month were a disgrace and the police must find who did it",
    "nobody should ever be driven from their home, {g} included",
    "the army must protect the {g} in the border villages from the shelling",
    "the genocide of {g} is a historical fact, and denying it is shameful",
    "the documentary about the deportation of {g} made me cry",
    "threats against {g} are rising, and the article is right to sound the alarm",
    "the {g} who fled the fighting need shelter and food, not suspicion",
    "calls to wipe out {g} should be prosecuted, not debated",
    "the gunman who shot {g} at the market got life, and rightly so",
)  # fmt: skip

# Our slurs (model.cascade.SLURS, none of them one of the functional suite's test slurs) used at a group or a
# person, singular {w} or plural {ws}.
SLUR_FRAMES = (
    "the {ws} are ruining this country",
    "nobody here wants to hear from the {ws}",
    "send the {ws} back where they belong",
    "the comments are full of {ws} again",
    "our street is crawling with {ws} now",
    "only a {w} would write something like that",
    "shut your mouth, you {w}",
    "what do you expect from a bunch of {ws}",
    "the {ws} always stick together",
    "hey {w}, nobody invited you here",
    "my new boss is a {w}, just my luck",
    "i will never rent my flat to {ws}",
    "this piece was obviously written by a {w}",
    "never lend money to a {w}",
    "that {w} at the counter tried to cheat me",
    "bunch of filthy {ws}, the lot of them",
    "look at this {w} pretending to be an expert",
    "imagine taking advice from a {w}",
    "{ws} like him are why i stopped reading this site",
    "a {w} reading the evening news, what next",
    "they let another {w} onto the board",
    "the {ws} and their friends own the press",
)  # fmt: skip
# The same slurs mentioned to reject them, or to report that someone used them: not abuse.
SLUR_MENTION_FRAMES = (
    "calling someone a {w} is never acceptable",
    "he was suspended for calling a teammate a {w}",
    "the word '{w}' has an ugly history and it should stay there",
    "my son came home asking what '{w}' means, and we had a long talk",
    "someone sprayed '{ws}' on the community centre and the whole street helped clean it off",
    "if you use the word {w} in these comments, expect to be banned",
    "the player who shouted '{w}' at the fans has been fined, good",
    "growing up i was called a {w} every day at school. it still hurts",
)  # fmt: skip


@dataclass(frozen=True)
class Sentence:
    """One generated sentence with its kind and labels."""

    text: str
    kind: str
    labels: dict[str, int]


# One member of a group {p}, in an ordinary or grateful story.
INDIVIDUAL_FRAMES = (
    "the nurse who held my hand after the operation was {p}",
    "the stranger who handed back my lost wallet was {p}",
    "the best boss i ever had was {p}",
    "our new neighbour is {p} and already knows everyone on the street",
    "{p} fixed our roof after the storm and refused to take any money",
    "i sat next to {p} on the flight and we talked about books for three hours",
    "the doctor who caught my mother's illness in time was {p}",
    "{p} won the village chess tournament this year, well deserved",
    "the firefighter who carried our dog out of the building was {p}",
    "my first landlord was {p} who never once raised the rent",
    "the kindest kid in my class at school was {p}",
    "{p} started the community garden on our street",
    "{p} runs the cafe near my office and remembers everyone's order",
    "a taxi driver, {p}, waited with me at the hospital until my wife arrived",
    "the author of my favourite novel is {p}",
    "{p} gave a brilliant talk at the library last night",
    "the volunteer who taught me to swim was {p}",
    "{p} is the reason our local team got promoted",
    "{p} helped me carry my shopping up four flights of stairs",
    "the teacher who got me into university was {p}",
    "the paramedic who saved my brother after the crash was {p}",
    "my daughter's piano teacher is {p} and she adores the lessons",
    "the person who organised the fundraiser for the flood victims was {p}",
    "i got my first job thanks to {p} who took a chance on me",
    "the lawyer who won my grandmother's pension case for free was {p}",
    "{p} found my lost cat and walked two miles to bring her home",
    "the best speech at the ceremony was given by {p}",
    "{p} coaches the girls' basketball team and they are unbeaten",
    "when i was new in town, {p} showed me around and introduced me to everyone",
    "the scientist behind the new water filter is {p}",
)  # fmt: skip

# Sharp but peaceful criticism of a public figure {r}: not a threat and not abuse.
CRITICISM_FRAMES = (
    "{r} should resign after this scandal",
    "{r} should face a proper investigation",
    "{r} needs to be voted out at the next election",
    "i hope {r} loses badly in the spring",
    "{r} should be impeached, this is a clear abuse of power",
    "{r} has failed this city and should step down",
    "{r} must answer questions in parliament about the contracts",
    "the housing policy of {r} is a disaster",
    "{r} should be held to account in court if the report is right",
    "{r} killed the bill in committee and i am furious",
    "{r} got destroyed in the debate last night",
    "{r} shot down every amendment we proposed",
    "{r} will be finished politically after this",
    "the career of {r} is dead after that interview",
    "let's beat {r} at the ballot box",
    "{r} should be fired for mismanaging the budget",
    "{r} is bombing in the polls, and deservedly",
    "{r} needs to go, peacefully and through the vote",
    "{r} should hang up the suit and retire",
    "we should gather in the square and demand that {r} resign",
    "that speech by {r} was a train wreck",
    "{r} is burning through public money with nothing to show for it",
    "{r} should be taken to court over the pollution",
    "i will campaign every day to get {r} out of office",
    "{r} deserves to lose every vote in the district",
    "{r} has no idea what they are doing and it shows",
    "{r} should be ashamed of that budget",
    "i'd love to see {r} crushed in the next election",
)  # fmt: skip

KINDS = (
    "counter_speech", "negated", "positive", "neutral", "self", "individual", "hate", "negated_praise", "threat",
    "criticism", "insult", "profanity", "object", "phrase", "plain_phrase", "backhanded", "stereotype",
    "group_threat", "remembrance", "slur", "slur_mention", "evasion", "context",
)  # fmt: skip

_NON_TOXIC = dict.fromkeys(LABELLED, 0)
# Plain hatred of a group: toxic and an identity attack, with no violence in these frames; whether it is an
# insult or severe is left unknown.
_HATE = {"toxicity": 1, "identity_attack": 1, "threat": 0}
LABELS: dict[str, dict[str, int]] = {
    "counter_speech": dict(_NON_TOXIC),
    "negated": dict(_NON_TOXIC),
    "positive": dict(_NON_TOXIC),
    "neutral": dict(_NON_TOXIC),
    "self": dict(_NON_TOXIC),
    "individual": dict(_NON_TOXIC),
    "hate": dict(_HATE),
    # Praise denied ("{g} are not our equals"): hatred of the group, labelled as hate.
    "negated_praise": dict(_HATE),
    # A threat of violence at a named role, no group mentioned; insult and severity left unknown.
    "threat": {"toxicity": 1, "threat": 1, "identity_attack": 0},
    "criticism": dict(_NON_TOXIC),
    # A harsh word aimed at a public figure: an insult, not a threat nor an attack on a group; severity unknown.
    "insult": {"toxicity": 1, "insult": 1, "obscene": 0, "threat": 0, "identity_attack": 0},
    "profanity": {**_NON_TOXIC, "obscene": 1},
    "object": dict(_NON_TOXIC),
    # A group's adjective before a word for vermin or filth ("the kurdish rats"), and before an ordinary noun.
    "phrase": dict(_HATE),
    "plain_phrase": dict(_NON_TOXIC),
    # Contempt implied by a backhanded compliment or a stereotype: hatred of the group without an abusive word.
    "backhanded": dict(_HATE),
    "stereotype": dict(_HATE),
    # Violence against a group called for or approved of, and the same deeds remembered or condemned.
    "group_threat": {"toxicity": 1, "threat": 1, "identity_attack": 1},
    "remembrance": dict(_NON_TOXIC),
    # A slur used at a group or a person, and the same slur mentioned to reject or report it.
    "slur": dict(_HATE),
    "slur_mention": dict(_NON_TOXIC),
    # Each misspelt sentence keeps the labels of the hateful or threatening sentence it was made from.
    "evasion": {},
}
# Kinds made from other kinds' sentences rather than from frames.
DERIVED = ("evasion", "context")
# The kinds evasion misspells.
EVADED = ("hate", "negated_praise", "threat", "phrase", "backhanded", "stereotype", "group_threat", "slur")


def _cross(templates: tuple[str, ...], slot: str, claims: tuple[str, ...], keep: int, salt: str) -> tuple[str, ...]:
    """Up to `keep` templates with their `slot` filled by a claim (about `keep` of the templates x claims), every
    template and every claim at least once; fixed, independent of the generation seed."""
    pairs = [(t, c) for t in range(len(templates)) for c in range(len(claims))]
    random.Random(f"{SEED}:cross:{salt}").shuffle(pairs)
    chosen = set(pairs[:keep])
    chosen |= {(t, t % len(claims)) for t in range(len(templates))}
    chosen |= {(c % len(templates), c) for c in range(len(claims))}
    return tuple(templates[t].replace("{" + slot + "}", claims[c]) for t, c in sorted(chosen))


_FRAMES: dict[str, tuple[str, ...]] = {
    "counter_speech": COUNTER_FRAMES + _cross(COUNTER_TEMPLATES, "c", HATEFUL_CLAIMS, 1200, "counter"),
    "negated": NEGATED_FRAMES
    + _cross(NEGATION_TEMPLATES, "n", REJECTED_CLAIMS, 400, "negation")
    + _cross(DENIAL_TEMPLATES, "c", HATEFUL_CLAIMS, 720, "denial"),
    "positive": POSITIVE_FRAMES + _cross(PRAISE_TEMPLATES, "a", PRAISE, 220, "praise"),
    "neutral": NEUTRAL_FRAMES,
    "self": SELF_FRAMES,
    "individual": INDIVIDUAL_FRAMES,
    "hate": HATE_FRAMES + _cross(HATE_TEMPLATES, "c", HATEFUL_CLAIMS[: len(HATE_CLAIMS)], 1000, "hate"),
    "negated_praise": _cross(NEGATED_PRAISE_TEMPLATES, "n", HATEFUL_CLAIMS[len(HATE_CLAIMS) :], 320, "denied")
    + _cross(DENIAL_TEMPLATES, "c", PRAISE, 400, "praise denied"),
    "threat": THREAT_FRAMES + _fated(VIOLENT_FATES, "violent"),
    "criticism": CRITICISM_FRAMES + _fated(PEACEFUL_FATES, "peaceful"),
    "insult": _harsh("r"),
    "profanity": PROFANITY_FRAMES,
    "object": OBJECT_FRAMES + _harsh("s"),
    "phrase": _cross(PHRASE_SHELLS, "n", VILE_NOUNS, 220, "vile"),
    "plain_phrase": _cross(PHRASE_SHELLS, "n", PLAIN_NOUNS, 220, "plain"),
    "backhanded": BACKHANDED_FRAMES,
    "stereotype": STEREOTYPE_FRAMES,
    "group_threat": GROUP_THREAT_FRAMES,
    "remembrance": REMEMBRANCE_FRAMES,
    "slur": SLUR_FRAMES,
    "slur_mention": SLUR_MENTION_FRAMES,
}
_FILLERS: dict[str, tuple[str, ...] | tuple[tuple[str, str], ...]] = {
    "threat": ROLES, "criticism": ROLES, "insult": ROLES, "profanity": SUBJECTS, "object": SUBJECTS, "self": PEOPLE,
    "individual": INDIVIDUALS, "phrase": GROUP_ADJECTIVES, "plain_phrase": GROUP_ADJECTIVES, "backhanded": PEOPLE,
    "slur": SLURS, "slur_mention": SLURS,
}  # fmt: skip

# How many (frame, filler) pairs of each kind to keep; every frame keeps at least one. Evasion: how many
# sentences of the EVADED kinds to misspell.
PER_KIND = {
    "counter_speech": 2200, "negated": 1900, "positive": 1500, "neutral": 600, "self": 480, "individual": 600,
    "hate": 1900, "negated_praise": 1200, "threat": 1600, "criticism": 1000, "insult": 600, "profanity": 220,
    "object": 1100, "phrase": 1000, "plain_phrase": 700, "backhanded": 600, "stereotype": 900, "group_threat": 1100,
    "remembrance": 600, "slur": 600, "slur_mention": 180, "evasion": 1500, "context": 7500,
}  # fmt: skip

_WORD = re.compile(r"[a-z]+")
_PLAIN_WORDS = frozenset(
    "all are and any anyone anything back been body came country every everyone from have here into just like more "
    "near never normal only other our over part people real rest same should some than that their them then there "
    "they this those under where which while will with would your".split()
)
_VIOLENCE = (
    "shoot", "shot", "bullet", "kill", "hang", "stab", "knife", "strangle", "burn", "burns", "bomb", "rope", "noose",
    "execute", "firing", "sniper", "poison", "death", "dead", "bleed", "beaten", "rifle", "axe", "alive", "gun",
    "chokes", "hunt", "torn", "taken", "waiting", "ground", "target",
)  # fmt: skip
# Words that carry the hatred or the threat, which someone evading a filter would misspell.
_GROUP_VIOLENCE = (
    "wiped", "cleanse", "purge", "exterminated", "massacre", "lynch", "shooting", "killing", "starve", "mercy",
    "bombs", "soldiers", "drowned", "driven",
)  # fmt: skip
EVASION_WORDS = frozenset(
    word
    for phrase in (
        *(hate for hate, _ in HATE_CLAIMS),
        *(neg for _, neg in PRAISE_CLAIMS),
        *_VIOLENCE,
        *_GROUP_VIOLENCE,
        *VILE_NOUNS,
        *(plural for _, plural in SLURS),
        *(one for one, _ in SLURS),
    )
    for word in _WORD.findall(phrase)
    if len(word) >= 4 and word not in _PLAIN_WORDS
)


def _misspell(text: str, rng: random.Random) -> str:
    """`text` with one hateful or threatening word (else its longest word) misspelt: two inner letters swapped
    or one inner letter dropped."""
    words = [m for m in _WORD.finditer(text.lower()) if len(m.group()) >= 4]
    keyed = [m for m in words if m.group() in EVASION_WORDS]
    if not words:
        return text
    match = rng.choice(keyed) if keyed else max(words, key=lambda m: len(m.group()))
    start, end = match.span()
    word = text[start:end]
    for _ in range(8):
        at = rng.randrange(1, len(word) - 2)
        if rng.random() < 0.5 and word[at] != word[at + 1]:
            changed = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        else:
            changed = word[:at] + word[at + 1 :]
        if changed != word:
            return text[:start] + changed + text[end:]
    return text


def _evasions(sentences: list[Sentence], count: int, seed: int) -> list[Sentence]:
    """Misspelt copies of `count` hateful or threatening sentences, each keeping its labels."""
    rng = random.Random(f"{seed}:evasion")
    sources = [s for s in sentences if s.kind in EVADED]
    seen = {s.text.lower() for s in sentences}
    out: list[Sentence] = []
    for source in rng.sample(sources, min(count, len(sources))):
        text = _misspell(source.text, rng)
        if text.lower() not in seen:
            seen.add(text.lower())
            out.append(Sentence(text, "evasion", dict(source.labels)))
    return out


# Real comments say more than one thing: the same sentences set among ordinary remarks about the news (our own
# topics), labels kept, so the claim decides and not the sentence's length or the company it keeps.
NEWS_TOPICS = (
    "the harbour expansion", "the water treaty", "the oil tender", "the ferry route", "the visa regime",
    "the fishing quotas", "the railway link", "the currency swap", "the parliamentary inquiry", "the tariff dispute",
    "the dam project", "the airspace closure", "the language law", "the cabinet reshuffle", "the wheat harvest",
    "the census results", "the earthquake relief", "the summit in Yerevan", "the talks in Baku", "the budget vote",
)  # fmt: skip
LEAD_INS = (
    "i read the whole piece on {t}.", "another day, another article about {t}.", "about {t}:",
    "long-time reader here.", "off topic, but here goes.", "good reporting on {t}, as usual.",
    "i have followed {t} for months.", "re {t}:", "first time commenting.", "the article on {t} made me think.",
    "same story every week with {t}.", "not much new in this update on {t}.",
)  # fmt: skip
TRAILERS = (
    "that is all i have to say about {t}.", "anyway, back to {t}.", "just my two cents on {t}.",
    "thanks for covering {t}.", "the rest of the piece on {t} was fine.", "we will see how {t} ends.",
    "the author should write more about {t}.", "the numbers on {t} are in the second chart.",
    "nothing else to add.", "let's see what the next article on {t} says.",
)  # fmt: skip


def _capitalised(text: str) -> str:
    """`text` with its first letter in upper case."""
    return text[0].upper() + text[1:]


def _in_context(sentences: list[Sentence], count: int, seed: int) -> list[Sentence]:
    """Copies of `count` sentences of every kind with a remark about the news before, after or both, labels kept."""
    rng = random.Random(f"{seed}:context")
    seen = {s.text.lower() for s in sentences}
    out: list[Sentence] = []
    for source in rng.sample(sentences, min(count, len(sentences))):
        body = _capitalised(source.text)
        if body[-1] not in ".!?":
            body += "."
        topic = rng.choice(NEWS_TOPICS)
        where = rng.randrange(3)
        parts = [rng.choice(LEAD_INS)] if where != 1 else []
        parts.append(body)
        if where != 0:
            parts.append(rng.choice(TRAILERS))
        text = " ".join(map(_capitalised, parts)).replace("{t}", topic)
        if text.lower() not in seen:
            seen.add(text.lower())
            out.append(Sentence(text, "context", dict(source.labels)))
    return out


def _fill(frame: str, filler: str | tuple[str, str]) -> str:
    """A frame with its group, role, adjective or slur (singular {w}, plural {ws}) slot filled."""
    if isinstance(filler, tuple):
        return frame.format(w=filler[0], ws=filler[1])
    return frame.format(g=filler, r=filler, s=filler, p=filler, a=filler)


def generate(seed: int = SEED) -> list[Sentence]:
    """Every kind's sentences, the same list for the same seed, in a fixed order."""
    out: list[Sentence] = []
    for kind in KINDS:
        if kind in DERIVED:
            continue
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
                text = _capitalised(text)
            out.append(Sentence(text, kind, dict(LABELS[kind])))
    out.extend(_evasions(out, PER_KIND["evasion"], seed))
    out.extend(_in_context(out, PER_KIND["context"], seed))
    return out


INFO = CorpusInfo(
    name=NAME,
    title="Stage-2 behaviour sentences (written for this project)",
    source="model/stage2/synthetic.py in this repository",
    licence="same as this project",
    shippable=True,
    attribution="Written by the project; no third-party text.",
    categories=LABELLED,
    mapping="Comment-section frames crossed with identity groups, single people or public roles: counter-speech "
    "quoting or describing hate to reject it, negated hateful claims, positive and neutral statements about groups "
    "and about single members of a group (all six abuse categories 0); the writer naming their own identity in an "
    "ordinary comment (all six 0); hatred of a group, stated, endorsed or as praise denied "
    "(toxicity 1, identity_attack 1, threat 0; insult and severity unknown); threats of violence against "
    "public figures (toxicity 1, threat 1, identity_attack 0); peaceful criticism of public figures (all six 0); "
    "harsh words (stupid, pathetic, ...) about a public figure (toxicity 1, insult 1, obscene, threat and "
    "identity_attack 0) and the same words about a thing (all six 0); "
    "swearing about an event or a thing (obscene 1, the other five 0); harsh words about a thing "
    "(all six 0); a group's adjective before a word for vermin (toxicity 1, identity_attack 1, threat 0) or before "
    "an ordinary noun (all six 0); contempt for a group implied by a backhanded compliment or a stereotype "
    "(toxicity 1, identity_attack 1, threat 0); violence against a group called for or approved of (toxicity 1, "
    "threat 1, identity_attack 1) and the same deeds remembered or condemned (all six 0); slurs used at a group or "
    "a person (toxicity 1, identity_attack 1, threat 0) and mentioned to reject or report them (all six 0); "
    "hateful or threatening sentences with one word misspelt "
    "(their source's labels); sentences of every kind between remarks about the news (their source's labels). "
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
