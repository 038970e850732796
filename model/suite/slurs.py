"""TEST DATA ONLY: the few real slurs the functional suite needs, used by model/suite/cases.py and nothing else.

These words are here so the suite can check that the classifier flags slurs (and their disguised spellings) and
clears their reclaimed and homonym uses. They are never used to train, filter or score anything.
"""

from __future__ import annotations

# Slurs aimed at the site's groups, keyed by the suite's group names. Singular forms; the frames pluralise.
SLURS: dict[str, tuple[str, ...]] = {
    "armenians": ("khach",),
    "azerbaijanis": ("churka",),
    "russians": ("vatnik", "katsap"),
    "iranians": ("towelhead",),
    "jews": ("kike", "yid"),
    "muslims": ("raghead", "muzzie"),
    "women": ("slut", "whore"),
    "gay people": ("faggot", "dyke"),
    "trans people": ("tranny", "shemale"),
    "immigrants": ("wetback",),
    "black people": ("nigger", "coon"),
    "disabled people": ("retard", "spastic"),
}

# Irregular plurals of the words above (the rest take an "s").
PLURALS: dict[str, str] = {"katsap": "katsapy", "khach": "khachs"}

# Words a group has reclaimed for itself, spoken by a member of that group.
RECLAIMED: dict[str, tuple[str, ...]] = {
    "gay people": ("queer", "dyke"),
    "trans people": ("queer",),
    "disabled people": ("crip",),
}

# Slurs that are also ordinary words, each with ordinary sentences that use the other meaning.
HOMONYMS: dict[str, tuple[str, ...]] = {
    "khach": (
        "The medieval khachkars near the monastery, the carved khach stones, were finally listed by UNESCO.",
        "My grandmother still keeps the little silver khach, the Armenian cross, that her priest blessed in 1988.",
        "The khach, the cross carved on the church door in Gyumri, survived the earthquake of 1988 intact.",
    ),
    "vatnik": (
        "My grandfather wore a padded vatnik, the quilted cotton jacket, through every winter at the railway depot.",
        "The museum in Perm shows a soldier's vatnik, that quilted jacket, next to letters from the front.",
        "Soviet workers were issued a grey vatnik, the padded coat, and felt boots for the northern winter.",
    ),
    "faggot": (
        "In Wales my aunt still cooks faggots, the meatballs with onion gravy, for the family every Sunday.",
        "The old farmer carried a faggot of dry sticks to the stove, exactly as the article's photo shows.",
        "The recipe in the food section, faggots with peas and gravy, is exactly what my Welsh father made.",
    ),
    "fag": (
        "After the vote in parliament the British correspondent stepped outside for a fag and a strong coffee.",
        "In London slang a fag is just a cigarette, which is what the reporter was smoking outside the embassy.",
        "The British diplomat admitted he went out for a quick fag while the delegations argued over the map.",
    ),
    "dyke": (
        "The Dutch engineers who built the dyke along the river are now advising the ministry on flood defences.",
        "When the old dyke broke in spring, the villages downstream were flooded for a week.",
        "The Soviet-era dyke that protects the lowland farms has not been repaired since the 1990s.",
    ),
    "coon": (
        "A coon, a raccoon, got into the bins behind the consulate in Toronto, and the guards chased it for an hour.",
        "The hunters' club still breeds coonhounds, the old dogs bred to track raccoons at night.",
        "The coon skin cap in the photo belonged to a trapper who sold furs to the trading post in 1890.",
    ),
    "spook": (
        "The former intelligence spook interviewed in the article says the talks were monitored from the start.",
        "Every spook in the region must have been listening to those phone calls between the two capitals.",
        "A retired spook who worked in Baku in the 1990s wrote a memoir about the oil contracts.",
    ),
    "retard": (
        "Higher interest rates will retard growth in the construction sector for at least another year.",
        "The new fire-retardant panels were installed in the refugee shelter after the inspection.",
        "The cold spring will retard the ripening of the apricots in the Ararat valley by two weeks.",
    ),
    "spastic": (
        "The clinic treats children with spastic cerebral palsy, and the article says it needs more physiotherapists.",
        "After the stroke his left arm had spastic muscles, and the neurologist recommended botox injections.",
        "Spastic paraplegia is a rare inherited condition, and the new clinic in Tbilisi is the first to treat it.",
    ),
    "cripple": (
        "The new sanctions could cripple the refinery in Abadan, which supplies half of the country's diesel.",
        "A long strike at the port would cripple exports of hazelnuts from Georgia this autumn.",
        "The drought threatens to cripple the harvest along the Aras river for a second year running.",
    ),
    "spade": (
        "Let us call a spade a spade: the ceasefire was broken twice last week, whatever the ministry says.",
        "The volunteers brought a spade and a wheelbarrow each to clear the rubble from the school in Hatay.",
        "Archaeologists near Lake Sevan found bronze tools, including a small spade, under the old road.",
    ),
}
